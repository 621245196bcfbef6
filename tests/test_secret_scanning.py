"""The scanner finds a secret in every spelling, and dbt's own files are scanned (KIT-220)."""

from __future__ import annotations

import base64
import binascii
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from floe_compute_kit.conformance._check import CheckFailed
from floe_compute_kit.conformance._leaks import canary, find_leaks, spellings
from floe_compute_kit.conformance.checks.secrets import scan_build_artefacts

pytestmark = pytest.mark.requirement("KIT-220")

SECRET = canary(7)


#: (name, the secret as a plugin might write it); the names keep xdist's workers' test ids
#: the same (each process has canaries of its own)
ENCODED = {
    "plain": SECRET,
    "base64": base64.b64encode(SECRET.encode()).decode(),
    "urlsafe base64": base64.urlsafe_b64encode(SECRET.encode()).decode().rstrip("="),
    "basic auth": base64.b64encode(f"user:{SECRET}".encode()).decode(),
    "base64 offset 1": base64.b64encode(f"ab:{SECRET}:x".encode()).decode(),
    "base64 offset 2": base64.b64encode(f"abc:{SECRET}".encode()).decode(),
    "URL-encoded": quote(SECRET, safe=""),
    "form-encoded": quote_plus(SECRET),
    "hex": binascii.hexlify(SECRET.encode()).decode(),
    "hex upper": binascii.hexlify(SECRET.encode()).decode().upper(),
}


@pytest.mark.parametrize("name", ENCODED)
def test_every_spelling_is_found(name: str) -> None:
    encoded = ENCODED[name]
    [leak] = find_leaks([("a text", f"prefix {encoded} suffix")], {"credentials.token": SECRET})
    assert leak.secret == "credentials.token"
    assert SECRET not in str(leak)


@pytest.mark.parametrize("length", [18, 19, 20])  # every remainder of a 3-byte group
def test_base64_finds_a_secret_at_any_offset_whatever_follows(length: int) -> None:
    """Inside a longer value, base64 shares the secret's first and last groups with its
    neighbours: each alignment and each kind of neighbour is found."""
    secret = (canary(length, alnum=True) + canary(length, "more", alnum=True))[:length]
    assert len(secret) == length
    for before in ("", "a", "ab", "abc", "user:"):
        for after in ("", ":", ":x", ":xy", "@db.local:5432"):
            encoded = base64.b64encode(f"{before}{secret}{after}".encode()).decode()
            leaks = find_leaks([("a header", encoded)], {"credentials.password": secret})
            assert [leak.secret for leak in leaks] == ["credentials.password"], (before, after)


def test_nothing_is_found_in_unrelated_text() -> None:
    other = canary(8)
    assert find_leaks([("a text", " ".join(spellings(other).values()))], {"t": SECRET}) == []


def test_canaries_are_distinct_and_change_under_every_encoding() -> None:
    assert len({canary(i) for i in range(50)}) == 50
    assert len(set(spellings(SECRET).values())) == len(spellings(SECRET))
    assert all(quote(canary(i), safe="") != canary(i) for i in range(50))


@pytest.mark.requirement("KIT-221")
def test_canaries_carry_no_mark_a_plugin_could_spare() -> None:
    """A fixed prefix, ending or length would let a plugin leak every secret but the kit's."""
    values = [canary(i, salt) for i in range(40) for salt in ("", "catalog", "fill")]
    assert len({v[0] for v in values}) > 10  # no common prefix
    assert len({v[-1] for v in values}) > 10  # no common ending
    assert len({len(v) for v in values}) >= 5
    assert all(len(canary(i, salt, alnum=True)) >= 18 for i in range(40) for salt in ("", "x"))
    assert canary(5, "x", alnum=True) == "".join(c for c in canary(5, "x") if c.isalnum())
    assert canary(3, "x") == canary(3, "x")  # one process: the same canary for the same place
    other = subprocess.run(
        [sys.executable, "-c", f"from {canary.__module__} import canary; print(canary(3, 'x'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert other
    assert other != canary(3, "x")  # another process cannot know (or compute) this run's


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
