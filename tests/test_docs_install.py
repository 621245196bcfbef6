"""The install commands and extras the docs name are the ones pyproject.toml declares, and
the tutorial's credential snippet yields the variables the integration build exports."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from floe_compute_kit.conformance.checks.integration import build_env

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
DOCS = [ROOT / "README.md", ROOT / "docs" / "certification.md", ROOT / "docs" / "tutorial.md"]


@pytest.mark.requirement("KIT-170")
@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_extra_a_doc_names_exists(doc: Path) -> None:
    named = set(re.findall(r"floe-compute-kit\[([a-z,]+)\]", doc.read_text(encoding="utf-8")))
    assert named or doc.name == "tutorial.md"
    for group in named:
        assert set(group.split(",")) <= set(EXTRAS), f"{doc.name} names [{group}]"


@pytest.mark.requirement("KIT-170")
def test_the_certifying_install_is_one_command_covering_every_level() -> None:
    text = (ROOT / "docs" / "certification.md").read_text(encoding="utf-8")
    assert "pip install 'floe-compute-kit[certify]'" in text
    assert "pip install 'floe-compute-kit[certify]'" in (ROOT / "README.md").read_text()
    assert EXTRAS["certify"] == ["floe-compute-kit[kit,duckdb,iceberg]"]
    assert "floe-compute-kit[certify]" in EXTRAS["dev"]  # what scripts/_venv.sh installs
    assert "'.[dev]'" in (ROOT / "scripts" / "_venv.sh").read_text()


@pytest.mark.requirement("KIT-171")
def test_the_tutorials_credential_snippet_is_what_the_build_exports() -> None:
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    [snippet] = re.findall(r"```python credentials\n(.*?)```", text, flags=re.S)
    cfg: Any = type("Cfg", (), {"credentials": {"password": SecretStr("pw"), "token": "t"}})
    profile: dict[str, Any] = {"type": "mydb"}
    exec(snippet, {"cfg": cfg, "profile": profile})  # noqa: S102 - the doc's own snippet
    assert profile["password"] == "{{ env_var('FLOE_MYDB_PASSWORD') }}"
    config = {"plugin": "mydb", "credentials": {"password": SecretStr("pw"), "token": "t"}}
    exported, missing = build_env(profile, config)
    assert exported == {"FLOE_MYDB_PASSWORD": "pw", "FLOE_MYDB_TOKEN": "t"}
    assert missing == []
    assert "FLOE_MYDB_PASSWORD" in text
