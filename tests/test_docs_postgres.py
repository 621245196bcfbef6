"""docs/engines/postgres.md stays true: its Python snippet runs, its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from floe_compute_kit.conformance.services.__main__ import main as services_main

pytestmark = pytest.mark.requirement("KIT-020")

PAGE = Path(__file__).parents[1] / "docs" / "engines" / "postgres.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks(info: str) -> list[str]:
    return [m["body"] for m in FENCE.finditer(PAGE.read_text()) if m["info"].strip() == info]


def test_the_python_snippet_runs() -> None:
    [snippet] = _blocks("python")
    exec(compile(snippet, str(PAGE), "exec"), {})  # noqa: S102 - our own documentation


def test_the_server_runner_refuses_a_bad_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert services_main(["mysql", "--", "true"]) == 2
    assert "usage: python -m floe_compute_kit.conformance.services postgres" in (
        capsys.readouterr().err
    )


def test_the_certification_command_is_the_one_the_test_runs() -> None:
    from test_postgres_certificate import REFRESH

    commands = " ".join(" ".join(b.split()) for b in _blocks("console")).replace("\\ ", "")
    assert " ".join(REFRESH.split()) in commands
