"""`floe-conformance replay`: a snippet for a failed check; a clear refusal otherwise."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from _cert_data import build, results
from floe_compute_kit.cli.conformance import main
from floe_compute_kit.conformance._results import Outcome

pytestmark = pytest.mark.requirement("KIT-012")


def _assigned(tree: ast.Module) -> dict[str, object]:
    """NAME = <literal> assignments at the top of a script."""
    return {
        t.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name) and isinstance(node.value, ast.Constant | ast.Dict)
    }


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
    assigned = _assigned(ast.parse(snippet))  # valid Python
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


HOSTILE = "x\nimport os; os.system('touch PWNED')  # \r\n__import__('os').remove('y')\u2028#"


def _hostile_cert() -> dict[str, object]:
    from _cert_data import build_real, real_results

    cert = build_real(results=real_results(**{"profile.threads": Outcome.FAILED}))
    plugin = cert["plugin"]
    plugin["name"] = HOSTILE
    plugin["version"] = HOSTILE
    plugin["spec"] = "demo_plugin:Demo" + HOSTILE
    cert["kit"]["version"] = HOSTILE
    for check in cert["checks"]:
        if check["id"] == "profile.threads":
            check["message"] = HOSTILE
            check["example"] = {"plugin": HOSTILE, HOSTILE: [HOSTILE]}
    from floe_compute_kit.conformance._certificate import certificate_digest

    cert["digest"] = certificate_digest(cert)
    return cert


def _shape(tree: ast.Module) -> list[str]:
    # Statement kinds and every name the script uses: injected code would add to either.
    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})
    return [type(node).__name__ for node in tree.body] + names


def test_code_in_certificate_fields_never_becomes_code_in_the_snippet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(_hostile_cert()))
    assert main(["replay", str(path), "--check", "profile.threads"]) == 0
    snippet = capsys.readouterr().out
    tree = ast.parse(snippet)
    from floe_compute_kit.conformance.report import replay_snippet

    plain = _hostile_cert()
    plain["plugin"]["name"] = plain["plugin"]["version"] = "demo"
    benign = ast.parse(replay_snippet(plain, "profile.threads"))
    assert _shape(tree) == _shape(benign)
    assert not any(isinstance(n, ast.Import) and n.names[0].name == "os" for n in ast.walk(tree))
    assigned = _assigned(tree)  # the values come back intact, as literals
    assert assigned["PLUGIN"] == "demo_plugin:Demo" + HOSTILE
    assert assigned["EXAMPLE"] == {"plugin": HOSTILE, HOSTILE: [HOSTILE]}
    compile(snippet, "replay.py", "exec")


def test_a_check_id_outside_the_catalogue_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = build(results=results(meta_name=Outcome.FAILED))  # a made-up catalogue
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(cert))
    assert main(["replay", str(path), "--check", "meta.name"]) == 2
    err = capsys.readouterr().err
    assert "'meta.name' is not a check of this kit's catalogue" in err


def test_an_invalid_certificate_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = build(results=results(profile_threads=Outcome.FAILED))
    cert["checks"][1]["id"] = 7  # type: ignore[index]
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(cert))
    assert main(["replay", str(path), "--check", "profile.threads"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "checks/1/id: Input should be a valid string (got 7)" in err
