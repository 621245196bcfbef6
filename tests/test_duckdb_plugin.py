"""DuckDBComputePlugin: metadata, packages, resources, and validate_connection on real targets."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from packaging.requirements import Requirement
from pydantic import SecretStr

from _duckdb_helpers import duckdb_configs
from floe_compute_duckdb import AttachConfig, DuckDBComputePlugin, DuckDBConfig
from floe_compute_duckdb.extensions import DUCKDB_VERSION
from floe_compute_duckdb.plugin import RETRY_BUDGET_SECONDS
from floe_compute_kit import (
    SUPPORTED_API_VERSIONS,
    Capability,
    ComputeConfigurationError,
    ConnectionStatus,
    load_plugin,
)
from floe_compute_kit.cli.compute import HEALTH_BUDGET_SECONDS

PLUGIN = DuckDBComputePlugin()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A real DuckDB database file with one table, closed."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS id FROM range(10)")
    return path


def snapshot(directory: Path) -> dict[str, str]:
    return {p.name: sha256(p) for p in sorted(directory.iterdir()) if p.is_file()}


# ---------------------------------------------------------------- metadata and static methods


@pytest.mark.requirement("FR-005")
def test_metadata_capabilities_and_registration() -> None:
    assert PLUGIN.name == "duckdb"
    assert PLUGIN.floe_api_version in SUPPORTED_API_VERSIONS
    assert PLUGIN.config_model is DuckDBConfig
    assert {
        Capability.CATALOG_ATTACHMENT,
        Capability.QUERY_TIMEOUT,
        Capability.DBT_BUILD,
    } <= PLUGIN.capabilities
    assert type(load_plugin("duckdb")) is DuckDBComputePlugin


@pytest.mark.requirement("FR-005")
def test_example_configs_cover_the_features() -> None:
    examples = list(PLUGIN.example_configs())
    assert all(isinstance(c, DuckDBConfig) for c in examples)
    assert any(c.path != ":memory:" for c in examples)
    assert any(c.memory_limit for c in examples)
    assert any(c.extensions for c in examples)
    assert any(c.settings for c in examples)
    assert any(c.attach for c in examples)
    assert any(c.credentials for c in examples)
    for config in examples:
        assert PLUGIN.generate_dbt_profile(config)["threads"] == config.threads


@pytest.mark.requirement("KIT-002")
def test_required_packages_are_pep508_and_match_what_is_installed() -> None:
    packages = PLUGIN.get_required_dbt_packages()
    requirements = [Requirement(p) for p in packages]
    assert requirements[0].name == "dbt-duckdb"
    names = {r.name for r in requirements}
    assert {"dbt-duckdb", "duckdb", "duckdb-extension-iceberg"} <= names
    for requirement in requirements:
        assert str(requirement.specifier), f"{requirement} has no version range"
        assert requirement.specifier.contains(version(requirement.name)), requirement
    duckdb_req = next(r for r in requirements if r.name == "duckdb")
    assert duckdb_req.specifier.contains(DUCKDB_VERSION[1:])
    assert not duckdb_req.specifier.contains("2.0.0")


@pytest.mark.requirement("KIT-003")
def test_resource_presets_and_unknown_size() -> None:
    assert PLUGIN.get_resource_requirements("small").memory_limit == "512Mi"
    assert PLUGIN.get_resource_requirements("medium").cpu_limit == "2000m"
    assert PLUGIN.get_resource_requirements("large").memory_limit == "16Gi"
    with pytest.raises(ComputeConfigurationError) as info:
        PLUGIN.get_resource_requirements("huge")
    assert isinstance(info.value, ValueError)
    for size in ("small", "medium", "large", "huge"):
        assert size in str(info.value)


# ---------------------------------------------------------------- validate_connection: healthy


@pytest.mark.requirement("FR-018", "FR-019")
@pytest.mark.requirement("US6-AS1", "US6")
def test_memory_is_healthy_with_measured_latency() -> None:
    started = time.perf_counter()
    result = PLUGIN.validate_connection(DuckDBConfig())
    wall_ms = (time.perf_counter() - started) * 1000
    assert result.status is ConnectionStatus.HEALTHY
    assert 0 < result.latency_ms <= wall_ms
    assert result.warnings == ()


@pytest.mark.requirement("FR-018", "FR-019")
def test_existing_file_is_healthy_and_untouched(database: Path) -> None:
    before = snapshot(database.parent)
    mtime = database.stat().st_mtime_ns
    config = DuckDBConfig(path=str(database), memory_limit="256MB", settings={"threads": 1})
    result = PLUGIN.validate_connection(config)
    assert result.status is ConnectionStatus.HEALTHY, result.message
    assert snapshot(database.parent) == before  # same files (no .wal), same bytes
    assert database.stat().st_mtime_ns == mtime


@pytest.mark.requirement("FR-018", "FR-019")
def test_validation_holds_no_lock_after_it_returns(database: Path) -> None:
    assert PLUGIN.validate_connection(DuckDBConfig(path=str(database))).status == "healthy"
    with duckdb.connect(str(database)) as writer:  # a writer can open the file at once
        writer.execute("INSERT INTO t VALUES (99)")


# ---------------------------------------------------------------- validate_connection: unhealthy


@pytest.mark.requirement("FR-018", "FR-019")
def test_missing_file_is_unhealthy_and_never_created(tmp_path: Path) -> None:
    target = tmp_path / "absent.duckdb"
    result = PLUGIN.validate_connection(DuckDBConfig(path=str(target)))
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "does not exist" in result.message
    assert "dbt build" in result.message  # says what to do
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.requirement("FR-018", "FR-019")
def test_missing_directory_is_unhealthy_and_never_created(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "w.duckdb"
    result = PLUGIN.validate_connection(DuckDBConfig(path=str(target)))
    assert result.status is ConnectionStatus.UNHEALTHY
    assert not (tmp_path / "no").exists()


@pytest.mark.requirement("FR-018", "FR-019")
def test_directory_is_unhealthy(tmp_path: Path) -> None:
    (tmp_path / "dir.duckdb").mkdir()
    result = PLUGIN.validate_connection(DuckDBConfig(path=str(tmp_path / "dir.duckdb")))
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "directory" in result.message


@pytest.mark.requirement("FR-018", "FR-019")
def test_not_a_duckdb_file_is_unhealthy_and_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "notes.duckdb"
    target.write_text("name,amount\nada,1\n" * 200, encoding="utf-8")
    digest = sha256(target)
    result = PLUGIN.validate_connection(DuckDBConfig(path=str(target)))
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "not a DuckDB database file" in result.message
    assert sha256(target) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.duckdb"]


@pytest.mark.requirement("FR-018", "FR-019")
def test_unreadable_file_is_unhealthy(database: Path) -> None:
    """chmod 000 stops a normal user; root bypasses it unless it drops CAP_DAC_* (setpriv)."""
    digest = sha256(database)
    database.chmod(0)
    script = (
        "import json, sys\n"
        "from floe_compute_duckdb import DuckDBComputePlugin, DuckDBConfig\n"
        "r = DuckDBComputePlugin().validate_connection(DuckDBConfig(path=sys.argv[1]))\n"
        "print(json.dumps({'status': r.status.value, 'message': r.message}))\n"
    )
    command = [sys.executable, "-c", script, str(database)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "running as root needs util-linux setpriv to drop CAP_DAC_OVERRIDE"
        caps = "-dac_override,-dac_read_search"
        command = [setpriv, "--bounding-set", caps, "--inh-caps", caps, *command]
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    finally:
        database.chmod(0o644)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "unhealthy"
    assert "permission denied" in result["message"]
    assert "grant read access" in result["message"]
    assert sha256(database) == digest


@pytest.fixture
def writer_process(database: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process holding a writing connection on the database.

    It lets go when it reads a line (or at the end of its stdin), says so, and exits at
    the end of its stdin.
    """
    script = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "con.execute('INSERT INTO t VALUES (42)')\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "con.close()\n"
        "print('released', flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    try:
        yield proc
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)


