"""run_suite / run_check: isolation, outcomes, seeds and examples, without pytest in the loop."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_duckdb.config import DuckDBConfig
from floe_compute_kit import CatalogConfig, ComputeConfig, ConnectionResult
from floe_compute_kit.conformance._check import CheckContext, RegisteredCheck
from floe_compute_kit.conformance._loader import LoadedPlugin, load_target
from floe_compute_kit.conformance._results import CheckResult, CheckSpec, Level, Outcome
from floe_compute_kit.conformance.checks import load_catalogue
from floe_compute_kit.conformance.checks._dbt import DBT_CHECK_TIMEOUT_S
from floe_compute_kit.conformance.checks.integration import DBT_BUILD_ID
from floe_compute_kit.conformance.checks.timeout import TIMEOUT_ID
from floe_compute_kit.conformance.runner import make_context, run_check, run_suite, select_checks


class RaisesInProfile(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return self._build_profile_deep(config)

    def _build_profile_deep(self, config: ComputeConfig) -> dict[str, Any]:
        raise KeyError("floe_marker_key")


class HangsForever(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        time.sleep(3600)  # abandoned by the runner; the thread is a daemon
        return super().validate_connection(config)


class LeaksSecretForLongTimeouts(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        # 3600 is the examples' timeout: only generated configs expose this leak.
        if config.timeout_seconds > 100 and config.timeout_seconds != 3600 and config.credentials:
            profile["settings"] = {k: v.get_secret_value() for k, v in config.credentials.items()}
        return profile


class WithoutCatalog(DuckDBComputePlugin):
    capabilities = frozenset()

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        return None


@pytest.mark.requirement("KIT-021")
def test_plugin_exception_is_a_failure_with_the_plugins_traceback() -> None:
    suite = run_suite(RaisesInProfile, check_ids=["profile.threads"], max_examples=5)
    (result,) = suite.results
    assert result.outcome is Outcome.FAILED
    assert "KeyError" in result.message
    assert result.traceback is not None
    assert "_build_profile_deep" in result.traceback
    assert "floe_compute_kit/conformance" not in result.traceback  # the kit's frames are cut


@pytest.mark.requirement("KIT-021")
def test_a_hanging_validate_connection_fails_at_the_budget_and_the_suite_goes_on() -> None:
    ids = ["connection.budget", "resources.presets"]
    suite = run_suite(HangsForever, check_ids=ids, budget_s=0.2, max_examples=3)
    outcomes = {r.check_id: r.outcome for r in suite.results}
    assert outcomes == {"connection.budget": Outcome.FAILED, "resources.presets": Outcome.PASSED}
    assert "0.2 s budget" in suite.by_id()["connection.budget"].message


@pytest.mark.requirement("KIT-008")
def test_unclaimed_capability_is_unsupported_not_failed_and_answers_are_still_checked() -> None:
    suite = run_suite(
        WithoutCatalog,
        check_ids=[r.spec.id for r in load_catalogue() if r.spec.id.startswith("catalog.")],
    )
    outcomes = {r.check_id: r.outcome for r in suite.results}
    assert outcomes["catalog.answers"] is Outcome.PASSED
    assert outcomes["catalog.no_io"] is Outcome.PASSED
    gated = [r for r in select_checks(Level.CORE) if r.spec.capability == "catalog_attachment"]
    # SQL a plugin returns is checked claimed or not; these say "not applicable" themselves
    # when the plugin neither claims catalog_attachment nor returns SQL
    gated += [
        r
        for r in select_checks(Level.CORE)
        if r.spec.id
        in {"catalog.single_statements", "catalog.hostile_names", "catalog.no_secret_leak"}
    ]
    assert gated
    for reg in gated:
        assert outcomes[reg.spec.id] is Outcome.UNSUPPORTED
        assert "catalog_attachment" in suite.by_id()[reg.spec.id].message


@pytest.mark.requirement("KIT-007")
def test_failure_carries_the_shrunk_masked_config_and_the_seed() -> None:
    suite = run_suite(
        LeaksSecretForLongTimeouts, check_ids=["profile.no_plain_secrets"], seed=7, max_examples=50
    )
    (result,) = suite.results
    assert result.outcome is Outcome.FAILED, result.message
    assert result.seed == 7
    assert result.example is not None
    assert result.example["timeout_seconds"] == 101  # shrunk to the boundary
    assert len(result.example["credentials"]) == 1
    assert set(result.example["credentials"].values()) == {"**********"}


@pytest.mark.requirement("KIT-021")
def test_load_failure_is_one_failing_check_with_load_error() -> None:
    suite = run_suite("floe_no_such_module:Plugin")
    assert [r.check_id for r in suite.results] == ["plugin.loads"]
    assert suite.results[0].outcome is Outcome.FAILED
    assert suite.load_error is not None
    assert "floe_no_such_module" in suite.load_error
    assert suite.results[0].traceback is not None


def _launcher_servers() -> list[int]:
    """This process's children that are the dbt launcher's server."""
    import os

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"_dbt_server.py" in cmdline and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.requirement("KIT-261")
def test_a_load_failure_at_a_dbt_level_leaves_no_launcher_running(tmp_path: Path) -> None:
    """The launcher starts before the plugin loads (extended and up); a plugin that
    cannot load ends the run, and the launcher with it."""
    before = _launcher_servers()
    suite = run_suite("floe_no_such_module:Plugin", level=Level.EXTENDED, workdir=tmp_path)
    assert [r.check_id for r in suite.results] == ["plugin.loads"]
    assert _launcher_servers() == before
    assert (tmp_path / "beside" / "dbt-launcher").is_dir(), "it had been started"


@pytest.mark.requirement("KIT-021")
def test_level_selects_checks_in_catalogue_order_and_on_result_sees_each(tmp_path: Path) -> None:
    seen: list[CheckResult] = []
    suite = run_suite(
        "duckdb",
        level=Level.CORE,
        max_examples=5,
        workdir=tmp_path,
        on_result=seen.append,
        check_ids=[
            r.spec.id
            for r in load_catalogue()
            if not r.spec.id.startswith(("connection.", "upstream."))
        ],
    )
    expected = [
        r.spec.id
        for r in load_catalogue()
        if r.spec.level is Level.CORE and not r.spec.id.startswith(("connection.", "upstream."))
    ]
    assert [r.check_id for r in suite.results] == expected
    assert seen == suite.results
    assert suite.passed
    assert suite.plugin_name == "duckdb"
    assert suite.outcomes()["passed"] == len(expected)


@pytest.mark.requirement("KIT-021")
def test_same_seed_gives_the_same_failing_example() -> None:
    def once() -> dict[str, Any] | None:
        suite = run_suite(
            LeaksSecretForLongTimeouts,
            check_ids=["profile.no_plain_secrets"],
            seed=3,
            max_examples=20,
        )
        return suite.results[0].example

    assert once() == once()


@pytest.mark.requirement("KIT-021")
def test_run_check_works_without_pytest_or_run_suite(tmp_path: Path) -> None:
    loaded = load_target(DuckDBComputePlugin())
    assert isinstance(loaded, LoadedPlugin)
    ctx = make_context(loaded, workdir=tmp_path, max_examples=5)
    (registered,) = select_checks(Level.CORE, ["profile.threads"])
    result = run_check(registered, ctx)
    assert result.outcome is Outcome.PASSED
    assert isinstance(ctx, CheckContext)


@pytest.mark.requirement("KIT-021")
def test_a_kit_fault_is_an_error_not_a_plugin_failure(tmp_path: Path) -> None:
    loaded = load_target(DuckDBComputePlugin)
    assert isinstance(loaded, LoadedPlugin)
    ctx = make_context(loaded, workdir=tmp_path)
    ctx.config_strategy = "not a strategy"  # the author's override is broken, not the plugin
    (registered,) = select_checks(Level.CORE, ["profile.threads"])
    result = run_check(registered, ctx)
    assert result.outcome is Outcome.ERROR
    assert "the kit could not run this check" in result.message


@pytest.mark.requirement("KIT-277")
def test_a_check_with_a_longer_timeout_of_its_own_is_not_abandoned_at_the_runs(
    tmp_path: Path,
) -> None:
    ctx = CheckContext(object(), "x", ComputeConfig, tmp_path, check_timeout_s=0.2)

    def slow(_: CheckContext) -> None:
        time.sleep(0.6)

    plain = CheckSpec("test.slow", "name", ("KIT-277",), "slow")
    longer = CheckSpec("test.slow", "name", ("KIT-277",), "slow", timeout_s=30.0)
    abandoned = run_check(RegisteredCheck(plain, slow), ctx)
    assert abandoned.outcome is Outcome.FAILED
    assert "did not finish within 0.2 s" in abandoned.message
    assert run_check(RegisteredCheck(longer, slow), ctx).outcome is Outcome.PASSED
    # the dbt checks are the ones that need it, and their dbt deadline stays inside it
    by_id = {r.spec.id: r.spec for r in select_checks(Level.INTEGRATION, None)}
    assert by_id[DBT_BUILD_ID].timeout_s == by_id[TIMEOUT_ID].timeout_s == DBT_CHECK_TIMEOUT_S
    assert by_id["profile.threads"].timeout_s is None


@pytest.mark.requirement("KIT-007")
def test_a_supplied_config_strategy_is_used() -> None:
    from hypothesis import strategies as st

    only_secrets = st.just(
        DuckDBConfig(timeout_seconds=500, credentials={"token": SecretStr("floeSECRETplain99")})
    )
    suite = run_suite(
        LeaksSecretForLongTimeouts,
        check_ids=["profile.no_plain_secrets"],
        config_strategy=only_secrets,
    )
    # The examples have short timeouts, so only the supplied configs can expose the leak.
    assert suite.results[0].outcome is Outcome.FAILED
    assert suite.results[0].example is not None
    assert suite.results[0].example["timeout_seconds"] == 500


@pytest.mark.requirement("KIT-009")
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_examples", 0),
        ("max_examples", 10**30),
        ("max_examples", True),
        ("budget_s", float("nan")),
        ("budget_s", float("inf")),
        ("budget_s", 0.0),
        ("seed", 10**20),
        ("seed", 1.5),
    ],
)
def test_numbers_no_run_can_use_are_refused_before_it_starts(
    tmp_path: Path, field: str, value: object
) -> None:
    from floe_compute_kit.errors import ComputeConfigurationError

    with pytest.raises(ComputeConfigurationError) as info:
        run_suite("duckdb", workdir=tmp_path, **{field: value})  # type: ignore[arg-type]
    assert info.value.field == field
    assert f"run_suite {field}: {value!r} is not allowed; allowed: " in str(info.value)
    assert not any(tmp_path.iterdir())  # nothing was started or written
