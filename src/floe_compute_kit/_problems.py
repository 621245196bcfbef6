"""The one translator from pydantic's ValidationError to lines a user reads.

Error text goes to consoles, JSON, logs, spans and certificates, so what it echoes is
chosen here, once: never the value of a secret field (a SecretStr, ``credentials``,
anything under them), never a mapping or list (a model-level error's input is the whole
config, credentials included), never the value of an unknown key (``credentails:`` is
a typo of a secret), and never more than :data:`MAX_SHOWN` characters of anything (an
unknown key once held 200 MB and every byte was printed).
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Union, get_args, get_origin

from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError

__all__ = [
    "MASK",
    "MAX_SHOWN",
    "FieldProblem",
    "capped",
    "field_problems",
    "key_path",
    "shown",
]

#: What a secret looks like in any message.
MASK: Final = "**********"
#: Longest echo of a value, in characters.
MAX_SHOWN: Final = 80
_MAX_MESSAGE: Final = 300
#: Field names whose values are secret wherever they appear.
SECRET_NAMES: Final = frozenset(
    {"credentials", "password", "secret", "token", "client_secret", "session_token", "key_id"}
)
_TYPE_NAMES: Final = {
    "string": "text",
    "int": "an integer",
    "bool": "true or false",
    "float": "a number",
    "list": "a list",
    "dict": "a mapping",
    "model": "a mapping",
    "literal": "one of the listed values",
}


@dataclass(frozen=True)
class FieldProblem:
    """One bad field: where, what pydantic said, what may be shown of the value, what is allowed."""

    loc: tuple[str | int, ...]
    kind: str
    message: str
    value: str | None
    allowed: str
    #: the input itself if a short, non-secret scalar (for structured fields), else ``value``
    raw: object = None


def shown(value: object, *, secret: bool = False) -> str:  # noqa: PLR0911 - one return per kind
    """A bounded, masked rendering of ``value`` for an error message."""
    if secret or isinstance(value, SecretStr | SecretBytes):
        return MASK
    if isinstance(value, Mapping):
        return f"a mapping of {len(value)} key(s)"
    if isinstance(value, list | tuple | set | frozenset):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, int) and not isinstance(value, bool):
        big = not -(10**MAX_SHOWN) < value < 10**MAX_SHOWN
        return "an integer of more than 80 digits" if big else repr(value)
    if isinstance(value, str | bytes) and len(value) > MAX_SHOWN:
        return f"{value[:MAX_SHOWN]!r}... ({len(value):,} characters)"
    if isinstance(value, str | bytes | bool | float) or value is None:
        return repr(value)
    return f"a {type(value).__name__}"


def capped(text: str, limit: int = _MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was (for free-form messages)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def key_path(loc: Sequence[str | int]) -> str:
    """``('transforms', 3, 'name')`` -> ``transforms[3].name``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            continue
        else:
            text = part if len(part) <= MAX_SHOWN and part.isprintable() else shown(part)
            out += f".{text}" if out else text
    return out or "<root>"


def _element(annotation: Any) -> Any:
    """``X | None`` -> ``X``, so that the walk below sees the model or container type."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _element(args[0]) if len(args) == 1 else annotation
    if origin is not None and getattr(origin, "__name__", "") == "Annotated":  # pragma: no cover
        return _element(get_args(annotation)[0])
    return annotation


def _walk(model: type[BaseModel], loc: Sequence[str | int]) -> tuple[Any, bool]:
    """The annotation at ``loc`` inside ``model`` and whether a secret field lies on the way."""
    current: Any = model
    secret = False
    for part in loc:
        current = _element(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None, secret
            current = field.annotation
        else:
            origin = get_origin(current)
            if origin is list:
                current = get_args(current)[0]
            elif origin is dict:
                current = get_args(current)[1]
            else:
                return None, secret
        if str(part) in SECRET_NAMES or _holds_secret(current):
            secret = True
    return _element(current), secret


def _holds_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(_holds_secret(a) for a in get_args(annotation))


def _allowed(model: type[BaseModel], error: Mapping[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    kind = str(error.get("type", ""))
    loc = tuple(error.get("loc", ()))
    if kind == "extra_forbidden":
        parent, _ = _walk(model, loc[:-1])
        if isinstance(parent, type) and issubclass(parent, BaseModel):
            return ", ".join(parent.model_fields)
        return "no such key"
    parts = []
    for key, label in (
        ("expected", "one of"),
        ("pattern", "matching"),
        ("ge", ">="),
        ("gt", ">"),
        ("le", "<="),
        ("lt", "<"),
        ("min_length", "min length"),
        ("max_length", "max length"),
    ):
        if key in ctx:
            parts.append(f"{label} {shown(ctx[key]) if key != 'pattern' else ctx[key]}")
    if parts:
        return ", ".join(parts)
    if kind == "missing":
        return "a value (this key is required)"
    return _TYPE_NAMES.get(kind.partition("_")[0], "")


def field_problems(model: type[BaseModel], exc: ValidationError) -> list[FieldProblem]:
    """Every error of ``exc`` (raised validating ``model``), masked and bounded."""
    out = []
    for error in exc.errors(include_url=False, include_context=True, include_input=True):
        loc = tuple(error.get("loc", ()))
        kind = str(error.get("type", ""))
        _, secret = _walk(model, loc)
        if any(str(p) in SECRET_NAMES for p in loc):
            secret = True
        value: str | None
        raw: object = None
        if kind in ("extra_forbidden", "missing") or not loc:
            value = None  # an unknown key's value may be a misplaced secret; root is the config
        else:
            given = error.get("input")
            value = shown(given, secret=secret)
            short = isinstance(given, str) and len(given) <= MAX_SHOWN
            plain = isinstance(given, bool | float) or (
                isinstance(given, int) and abs(given) < 2**63
            )
            raw = given if not secret and (short or plain or given is None) else value
        message = capped(str(error.get("msg", "invalid")).removeprefix("Value error, "))
        out.append(FieldProblem(loc, kind, message, value, _allowed(model, error), raw))
    return out
