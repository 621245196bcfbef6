"""``floe-compute`` as users run it: a subprocess, with a second plugin really installed.

The end-to-end test approves DuckDB and ``duckdb_alt`` (tests/plugins), puts transforms on
both, runs ``floe-compute compile``, then ``dbt build`` once per compute with the target
and model selection the compile printed, and opens each compute's own DuckDB file to see
which compute built which model.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from _alt_plugin import (  # noqa: F401 - fixtures used by name below
    ALT_DISTRIBUTION,
    ALT_VERSION,
    alt_on_path,
    alt_site,
    subprocess_env,
)
from _hierarchy import DOMAIN, ENTERPRISE, PRODUCT, tree, write
from floe_compute_kit import (
    FLOE_API_VERSION,
    CatalogConfig,
    ComputeConfig,
    ComputePlugin,
    ConnectionResult,
    ConnectionStatus,
    ResourceSpec,
    resource_preset,
)
from floe_compute_kit.cli.compute import check_health, health_report, main
from floe_compute_kit.observability import use_providers

BIN = Path(sys.executable).parent
FIXTURE = Path(__file__).parent / "fixtures" / "multi_compute_dbt"
CORE_MODELS = {"orders", "orders_summary"}
ALT_MODELS = {"customers", "customer_count"}


def floe_compute(
    site: Path, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "floe-compute"), *args],
        env=subprocess_env(site),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tables_in(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def _floe_yaml(root: Path) -> str:
    """Transforms on both computes; each environment has its own database files."""
    warehouse = root / "warehouse"

    def env(name: str) -> str:
        return (
            f"  {name}:\n"
            f"    compute:\n"
            f"      config:\n"
            f"        duckdb: {{path: '{warehouse / f'core_{name}.duckdb'}'}}\n"
            f"        duckdb_alt: {{path: '{warehouse / f'alt_{name}.duckdb'}'}}\n"
        )

    return (
        "name: orders\n"
        "domain: ../analytics/manifest.yaml\n"
        "transforms:\n"
        "  - {name: orders_core, path: models/core}\n"
        "  - {name: customers_alt, path: models/alt, compute: duckdb_alt}\n"
        "environments:\n" + env("dev") + env("staging") + env("prod")
    )


def dbt_build(site: Path, project: Path, target: str, paths: list[str]) -> str:
    done = subprocess.run(
        [
            str(BIN / "dbt"),
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target",
            target,
            "--select",
            *(f"path:{p}" for p in paths),
        ],
        env=subprocess_env(site),
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"dbt build --target {target}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


# One test, so that under xdist its two dbt runs happen once, not once per worker.
@pytest.mark.requirement("FR-012", "US4-AS2", "SC-002")
@pytest.mark.requirement("US3-AS1", "US3")
@pytest.mark.requirement("US4-AS1", "US4")
@pytest.mark.requirement("US6-AS1", "US6")
@pytest.mark.slow
def test_end_to_end_compile_then_dbt_build_on_each_assigned_compute(
    alt_site: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    project = tmp_path / "project"
    (project / "floe.yaml").write_text(_floe_yaml(tmp_path))

    # 1. compile: each transform's compute, and profiles.yml next to floe.yaml
    done = floe_compute(alt_site, "compile", "--format", "json", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    compiled = json.loads(done.stdout)
    assert compiled["ok"] is True
    assert [(t["name"], t["compute"]) for t in compiled["transforms"]] == [
        ("orders_core", "duckdb"),
        ("customers_alt", "duckdb_alt"),
    ]
    assert compiled["selectors"] == {"duckdb": ["models/core"], "duckdb_alt": ["models/alt"]}

    # 2. profiles: one target per compute and environment, each from its own plugin
    profile = yaml.safe_load((project / "profiles.yml").read_text())["orders"]
    assert profile["target"] == "duckdb_dev"
    outputs = profile["outputs"]
    assert sorted(outputs) == sorted(
        f"{c}_{e}" for c in ("duckdb", "duckdb_alt") for e in ("dev", "staging", "prod")
    )
    for env in ("dev", "staging", "prod"):
        assert outputs[f"duckdb_{env}"]["type"] == "duckdb"
        assert outputs[f"duckdb_{env}"]["path"] == str(warehouse / f"core_{env}.duckdb")
        assert outputs[f"duckdb_alt_{env}"] == {
            "type": "duckdb",
            "threads": 2,
            "path": str(warehouse / f"alt_{env}.duckdb"),
            "schema": "main",
        }

    # 3. dbt build once per compute, with the target and selection the compile gave
    logs = {
        compute: dbt_build(alt_site, project, compiled["targets"][compute]["dev"], paths)
        for compute, paths in compiled["selectors"].items()
    }
    assert "PASS=4" in logs["duckdb"]  # 2 models + 2 schema tests
    assert "PASS=2" in logs["duckdb_alt"]
    # each compute's database holds exactly the models of the transforms assigned to it
    assert tables_in(warehouse / "core_dev.duckdb") == CORE_MODELS
    assert tables_in(warehouse / "alt_dev.duckdb") == ALT_MODELS
    assert not (warehouse / "core_prod.duckdb").exists()
    con = duckdb.connect(str(warehouse / "core_dev.duckdb"), read_only=True)
    try:
        summary = con.execute("select order_count, revenue from orders_summary").fetchone()
    finally:
        con.close()
    assert summary == (3, 42.5)

    # 4. health: green for the databases dbt built, red for the never-built prod ones
    ok = floe_compute(alt_site, "health", "--env", "dev", "--format", "json", cwd=project)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    rows = {r["compute"]: r for r in json.loads(ok.stdout)["computes"]}
    assert {name: r["status"] for name, r in rows.items()} == {
        "duckdb": "healthy",
        "duckdb_alt": "healthy",
    }
    assert all(r["latency_ms"] > 0 for r in rows.values())
    bad = floe_compute(alt_site, "health", "--env", "prod", "--format", "json", cwd=project)
    assert bad.returncode == 1
    prod = {r["compute"]: r for r in json.loads(bad.stdout)["computes"]}
    assert prod["duckdb"]["status"] == "unhealthy"
    assert "core_prod.duckdb does not exist" in prod["duckdb"]["message"]
    assert prod["duckdb_alt"]["status"] == "healthy"  # dbt creates it; the plugin warns
    assert "does not exist yet" in prod["duckdb_alt"]["warnings"][0]
    table = floe_compute(alt_site, "health", "--env", "prod", cwd=project)
    assert table.returncode == 1
    assert "unhealthy" in table.stdout


@pytest.mark.requirement("FR-003")
def test_plugins_lists_each_plugin_with_version_and_distribution(alt_site: Path) -> None:  # noqa: F811
    done = floe_compute(alt_site, "plugins", "--format", "json")
    assert done.returncode == 0, done.stderr
    plugins = {p["name"]: p for p in json.loads(done.stdout)["plugins"]}
    assert plugins["duckdb_alt"]["distribution"] == ALT_DISTRIBUTION
    assert plugins["duckdb_alt"]["distribution_version"] == ALT_VERSION
    assert plugins["duckdb_alt"]["version"] == ALT_VERSION
    assert plugins["duckdb_alt"]["entry_point"] == "floe_compute_duckdb_alt.plugin:AltDuckDBPlugin"
    assert plugins["duckdb"]["distribution"] == "floe-compute-kit"
    table = floe_compute(alt_site, "plugins")
    assert table.returncode == 0
    assert f"{ALT_DISTRIBUTION} {ALT_VERSION}" in table.stdout
    assert "duckdb_alt" in table.stdout


@pytest.mark.requirement("FR-012")
@pytest.mark.requirement("US4-AS1", "US4")
def test_compile_table_shows_each_transform_per_environment(
    tmp_path: Path,
    alt_site: Path,  # noqa: F811
) -> None:
    product = PRODUCT.replace(
        "environments: {dev: {}, staging: {}, prod: {}}",
        "environments: {dev: {}, staging: {}, prod: {}, qa: {}}",
    )
    path = tree(tmp_path, product=product)
    done = floe_compute(alt_site, "compile", str(path), "--profiles-dir", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr
    header = next(line for line in done.stdout.splitlines() if "┃ transform" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == [
        "transform",
        "path",
        "dev",
        "staging",
        "prod",
        "qa",
    ]
    row_b = next(line for line in done.stdout.splitlines() if "models/b" in line)
    assert row_b.count("duckdb_alt") == 4
    profiles = yaml.safe_load((tmp_path / "out" / "profiles.yml").read_text())
    assert len(profiles["orders"]["outputs"]) == 8  # 2 computes x 4 environments


@pytest.mark.requirement("US3-AS3", "US3", "US5-AS2", "FR-013", "SC-005", "KIT-023")
@pytest.mark.requirement("US5-AS3", "US5")
def test_compile_prints_every_violation_and_exits_1(tmp_path: Path, alt_site: Path) -> None:  # noqa: F811
    enterprise = ENTERPRISE.replace(
        "[duckdb, duckdb_alt, spark]", "[duckdb, duckdb_alt, spark, oracle]"
    )
    domain = DOMAIN.replace("[duckdb, duckdb_alt]", "[duckdb, duckdb_alt, teradata]")
    product = (
        PRODUCT.replace("{name: c, path: models/c}", "{name: c, path: models/c, compute: spark}")
        .replace("{name: d, path: models/d}", "{name: d, path: models/d, compute: db2}")
        .replace("prod: {}", "prod: {transforms: {a: {compute: duckdb_alt}}}")
    )
    path = tree(tmp_path, enterprise=enterprise, domain=domain, product=product)
    done = floe_compute(alt_site, "compile", str(path))
    assert done.returncode == 1
    out = " ".join(done.stdout.split())  # undo terminal wrapping
    assert "compile failed: 5 violation(s)" in out
    assert "approves teradata, which enterprise 'acme' does not" in out
    assert "transforms[2].compute: transform 'c' selects compute 'spark', which the domain" in out
    assert "transform 'd' selects compute 'db2', which the enterprise level" in out
    assert "transform 'a' runs on different computes across environments" in out
    assert "compute 'teradata' failed to load: no compute plugin named 'teradata'" in out
    assert not (tmp_path / "orders" / "profiles.yml").exists()

    as_json = floe_compute(alt_site, "compile", str(path), "--format", "json")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["ok"] is False
    assert [v["code"] for v in data["violations"]] == [
        "domain-not-subset",
        "compute-not-approved",
        "compute-not-approved",
        "environment-parity",
        "compute-load-failed",
    ]


@pytest.mark.requirement("KIT-004")
def test_bad_input_names_the_file_and_key_path(tmp_path: Path) -> None:
    path = tree(
        tmp_path,
        product=PRODUCT.replace(
            "{name: d, path: models/d}", "{name: d, path: models/d, compute: [x]}"
        ),
    )
    assert main(["compile", str(path), "--format", "json"]) == 2
    done = subprocess.run(
        [str(BIN / "floe-compute"), "compile", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "floe.yaml: transforms[3].compute: Input should be a valid string" in done.stdout


@pytest.fixture
def telemetry() -> Iterator[tuple[Any, Any]]:
    """The real OpenTelemetry SDK with in-memory exporter and reader."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    use_providers(tracer_provider, MeterProvider(metric_readers=[reader]))
    try:
        yield exporter, reader
    finally:
        use_providers()


