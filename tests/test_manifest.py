"""manifest.yaml and floe.yaml: real files on disk, parsed and checked, every error located."""

from __future__ import annotations

from pathlib import Path

import pytest

from _hierarchy import DOMAIN, ENTERPRISE, PRODUCT, tree, write
from floe_compute_kit.errors import ComputeConfigurationError, ManifestError
from floe_compute_kit.manifest import (
    REQUIRED_ENVIRONMENTS,
    load_hierarchy,
    load_manifest,
    load_product,
)

FIXTURES = Path(__file__).parent / "fixtures" / "multi_compute"


def error_of(path: Path) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        load_hierarchy(path)
    return info.value


@pytest.mark.requirement("FR-010")
def test_fixture_hierarchy_loads_with_config_merged_per_level_and_environment() -> None:
    hierarchy = load_hierarchy(FIXTURES / "orders" / "floe.yaml")
    assert hierarchy.enterprise.name == "acme"
    assert hierarchy.domain is not None
    assert hierarchy.domain.name == "sales"
    assert hierarchy.product is not None
    assert [t.name for t in hierarchy.product.transforms] == ["staging", "marts"]
    assert hierarchy.approved == ["duckdb", "duckdb_alt"]
    assert hierarchy.default == "duckdb"
    # enterprise threads=4, overridden per environment by floe.yaml
    assert hierarchy.compute_config("duckdb") == {"threads": 4}
    assert hierarchy.compute_config("duckdb", "dev") == {"threads": 1}
    assert hierarchy.compute_config("duckdb", "staging") == {"threads": 4}
    assert hierarchy.compute_config("duckdb_alt", "prod") == {"threads": 2}
    assert hierarchy.config_source("duckdb", "prod").endswith(
        "floe.yaml: environments.prod.compute.config.duckdb"
    )
    assert hierarchy.config_source("duckdb_alt").endswith(
        "manifest.yaml: compute.config.duckdb_alt"
    )


@pytest.mark.requirement("FR-010")
def test_a_manifest_path_loads_its_parent_chain(tmp_path: Path) -> None:
    tree(tmp_path)
    hierarchy = load_hierarchy(tmp_path / "sales" / "manifest.yaml")
    assert hierarchy.product is None
    assert hierarchy.enterprise.compute.approved == ["duckdb", "duckdb_alt", "spark"]
    enterprise_only = load_hierarchy(tmp_path / "enterprise" / "manifest.yaml")
    assert enterprise_only.domain is None
    assert enterprise_only.manifest is enterprise_only.enterprise


@pytest.mark.requirement("KIT-004")
def test_wrong_type_names_file_key_path_and_allowed(tmp_path: Path) -> None:
    bad = PRODUCT.replace("{name: d, path: models/d}", "{name: d, path: models/d, compute: 3}")
    err = error_of(tree(tmp_path, product=bad))
    assert err.key_path == "transforms[3].compute"
    assert "floe.yaml: transforms[3].compute" in err.message
    assert "got 3" in err.message
    assert "allowed: text" in err.message
    assert isinstance(err, ComputeConfigurationError)
    assert isinstance(err, ValueError)


@pytest.mark.requirement("KIT-004")
def test_unknown_key_lists_the_keys_that_exist(tmp_path: Path) -> None:
    bad = PRODUCT.replace("{name: c, path: models/c}", "{name: c, path: models/c, computer: x}")
    err = error_of(tree(tmp_path, product=bad))
    assert err.key_path == "transforms[2].computer"
    assert "unknown key" in err.message
    assert "allowed: name, path, compute" in err.message


@pytest.mark.requirement("KIT-004")
def test_unknown_key_nested_in_an_environment(tmp_path: Path) -> None:
    bad = PRODUCT.replace("prod: {}", "prod: {compute: {defualt: duckdb}}")
    err = error_of(tree(tmp_path, product=bad))
    assert err.key_path == "environments.prod.compute.defualt"
    assert "allowed: default, config" in err.message


@pytest.mark.requirement("KIT-004")
def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    bad = PRODUCT.replace("{name: a, path: models/a}", "{name: a, path: 7, extra: 1}").replace(
        "{name: d, path: models/d}", "{name: d, path: models/d, compute: Spark!}"
    )
    err = error_of(tree(tmp_path, product=bad))
    paths = [line.split(": ")[1] for line in err.errors]
    assert paths == ["transforms[0].path", "transforms[0].extra", "transforms[3].compute"]
    assert "matching ^[a-z][a-z0-9_]*$" in err.errors[2]


@pytest.mark.requirement("KIT-004")
def test_malformed_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "floe.yaml", "name: orders\ntransforms: [a, b\nenvironments: {}\n")
    with pytest.raises(ManifestError) as info:
        load_product(path)
    assert info.value.line == 3
    assert "floe.yaml: malformed YAML at line 3" in info.value.message


