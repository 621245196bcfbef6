"""`floe-conformance replay`: a snippet for a failed check; a clear refusal otherwise."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from _cert_data import build, results
from floe_compute_kit.cli.conformance import main
from floe_compute_kit.conformance._results import Outcome

pytestmark = pytest.mark.requirement("FR-031")


@pytest.fixture
def cert_file(tmp_path: Path) -> Path:
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(build(results=results(profile_threads=Outcome.FAILED))))
    return path


def test_prints_a_python_snippet_for_a_failed_check(
    cert_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(cert_file), "--check", "profile.threads"]) == 0
    snippet = capsys.readouterr().out
    tree = ast.parse(snippet)  # valid Python
    assigned = {
        t.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name) and isinstance(node.value, ast.Constant | ast.Dict)
    }
    assert assigned["PLUGIN"] == "demo_plugin:Demo"
    assert assigned["CHECK"] == "profile.threads"
    assert assigned["EXAMPLE"]["threads"] == 4
    assert "seed=7," in snippet
    assert "max_examples=10," in snippet
    assert "# Recorded: failed: profile.threads broke: threads 1 != 4" in snippet


def test_refuses_a_check_that_passed_or_does_not_exist(
    cert_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(cert_file), "--check", "meta.name"]) == 2
    err = capsys.readouterr().err
    assert "'meta.name' did not fail; failing checks: profile.threads" in err
    assert main(["replay", str(cert_file), "--check", "nope"]) == 2
    assert "'nope' is not in this certificate" in capsys.readouterr().err


def test_an_unreadable_certificate_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "none.json"), "--check", "x"]) == 2
    assert "cannot read certificate" in capsys.readouterr().err
