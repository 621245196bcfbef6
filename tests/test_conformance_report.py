"""certify / verify / replay against a real plugin with one broken clause (KIT-010..KIT-012)."""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _cert_plugins import write_threads_plugin
from floe_compute_kit.conformance._certificate import schema_errors
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance.report import (
    certify,
    failing_check_ids,
    read_certificate,
    replay_snippet,
    verify_certificate,
    write_certificate,
)
from floe_compute_kit.errors import CertificateError

MODULE = "floe_cert_threads_report"


class Setup:
    def __init__(
        self, broken_dir: Path, fixed_dir: Path, spec: str, cert: dict[str, Any], out: Path
    ):
        self.broken_dir = broken_dir
        self.fixed_dir = fixed_dir
        self.spec = spec
        self.cert = cert
        self.out = out


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("report")
    spec = write_threads_plugin(root / "broken", MODULE)
    write_threads_plugin(root / "fixed", MODULE, broken=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(root / "broken"))
        cert = certify(spec, level=Level.CORE, seed=3, max_examples=5)
        sys.modules.pop(MODULE, None)
    out = root / "out"
    write_certificate(cert, out)
    return Setup(root / "broken", root / "fixed", spec, cert, out)


def _env(plugin_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(plugin_dir), os.environ.get("PYTHONPATH", "")]),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


@pytest.mark.requirement("KIT-010")
def test_certificate_records_the_plugin_its_supplier_and_the_run(setup: Setup) -> None:
    cert = setup.cert
    assert schema_errors(cert) == []
    assert cert["plugin"]["spec"] == setup.spec
    assert cert["plugin"]["name"] == "duckdb"
    assert cert["plugin"]["class"] == f"{MODULE}:ThreadsPlugin"
    assert cert["plugin"]["floe_api_version"] == "1.0"
    # Not installed from a distribution: the file itself is hashed.
    dist = cert["distribution"]
    assert dist["name"] is None
    assert dist["hash_source"] == "computed"
    source = (setup.broken_dir / f"{MODULE}.py").read_bytes()
    assert dist["files"] == [{"path": f"{MODULE}.py", "sha256": hashlib.sha256(source).hexdigest()}]
    env = cert["environment"]
    assert env["adapter"]["name"] == "dbt-duckdb"
    assert env["adapter"]["version"]
    assert env["packages"]["dbt-core"].startswith("1.11")
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert cert["run"]["seed"] == 3
    assert cert["run"]["max_examples"] == 5
    assert cert["kit"]["catalogue_version"].startswith("sha256:")


@pytest.mark.requirement("KIT-010")
def test_the_broken_clause_fails_with_its_shrunk_example(setup: Setup) -> None:
    check = next(c for c in setup.cert["checks"] if c["id"] == "profile.threads")
    assert check["outcome"] == "failed"
    assert "threads" in check["message"]
    assert isinstance(check["example"], dict)
    assert check["example"]["threads"] != 1
    assert check["duration_s"] >= 0
    assert "profile.threads" in failing_check_ids(setup.cert)
    assert setup.cert["certified"] is False
    assert setup.cert["level_achieved"] is None


@pytest.mark.requirement("KIT-011")
def test_verify_accepts_the_certificate_and_catches_any_edit(setup: Setup) -> None:
    written = read_certificate(setup.out / "certificate.json")
    assert written == setup.cert
    assert verify_certificate(written) == []
    edited = copy.deepcopy(written)
    edited["plugin"]["version"] = "9.9.9"
    problems = verify_certificate(edited)
    assert len(problems) == 1
    assert problems[0].startswith("digest: recorded")
    next(c for c in edited["checks"] if c["id"] == "profile.threads")["outcome"] = "passed"
    problems = verify_certificate(edited)
    assert "consistency: summary: the counts do not match the recorded checks" in problems
    assert problems[-1].startswith("digest: recorded")
    edited["kind"] = "something else"
    assert any(p.startswith("schema: kind") for p in verify_certificate(edited))


@pytest.mark.requirement("KIT-011")
def test_read_certificate_names_what_is_wrong_with_the_file(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="cannot read certificate"):
        read_certificate(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(CertificateError, match="is not JSON"):
        read_certificate(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(CertificateError, match="not a certificate object"):
        read_certificate(tmp_path / "list.json")


@pytest.mark.requirement("KIT-012")
def test_the_replay_snippet_reproduces_the_failure_and_passes_once_fixed(
    setup: Setup, tmp_path: Path
) -> None:
    snippet = replay_snippet(setup.cert, "profile.threads", "out/certificate.json")
    script = tmp_path / "replay.py"
    script.write_text(snippet)
    broken = subprocess.run(
        [sys.executable, str(script)],
        env=_env(setup.broken_dir),
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert broken.returncode == 1, broken.stderr
    assert "AssertionError: profile.threads failed:" in broken.stderr
    assert "threads" in broken.stderr.splitlines()[-1]
    fixed = subprocess.run(
        [sys.executable, str(script)],
        env=_env(setup.fixed_dir),
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert fixed.returncode == 0, fixed.stderr
    assert "PASSED: profile.threads no longer fails" in fixed.stdout


@pytest.mark.requirement("KIT-012")
def test_replay_refuses_an_unknown_check(setup: Setup) -> None:
    with pytest.raises(KeyError):
        replay_snippet(setup.cert, "no.such.check")


@pytest.mark.requirement("KIT-011")
def test_verify_rerun_reports_what_changed_since_the_certificate(setup: Setup) -> None:
    cli = [sys.executable, "-m", "floe_compute_kit.cli.conformance", "verify"]
    done = subprocess.run(
        [*cli, str(setup.out / "certificate.json"), "--rerun", "--yes"],
        env=_env(setup.fixed_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "DIFFERENT profile.threads: recorded failed, passed now" in done.stdout
    assert "DIFFERENT plugin files sha256:" in done.stdout
    assert "difference(s)" in done.stdout


@pytest.mark.requirement("KIT-011")
def test_a_rerun_of_unchanged_code_with_the_recorded_seed_finds_no_difference(
    setup: Setup,
) -> None:
    from floe_compute_kit.conformance.report import rerun_differences

    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(setup.broken_dir))
        fresh, diffs = rerun_differences(setup.cert)
        sys.modules.pop(MODULE, None)
    assert diffs == []
    assert fresh["run"]["seed"] == setup.cert["run"]["seed"]
    assert fresh["digest"] != setup.cert["digest"]  # a new certificate, same findings
