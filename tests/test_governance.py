"""enterprise -> domain -> product: each level narrows the one above, and says so when broken."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from _alt_plugin import alt_on_path, alt_site  # noqa: F401 - fixtures used by name
from _hierarchy import DOMAIN as DOMAIN_YAML
from _hierarchy import ENTERPRISE as ENTERPRISE_YAML
from _hierarchy import PRODUCT as PRODUCT_YAML
from _hierarchy import tree, write
from floe_compute_kit.compiler import compile_path
from floe_compute_kit.governance import (
    DOMAIN,
    ENTERPRISE,
    Policy,
    check_hierarchy,
    check_manifests,
    check_product,
)
from floe_compute_kit.manifest import ComputeSection, Hierarchy, Manifest, load_hierarchy


def hierarchy_of(tmp_path: Path, **files: str) -> Hierarchy:
    return load_hierarchy(tree(tmp_path, **files))


@pytest.mark.requirement("FR-015")
def test_a_conforming_hierarchy_has_no_violations(tmp_path: Path) -> None:
    assert check_hierarchy(hierarchy_of(tmp_path)) == []


@pytest.mark.requirement("SC-009", "FR-017")
@pytest.mark.requirement("FR-016", "US5-AS2", "US5")
def test_domain_approving_more_than_enterprise_names_extras_and_shows_enterprise_list(
    tmp_path: Path,
) -> None:
    domain = DOMAIN_YAML.replace("[duckdb, duckdb_alt]", "[duckdb, snowflake, duckdb_alt, trino]")
    violations = check_manifests(hierarchy_of(tmp_path, domain=domain))
    assert len(violations) == 1
    v = violations[0]
    assert v.code == "domain-not-subset"
    assert v.level == ENTERPRISE
    assert v.key_path == "compute.approved"
    assert v.file.endswith("sales/manifest.yaml")
    assert "approves snowflake, trino, which enterprise 'acme' does not" in v.message
    assert "(enterprise approves: duckdb, duckdb_alt, spark)" in v.message
    assert v.allowed == ("duckdb", "duckdb_alt", "spark")


@pytest.mark.requirement("SC-009", "FR-017")
@pytest.mark.requirement("FR-015")
def test_domain_default_outside_domain_approved_is_a_violation() -> None:
    # Built in code, not read from a file: the loader already refuses this per file,
    # and governance must hold for manifests that tools construct too.
    enterprise = Manifest(
        scope="enterprise",
        name="acme",
        compute=ComputeSection(approved=["duckdb", "spark"], default="duckdb"),
    )
    domain = Manifest(
        scope="domain",
        name="sales",
        parent="../enterprise/manifest.yaml",
        compute=ComputeSection(approved=["duckdb"], default="spark"),
    )
    violations = check_manifests(Hierarchy(enterprise=enterprise, domain=domain))
    assert [(v.code, v.level, v.key_path) for v in violations] == [
        ("default-not-approved", DOMAIN, "compute.default")
    ]
    assert (
        "domain default 'spark' is not in the domain's approved computes" in violations[0].message
    )
    assert "(allowed: duckdb)" in violations[0].message


@pytest.mark.requirement("SC-009")
@pytest.mark.requirement("FR-015", "US5-AS3", "US5", "FR-017")
def test_product_selection_forbidden_by_domain_names_the_domain_level(tmp_path: Path) -> None:
    product = PRODUCT_YAML.replace(
        "{name: c, path: models/c}", "{name: c, path: models/c, compute: spark}"
    )
    violations = check_product(hierarchy_of(tmp_path, product=product))
    assert len(violations) == 1
    v = violations[0]
    assert (v.code, v.level, v.transform, v.compute) == (
        "compute-not-approved",
        DOMAIN,
        "c",
        "spark",
    )
    assert v.key_path == "transforms[2].compute"
    assert str(v).endswith(
        "floe.yaml: transforms[2].compute: transform 'c' selects compute 'spark', which the domain "
        "level does not approve (allowed: duckdb, duckdb_alt)"
    )


@pytest.mark.requirement("SC-009")
@pytest.mark.requirement("FR-015", "US5-AS3", "US5", "FR-017")
def test_product_selection_forbidden_by_enterprise_names_the_enterprise_level(
    tmp_path: Path,
) -> None:
    product = PRODUCT_YAML.replace(
        "{name: c, path: models/c}", "{name: c, path: models/c, compute: bigquery}"
    )
    (v,) = check_product(hierarchy_of(tmp_path, product=product))
    assert v.level == ENTERPRISE
    assert "the enterprise level does not approve (allowed: duckdb, duckdb_alt)" in v.message


@pytest.mark.requirement("FR-015", "US5-AS3", "US5", "FR-017")
def test_environment_overrides_are_governed_too(tmp_path: Path) -> None:
    product = PRODUCT_YAML.replace(
        "environments: {dev: {}, staging: {}, prod: {}}",
        "environments:\n"
        "  dev: {compute: {default: spark}}\n"
        "  staging: {compute: {config: {spark: {threads: 2}}}}\n"
        "  prod: {transforms: {a: {compute: bigquery}}}\n",
    )
    violations = check_product(hierarchy_of(tmp_path, product=product))
    assert [(v.key_path, v.level, v.environments) for v in violations] == [
        ("environments.dev.compute.default", DOMAIN, ("dev",)),
        ("environments.staging.compute.config.spark", DOMAIN, ("staging",)),
        ("environments.prod.transforms.a.compute", ENTERPRISE, ("prod",)),
    ]


@pytest.mark.requirement("US5-AS1")
@pytest.mark.requirement("FR-015", "US5-AS3", "US5", "FR-017")
def test_product_directly_under_enterprise_is_checked_against_enterprise(tmp_path: Path) -> None:
    product = PRODUCT_YAML.replace("../sales/manifest.yaml", "../enterprise/manifest.yaml").replace(
        "{name: c, path: models/c}", "{name: c, path: models/c, compute: spark}"
    )
    hierarchy = hierarchy_of(tmp_path, product=product)
    assert hierarchy.domain is None
    assert check_hierarchy(hierarchy) == []
    assert Policy.of(hierarchy).allowed == ("duckdb", "duckdb_alt", "spark")


@pytest.mark.requirement("FR-015")
def test_violations_of_every_level_are_collected_together(tmp_path: Path) -> None:
    domain = DOMAIN_YAML.replace("[duckdb, duckdb_alt]", "[duckdb, duckdb_alt, oracle]")
    product = PRODUCT_YAML.replace(
        "{name: c, path: models/c}", "{name: c, path: models/c, compute: spark}"
    )
    enterprise = ENTERPRISE_YAML
    violations = check_hierarchy(
        hierarchy_of(tmp_path, enterprise=enterprise, domain=domain, product=product)
    )
    assert [v.code for v in violations] == ["domain-not-subset", "compute-not-approved"]


@pytest.mark.requirement("US5-AS1", "US5")
@pytest.mark.requirement("FR-015")
def test_policy_levels() -> None:
    enterprise = Manifest(
        scope="enterprise", name="e", compute=ComputeSection(approved=["a", "b", "c"], default="a")
    )
    domain = Manifest(
        scope="domain",
        name="d",
        parent="x",
        compute=ComputeSection(approved=["a", "b"], default="a"),
    )
    policy = Policy.of(Hierarchy(enterprise=enterprise, domain=domain))
    assert policy.forbidding_level("a") is None
    assert policy.forbidding_level("c") == DOMAIN
    assert policy.forbidding_level("z") == ENTERPRISE
    assert policy.selection_violation("b", file="f", key_path="k") is None


@pytest.mark.requirement("FR-015")
@pytest.mark.usefixtures("alt_on_path")
def test_the_example_in_docs_governance_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (Path(__file__).parents[1] / "docs" / "governance.md").read_text()
    blocks = re.findall(r"```yaml\n# (\S+)\n(.*?)```", text, re.S)
    assert [name for name, _ in blocks] == [
        "enterprise/manifest.yaml",
        "sales/manifest.yaml",
        "orders/floe.yaml",
    ]
    for name, body in blocks:
        write(tmp_path, name, body)
    pipeline = compile_path(tmp_path / "orders" / "floe.yaml")
    assert [(t.name, t.compute) for t in pipeline.transforms] == [
        ("staging", "duckdb"),
        ("marts", "duckdb_alt"),
    ]
    (snippet,) = re.findall(r"```python\n(.*?)```", text, re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(snippet, "docs/governance.md", "exec"), namespace)  # noqa: S102 - our own docs
    profiles = namespace["profiles"]
    assert isinstance(profiles, dict)
    assert sorted(profiles["orders"]["outputs"]) == sorted(
        f"{c}_{e}" for c in ("duckdb", "duckdb_alt") for e in ("dev", "staging", "prod")
    )
    assert capsys.readouterr().out == ""  # no violations printed
