"""Reading a certificate someone else wrote: bounded before parsing, strict after.

A certificate is input from outside, so the reader caps its size and nesting depth before
``json`` sees it (a 100k-deep file would otherwise end in RecursionError), refuses what
JSON allows but a certificate never holds (duplicate keys, NaN, integers of thousands of
digits, lone surrogates), and validates the result against the model. Every refusal is
one :class:`CertificateError` naming the file, the problem and the fix.
"""

from __future__ import annotations

import codecs
import json
import math
import re
import reprlib
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from floe_compute_kit.conformance.certificate._model import Certificate
from floe_compute_kit.errors import CertificateError

__all__ = [
    "DUPLICATE_KEY",
    "MAX_BYTES",
    "MAX_DEPTH",
    "parse_certificate",
    "read_certificate_json",
    "validation_lines",
]

#: Larger than any certificate the kit writes (the reference one is about 50 kB).
MAX_BYTES: Final = 16 * 1024 * 1024
#: Deeper than any certificate the kit writes (examples and details are shallow configs).
MAX_DEPTH: Final = 64
#: Longest integer literal accepted (a seed fits in 20 digits).
MAX_INT_DIGITS: Final = 40

_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKET: Final = re.compile(r"[\[\]{}]")
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_FIX_ENCODING: Final = "re-save it as UTF-8, or use the certificate.json the kit wrote"


def _fail(file: str, reason: str, detail: str, fix: str) -> CertificateError:
    return CertificateError(f"{file}: {detail}; {fix}", file=file, reason=reason)


def _read_bytes(path: Path) -> bytes:
    file = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise CertificateError(
            f"cannot read certificate {file}: {exc.strerror or exc}; check the path",
            file=file,
            reason="unreadable",
        ) from None
    if len(data) > MAX_BYTES:
        raise _fail(
            file,
            "too large",
            f"is larger than {MAX_BYTES // (1024 * 1024)} MiB, so it is not a certificate",
            "give the certificate.json that `floe-conformance report` wrote",
        )
    return data


def _decode(data: bytes, file: str) -> str:
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise _fail(file, "not UTF-8", f"is {name}-encoded, not UTF-8", _FIX_ENCODING)
    if len(data) >= 2 and (data[0] == 0) != (data[1] == 0):
        raise _fail(file, "not UTF-8", "looks UTF-16-encoded (NUL bytes), not UTF-8", _FIX_ENCODING)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(
            file,
            "not UTF-8",
            f"is not UTF-8 (byte {exc.start} is {data[exc.start]:#04x})",
            _FIX_ENCODING,
        ) from None
    return text.removeprefix("\ufeff")


def _check_depth(text: str, file: str) -> None:
    # Cheap and linear: drop string literals, then follow the brackets that remain.
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_DEPTH:
            raise _fail(
                file,
                "too deep",
                f"nests more than {MAX_DEPTH} levels deep (a certificate nests about 6)",
                "give the certificate.json that `floe-conformance report` wrote",
            )


#: CertificateError.reason of a file whose JSON says two things at once: not a broken
#: file but an attempt to make two readers see different certificates.
DUPLICATE_KEY: Final = "duplicate key"


class _RefusedError(ValueError):
    """Raised by the parse hooks; carries the one-line reason."""

    def __init__(self, message: str, reason: str = "not a certificate") -> None:
        super().__init__(message)
        self.reason = reason


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _RefusedError(
                f"the key {key!r} appears twice in one object (which one counts?)", DUPLICATE_KEY
            )
        out[key] = value
    return out


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _RefusedError(f"an integer of {len(text)} digits is not a value a certificate holds")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _RefusedError(f"the number {text[:40]} is out of range")
    return value


def _constant(text: str) -> Any:
    raise _RefusedError(f"{text} is not JSON")


def read_certificate_json(path: Path) -> dict[str, Any]:
    """The JSON object at ``path``, bounded and strict; not yet validated as a certificate."""
    file = str(path)
    text = _decode(_read_bytes(path), file)
    _check_depth(text, file)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except _RefusedError as exc:
        raise _fail(file, exc.reason, str(exc), "give the file the kit wrote") from None
    except json.JSONDecodeError as exc:
        raise CertificateError(
            f"{file} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; "
            "give the certificate.json that `floe-conformance report` wrote",
            file=file,
            reason="not JSON",
        ) from None
    except (ValueError, RecursionError) as exc:  # anything else json refuses
        raise _fail(
            file, "not JSON", f"is not JSON ({exc})", "give the file the kit wrote"
        ) from None
    if not isinstance(data, dict):
        raise CertificateError(
            f"{file} holds a JSON {type(data).__name__}, not a certificate object; "
            "give the certificate.json that `floe-conformance report` wrote",
            file=file,
            reason="not an object",
        )
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(
            file, "not UTF-8", "holds a lone surrogate (\\ud800-\\udfff) escape", _FIX_ENCODING
        ) from None
    return data


# Never repr a whole input: the offending value may be the 16 MiB root object.
_SHORT: Final = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlevel = 2


def validation_lines(error: ValidationError) -> list[str]:
    """One ``path: message`` line per problem, with the offending value shortened."""
    lines = []
    for item in error.errors(include_url=False):
        where = "/".join(str(p) for p in item["loc"]) or "(root)"
        lines.append(f"{where}: {item['msg']} (got {_SHORT.repr(item.get('input'))})")
    return lines


def parse_certificate(data: dict[str, Any]) -> Certificate:
    """``data`` as a :class:`Certificate`; pydantic's ValidationError when it is not one."""
    return Certificate.model_validate(data)
