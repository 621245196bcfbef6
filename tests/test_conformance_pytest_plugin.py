"""End to end: the pytest11 plugin, in fresh pytest processes (pytester)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from floe_compute_kit.conformance.pytest_plugin import (
    OPT_BUDGET,
    OPT_ICEBERG_URI,
    OPT_LEVEL,
    OPT_MAX_EXAMPLES,
    OPT_PLUGIN,
    OPT_SEED,
    PLUGIN_NAME,
)
from floe_compute_kit.conformance.runner import select_checks

pytestmark = pytest.mark.requirement("KIT-017")

TESTS_DIR = Path(__file__).parent
FAST = (f"{OPT_MAX_EXAMPLES}=5", "-p", "no:cacheprovider")


@pytest.fixture
def zoo_path(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose subprocesses can import the zoo plugins."""
    monkeypatch.setenv("PYTHONPATH", str(TESTS_DIR))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return pytester


def test_options_sit_in_one_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    text = result.stdout.str()
    start = text.index(f"disable with -p no:{PLUGIN_NAME}")
    section = text[start : text.index("\n\n", start)]
    for option in (OPT_PLUGIN, OPT_LEVEL, OPT_MAX_EXAMPLES, OPT_SEED, OPT_BUDGET, OPT_ICEBERG_URI):
        assert option in section


@pytest.mark.parametrize(
    ("option", "value"),
    [
        (OPT_BUDGET, "nan"),
        (OPT_BUDGET, "inf"),
        (OPT_MAX_EXAMPLES, "0"),
        (OPT_ICEBERG_URI, "x"),
        (OPT_SEED, "1" + "0" * 20),
    ],
)
def test_an_option_out_of_bounds_is_a_usage_error(
    pytester: pytest.Pytester, option: str, value: str
) -> None:
    result = pytester.runpytest_subprocess(f"{option}={value}", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert f"{option}: {value!r} is not" in err
    assert "allowed:" in err
    assert "Traceback" not in err


def test_without_floe_plugin_it_collects_nothing(pytester: pytest.Pytester) -> None:
    assert pytester.runpytest_subprocess().ret == pytest.ExitCode.NO_TESTS_COLLECTED
    pytester.makepyfile(test_own="def test_own():\n    pass\n")
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(passed=1)


def test_p_no_disables_the_plugin(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-p", f"no:{PLUGIN_NAME}", f"{OPT_PLUGIN}=duckdb")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --floe-plugin=duckdb*"])


def test_entry_point_name_runs_the_whole_core_suite_in_an_empty_dir(
    zoo_path: pytest.Pytester,
) -> None:
    result = zoo_path.runpytest_subprocess(f"{OPT_PLUGIN}=duckdb", "-v", *FAST)
    ids = [r.spec.id for r in select_checks()]
    # the upstream.* checks are not applicable to a plugin not built on floe-core
    upstream = [i for i in ids if i.startswith("upstream.")]
    result.assert_outcomes(passed=len(ids) - len(upstream), skipped=len(upstream))
    for check_id in set(ids) - set(upstream):
        result.stdout.fnmatch_lines([f"*test_contract[[]{check_id}[]] PASSED*"])


def test_a_failure_prints_the_shrunk_config_and_the_seed(zoo_path: pytest.Pytester) -> None:
    args = (f"{OPT_PLUGIN}=zoo.plugins:CappedThreads", f"{OPT_SEED}=5", "-k", "profile", *FAST)
    first = zoo_path.runpytest_subprocess(*args)
    picked = [r.spec.id for r in select_checks() if "profile" in r.spec.id]
    upstream = [i for i in picked if i.startswith("upstream.")]  # not applicable here
    first.assert_outcomes(failed=1, passed=len(picked) - len(upstream) - 1, skipped=len(upstream))
    first.stdout.fnmatch_lines(
        [
            "*profile.threads [[]KIT-001[]]: The profile's `threads` MUST equal `config.threads`.*",
            "*Falsifying config (secrets masked):*",
            "*threads: 9*",
            "*Reproduce with: --floe-seed=5 -k 'profile.threads'*",
        ]
    )
    again = zoo_path.runpytest_subprocess(*args)
    shown = re.compile(r"Falsifying config.*?Reproduce", re.DOTALL)
    assert shown.findall(first.stdout.str()) == shown.findall(again.stdout.str())