@pytest.mark.requirement("FR-018", "FR-019")
@pytest.mark.requirement("US6-AS1", "US6")
def test_file_locked_by_a_writing_process_is_unhealthy(
    database: Path, writer_process: subprocess.Popen[str]
) -> None:
    files_before = snapshot(database.parent)
    started = time.perf_counter()
    result = PLUGIN.validate_connection(DuckDBConfig(path=str(database)))
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "locked by another process" in result.message
    assert f"PID {writer_process.pid}" in result.message
    assert "stop that process" in result.message
    assert result.latency_ms <= (time.perf_counter() - started) * 1000
    assert snapshot(database.parent) == files_before


@pytest.mark.requirement("US6-AS2", "US6")
@pytest.mark.requirement("FR-018", "FR-019")
def test_a_lasting_lock_is_retried_within_the_budget_then_unhealthy(
    database: Path, writer_process: subprocess.Popen[str]
) -> None:
    result = PLUGIN.validate_connection(DuckDBConfig(path=str(database)))
    assert result.status is ConnectionStatus.UNHEALTHY
    assert f"PID {writer_process.pid}" in result.message
    attempts = re.search(r"still locked after (\d+) attempts over ([\d.]+) s", result.message)
    assert attempts, result.message
    assert int(attempts[1]) > 1  # retried, not reported at the first failure
    assert float(attempts[2]) <= RETRY_BUDGET_SECONDS < HEALTH_BUDGET_SECONDS


