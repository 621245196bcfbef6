"""Certificates are written whole or not at all: a failing write leaves the previous files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from _cert_data import build, results
from floe_compute_kit.conformance._results import Outcome
from floe_compute_kit.conformance.report import FORMATS, write_certificate

pytestmark = pytest.mark.requirement("KIT-009")

_WRITER = textwrap.dedent(
    """
    import json, resource, signal, sys
    from pathlib import Path
    from floe_compute_kit._atomic import AtomicWriteError
    from floe_compute_kit.conformance.report import write_certificate

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    limit = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    cert = json.loads(Path(sys.argv[1]).read_text())
    try:
        write_certificate(cert, Path(sys.argv[2]))
    except AtomicWriteError as exc:
        print(f"refused: {exc}")
        sys.exit(3)
    """
)


def _big_cert() -> dict[str, object]:
    r = results(profile_threads=Outcome.FAILED)
    for item in r:
        if item.outcome is Outcome.FAILED:
            item.message = "x" * 200_000
    return build(results=r)


def test_a_write_cut_short_by_a_file_size_limit_leaves_the_previous_files(tmp_path: Path) -> None:
    out = tmp_path / "certificate"
    write_certificate(build(), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == set(FORMATS.values())
    src = tmp_path / "big.json"
    src.write_text(json.dumps(_big_cert()))
    limit = max(len(b) for b in before.values()) + 1024  # the old files fit, the new do not
    done = subprocess.run(
        [sys.executable, "-c", _WRITER, str(src), str(out), str(limit)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "refused:" in done.stdout
    assert "certificate.json: could not be written" in done.stdout
    assert "the previous file is intact" in done.stdout
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # same files, same bytes; no temporary file left behind


def test_a_symlink_at_the_output_is_refused_not_followed(tmp_path: Path) -> None:
    from floe_compute_kit._atomic import AtomicWriteError

    out = tmp_path / "certificate"
    out.mkdir()
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    (out / "certificate.json").symlink_to(target)
    with pytest.raises(AtomicWriteError, match="symbolic link"):
        write_certificate(build(), out, ["json"])
    assert target.read_text() == "keep me"


def test_nothing_is_written_when_rendering_fails(tmp_path: Path) -> None:
    out = tmp_path / "certificate"
    write_certificate(build(), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = build()
    broken["checks"][0]["outcome"] = "sort of"  # the renderers refuse it
    with pytest.raises(ValueError, match="outcome"):
        write_certificate(broken, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
