"""docs/secrets.md stays true: its snippet runs, its tables name real checks and variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from floe_compute_duckdb.profile import env_var_name as duckdb_env
from floe_compute_kit.conformance._network import ALLOW_ENV
from floe_compute_kit.conformance.checks import load_catalogue
from floe_compute_postgres.profile import env_var_name as postgres_env

DOC = Path(__file__).resolve().parents[1] / "docs" / "secrets.md"

pytestmark = pytest.mark.requirement("KIT-020")


def test_the_python_snippet_runs() -> None:
    [block] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    exec(compile(block, str(DOC), "exec"), {})  # noqa: S102 - the doc's own example


@pytest.mark.requirement("KIT-220")
def test_every_secrets_check_is_in_the_table_and_every_named_check_exists() -> None:
    text = DOC.read_text()
    named = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", text, flags=re.M))
    ids = {r.spec.id for r in load_catalogue()}
    assert named <= ids
    assert {i for i in ids if i.startswith("secrets.")} <= named


@pytest.mark.requirement("KIT-223")
def test_the_env_vars_named_are_the_ones_the_code_uses() -> None:
    text = DOC.read_text()
    assert f"`{ALLOW_ENV}`" in text
    assert f"`{postgres_env('password')}`" in text
    assert duckdb_env("token") == "FLOE_DUCKDB_TOKEN"
    assert "`FLOE_DUCKDB_<KEY>`" in text
