"""The compiler: per-transform compute, environment parity, every error at once, dbt profiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from _alt_plugin import alt_on_path, alt_site  # noqa: F401 - fixtures used by name below
from _hierarchy import DOMAIN, PRODUCT, tree
from floe_compute_kit.compiler import build_profiles, compile_hierarchy, compile_path, resolve
from floe_compute_kit.errors import CompilationError
from floe_compute_kit.manifest import ComputeSection, Hierarchy, Manifest, Product, load_hierarchy
from floe_compute_kit.registry import ApprovedComputes

PARITY_BREAK = PRODUCT.replace(
    "environments: {dev: {}, staging: {}, prod: {}}",
    "environments:\n  dev: {}\n  staging: {}\n  prod: {transforms: {a: {compute: duckdb_alt}}}\n",
)


def compile_error(path: Path) -> CompilationError:
    with pytest.raises(CompilationError) as info:
        compile_path(path)
    return info.value


@pytest.mark.requirement("US2-AS1", "US2", "US3-AS2", "US3", "US4-AS1", "US4", "US4-AS2")
@pytest.mark.requirement("FR-012", "FR-011")
def test_each_transform_gets_its_explicit_compute_or_the_default(tmp_path: Path) -> None:
    pipeline = compile_path(tree(tmp_path))
    assert [(t.name, t.compute) for t in pipeline.transforms] == [
        ("a", "duckdb"),
        ("b", "duckdb_alt"),
        ("c", "duckdb"),
        ("d", "duckdb"),
    ]
    assert pipeline.environments == ("dev", "staging", "prod")
    assert pipeline.selectors() == {
        "duckdb": ["models/a", "models/c", "models/d"],
        "duckdb_alt": ["models/b"],
    }
    assert pipeline.targets()["duckdb_alt"] == {
        "dev": "duckdb_alt_dev",
        "staging": "duckdb_alt_staging",
        "prod": "duckdb_alt_prod",
    }
    data = json.loads(json.dumps(pipeline.to_dict()))
    assert data["transforms"][1]["environments"] == dict.fromkeys(
        ("dev", "staging", "prod"), "duckdb_alt"
    )


@pytest.mark.requirement("US3-AS2", "US3", "US4-AS2", "US4")
@pytest.mark.requirement("FR-012", "FR-011")
def test_the_domain_default_is_used_not_the_enterprise_default(tmp_path: Path) -> None:
    domain = DOMAIN.replace("default: duckdb", "default: duckdb_alt")
    pipeline = compile_path(tree(tmp_path, domain=domain))
    assert pipeline.default == "duckdb_alt"
    assert {t.compute for t in pipeline.transforms} == {"duckdb_alt"}


@pytest.mark.requirement("SC-009", "FR-017")
@pytest.mark.requirement("FR-013", "US3-AS3", "US3")
def test_an_unapproved_compute_fails_compile_listing_options_and_level(tmp_path: Path) -> None:
    product = PRODUCT.replace(
        "{name: c, path: models/c}", "{name: c, path: models/c, compute: spark}"
    )
    err = compile_error(tree(tmp_path, product=product))
    (v,) = err.violations
    assert v.level == "domain"
    assert "transforms[2].compute" in str(err)
    assert "allowed: duckdb, duckdb_alt" in str(err)
    assert isinstance(err, ValueError)


@pytest.mark.requirement("SC-005", "FR-014", "US4-AS3", "US4")
def test_parity_violation_names_transform_environments_and_computes(tmp_path: Path) -> None:
    err = compile_error(tree(tmp_path, product=PARITY_BREAK))
    (v,) = err.violations
    assert v.code == "environment-parity"
    assert v.transform == "a"
    assert v.environments == ("dev", "staging", "prod")
    assert "transform 'a' runs on different computes across environments" in v.message
    assert "(dev, staging -> duckdb; prod -> duckdb_alt)" in v.message
    assert v.key_path == "transforms[0]"


@pytest.mark.requirement("SC-005", "FR-014", "US4-AS3", "US4")
def test_an_environment_default_breaks_parity_only_for_transforms_that_inherit_it(
    tmp_path: Path,
) -> None:
    product = PRODUCT.replace(
        "environments: {dev: {}, staging: {}, prod: {}}",
        "environments:\n  dev: {compute: {default: duckdb_alt}}\n  staging: {}\n  prod: {}\n",
    )
    err = compile_error(tree(tmp_path, product=product))
    assert [v.transform for v in err.violations] == ["a", "c", "d"]
    assert all("dev -> duckdb_alt; staging, prod -> duckdb" in v.message for v in err.violations)


@pytest.mark.requirement("SC-005", "FR-014", "US4-AS3", "US4")
def test_overrides_that_keep_parity_are_allowed(tmp_path: Path) -> None:
    product = """\
    name: orders
    domain: ../sales/manifest.yaml
    transforms:
      - {name: a, path: models/a, compute: duckdb}
      - {name: b, path: models/b}
    environments:
      dev: {compute: {default: duckdb_alt}, transforms: {b: {compute: duckdb}}}
      staging: {transforms: {a: {compute: duckdb}}}
      prod: {compute: {config: {duckdb: {threads: 16}}}}
      qa: {}
    """
    pipeline = compile_path(tree(tmp_path, product=product))
    assert pipeline.environments == ("dev", "staging", "prod", "qa")
    assert resolve(pipeline.hierarchy) == {
        key: ["duckdb", "duckdb"] for key in pipeline.environments
    }


@pytest.mark.requirement("SC-004")
def test_all_errors_are_reported_at_once(tmp_path: Path) -> None:
    domain = DOMAIN.replace("[duckdb, duckdb_alt]", "[duckdb, duckdb_alt, oracle]")
    product = PARITY_BREAK.replace(
        "{name: c, path: models/c}", "{name: c, path: models/c, compute: spark}"
    ).replace("{name: d, path: models/d}", "{name: d, path: models/d, compute: teradata}")
    err = compile_error(tree(tmp_path, domain=domain, product=product))
    assert [(v.code, v.transform) for v in err.violations] == [
        ("domain-not-subset", None),
        ("compute-not-approved", "c"),
        ("compute-not-approved", "d"),
        ("environment-parity", "a"),
    ]
    assert "compile failed with 4 violations" in str(err)
    assert [v["code"] for v in err.to_dict()["violations"]][-1] == "environment-parity"


@pytest.mark.requirement("FR-012", "FR-011")
def test_compile_needs_a_product(tmp_path: Path) -> None:
    tree(tmp_path)
    with pytest.raises(ValueError, match=r"needs a floe\.yaml"):
        compile_hierarchy(load_hierarchy(tmp_path / "sales" / "manifest.yaml"))


@pytest.mark.requirement("FR-012", "FR-011")
@pytest.mark.usefixtures("alt_on_path")
def test_profiles_have_one_target_per_compute_and_environment(tmp_path: Path) -> None:
    product = PRODUCT.replace(
        "environments: {dev: {}, staging: {}, prod: {}}",
        "environments:\n"
        "  dev: {compute: {config: {duckdb_alt: {threads: 1}}}}\n"
        "  staging: {}\n"
        "  prod: {compute: {config: {duckdb_alt: {threads: 12, path: /data/prod.duckdb}}}}\n",
    )
    pipeline = compile_path(tree(tmp_path, product=product))
    registry = ApprovedComputes.from_manifest(pipeline.hierarchy)
    profiles = build_profiles(pipeline, registry)
    profile = profiles["orders"]
    assert profile["target"] == "duckdb_dev"
    outputs = profile["outputs"]
    assert sorted(outputs) == sorted(
        f"{c}_{e}" for c in ("duckdb", "duckdb_alt") for e in ("dev", "staging", "prod")
    )
    # each target comes from that compute's own plugin, with the environment's overrides
    for env in ("dev", "staging", "prod"):
        expected = registry["duckdb"].generate_dbt_profile(
            registry["duckdb"].config_model.model_validate(
                {"plugin": "duckdb", **pipeline.hierarchy.compute_config("duckdb", env)}
            )
        )
        assert outputs[f"duckdb_{env}"] == expected
    assert outputs["duckdb_alt_dev"]["threads"] == 1
    assert outputs["duckdb_alt_staging"]["threads"] == 4
    assert outputs["duckdb_alt_prod"] == {
        "type": "duckdb",
        "threads": 12,
        "path": "/data/prod.duckdb",
        "schema": "main",
    }
    assert yaml.safe_load(yaml.safe_dump(profiles)) == profiles


@pytest.mark.requirement("KIT-004")
@pytest.mark.usefixtures("alt_on_path")
def test_bad_environment_config_is_a_violation_naming_file_and_key(tmp_path: Path) -> None:
    product = PRODUCT.replace(
        "environments: {dev: {}, staging: {}, prod: {}}",
        "environments:\n"
        "  dev: {}\n"
        "  staging: {compute: {config: {duckdb_alt: {threads: 500}}}}\n"
        "  prod: {compute: {config: {duckdb_alt: {plugin: duckdb}}}}\n",
    )
    pipeline = compile_path(tree(tmp_path, product=product))
    with pytest.raises(CompilationError) as info:
        build_profiles(pipeline, ApprovedComputes.from_manifest(pipeline.hierarchy))
    messages = [str(v) for v in info.value.violations]
    assert len(messages) == 2
    assert "floe.yaml: environments.staging.compute.config.duckdb_alt.threads: 500" in messages[0]
    assert "<= 64" in messages[0]
    assert messages[1].endswith(
        "floe.yaml: environments.prod.compute.config.duckdb_alt.plugin: plugin 'duckdb' does not "
        "match the compute it configures (allowed: duckdb_alt)"
    )


COMPUTES = ("duckdb", "duckdb_alt")


@st.composite
def products(draw: st.DrawFn) -> dict[str, Any]:
    """floe.yaml data with random explicit computes, environment defaults and overrides."""
    n = draw(st.integers(min_value=1, max_value=8))
    maybe_compute = st.none() | st.sampled_from(COMPUTES)
    transforms = []
    for i in range(n):
        t: dict[str, Any] = {"name": f"t{i}", "path": f"models/t{i}"}
        compute = draw(maybe_compute)
        if compute is not None:
            t["compute"] = compute
        transforms.append(t)
    environments: dict[str, Any] = {}
    for env in ("dev", "staging", "prod"):
        default = draw(maybe_compute)
        overrides = draw(
            st.dictionaries(
                st.sampled_from([t["name"] for t in transforms]), st.sampled_from(COMPUTES)
            )
        )
        environments[env] = {
            "compute": {"default": default} if default else {},
            "transforms": {name: {"compute": c} for name, c in overrides.items()},
        }
    return {"name": "p", "domain": "x", "transforms": transforms, "environments": environments}


def _expected(data: dict[str, Any], env: str, transform: dict[str, Any]) -> str:
    """The precedence rule, written out independently of the compiler."""
    settings = data["environments"][env]
    override = settings["transforms"].get(transform["name"])
    if override:
        return str(override["compute"])
    if "compute" in transform:
        return str(transform["compute"])
    return str(settings["compute"].get("default") or "duckdb")


@pytest.mark.requirement("SC-005", "FR-014", "US4-AS3", "US4")
@settings(max_examples=150)
@given(data=products())
def test_compile_succeeds_exactly_when_every_transform_keeps_one_compute(
    data: dict[str, Any],
) -> None:
    enterprise = Manifest(
        scope="enterprise",
        name="e",
        compute=ComputeSection(approved=list(COMPUTES), default="duckdb"),
    )
    hierarchy = Hierarchy(enterprise=enterprise, product=Product.model_validate(data))
    per_transform = [
        {env: _expected(data, env, t) for env in ("dev", "staging", "prod")}
        for t in data["transforms"]
    ]
    broken = [
        t["name"]
        for t, envs in zip(data["transforms"], per_transform, strict=True)
        if len(set(envs.values())) > 1
    ]
    if broken:
        with pytest.raises(CompilationError) as info:
            compile_hierarchy(hierarchy)
        assert [v.transform for v in info.value.violations] == broken
        assert all(v.code == "environment-parity" for v in info.value.violations)
    else:
        pipeline = compile_hierarchy(hierarchy)
        assert [t.compute for t in pipeline.transforms] == [envs["dev"] for envs in per_transform]
