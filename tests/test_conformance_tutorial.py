"""docs/tutorial.md: its files are written out and its `$ pytest` commands pass."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

pytestmark = pytest.mark.requirement("SC-001", "KIT-020")

TUTORIAL = Path(__file__).parents[1] / "docs" / "tutorial.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
FAST = ["-p", "no:cacheprovider", "--floe-max-examples=10"]


def _blocks() -> list[tuple[str, str]]:
    return [(m["info"].strip(), m["body"]) for m in FENCE.finditer(TUTORIAL.read_text())]


def _files() -> dict[str, str]:
    files = {}
    for info, body in _blocks():
        match = re.search(r"\bfile=(\S+)", info)
        if match:
            files[match[1]] = body
    return files


def _commands() -> list[list[str]]:
    commands = []
    for info, body in _blocks():
        if info == "console run":
            commands += [
                shlex.split(line[2:]) for line in body.splitlines() if line.startswith("$ ")
            ]
    return commands


def test_the_tutorial_has_files_and_commands() -> None:
    assert {"pyproject.toml", "src/mydb_floe/plugin.py", "tests/test_contract.py"} <= set(_files())
    assert [c[0] for c in _commands()] == ["pytest", "pytest"]


@pytest.mark.slow
def test_the_tutorial_plugin_is_certified(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, body in _files().items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    (pytester.path / "src" / "mydb_floe" / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path / "src"))  # stands in for pip install -e .
    for command in _commands():
        result = pytester.runpytest_subprocess(*command[1:], *FAST)
        outcomes = result.parseoutcomes()
        assert result.ret == 0, result.stdout.str()
        assert outcomes.get("passed", 0) > 30
        assert "failed" not in outcomes
        # unsupported = the catalog checks; the plugin does not claim catalog_attachment
        result.stdout.no_fnmatch_line("*FAILED*")


def test_the_example_plugin_is_the_tutorials_result() -> None:
    """conformance/example-plugin/ ships the tutorial's files, unchanged."""
    example = Path(__file__).parents[1] / "conformance" / "example-plugin"
    for name, body in _files().items():
        assert (example / name).read_text() == body, name
    assert (example / "src" / "mydb_floe" / "__init__.py").exists()


@pytest.mark.slow
def test_the_failure_shown_in_the_tutorial_is_what_the_kit_prints(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Section 5: cap threads at 8 and the kit answers with the text the tutorial shows."""
    for name, body in _files().items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    plugin = pytester.path / "src" / "mydb_floe" / "plugin.py"
    source = plugin.read_text()
    assert '"threads": cfg.threads,' in source
    plugin.write_text(source.replace('"threads": cfg.threads,', '"threads": min(cfg.threads, 8),'))
    (pytester.path / "src" / "mydb_floe" / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path / "src"))
    result = pytester.runpytest_subprocess(
        "--floe-plugin=mydb_floe.plugin:MyDBPlugin", "-k", "profile.threads", *FAST
    )
    assert result.ret == 1
    (shown,) = [body for info, body in _blocks() if info == "text"]
    expected = [line for line in shown.splitlines() if line and line != "..."]
    result.stdout.fnmatch_lines([f"*{line.replace('[', '[[]')}*" for line in expected])