@pytest.mark.requirement("KIT-004")
def test_a_yaml_list_at_the_top_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "manifest.yaml", "- duckdb\n")
    with pytest.raises(ManifestError, match="expected a mapping of keys, got list"):
        load_manifest(path)


@pytest.mark.requirement("FR-010")
def test_approved_must_be_non_empty(tmp_path: Path) -> None:
    err = error_of(
        tree(tmp_path, enterprise=ENTERPRISE.replace("[duckdb, duckdb_alt, spark]", "[]"))
    )
    assert err.key_path == "compute.approved"
    assert "min length 1" in err.message


@pytest.mark.requirement("FR-010")
def test_approved_must_not_repeat_a_compute(tmp_path: Path) -> None:
    err = error_of(tree(tmp_path, enterprise=ENTERPRISE.replace("spark]", "spark, duckdb]")))
    assert err.key_path == "compute.approved"
    assert "lists duckdb more than once" in err.message


@pytest.mark.requirement("FR-011")
@pytest.mark.requirement("FR-010")
def test_default_must_be_approved_and_the_error_lists_the_approved(tmp_path: Path) -> None:
    err = error_of(tree(tmp_path, domain=DOMAIN.replace("default: duckdb", "default: spark")))
    assert err.file.endswith("sales/manifest.yaml")
    assert err.key_path == "compute.default"
    assert err.value == "spark"
    assert "allowed: duckdb, duckdb_alt" in err.message


@pytest.mark.requirement("FR-010")
def test_config_block_for_a_compute_that_is_not_approved(tmp_path: Path) -> None:
    bad = ENTERPRISE + "  config:\n    snowflake: {threads: 2}\n"
    err = error_of(tree(tmp_path, enterprise=bad))
    assert err.key_path == "compute.config.snowflake"
    assert "allowed: duckdb, duckdb_alt, spark" in err.message


@pytest.mark.requirement("FR-010")
def test_scope_must_be_enterprise_or_domain(tmp_path: Path) -> None:
    err = error_of(tree(tmp_path, domain=DOMAIN.replace("scope: domain", "scope: team")))
    assert err.key_path == "scope"
    assert "'enterprise' or 'domain'" in err.message


@pytest.mark.requirement("FR-010")
def test_a_domain_must_name_an_existing_enterprise_manifest(tmp_path: Path) -> None:
    err = error_of(
        tree(tmp_path, domain=DOMAIN.replace("parent: ../enterprise/manifest.yaml\n", ""))
    )
    assert err.key_path == "parent"
    assert "must name its enterprise manifest" in err.message
    err = error_of(tree(tmp_path, domain=DOMAIN.replace("../enterprise/", "../nowhere/")))
    assert err.key_path == "parent"
    assert "file not found: '../nowhere/manifest.yaml'" in err.message


@pytest.mark.requirement("FR-010")
def test_a_domain_parent_must_have_enterprise_scope(tmp_path: Path) -> None:
    tree(tmp_path)
    write(tmp_path, "other/manifest.yaml", DOMAIN.replace("../enterprise/", "../sales/"))
    write(tmp_path, "sub/manifest.yaml", DOMAIN.replace("../enterprise/", "../other/"))
    with pytest.raises(ManifestError) as info:
        load_hierarchy(tmp_path / "sub" / "manifest.yaml")
    assert info.value.key_path == "parent"
    assert "allowed: a manifest with scope 'enterprise'" in info.value.message


@pytest.mark.requirement("FR-010")
def test_environments_must_include_dev_staging_and_prod(tmp_path: Path) -> None:
    err = error_of(tree(tmp_path, product=PRODUCT.replace(", prod: {}", "")))
    assert err.key_path == "environments"
    assert "missing prod" in err.message
    assert f"at least {', '.join(REQUIRED_ENVIRONMENTS)}" in err.message


@pytest.mark.requirement("FR-012")
@pytest.mark.requirement("FR-010")
def test_transform_names_are_unique_and_overrides_name_real_transforms(tmp_path: Path) -> None:
    bad = PRODUCT.replace("{name: c, path: models/c}", "{name: a, path: models/c}").replace(
        "prod: {}", "prod: {transforms: {zz: {compute: duckdb}}}"
    )
    err = error_of(tree(tmp_path, product=bad))
    assert [line.split(": ")[1] for line in err.errors] == [
        "transforms[0].name",
        "transforms[2].name",
        "environments.prod.transforms.zz",
    ]
    assert "allowed: a, b, a, d" in err.errors[2]


@pytest.mark.requirement("FR-010")
def test_a_product_must_name_an_existing_domain_manifest(tmp_path: Path) -> None:
    path = write(tmp_path, "orders/floe.yaml", PRODUCT)
    err = error_of(path)
    assert err.key_path == "domain"
    assert "file not found" in err.message
