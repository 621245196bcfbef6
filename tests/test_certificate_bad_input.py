"""`verify` and `replay` on files that are not certificates: one line, exit 2, no traceback.

Each input is read as the CLI reads it; the bounds (size, depth, integer length) hold
before json sees the text, so none of these can exhaust the stack or the memory.
"""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from _cert_data import build, results
from floe_compute_kit.cli.conformance import main
from floe_compute_kit.conformance._results import Outcome
from floe_compute_kit.conformance.certificate import MAX_BYTES

pytestmark = [pytest.mark.requirement("KIT-011"), pytest.mark.requirement("KIT-012")]


def _cert_text() -> str:
    return json.dumps(build(results=results(profile_threads=Outcome.FAILED)), indent=1)


def _replace_first(old: str, new: str) -> Callable[[Path], bytes]:
    def make(_: Path) -> bytes:
        text = _cert_text()
        assert old in text
        return text.replace(old, new, 1).encode()

    return make


INPUTS: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "nested 100k deep": (lambda _: b"[" * 100_000 + b"]" * 100_000, "levels deep"),
    "nested objects": (lambda _: b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "levels deep"),
    "UTF-16 with BOM": (lambda _: _cert_text().encode("utf-16"), "UTF-16-encoded"),
    "UTF-16 without BOM": (lambda _: _cert_text().encode("utf-16-le"), "UTF-16-encoded"),
    "UTF-32": (lambda _: codecs.BOM_UTF32_LE + _cert_text().encode("utf-32-le"), "UTF-32"),
    "Latin-1": (lambda _: _cert_text().replace("demo", "démo").encode("latin-1"), "not UTF-8"),
    "zeros": (lambda _: b"\0" * 4096, "not JSON"),
    "huge integer": (_replace_first('"seed": 7', '"seed": ' + "9" * 5000), "digits"),
    "huge float": (_replace_first('"budget_s": 5.0', '"budget_s": 1e999'), "out of range"),
    "NaN": (_replace_first('"budget_s": 5.0', '"budget_s": NaN'), "NaN is not JSON"),
    "lone surrogate": (_replace_first('"name": "demo"', '"name": "\\ud800"'), "surrogate"),
    "a check id that is an int": (
        _replace_first('"id": "meta.name"', '"id": 7'),
        "checks/0/id: Input should be a valid string",
    ),
    "zero max_examples": (
        _replace_first('"max_examples": 10', '"max_examples": 0'),
        "run/max_examples: Input should be greater than or equal to 1",
    ),
    "zero budget": (
        _replace_first('"budget_s": 5.0', '"budget_s": 0'),
        "run/budget_s: Input should be greater than 0",
    ),
    "wrong schema": (_replace_first('"schema_version": "1.0"', '"schema_version": "9.0"'), "9.0"),
    "wrong kind": (
        _replace_first('"kind": "floe-compute-certificate"', '"kind": "x"'),
        "kind: Input should be 'floe-compute-certificate'",
    ),
    "missing field": (
        lambda _: json.dumps({"kind": "floe-compute-certificate"}).encode(),
        "Field required",
    ),
    "a list": (lambda _: b"[1, 2]", "a JSON list, not a certificate object"),
    "empty": (lambda _: b"", "is not JSON"),
    "too large": (lambda _: b" " * (MAX_BYTES + 10), "larger than 16 MiB"),
    "binary": (lambda _: os.urandom(2048).replace(b"\0", b"\1"), "UTF-8"),
}


@pytest.mark.parametrize("command", ["verify", "replay"])
@pytest.mark.parametrize("name", list(INPUTS))
def test_bad_certificate_input_is_one_line_and_exit_2(
    name: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected = INPUTS[name]
    path = tmp_path / "certificate.json"
    path.write_bytes(make(tmp_path))
    argv = [command, str(path)] + (["--check", "profile.threads"] if command == "replay" else [])
    assert main(argv) == 2
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert out.count("\n") == 1, out
    assert str(path) in out
    if name != "binary":  # random bytes may fail as not-UTF-8 or as not-JSON
        assert expected in out
    else:
        assert "UTF-8" in out or "JSON" in out
    assert "Traceback" not in out


def test_dev_zero_through_a_symlink_is_refused_by_size(tmp_path: Path) -> None:
    link = tmp_path / "certificate.json"
    link.symlink_to("/dev/zero")
    done = subprocess.run(
        [sys.executable, "-m", "floe_compute_kit.cli.conformance", "verify", str(link)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "larger than 16 MiB" in done.stdout
    assert done.stderr == ""


def test_a_directory_is_not_a_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert out.startswith(f"error: cannot read certificate {tmp_path}: Is a directory")
