"""`floe-conformance verify`: digest and schema checks and their exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _cert_data import build
from floe_compute_kit.cli.conformance import main

pytestmark = pytest.mark.requirement("FR-030")


def _write(tmp_path: Path, cert: dict[str, object]) -> Path:
    path = tmp_path / "certificate.json"
    path.write_text(json.dumps(cert, indent=2))
    return path


def test_an_intact_certificate_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, build())
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "digest and schema 1.0 valid" in out
    assert "level achieved integration of integration (certified)" in out


def test_an_edited_certificate_fails_verification(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = build()
    cert["plugin"]["version"] = "2.0.0"  # type: ignore[index]
    path = _write(tmp_path, cert)
    assert main(["verify", str(path)]) == 1
    assert "INVALID digest: recorded sha256:" in capsys.readouterr().out


def test_a_schema_violation_is_reported_by_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from floe_compute_kit.conformance._certificate import certificate_digest

    cert = build()
    cert["level_achieved"] = "gold"
    cert["digest"] = certificate_digest(cert)  # resealed: only the schema can catch it
    path = _write(tmp_path, cert)
    assert main(["verify", str(path)]) == 1
    assert "INVALID schema: level_achieved:" in capsys.readouterr().out


def test_a_file_that_is_not_a_certificate_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "x.json").write_text("not json")
    assert main(["verify", str(tmp_path / "x.json")]) == 2
    assert "is not JSON" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "missing.json")]) == 2


def test_a_resealed_verdict_the_checks_do_not_support_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from _cert_data import results
    from floe_compute_kit.conformance._certificate import certificate_digest
    from floe_compute_kit.conformance._results import Outcome

    cert = build(results=results(profile_threads=Outcome.FAILED))
    cert["level_achieved"] = "integration"
    cert["certified"] = True
    cert["digest"] = certificate_digest(cert)  # a forger can recompute the digest...
    path = _write(tmp_path, cert)
    assert main(["verify", str(path)]) == 1
    out = capsys.readouterr().out
    # ...but not make the recorded failure support the verdict.
    assert "INVALID consistency: level_achieved: recorded integration but" in out
    assert "INVALID consistency: certified: recorded True but the checks say False" in out
