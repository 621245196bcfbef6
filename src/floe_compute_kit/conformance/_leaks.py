"""Canary secrets, and finding them again in whatever a plugin emits.

A leak is rarely the secret verbatim: a plugin that logs a DSN URL-encodes it, a basic
auth header base64-encodes it, a debug dump writes bytes as hex. So each canary is
looked for in every spelling a careless plugin would produce, and a finding names the
spelling, never the value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import random
import secrets
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, quote_plus

__all__ = ["Leak", "canary", "find_leaks", "spellings"]

#: Spellings shorter than this are not looked for: they would match by coincidence.
MIN_SPELLING: Final = 6
#: New in every process: no plugin can know a run's canaries, or compute them.
_KEY: Final = secrets.token_bytes(32)
_ALNUM: Final = string.ascii_letters + string.digits
#: Characters that URL-encoding changes (and "/" that path-style encoding keeps).
_MARKS: Final = "/+&%=@!"


def canary(index: int, salt: str = "", *, alnum: bool = False) -> str:
    """A distinct canary secret, shaped like a generated password.

    A fixed mark (a prefix, a suffix, a length) would let a plugin spare the canaries
    and leak every other secret; so each is 18 to 26 random letters and digits with two
    to four symbols among them, from a key drawn when the process starts. The symbols
    make URL-encoding differ from the plain text, so each spelling is its own search.
    Over 100 random bits: a canary never occurs by chance. The same ``index`` and
    ``salt`` give the same canary within one process; ``alnum`` leaves the symbols out
    (for models and engines that refuse them), keeping at least 18 characters.
    """
    digest = hmac.new(_KEY, f"{salt}:{index}".encode(), hashlib.sha256).digest()
    rng = random.Random(digest)  # noqa: S311 - seeded from the secret digest, not for keys
    chars = rng.choices(_ALNUM, k=rng.randint(18, 26))
    for _ in range(rng.randint(2, 4)):
        chars.insert(rng.randint(1, len(chars) - 1), rng.choice(_MARKS))
    return "".join(c for c in chars if c.isalnum()) if alnum else "".join(chars)


def spellings(secret: str) -> dict[str, str]:
    """``secret`` as a plugin might write it: spelling name -> text."""
    raw = secret.encode("utf-8")
    std = base64.b64encode(raw).decode("ascii")
    url = base64.urlsafe_b64encode(raw).decode("ascii")
    out = {
        "plain text": secret,
        "base64": std,
        "base64 (no padding)": std.rstrip("="),
        "urlsafe base64": url,
        "urlsafe base64 (no padding)": url.rstrip("="),
        "URL-encoded": quote(secret, safe=""),
        "URL-encoded (form)": quote_plus(secret, safe=""),
        "URL-encoded (path)": quote(secret),
        "hex": binascii.hexlify(raw).decode("ascii"),
        "hex (upper case)": binascii.hexlify(raw).decode("ascii").upper(),
    }
    # base64 of a secret embedded in a longer text ("user:secret") shifts with its offset,
    # and a 3-byte group the secret shares with the bytes around it encodes them too: the
    # groups that hold the secret's bytes alone are found at each of the three alignments,
    # wherever the secret sits and whatever follows it.
    for shift in (0, 1, 2):
        whole = (shift + len(raw)) // 3  # the groups complete where the secret ends
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        out[f"base64 (inside a longer value, offset {shift})"] = encoded[
            (4 if shift else 0) : 4 * whole
        ]
    kept: dict[str, str] = {}
    for name, text in out.items():
        if len(text) >= MIN_SPELLING and text not in kept.values():
            kept[name] = text
    return kept


@dataclass(frozen=True)
class Leak:
    """One secret found in one place: where, in which spelling, and which secret (by name)."""

    where: str
    spelling: str
    secret: str  # the credential's name (e.g. ``credentials.token``), never its value

    def __str__(self) -> str:
        return f"{self.secret} ({self.spelling}) in {self.where}"


def find_leaks(texts: Iterable[tuple[str, str]], secrets: dict[str, str]) -> list[Leak]:
    """Every (where, text) in ``texts`` that holds a spelling of one of ``secrets``.

    ``secrets`` maps a credential's name to its value. One finding per place and secret:
    the first spelling that matches, plain text first.
    """
    table = [
        (name, label, text)
        for name, value in secrets.items()
        for label, text in spellings(value).items()
    ]
    found: list[Leak] = []
    for where, text in texts:
        seen: set[str] = set()
        for name, label, spelled in table:
            if name not in seen and spelled in text:
                seen.add(name)
                found.append(Leak(where, label, name))
    return found


def strings_in(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(path, text) for every string inside nested dicts, lists and tuples, keys included."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key, f"{where} (a key)")
            yield from strings_in(item, f"{where}.{key}")
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            yield from strings_in(item, f"{where}[{index}]")
