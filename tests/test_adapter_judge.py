"""The installed dbt adapter's judgement of profiles, in a child of the dbt launcher.

The judge is the same code wherever it runs; what matters is that the kit's own process
never imports dbt for it, and that a verdict reads the same judged beside or here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from floe_compute_kit.conformance._adapter_judge import declared_keys, judge, main

pytestmark = pytest.mark.requirement("KIT-001")

_GOOD = {"path": ":memory:"}
_BAD = {"path": ["not", "a", "path"]}


def test_the_adapter_judges_each_profile() -> None:
    verdict = judge("duckdb", [_GOOD, _BAD])
    good, bad = verdict["rejections"]
    assert good is None
    assert bad.startswith("dbt-duckdb's DuckDBCredentials rejects the profile: ")
    assert {"path", "type", "threads"} <= set(verdict["declared"])


@pytest.mark.parametrize(
    ("kind", "said"),
    [("no_such_engine", "install dbt-no_such_engine"), ("../duckdb", "cannot name")],
)
def test_a_type_no_adapter_handles_is_fatal_and_says_why(kind: str, said: str) -> None:
    verdict = judge(kind, [_GOOD])
    assert set(verdict) == {"fatal"}
    assert said in verdict["fatal"]


def test_main_reads_and_writes_the_files_it_is_given(tmp_path: Path) -> None:
    source, target = tmp_path / "in.json", tmp_path / "out.json"
    source.write_text(json.dumps({"kind": "duckdb", "profiles": [_BAD]}), encoding="utf-8")
    assert main(["judge", str(source), str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == judge("duckdb", [_BAD])


def test_declared_keys_include_the_aliases_and_what_dbt_core_reads() -> None:
    from dbt.adapters.postgres import Plugin

    keys = declared_keys(Plugin.credentials)
    assert {"dbname", "database", "pass", "password", "type", "threads"} <= keys


_RUN = """
import json, sys
from floe_compute_kit.conformance.runner import run_suite
suite = run_suite(sys.argv[1], level="extended", max_examples=10,
                  check_ids=["profile.dbt_schema"])
result = suite.results[0]
print(json.dumps({
    "outcome": result.outcome.value,
    "message": result.message,
    "adapter_here": "dbt.adapters.duckdb" in sys.modules,
}))
"""


def _certify(target: str, *, launcher: bool) -> dict[str, object]:
    env = {**os.environ, "FLOE_CONFORMANCE_DBT_LAUNCHER": "1" if launcher else "0"}
    tests = str(Path(__file__).parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (tests, env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-c", _RUN, target],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env=env,
    )
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.slow
@pytest.mark.requirement("KIT-260")
def test_profiles_are_judged_beside_the_kit_and_read_the_same_as_judged_here() -> None:
    passed = _certify("duckdb", launcher=True)
    assert passed == {"outcome": "passed", "message": "", "adapter_here": False}
    beside = _certify("zoo.plugins:AdapterRejectsProfile", launcher=True)
    here = _certify("zoo.plugins:AdapterRejectsProfile", launcher=False)
    assert beside["outcome"] == here["outcome"] == "failed"
    assert "DuckDBCredentials rejects the profile" in str(beside["message"])
    assert beside["message"] == here["message"]  # the report is made here, shrunk alike
    assert here["adapter_here"] is True


@pytest.mark.slow
@pytest.mark.requirement("KIT-260")
def test_verdicts_of_profiles_of_several_types_come_back_in_the_order_drawn(
    tmp_path: Path,
) -> None:
    from floe_compute_kit.conformance._check import CheckContext
    from floe_compute_kit.conformance.checks.profile import _judged_beside

    ctx = CheckContext(plugin=None, plugin_spec="probe", config_model=dict, workdir=tmp_path)
    postgres = {"host": "127.0.0.1", "user": "u", "password": "p", "port": 5432}
    postgres |= {"dbname": "d", "schema": "s"}
    seen = [
        ("first", "postgres", {"type": "postgres", "host": "127.0.0.1"}),  # dbname missing
        ("second", "duckdb", {"type": "duckdb", **_GOOD}),
        ("third", "postgres", {"type": "postgres", **postgres}),
        ("fourth", "duckdb", {"type": "duckdb", **_BAD}),
    ]
    try:
        failures = _judged_beside(ctx, seen)
    finally:
        ctx.close()
    assert failures is not None
    assert [f is None for f in failures] == [False, True, True, False]
    assert "PostgresCredentials" in failures[0]
    assert "DuckDBCredentials" in failures[3]
    assert not list((tmp_path / "beside" / "adapter-judge").iterdir())  # nothing left


@pytest.mark.requirement("KIT-001")
def test_a_profile_json_would_change_is_judged_here(tmp_path: Path) -> None:
    from floe_compute_kit.conformance._check import CheckContext
    from floe_compute_kit.conformance.checks.profile import _judged_beside

    ctx = CheckContext(plugin=None, plugin_spec="probe", config_model=dict, workdir=tmp_path)
    try:  # a tuple arrives as a list, and the adapter may take one but not the other
        assert _judged_beside(ctx, [("only", "duckdb", {"path": (":memory:",)})]) is None
    finally:
        ctx.close()
