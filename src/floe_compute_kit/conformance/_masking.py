"""Secret masking for anything the kit reports: failures, examples, certificates.

A value is secret when it is a SecretStr/SecretBytes, sits under a secret-sounding key,
or (given the model) fills a field typed SecretStr. No Hypothesis here: masking runs
wherever a report is made.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, get_args

from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic.fields import FieldInfo

from floe_compute_kit.conformance._fields import _input_key, _model_in, _model_of

__all__ = ["mask_secrets"]

_MASK: Final = "**********"


_SECRET_KEY: Final = re.compile(
    r"pass(word|wd)?|secret|token|credential|api[_-]?key|private[_-]?key|auth", re.IGNORECASE
)


def mask_secrets(
    data: Mapping[str, Any], *, model: type[BaseModel] | None = None
) -> dict[str, Any]:
    """A copy of ``data`` fit for a failure report: secret values become ``**********``.

    Secret are SecretStr/SecretBytes values, values under secret-sounding keys
    (credentials, password, token ...), and, given ``model``, fields typed SecretStr.

    >>> mask_secrets({"plugin": "x", "credentials": {"token": "abc"}, "threads": 2})
    {'plugin': 'x', 'credentials': {'token': '**********'}, 'threads': 2}
    """
    return {str(k): _masked(k, v, model, secret=False) for k, v in data.items()}


def _masked(key: Any, value: Any, model: type[BaseModel] | None, *, secret: bool) -> Any:
    info = _field_named(model, key)
    secret = secret or bool(isinstance(key, str) and _SECRET_KEY.search(key))
    if info is not None and _mentions_secret(info.annotation):
        secret = True
    nested = None if info is None else _model_in(info.annotation) or _model_of(info.annotation)
    return _mask_value(value, nested, secret=secret)


def _mask_value(value: Any, model: type[BaseModel] | None, *, secret: bool) -> Any:
    if isinstance(value, SecretStr | SecretBytes):
        return _MASK
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, Mapping):
        return {str(k): _masked(k, v, model, secret=secret) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask_value(v, model, secret=secret) for v in value]
    if secret and value is not None:
        return _MASK
    return value


def _field_named(model: type[BaseModel] | None, key: Any) -> FieldInfo | None:
    if model is None or not isinstance(key, str):
        return None
    for name, info in model.model_fields.items():
        if key in {name, _input_key(model, name, info)}:
            return info
    return None


def _mentions_secret(tp: Any) -> bool:
    if isinstance(tp, type) and issubclass(tp, SecretStr | SecretBytes):
        return True
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return False  # its own fields decide
    return any(_mentions_secret(a) for a in get_args(tp))