@pytest.mark.requirement("US6-AS2", "US6")
@pytest.mark.requirement("FR-018", "FR-019")
def test_a_transient_lock_is_retried_and_reported_degraded(
    database: Path, writer_process: subprocess.Popen[str]
) -> None:
    """A writer holds the file when validation starts and lets go a moment later."""
    writer = writer_process
    assert writer.stdin is not None
    assert writer.stdout is not None

    def release() -> None:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()

    # validation's first attempt is immediate; the writer lets go 0.5 s later
    timer = threading.Timer(0.5, release)
    timer.start()
    result = PLUGIN.validate_connection(DuckDBConfig(path=str(database)))
    timer.join()
    assert writer.stdout.readline().strip() == "released"
    assert result.status is ConnectionStatus.DEGRADED, result
    (warning,) = result.warnings
    assert f"the first attempt failed: database file {database} is locked" in warning
    assert f"PID {writer.pid}" in warning
    assert re.search(r"connected on attempt [2-9]\d* after [\d.]+ s of retries", warning)
    assert "transient" in warning


@pytest.mark.requirement("FR-018", "FR-019")
def test_invalid_setting_is_unhealthy_naming_it() -> None:
    result = PLUGIN.validate_connection(DuckDBConfig(settings={"no_such_setting": 1}))
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "settings.no_such_setting" in result.message


@pytest.mark.requirement("FR-018", "FR-019")
def test_invalid_connection_option_is_unhealthy_naming_it() -> None:
    result = PLUGIN.validate_connection(DuckDBConfig(connection={"no_such_option": "x"}))
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "no_such_option" in result.message


# ---------------------------------------------------------------- validate_connection: degraded


@pytest.mark.requirement("FR-018", "FR-019")
def test_packaged_extensions_validate_offline_without_installing(tmp_path: Path) -> None:
    ext_dir = tmp_path / "ext"
    config = DuckDBConfig(extensions=["iceberg", "json"], extension_directory=str(ext_dir))
    result = PLUGIN.validate_connection(config)
    assert result.status is ConnectionStatus.HEALTHY, result.warnings
    assert not ext_dir.exists()  # loaded from the package files, nothing installed


def _installed_avro(ext_dir: Path) -> Path:
    """Where DuckDB looks for an installed avro extension under ``ext_dir`` (folder made)."""
    platform = duckdb.execute("PRAGMA platform").fetchone()
    assert platform is not None
    path = ext_dir / DUCKDB_VERSION / str(platform[0]) / "avro.duckdb_extension"
    path.parent.mkdir(parents=True)
    return path


@pytest.mark.requirement("US6-AS1", "US6")
@pytest.mark.requirement("FR-018", "FR-019")
def test_broken_extension_file_is_degraded_with_a_warning(tmp_path: Path) -> None:
    broken = _installed_avro(tmp_path / "ext")
    broken.write_bytes(b"this is not a shared library")
    config = DuckDBConfig(extensions=["avro"], extension_directory=str(tmp_path / "ext"))
    result = PLUGIN.validate_connection(config)
    assert result.status is ConnectionStatus.DEGRADED
    assert len(result.warnings) == 1
    assert "'avro' cannot be loaded" in result.warnings[0]
    assert str(broken) in result.warnings[0]  # says which file to delete