def test_an_incomplete_plugin_is_one_clear_failure(zoo_path: pytest.Pytester) -> None:
    result = zoo_path.runpytest_subprocess(
        f"{OPT_PLUGIN}=zoo.plugins:IncompletePlugin", "-v", *FAST
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_contract[[]plugin.loads[]] FAILED*",
            "*IncompletePlugin is incomplete: it does not implement validate_connection, "
            "get_catalog_attachment_sql*",
        ]
    )


def test_an_authors_class_runs_the_same_suite(zoo_path: pytest.Pytester) -> None:
    zoo_path.makepyfile(
        test_mine="""
        import pytest
        from hypothesis import strategies as st
        from floe_compute_duckdb.config import DuckDBConfig
        from floe_compute_kit.conformance.suites import (
            BaseResourcesContract,
            ComputePluginContract,
        )
        from zoo.plugins import StructuralGood


        class TestStructural(ComputePluginContract):
            plugin = StructuralGood

            @pytest.fixture
            def floe_config_strategy(self):
                return st.builds(DuckDBConfig, threads=st.integers(1, 64))


        class TestOnlyResources(BaseResourcesContract):
            plugin = "zoo.plugins:LargeIsSmall"
        """
    )
    result = zoo_path.runpytest_subprocess("-v", *FAST)
    core = [r.spec.id for r in select_checks()]
    resources = [c for c in core if c.startswith("resources.")]
    # StructuralGood is a class, so it is called in-process: the side-effects and
    # telemetry-secrets checks, which only the plugin host can make, are reported as not
    # applicable (skipped).
    host_only = 2 + len([c for c in core if c.startswith("upstream.")])  # and upstream.*
    result.assert_outcomes(
        passed=len(core) - host_only + len(resources) - 1, failed=1, skipped=host_only
    )
    result.stdout.fnmatch_lines(
        [
            "*TestStructural::test_contract[[]profile.threads[]] PASSED*",
            "*TestOnlyResources::test_contract[[]resources.monotonic[]] FAILED*",
        ]
    )


def test_xdist_junitxml_and_a_hypothesis_profile(zoo_path: pytest.Pytester) -> None:
    """The suite runs under xdist with a profile loaded; the checks pin their own settings."""
    zoo_path.makeconftest(
        """
        from hypothesis import HealthCheck, settings
        settings.register_profile("floe_ci", deadline=None, print_blob=True,
                                  suppress_health_check=[HealthCheck.too_slow])
        """
    )
    xml = zoo_path.path / "out.xml"
    result = zoo_path.runpytest_subprocess(
        f"{OPT_PLUGIN}=duckdb",
        "-n",
        "2",
        f"--junitxml={xml}",
        "--hypothesis-profile=floe_ci",
        "-k",
        "metadata or resources or packages",
        *FAST,
    )
    picked = [
        r.spec.id
        for r in select_checks()
        if r.spec.id.split(".")[0] in {"metadata", "resources", "packages"}
    ]
    result.assert_outcomes(passed=len(picked))
    tree = ET.parse(xml)  # noqa: S314 - our own pytest run wrote this file
    names = {case.get("name") for case in tree.getroot().iter("testcase")}
    assert names == {f"test_contract[{check_id}]" for check_id in picked}


def test_iceberg_fixtures_are_available_once_a_module_is_collected(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_own="def test_own():\n    pass\n")
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*floe_iceberg_catalog*"])


def test_the_plugin_module_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pytest; import floe_compute_kit.conformance.pytest_plugin; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pydantic', 'hypothesis', 'duckdb', 'dbt', 'yaml', 'sqlglot', 'rich'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
