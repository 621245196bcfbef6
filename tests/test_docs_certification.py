"""docs/certification.md stays true: its waivers example parses, its options and commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from floe_compute_kit.cli.conformance import build_parser
from floe_compute_kit.conformance._waivers import WAIVER_FIELDS, parse_waivers

DOC = Path(__file__).resolve().parents[1] / "docs" / "certification.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.mark.requirement("KIT-013")
def test_the_waivers_example_is_a_valid_waivers_file() -> None:
    [block] = _blocks("yaml")
    [waiver] = parse_waivers(yaml.safe_load(block), "docs/certification.md")
    assert waiver.check == "profile.timeout"
    assert set(WAIVER_FIELDS) <= set(block.replace(":", " ").split())


@pytest.mark.requirement("KIT-009")
def test_every_report_option_in_the_table_is_accepted() -> None:
    text = DOC.read_text()
    table = text[text.index("| option | meaning |") : text.index("While it runs")]
    options = re.findall(r"`(--[a-z-]+)", table)
    assert len(options) == 11  # --target is also spelled --floe-target
    sub = build_parser()._subparsers._group_actions[0].choices["report"]  # type: ignore[union-attr]
    known = {s for action in sub._actions for s in action.option_strings}
    assert set(options) <= known


@pytest.mark.requirement("KIT-011")
def test_every_floe_conformance_command_in_the_doc_parses() -> None:
    parser = build_parser()
    commands = [
        line.split("#")[0].split()
        for block in _blocks("bash")
        for line in block.splitlines()
        if line.startswith("floe-conformance ")
    ]
    assert {c[1] for c in commands} == {"report", "verify", "replay", "init"}
    for command in commands:
        end = command.index(">") if ">" in command else len(command)  # drop a redirection
        args = parser.parse_args(command[1:end])
        assert callable(args._run)


@pytest.mark.requirement("KIT-011")
def test_the_doc_warns_that_rerun_runs_the_named_plugin_and_the_digest_is_no_signature() -> None:
    text = DOC.read_text()
    assert "**The digest is not a signature.**" in text
    assert "`--rerun` imports whatever `plugin.spec` names" in text
    sub = build_parser()._subparsers._group_actions[0].choices["verify"]  # type: ignore[union-attr]
    known = {s for action in sub._actions for s in action.option_strings}
    assert {"--rerun", "--yes"} <= known
