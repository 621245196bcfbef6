"""docs/upstream.md stays true: its snippet runs, its commands parse, its checks exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from floe_compute_kit.cli.conformance import build_parser
from floe_compute_kit.conformance.checks import load_catalogue

DOC = Path(__file__).resolve().parents[1] / "docs" / "upstream.md"

pytestmark = pytest.mark.requirement("KIT-244")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.mark.requirement("KIT-243")
def test_the_strategy_snippet_runs() -> None:
    [block] = _blocks("python")
    exec(compile(block, str(DOC), "exec"), {})  # noqa: S102 - the doc's own example


def test_every_floe_conformance_command_parses() -> None:
    commands = [
        line.split()
        for block in _blocks("bash")
        for line in block.splitlines()
        if line.startswith("floe-conformance ")
    ]
    assert len(commands) == 2
    for command in commands:
        build_parser().parse_args(command[1:])


def test_every_check_the_doc_names_is_in_the_catalogue() -> None:
    named = set(re.findall(r"`((?:upstream|profile)\.[a-z_]+)`", DOC.read_text()))
    assert {"upstream.connection_profile", "upstream.connection_health"} <= named
    assert named <= {r.spec.id for r in load_catalogue()}
