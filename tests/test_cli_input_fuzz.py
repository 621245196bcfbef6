"""Fuzzing the inputs of ``floe-compute compile``: bytes and YAML documents, never a traceback.

Every example is bounded by the loader's own limits (size, aliases, nesting), so no example
can run long; the assertion is the exit code (0, 1 or 2) and that nothing escapes ``main``.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from floe_compute_kit.cli.compute import main

pytestmark = pytest.mark.requirement("KIT-004")

ENTERPRISE = "scope: enterprise\nname: acme\ncompute: {approved: [duckdb], default: duckdb}\n"
VALID = {
    "name": "orders",
    "domain": "../enterprise/manifest.yaml",
    "transforms": [{"name": "a", "path": "models/a"}],
    "environments": {"dev": {}, "staging": {}, "prod": {}},
}
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=30),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


def _compile(root: Path, floe_yaml: bytes) -> int:
    (root / "enterprise").mkdir(exist_ok=True)
    (root / "orders").mkdir(exist_ok=True)
    (root / "enterprise" / "manifest.yaml").write_text(ENTERPRISE)
    path = root / "orders" / "floe.yaml"
    path.write_bytes(floe_yaml)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = main(["compile", str(path), "--format", "json"])
    assert "Traceback" not in sink.getvalue()
    return code


@pytest.fixture(autouse=True)
def _quiet_errors() -> None:
    logging.getLogger("floe.compute.errors").setLevel(logging.WARNING)


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes_as_floe_yaml(tmp_path: Path, data: bytes) -> None:
    assert _compile(tmp_path, data) in (0, 1, 2)


@FUZZ
@given(doc=values)
def test_random_yaml_documents_as_floe_yaml(tmp_path: Path, doc: object) -> None:
    text = yaml.safe_dump(doc, allow_unicode=True)
    assert _compile(tmp_path, text.encode("utf-8", "surrogatepass")) in (0, 1, 2)


@FUZZ
@given(key=st.sampled_from(sorted(VALID)), value=values)
def test_random_values_in_a_valid_floe_yaml(tmp_path: Path, key: str, value: object) -> None:
    text = yaml.safe_dump(VALID | {key: value}, allow_unicode=True)
    assert _compile(tmp_path, text.encode("utf-8", "surrogatepass")) in (0, 1, 2)


@FUZZ
@given(config=st.dictionaries(st.text(max_size=20), values, max_size=5))
def test_random_compute_configs_in_a_manifest(tmp_path: Path, config: dict[str, object]) -> None:
    manifest = yaml.safe_load(ENTERPRISE) | {}
    manifest["compute"]["config"] = {"duckdb": config}
    (tmp_path / "enterprise").mkdir(exist_ok=True)
    (tmp_path / "orders").mkdir(exist_ok=True)
    (tmp_path / "enterprise" / "manifest.yaml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8", errors="surrogatepass"
    )
    path = tmp_path / "orders" / "floe.yaml"
    path.write_text(yaml.safe_dump(VALID))
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = main(["compile", str(path), "--format", "json"])
    assert code in (0, 1, 2)
