"""The scanner finds a secret in every spelling, and dbt's own files are scanned (KIT-220)."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from floe_compute_kit.conformance._check import CheckFailed
from floe_compute_kit.conformance._leaks import canary, find_leaks, spellings
from floe_compute_kit.conformance.checks.secrets import scan_build_artefacts

pytestmark = pytest.mark.requirement("KIT-220")

SECRET = canary(7)


@pytest.mark.parametrize(
    "encoded",
    [
        SECRET,
        base64.b64encode(SECRET.encode()).decode(),
        base64.urlsafe_b64encode(SECRET.encode()).decode().rstrip("="),
        base64.b64encode(f"user:{SECRET}".encode()).decode(),
        base64.b64encode(f"ab:{SECRET}:x".encode()).decode(),
        base64.b64encode(f"abc:{SECRET}".encode()).decode(),
        quote(SECRET, safe=""),
        quote_plus(SECRET),
        binascii.hexlify(SECRET.encode()).decode(),
        binascii.hexlify(SECRET.encode()).decode().upper(),
    ],
)
def test_every_spelling_is_found(encoded: str) -> None:
    [leak] = find_leaks([("a text", f"prefix {encoded} suffix")], {"credentials.token": SECRET})
    assert leak.secret == "credentials.token"
    assert SECRET not in str(leak)


def test_nothing_is_found_in_unrelated_text() -> None:
    other = canary(8)
    assert find_leaks([("a text", " ".join(spellings(other).values()))], {"t": SECRET}) == []


def test_canaries_are_distinct_and_change_under_every_encoding() -> None:
    assert len({canary(i) for i in range(50)}) == 50
    assert len(set(spellings(SECRET).values())) == len(spellings(SECRET))


def test_dbt_files_holding_a_secret_fail_the_build(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "target").mkdir()
    (tmp_path / "logs" / "dbt.log").write_text("connected\n", encoding="utf-8")
    scan_build_artefacts(tmp_path, [SECRET])  # clean files pass
    encoded = base64.b64encode(SECRET.encode()).decode()
    (tmp_path / "target" / "manifest.json").write_text(f'{{"vars": "{encoded}"}}', "utf-8")
    with pytest.raises(CheckFailed, match=r"base64 in target/manifest\.json") as raised:
        scan_build_artefacts(tmp_path, [SECRET])
    assert SECRET not in raised.value.message