@pytest.mark.requirement("FR-018", "FR-019")
def test_a_file_changed_after_a_clean_load_is_loaded_again_and_caught(tmp_path: Path) -> None:
    # An unchanged file that loaded cleanly is not loaded again; one replaced since is.
    from floe_compute_duckdb.extensions import package_file

    installed = _installed_avro(tmp_path / "ext")
    source = package_file("avro")
    assert source is not None
    shutil.copyfile(source, installed)
    config = DuckDBConfig(extensions=["avro"], extension_directory=str(tmp_path / "ext"))
    assert PLUGIN.validate_connection(config).status is ConnectionStatus.HEALTHY
    assert PLUGIN.validate_connection(config).status is ConnectionStatus.HEALTHY
    # replaced as an upgrade replaces it: a new file renamed over the old one (writing into
    # the file in place would truncate the library this process has mapped: SIGBUS)
    fresh = installed.with_suffix(".new")
    fresh.write_bytes(b"replaced by something that is not an extension")
    os.replace(fresh, installed)
    result = PLUGIN.validate_connection(config)
    assert result.status is ConnectionStatus.DEGRADED
    assert "'avro' cannot be loaded" in result.warnings[0]


@pytest.mark.requirement("FR-018")
def test_files_loaded_cleanly_are_skipped_together_unless_settings_need_them(
    tmp_path: Path,
) -> None:
    from floe_compute_duckdb.plugin import _load_extensions

    def loaded(reuse: bool) -> set[str]:
        config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
        with duckdb.connect(":memory:", config=config) as con:
            assert _load_extensions(con, ["avro", "httpfs", "iceberg", "json"], reuse=reuse) == []
            rows = con.execute(
                "SELECT extension_name FROM duckdb_extensions() WHERE loaded"
            ).fetchall()
        return {str(row[0]) for row in rows}

    first = loaded(reuse=False)
    assert {"avro", "httpfs", "iceberg", "json"} <= first
    again = loaded(reuse=True)  # all three files loaded cleanly above, none changed
    assert "json" in again
    assert not {"avro", "httpfs", "iceberg"} & again
    assert {"avro", "httpfs", "iceberg"} <= loaded(reuse=False)  # settings: all loaded


# ---------------------------------------------------------------- validate_connection: properties


@pytest.mark.requirement("FR-018", "FR-019")
@settings(max_examples=40)
@given(config=duckdb_configs())
def test_validate_never_raises_and_never_creates(config: DuckDBConfig) -> None:
    # Generated paths are relative: run in an empty folder holding the folders they name,
    # so that a created file would show up anywhere below it.
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        for folder in {Path(a.path).parent for a in config.attach} | {Path(config.path).parent}:
            if not folder.is_absolute():
                folder.mkdir(parents=True, exist_ok=True)
        before = sorted(Path(tmp).rglob("*"))
        started = time.perf_counter()
        result = PLUGIN.validate_connection(config)
        wall_ms = (time.perf_counter() - started) * 1000
        after = sorted(Path(tmp).rglob("*"))
    assert result.status in set(ConnectionStatus)
    assert 0 < result.latency_ms <= wall_ms  # the 5 s budget is measured in bench/
    if result.status is not ConnectionStatus.HEALTHY:
        assert result.message or result.warnings
    assert after == before
    for secret in config.credentials.values():
        text = result.message + " ".join(result.warnings)
        assert secret.get_secret_value() not in text


@pytest.mark.requirement("FR-018", "FR-019")
def test_attach_and_credentials_do_not_break_validation(database: Path) -> None:
    config = DuckDBConfig(
        path=str(database),
        credentials={"token": SecretStr("SECRET-abc")},
        attach=[AttachConfig(path="wh", alias="lake", options={"endpoint": "http://127.0.0.1:9"})],
    )
    result = PLUGIN.validate_connection(config)
    assert result.status is ConnectionStatus.HEALTHY, result
    assert "SECRET-abc" not in result.model_dump_json()
