"""The integration build exports the env vars the profile reads, from the config's
credentials; names the ones nothing provides before dbt runs; and keeps dbt's log."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit import ComputeConfig
from floe_compute_kit.conformance._logs import logs_kept_in
from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance.checks.integration import DBT_BUILD_ID, build_env
from floe_compute_kit.conformance.runner import run_suite

pytestmark = [pytest.mark.requirement("KIT-171"), pytest.mark.requirement("KIT-009")]

KEY_ID = "AKIAFLOEKIT171"
SECRET = "kit-171-secret-value"


class CredentialPlugin(DuckDBComputePlugin):
    """Builds with an S3 secret: its two credentials reach dbt only as env vars."""

    def conformance_integration_config(self, workdir: Path) -> dict[str, Any]:
        return {
            "plugin": "duckdb",
            "path": str(workdir / "credentialed.duckdb"),
            "secret_type": "s3",
            "credentials": {"key_id": KEY_ID, "secret": SECRET},
        }


class UnprovidedVarPlugin(DuckDBComputePlugin):
    """Its profile reads a variable that no credential of its config carries."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        profile["settings"] = {"s3_region": "{{ env_var('FLOE_KIT171_REGION_UNSET') }}"}
        return profile


class UnopenablePathPlugin(DuckDBComputePlugin):
    """dbt accepts the profile but cannot open the database: dbt fails and logs why."""

    def conformance_integration_config(self, workdir: Path) -> dict[str, Any]:
        return {"plugin": "duckdb", "credentials": {"key_id": KEY_ID}, "secret_type": "s3"}

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        profile["path"] = "/nonexistent-floe-dir/sub/warehouse.duckdb"
        return profile


def _build(plugin: type, workdir: Path | None = None) -> Any:
    suite = run_suite(plugin, level=Level.INTEGRATION, check_ids=[DBT_BUILD_ID], workdir=workdir)
    assert suite.load_error is None
    [result] = suite.results
    return result


def test_credentials_reach_dbt_as_the_env_vars_the_profile_reads(tmp_path: Path) -> None:
    names = {"FLOE_DUCKDB_KEY_ID", "FLOE_DUCKDB_SECRET"}
    assert not names & set(os.environ)  # nobody exported them: the kit must
    result = _build(CredentialPlugin, tmp_path)
    assert result.outcome is Outcome.PASSED, result.message
    assert not names & set(os.environ)  # exported to dbt only, not into the caller


def test_a_variable_nothing_provides_is_named_before_dbt_runs(tmp_path: Path) -> None:
    result = _build(UnprovidedVarPlugin, tmp_path)
    assert result.outcome is Outcome.FAILED
    assert "FLOE_KIT171_REGION_UNSET" in result.message
    assert "credential" in result.message
    assert result.details["missing_env_vars"] == ["FLOE_KIT171_REGION_UNSET"]
    assert not list(tmp_path.rglob("run_results.json"))  # dbt never ran


def test_dbts_log_is_kept_under_the_logs_folder_with_secrets_masked(tmp_path: Path) -> None:
    logs = tmp_path / "out" / "logs"
    with logs_kept_in(logs):
        result = _build(UnopenablePathPlugin)  # the runner removes its own work directory
    assert result.outcome is Outcome.FAILED
    kept = logs / "integration.dbt_build-dbt.log"
    assert f"dbt's full log is kept at {kept}" in result.message
    text = kept.read_text(encoding="utf-8")
    assert "nonexistent-floe-dir" in text
    assert KEY_ID not in text


def test_without_a_kept_folder_a_failure_names_no_dangling_path(tmp_path: Path) -> None:
    result = _build(UnopenablePathPlugin)
    assert result.outcome is Outcome.FAILED
    assert "dbt.log" not in result.message
    assert "--out DIR" in result.message


def test_build_env_matches_prefix_conventions_and_respects_defaults() -> None:
    profile = {
        "password": "{{ env_var('FLOE_MYDB_PASSWORD') }}",
        "user": "{{ env_var('MYDB_USER', 'floe') }}",
        "token": "{{ env_var('FLOE_MYDB_API_TOKEN') | as_text }}",
        "nested": [{"k": "{{ env_var('FLOE_MYDB_NOWHERE') }}"}],
    }
    config = {
        "plugin": "mydb",
        "password": SecretStr("pw-1"),
        "credentials": {"token": SecretStr("t-2"), "api_token": SecretStr("t-3")},
    }
    exported, missing = build_env(profile, config)
    assert exported == {"FLOE_MYDB_PASSWORD": "pw-1", "FLOE_MYDB_API_TOKEN": "t-3"}
    assert missing == ["FLOE_MYDB_NOWHERE"]  # MYDB_USER has a default
