"""Sibling plugin hosts: calls overlap, and a defect seen only in a sibling still fails.

The plugins (tests/zoo/health.py) misbehave in every host but the first to load them,
so each verdict below can only come from a call a sibling served.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

from floe_compute_kit.conformance._results import Outcome
from floe_compute_kit.conformance.host import HostSettings
from floe_compute_kit.conformance.runner import run_suite
from zoo.health import CALLS

pytestmark = pytest.mark.requirement("KIT-265")
_Z = "zoo.health:"
_FAST = HostSettings(call_deadline_s=5.0, load_deadline_s=60.0)


def _intervals(workdir: Path) -> list[tuple[int, float, float]]:
    lines = (workdir / "host" / CALLS).read_text().split()
    return [(int(p), float(s), float(e)) for p, s, e in zip(*[iter(lines)] * 3, strict=True)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_independent_calls_overlap_in_siblings_and_none_outlive_the_run(tmp_path: Path) -> None:
    suite = run_suite(
        _Z + "Overlaps", check_ids=["connection.result_type"], workdir=tmp_path, max_examples=5
    )
    assert suite.by_id()["connection.result_type"].outcome is Outcome.PASSED
    calls = _intervals(tmp_path)
    pids = {pid for pid, _, _ in calls}
    assert len(pids) >= 2, calls
    overlapping = [
        (a, b) for a in calls for b in calls if a[0] != b[0] and a[1] < b[2] and b[1] < a[2]
    ]
    assert overlapping, calls
    assert [pid for pid in pids if _alive(pid)] == []


@pytest.mark.parametrize(
    ("plugin", "check_id", "phrase"),
    [
        ("SiblingThread", "plugin.side_effects", "thread"),
        ("SiblingEnviron", "plugin.side_effects", "FLOE_SIBLING_WAS_HERE"),
        ("SiblingExits", "connection.never_raises", "exit code 3"),
        ("SiblingHangs", "connection.budget", "did not return within"),
    ],
)
def test_a_defect_only_a_sibling_shows_fails_its_check(
    tmp_path: Path, plugin: str, check_id: str, phrase: str
) -> None:
    env = dict(os.environ)
    suite = run_suite(
        _Z + plugin,
        check_ids=[
            "connection.result_type",
            "connection.never_raises",
            "connection.budget",
            "plugin.side_effects",
        ],
        workdir=tmp_path,
        max_examples=5,
        budget_s=2.0,
        host_settings=_FAST,
    )
    result = suite.by_id()[check_id]
    assert result.outcome is Outcome.FAILED, result
    assert phrase in result.message, result.message
    assert dict(os.environ) == env
    assert [pid for pid, _, _ in _intervals(tmp_path) if _alive(pid)] == []


def test_a_secret_logged_only_in_a_sibling_fails_secrets_logs(tmp_path: Path) -> None:
    suite = run_suite(
        _Z + "SiblingLogsSecret", check_ids=["secrets.logs"], workdir=tmp_path, max_examples=5
    )
    result = suite.by_id()["secrets.logs"]
    assert result.outcome is Outcome.FAILED, result
    assert "log record" in result.message, result.message


def _health(plugin: Any, *, config: Any) -> Any:
    from floe_compute_kit.conformance._invoke import call

    return call(plugin, "validate_connection", config)


def test_quick_health_checks_start_no_sibling(tmp_path: Path) -> None:
    """A sibling costs a process and a plugin load: the DuckDB plugin's ~30 ms health
    check runs in turn on the primary, and so does one whose first call alone is slow (a
    warm-up a sibling would pay again); only one slow on every call (0.2 s) is spread."""
    from floe_compute_kit.conformance.host import load_in_host
    from floe_compute_kit.conformance.host._pool import spread

    cases = (("duckdb", False), (_Z + "SlowFirstCall", False), (_Z + "Overlaps", True))
    for spec, spread_expected in cases:
        loaded = load_in_host(spec, tmp_path / spec.replace(":", "_"), _FAST)
        try:
            config = loaded.config_model.model_validate({"plugin": "duckdb"})
            jobs = [functools.partial(_health, config=config)] * 4
            results = spread(loaded.instance, jobs)
            assert len(results) == 4
            assert bool(loaded.instance.floe_host.siblings) is spread_expected, spec
        finally:
            loaded.instance.floe_host.close()
