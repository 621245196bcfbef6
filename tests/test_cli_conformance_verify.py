"""`floe-conformance verify`: digest, schema, catalogue and verdict checks and their exit codes.

A forger can always recompute the digest, so every forgery here is resealed: what must
catch it is the comparison with the catalogue the certificate names and the verdict
recomputed from its results.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from _cert_data import build_real, real_results
from floe_compute_kit.cli.conformance import main
from floe_compute_kit.conformance._certificate import certificate_digest
from floe_compute_kit.conformance._results import Outcome

pytestmark = pytest.mark.requirement("KIT-011")

Cert = dict[str, Any]
CLI = ("python", "-m", "floe_compute_kit.cli.conformance")


def _write(tmp_path: Path, cert: Cert, name: str = "certificate.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(cert, indent=2))
    return path


def _reseal(cert: Cert) -> Cert:
    cert["digest"] = certificate_digest(cert)
    return cert


def _failing() -> Cert:
    return build_real(results=real_results(**{"profile.threads": Outcome.FAILED}))


def _claim_certified(cert: Cert) -> Cert:
    cert["level_achieved"] = "integration"
    cert["certified"] = True
    return cert


def _summary_of(cert: Cert) -> Cert:
    # What a careful forger does: recompute the summary from the edited checks.
    from floe_compute_kit.conformance._certificate import _summary
    from floe_compute_kit.conformance.certificate import CheckRecord

    records = [CheckRecord.model_validate(c) for c in cert["checks"]]
    cert["summary"] = _summary(records).model_dump(mode="json")
    return cert


def test_an_intact_certificate_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, build_real())
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "digest, schema 1.0, catalogue and verdict valid" in out
    assert "level achieved integration of integration (certified)" in out


def test_the_committed_reference_certificate_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    committed = Path(__file__).resolve().parents[1] / "conformance" / "certificate.json"
    assert main(["verify", str(committed)]) == 0
    assert "(certified)" in capsys.readouterr().out


def test_an_edited_certificate_fails_verification(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = build_real()
    cert["plugin"]["version"] = "2.0.0"
    path = _write(tmp_path, cert)
    assert main(["verify", str(path)]) == 1
    assert "INVALID digest: recorded sha256:" in capsys.readouterr().out


def _delete_failing(cert: Cert) -> Cert:
    cert["checks"] = [c for c in cert["checks"] if c["outcome"] != "failed"]
    return _summary_of(_claim_certified(cert))


def _no_checks(cert: Cert) -> Cert:
    cert["checks"] = []
    return _summary_of(_claim_certified(cert))


def _relabel_integration(cert: Cert) -> Cert:
    # Move the failure up to the integration level, then claim extended (not certified
    # at integration, but "extended" would be a lie about the core failure).
    for c in cert["checks"]:
        if c["outcome"] == "failed":
            c["level"] = "integration"
    cert["level_achieved"] = "extended"
    return cert


def _bogus_catalogue(cert: Cert) -> Cert:
    cert["kit"]["catalogue_version"] = "sha256:" + "0" * 64
    return cert


def _unsupported_instead_of_failed(cert: Cert) -> Cert:
    for c in cert["checks"]:
        if c["outcome"] == "failed":
            c["outcome"] = "unsupported"
    return _summary_of(_claim_certified(cert))


def _duplicated_pass(cert: Cert) -> Cert:
    passing = next(c for c in cert["checks"] if c["outcome"] == "passed")
    cert["checks"].append(dict(passing))
    return _summary_of(cert)


def _unknown_check(cert: Cert) -> Cert:
    cert["checks"].append({**cert["checks"][0], "id": "made.up"})
    return _summary_of(cert)


def _hide_waiver_problems(_: Cert) -> Cert:
    import datetime as dt

    from floe_compute_kit.conformance._waivers import Waiver

    expired = Waiver("profile.threads", "old", dt.date(2000, 1, 1), "https://x/1")
    cert = build_real(
        results=real_results(**{"profile.threads": Outcome.FAILED}),
        waivers=[expired],
        waiver_problems=["waiver for 'profile.threads' expired on 2000-01-01"],
    )
    cert["waiver_problems"] = []
    for c in cert["checks"]:
        if c["outcome"] == "waived":
            c["outcome"], c["waiver"] = "passed", None
    cert["waivers"][0]["applied"] = False
    return _summary_of(_claim_certified(cert))


def _unlisted_waiver(cert: Cert) -> Cert:
    for c in cert["checks"]:
        if c["outcome"] == "failed":
            c["outcome"] = "waived"
            c["waiver"] = {
                "check": c["id"],
                "reason": "trust me",
                "expires": "2099-01-01",
                "link": "https://x/1",
                "underlying_outcome": "failed",
            }
    return _summary_of(cert)


FORGERIES: dict[str, tuple[Callable[[Cert], Cert], str]] = {
    "expired waiver hidden": (_hide_waiver_problems, "waiver_problems: recorded none"),
    "a waiver nobody gave": (_unlisted_waiver, "waived by a waiver the certificate does not list"),
    "deleted failing checks": (_delete_failing, "INVALID catalogue: checks: 1 check(s) of the"),
    "checks: []": (_no_checks, "check(s) of the integration level are missing"),
    "relabelled level": (_relabel_integration, "profile.threads/level: recorded 'integration'"),
    "bogus catalogue version": (_bogus_catalogue, "is not this kit's catalogue"),
    "unsupported instead of failed": (_unsupported_instead_of_failed, "needs no capability"),
    "a check twice": (_duplicated_pass, "recorded 2 times; each check appears once"),
    "a check the catalogue lacks": (_unknown_check, "checks/made.up: no such check"),
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_resealed_forgery_does_not_verify(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forge, expected = FORGERIES[name]
    path = _write(tmp_path, _reseal(forge(_failing())))
    assert main(["verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert expected in out
    assert not any(line.startswith("OK") for line in out.splitlines())
    assert "INVALID digest" not in out  # resealed: the digest alone would have passed it


def test_duplicate_keys_are_an_error_not_last_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = build_real(results=real_results(**{"profile.threads": Outcome.FAILED}))
    text = json.dumps(cert, indent=2).replace(
        '"certified": false', '"certified": false, "certified": true'
    )
    assert text.count('"certified"') == 2
    path = tmp_path / "dup.json"
    path.write_text(text)
    assert main(["verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("INVALID ")
    assert "the key 'certified' appears twice in one object" in out
    assert str(path) in out


def test_a_resealed_verdict_the_checks_do_not_support_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, _reseal(_claim_certified(_failing())))
    assert main(["verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert "INVALID consistency: level_achieved: recorded integration but" in out
    assert "INVALID consistency: certified: recorded True but the checks say False" in out


def test_a_newline_in_a_field_cannot_fake_the_ok_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = _failing()
    fake = "x\nOK certificate.json: digest and schema 1.0 valid; demo (certified)\x1b[2K"
    cert["plugin"]["name"] = fake
    cert["plugin"]["version"] = "1\r\nOK"
    _claim_certified(cert)
    path = _write(tmp_path, _reseal(cert))
    assert main(["verify", str(path)]) == 1
    forged_out = capsys.readouterr().out
    assert not any(line.startswith("OK") for line in forged_out.splitlines())
    honest = _failing()
    honest["plugin"]["name"] = fake
    path = _write(tmp_path, _reseal(honest), "honest.json")
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1  # the name shows escaped, inside the one OK line
    assert "x\\nOK certificate.json" in out
    assert "\x1b" not in out
    assert "(not certified)" in out


def test_a_schema_violation_is_one_line_naming_file_path_and_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = build_real()
    cert["level_achieved"] = "gold"
    path = _write(tmp_path, _reseal(cert))
    assert main(["verify", str(path)]) == 2
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1
    assert str(path) in out
    assert "level_achieved: Input should be 'core', 'extended' or 'integration'" in out
    assert "give the certificate.json that `floe-conformance report` wrote" in out


def test_a_file_that_is_not_a_certificate_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "x.json").write_text("not json")
    assert main(["verify", str(tmp_path / "x.json")]) == 2
    assert "is not JSON" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "missing.json")]) == 2


def test_rerun_without_a_terminal_or_yes_refuses_to_import_the_plugin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no TTY, as in CI
    cert = build_real()
    cert["plugin"]["spec"] = "os:system"
    path = _write(tmp_path, _reseal(cert))
    assert main(["verify", str(path), "--rerun"]) == 2
    err = capsys.readouterr().err
    assert "--rerun imports and runs the plugin os:system" in err
    assert "pass --yes if you trust this certificate" in err


def test_rerun_asks_on_a_terminal_and_a_no_imports_nothing(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    marker = tmp_path / "imported"
    (tmp_path / "floe_cert_marker.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nclass Plugin: ...\n"
    )
    cert = build_real()
    cert["plugin"]["spec"] = "floe_cert_marker:Plugin"
    path = _write(tmp_path, _reseal(cert))
    master, slave = pty.openpty()  # a terminal, so verify asks
    try:
        proc = subprocess.Popen(
            [sys.executable, *CLI[1:], "verify", str(path), "--rerun"],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(tmp_path)},
        )
        os.write(master, b"n\n")
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
        os.close(slave)
    assert proc.returncode == 2, out + err
    assert "--rerun will import and run floe_cert_marker:Plugin" in out
    assert "Run it? [y/N]" in out
    assert not marker.exists()


def test_a_plugin_that_did_not_load_verifies_as_not_certified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from floe_compute_kit.conformance._results import CheckResult

    failed = CheckResult("plugin.loads", Outcome.FAILED, message="cannot import plugin 'x:Y'")
    cert = build_real(results=[failed], load_error="cannot import plugin 'x:Y'")
    cert["plugin"].update(name=None, version=None, capabilities=[])
    path = _write(tmp_path, _reseal(cert))
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "? ? level achieved none of integration (not certified)" in out


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_examples", 10**30),
        ("max_examples", 10_001),
        ("budget_s", 1e308),
        ("budget_s", 3601.0),
        ("seed", 10**20),
    ],
)
def test_a_resealed_certificate_with_numbers_no_run_can_use_exits_2(
    tmp_path: Path, field: str, value: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once, --rerun of such a certificate ran on (max_examples) or ended in a traceback
    (budget_s); the schema now bounds what the report options bound."""
    cert = build_real()
    cert["run"][field] = value
    path = _write(tmp_path, _reseal(cert))
    for args in (["verify", str(path)], ["verify", str(path), "--rerun", "--yes"]):
        assert main(args) == 2
        said = capsys.readouterr()
        assert f"run/{field}:" in said.out + said.err
        assert "Traceback" not in said.out + said.err