def _points(reader: Any, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    return [
        point
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
        if metric.name == name
        for point in metric.data.data_points
    ]


@pytest.mark.requirement("US6-AS3")
@pytest.mark.requirement("US6-AS1", "US6")
@pytest.mark.usefixtures("alt_on_path")
def test_health_emits_spans_and_metrics_per_compute(
    tmp_path: Path, telemetry: tuple[Any, Any]
) -> None:
    exporter, reader = telemetry
    enterprise = ENTERPRISE.replace("[duckdb, duckdb_alt, spark]", "[duckdb, duckdb_alt, nosuch]")
    enterprise += (
        f"  config:\n    duckdb_alt: {{path: '{tmp_path / 'missing-dir' / 'alt.duckdb'}'}}\n"
    )
    domain = DOMAIN.replace("[duckdb, duckdb_alt]", "[duckdb, duckdb_alt, nosuch]")
    tree(tmp_path, enterprise=enterprise, domain=domain)
    rows = health_report(tmp_path / "orders" / "floe.yaml")
    status = {r["compute"]: r["status"] for r in rows}
    assert status == {"duckdb": "healthy", "duckdb_alt": "unhealthy", "nosuch": "unhealthy"}
    assert "missing-dir does not exist" in rows[1]["message"]
    assert "no compute plugin named 'nosuch'" in rows[2]["message"]

    spans = exporter.get_finished_spans()
    root = next(s for s in spans if s.name == "floe.compute.health")
    assert root.attributes["floe.compute.checked"] == 3
    assert root.attributes["floe.compute.unhealthy"] == 2
    checks = [s for s in spans if s.name == "floe.compute.validate_connection"]
    # one check span per compute under the health span ...
    by_plugin = {
        s.attributes["floe.compute.plugin"]: s
        for s in checks
        if s.parent is not None and s.parent.span_id == root.context.span_id
    }
    assert set(by_plugin) == {"duckdb", "duckdb_alt", "nosuch"}
    assert by_plugin["duckdb_alt"].attributes["floe.compute.status"] == "unhealthy"
    assert by_plugin["nosuch"].attributes["floe.compute.error_type"] == "load_failed"
    # ... and the DuckDB plugin, which instruments itself, is still one span, not two
    assert len(checks) == 3

    durations = _points(reader, "floe.compute.validation.duration_ms")
    assert {p.attributes["plugin"] for p in durations} == {"duckdb", "duckdb_alt", "nosuch"}
    assert all(p.count == 1 for p in durations)
    errors = {
        p.attributes["plugin"]: p.value for p in _points(reader, "floe.compute.validation.errors")
    }
    assert errors == {"duckdb_alt": 1, "nosuch": 1}


@pytest.mark.requirement("US6-AS1", "US6")
@pytest.mark.usefixtures("alt_on_path")
def test_health_rejects_an_unknown_environment(tmp_path: Path) -> None:
    path = tree(tmp_path)
    assert main(["health", str(path), "--env", "uat"]) == 2
    with pytest.raises(ValueError, match="allowed: dev, staging, prod"):
        health_report(path, "uat")


@pytest.mark.requirement("US6-AS1", "US6")
@pytest.mark.usefixtures("alt_on_path")
def test_the_python_example_in_docs_operations_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = Path(__file__).parents[1] / "docs"
    for name, body in re.findall(
        r"```yaml\n# (\S+)\n(.*?)```", (docs / "governance.md").read_text(), re.S
    ):
        write(tmp_path, name, body)
    (snippet,) = re.findall(r"```python\n(.*?)```", (docs / "operations.md").read_text(), re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    try:
        exec(compile(snippet, "docs/operations.md", "exec"), namespace)  # noqa: S102 - our docs
    finally:
        use_providers()
    assert [r["status"] for r in namespace["rows"]] == ["healthy", "healthy"]
    names = {s.name for s in namespace["spans"].get_finished_spans()}
    assert {"floe.compute.health", "floe.compute.validate_connection"} <= names


class _Plugin(ComputePlugin):
    """A real (unregistered) plugin whose validate_connection misbehaves on purpose."""

    name = "misbehaving"
    version = "0.0.1"
    floe_api_version = FLOE_API_VERSION

    def __init__(self, behaviour: str, release: threading.Event | None = None) -> None:
        self.behaviour = behaviour
        self.release = release

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return {"type": "duckdb", "threads": config.threads}

    def get_required_dbt_packages(self) -> list[str]:
        return ["dbt-duckdb>=1.11,<1.12"]

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        if self.behaviour == "hang" and self.release is not None:
            self.release.wait(30)
        if self.behaviour == "raise":
            raise RuntimeError("driver exploded")
        return "fine"  # type: ignore[return-value] - the wrong type, on purpose

    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        return resource_preset(workload_size)

    def get_catalog_attachment_sql(self, catalog_config: CatalogConfig) -> list[str] | None:
        return None


@pytest.mark.requirement("US6-AS1", "US6")
def test_health_turns_hangs_raises_and_wrong_types_into_unhealthy_results() -> None:
    config = ComputeConfig(plugin="misbehaving")
    release = threading.Event()
    try:
        hung = check_health(_Plugin("hang", release), config, budget=0.2)
    finally:
        release.set()
    assert hung.status is ConnectionStatus.UNHEALTHY
    assert "did not finish within 0.2 s" in hung.message
    assert hung.latency_ms >= 200
    raised = check_health(_Plugin("raise"), config)
    assert raised.status is ConnectionStatus.UNHEALTHY
    assert "raised RuntimeError: driver exploded" in raised.message
    wrong = check_health(_Plugin("wrong"), config)
    assert "returned str, not ConnectionResult" in wrong.message


@pytest.mark.requirement("US4-AS1", "US4")
def test_compile_of_a_manifest_alone_is_refused(tmp_path: Path) -> None:
    tree(tmp_path)
    assert main(["compile", str(tmp_path / "sales" / "manifest.yaml")]) == 2
