"""docs/contract.md is generated from the catalogue and must not go stale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from floe_compute_kit.conformance.catalogue_doc import render_markdown
from floe_compute_kit.conformance.checks import load_catalogue

pytestmark = pytest.mark.requirement("KIT-020")

CONTRACT_MD = Path(__file__).parents[1] / "docs" / "contract.md"


def test_contract_md_is_current() -> None:
    expected = render_markdown(load_catalogue())
    assert CONTRACT_MD.read_text(encoding="utf-8") == expected, (
        "docs/contract.md is stale: run "
        "`floe-conformance list --format markdown > docs/contract.md`"
    )


def test_every_check_has_a_row() -> None:
    text = render_markdown(load_catalogue())
    for reg in load_catalogue():
        assert f"| `{reg.spec.id}` | {reg.spec.level.value} |" in text


def test_the_list_command_prints_the_catalogue() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "floe_compute_kit.cli.conformance",
            "list",
            "--format",
            "json",
            "--level",
            "core",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import json

    rows = json.loads(out)
    ids = [r["id"] for r in rows]
    assert ids == [r.spec.id for r in load_catalogue() if r.spec.level.value == "core"]
    assert all(r["wording"] and r["requirements"] for r in rows)
    table = subprocess.run(
        [sys.executable, "-m", "floe_compute_kit.cli.conformance", "list"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "200", "PATH": ""},
    ).stdout
    assert "profile.threads" in table
    assert "catalog_attachment" in table
