"""Secrets out of everything a plugin can write into a certificate.

A check's message and traceback quote the plugin's own exception text, and a plugin that
puts its config (password included) in an exception would otherwise publish it in four
files. So one step, when the certificate is built, masks every secret value the runner
knows (``secrets=``) and the credential shapes anyone can recognise: ``password=...``,
``user:pass@`` in URLs, bearer tokens, AWS access key ids, private key blocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Final

__all__ = ["MASK", "MIN_SECRET_LENGTH", "Scrubber"]

MASK: Final = "**********"
#: Shorter known values are not masked: masking every "0" or "ab" would garble messages
#: without protecting anything a guess could not find.
MIN_SECRET_LENGTH: Final = 4

#: Key names whose value is a secret; a key must END with one (``db_password``,
#: ``client_secret``), so ``passed:`` or ``tokens:`` are left alone.
_KEY: Final = (
    r"(?:pass(?:word|wd|phrase)?|pwd|pw|secret|secret[_-]?key|token|api[_-]?key|apikey|"
    r"private[_-]?key|access[_-]?key(?:[_-]?id)?|credentials?|authorization)"
)
_PATTERNS: Final = (
    # Authorization: Bearer <token>, Basic <b64>
    re.compile(r"(?i)(\b(?:bearer|basic)\s+)([A-Za-z0-9._~+/=-]{8,})"),
    # password=..., "token": "...", secret: ... (the value up to a quote, space or separator)
    re.compile(
        rf"(?i)(\b[\w-]*?{_KEY}[\"']?\s*[:=]\s*(?:SecretStr\()?[\"']?)(?!(?i:bearer|basic)\s)([^\s\"',;(){{}}\[\]]+)"
    ),
    # scheme://user:password@host
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)([^/\s@]+)(?=@)"),
    # AWS access key ids
    re.compile(r"()\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"),
    # PEM private keys
    re.compile(r"()(-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----)", re.S),
)


class Scrubber:
    """Masks known secret values (and their repr/JSON spellings) and credential shapes."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        spellings: set[str] = set()
        for secret in secrets:
            if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
                continue
            spellings |= {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]}
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(spellings, key=len, reverse=True)
        self._known = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    @classmethod
    def learning_from(cls, texts: Iterable[str], secrets: Iterable[str] = ()) -> Scrubber:
        """A scrubber that also masks, everywhere, each value it found credential-shaped in
        ``texts``: ``password=abc`` in a message masks a bare ``abc`` in the traceback."""
        found = [
            match.group(2)
            for text in texts
            for pattern in _PATTERNS
            for match in pattern.finditer(text)
            if match.group(2) != MASK
        ]
        return cls([*secrets, *found])

    def text(self, value: str) -> str:
        if self._known is not None:
            value = self._known.sub(MASK, value)
        for pattern in _PATTERNS:
            value = pattern.sub(lambda m: m.group(1) + MASK, value)
        return value

    def data(self, value: Any) -> Any:
        """``value`` (JSON-like) with every string, key or value, scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value
