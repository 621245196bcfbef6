"""The plain data that crosses between the kit and the plugin host.

Everything is tagged JSON, so that what the plugin returned arrives as what it was:
a tuple stays a tuple, a set a set, a non-string key a non-string key, and an object
the kit does not know arrives as a :class:`Foreign` stand-in carrying its type name
and the result fields it has. The kit then judges these plain values; it never holds
an object the plugin made.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import struct
from enum import Enum
from pathlib import PurePath
from typing import Any, Final

__all__ = [
    "MAX_FRAME",
    "RESULT_FIELDS",
    "Foreign",
    "WireError",
    "decode",
    "encode",
    "foreign_class",
    "known_models",
    "read_frame",
    "write_frame",
]

#: The largest message either side accepts (a plugin that returns more is refused).
MAX_FRAME: Final = 64 * 1024 * 1024
_MAX_DEPTH: Final = 64
_MAX_ITEMS: Final = 100_000
_MAX_REPR: Final = 2_000
#: Attributes read from objects the kit does not know: the fields of its result models.
RESULT_FIELDS: Final = (
    "status",
    "latency_ms",
    "message",
    "warnings",
    "cpu_request",
    "cpu_limit",
    "memory_request",
    "memory_limit",
    "ephemeral_storage_request",
    "ephemeral_storage_limit",
)


class WireError(ValueError):
    """A value cannot be encoded (too deep, too large, or its iteration raised)."""


class Foreign:
    """Stands for an object of a type the kit does not rebuild: its fields, its repr."""

    __slots__ = ("_fields", "_repr")
    remote_type = "object"

    def __init__(self, fields: dict[str, Any], text: str) -> None:
        object.__setattr__(self, "_fields", fields)
        object.__setattr__(self, "_repr", text)

    def __getattr__(self, name: str) -> Any:
        fields = object.__getattribute__(self, "_fields")
        if name in fields:
            return fields[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        return str(object.__getattribute__(self, "_repr"))

    def floe_fields(self) -> dict[str, Any]:
        """The fields it arrived with (for a model: its data)."""
        return dict(object.__getattribute__(self, "_fields"))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Foreign)
            and type(self).__name__ == type(other).__name__
            and self._fields == other._fields
        )

    def __hash__(self) -> int:
        return hash(type(self).__name__)


_FOREIGN: dict[str, type[Foreign]] = {}


def foreign_class(type_name: str) -> type[Foreign]:
    """A Foreign subclass named like the remote type, so messages say what it was."""
    short = type_name.rpartition(".")[2] or "object"
    if type_name not in _FOREIGN:
        _FOREIGN[type_name] = type(short, (Foreign,), {"__slots__": (), "remote_type": type_name})
    return _FOREIGN[type_name]


def known_models() -> dict[str, Any]:
    """The kit's own models and enums by qualified name: what both sides rebuild."""
    from floe_compute_kit import models  # noqa: PLC0415

    classes = (
        models.ComputeConfig,
        models.CatalogConfig,
        models.ConnectionResult,
        models.ResourceSpec,
        models.ConnectionStatus,
    )
    return {f"{cls.__module__}.{cls.__qualname__}": cls for cls in classes}


def _qualname(value: object) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def _capped_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a plugin's __repr__ may raise
        text = f"<{type(value).__name__} whose repr raised {type(exc).__name__}>"
    return text if len(text) <= _MAX_REPR else text[:_MAX_REPR] + "..."


def _model_data(value: Any) -> dict[str, Any]:
    """A pydantic model's fields as python values: secrets kept, nested models as dicts."""
    data: dict[str, Any] = value.model_dump()
    return data


def encode(value: Any, _depth: int = 0) -> Any:  # noqa: PLR0911, PLR0912 - one branch per kind
    """``value`` as tagged JSON-safe data. Raises WireError for what cannot cross."""
    if _depth > _MAX_DEPTH:
        raise WireError(f"the value is nested deeper than {_MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if type(value) is int else {"$int": int(value), "type": _qualname(value)}
    if isinstance(value, float):
        if math.isfinite(value) and type(value) is float:
            return value
        return {"$float": repr(float(value))}
    nested = _depth + 1
    if isinstance(value, list) and type(value) is list:
        if len(value) > _MAX_ITEMS:
            raise WireError(f"a list of {len(value)} items is more than {_MAX_ITEMS}")
        return [encode(item, nested) for item in value]
    if isinstance(value, dict) and type(value) is dict:
        if len(value) > _MAX_ITEMS:
            raise WireError(f"a dict of {len(value)} items is more than {_MAX_ITEMS}")
        return {"$dict": [[encode(k, nested), encode(v, nested)] for k, v in value.items()]}
    if isinstance(value, tuple) and type(value) is tuple:
        return {"$tuple": [encode(item, nested) for item in value]}
    if isinstance(value, set | frozenset) and type(value) in (set, frozenset):
        return {"$set": [encode(item, nested) for item in list(value)[:_MAX_ITEMS]]}
    if isinstance(value, bytes | bytearray):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return {"$datetime": value.isoformat(), "type": _qualname(value)}
    if isinstance(value, PurePath):
        return {"$path": str(value)}
    if isinstance(value, Enum):
        return {"$enum": _qualname(value), "value": encode(value.value, nested)}
    return _encode_object(value, nested)


def _encode_object(value: Any, depth: int) -> Any:
    from pydantic import BaseModel, SecretBytes, SecretStr  # noqa: PLC0415

    if isinstance(value, SecretStr):
        return {"$secret": value.get_secret_value()}
    if isinstance(value, SecretBytes):
        return {"$secret": value.get_secret_value().decode("utf-8", "replace")}
    name = getattr(type(value), "floe_remote_name", "") or _qualname(value)
    if isinstance(value, BaseModel) and not isinstance(value, type):
        return {"$model": name, "data": encode(_model_data(value), depth)}
    if isinstance(value, BaseException):
        return {"$object": name, "fields": {}, "repr": _capped_repr(value)}
    fields: dict[str, Any] = {}
    if not isinstance(value, type) and not callable(value):
        for field in RESULT_FIELDS:
            try:
                item = getattr(value, field)
            except Exception:  # noqa: S112 - an attribute that raises is simply absent
                continue
            try:
                fields[field] = encode(item, depth)
            except WireError:
                fields[field] = {"$object": _qualname(item), "fields": {}, "repr": "<too deep>"}
    return {
        "$object": name,
        "fields": {"$dict": [[k, v] for k, v in fields.items()]},
        "repr": _capped_repr(value),
    }


def decode(data: Any, *, models: dict[str, Any] | None = None) -> Any:  # noqa: PLR0911, PLR0912 - one branch per tag
    """Tagged data back to values. ``models`` maps a model's qualified name to the class
    that rebuilds it (the kit's own result models, the mirror of the config model)."""
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(item, models=models) for item in data]
    if not isinstance(data, dict) or len(data) == 0:
        raise WireError(f"unexpected wire value {data!r:.80}")
    if "$dict" in data:
        out: dict[Any, Any] = {}
        for key, item in data["$dict"]:
            decoded_key = decode(key, models=models)
            try:
                out[decoded_key] = decode(item, models=models)
            except TypeError:  # an unhashable key (a list): keep its repr, the check names it
                out[repr(decoded_key)] = decode(item, models=models)
        return out
    if "$tuple" in data:
        return tuple(decode(item, models=models) for item in data["$tuple"])
    if "$set" in data:
        try:
            return {decode(item, models=models) for item in data["$set"]}
        except TypeError:
            return foreign_class("builtins.set")({}, "a set of unhashable items")
    if "$int" in data:
        return int(data["$int"])
    if "$float" in data:
        return float(data["$float"])
    if "$bytes" in data:
        return base64.b64decode(data["$bytes"])
    if "$datetime" in data:
        return _datetime(data)
    if "$path" in data:
        return PurePath(data["$path"])
    if "$enum" in data:
        return _enum(data, models)
    if "$secret" in data:
        from pydantic import SecretStr  # noqa: PLC0415

        return SecretStr(str(data["$secret"]))
    if "$model" in data:
        return _model(data, models)
    if "$object" in data:
        fields = decode(data.get("fields", {"$dict": []}), models=models)
        return foreign_class(str(data["$object"]))(fields, str(data.get("repr", "")))
    raise WireError(f"unexpected wire value {data!r:.80}")


def _datetime(data: dict[str, Any]) -> Any:
    text = str(data["$datetime"])
    kind = str(data.get("type", ""))
    if kind.endswith(".date"):
        return dt.date.fromisoformat(text)
    if kind.endswith(".time"):
        return dt.time.fromisoformat(text)
    return dt.datetime.fromisoformat(text)


def _enum(data: dict[str, Any], models: dict[str, Any] | None) -> Any:
    value = decode(data["value"], models=models)
    known = (models or {}).get(str(data["$enum"]))
    if known is not None:
        try:
            return known(value)
        except ValueError:
            pass
    return value


def _model(data: dict[str, Any], models: dict[str, Any] | None) -> Any:
    name = str(data["$model"])
    fields = decode(data["data"], models=models)
    cls = (models or {}).get(name)
    if cls is not None:
        try:
            return cls.model_validate(fields)
        except ValueError:  # invalid once re-validated here: judged as the foreign object it is
            pass
    return foreign_class(name)(
        fields if isinstance(fields, dict) else {}, f"{name}({fields!r:.200})"
    )


_HEADER: Final = struct.Struct("!I")


def write_frame(fd: int, message: Any) -> None:
    """Send one message (a JSON document with a length prefix) on ``fd``."""
    import os  # noqa: PLC0415

    body = json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise WireError(f"a message of {len(body)} bytes is more than {MAX_FRAME}")
    view = memoryview(_HEADER.pack(len(body)) + body)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_frame(fd: int) -> Any:
    """Receive one message from ``fd``; EOFError when the other side has gone."""
    header = _read_exact(fd, _HEADER.size)
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise WireError(f"a message of {size} bytes is more than {MAX_FRAME}")
    return json.loads(_read_exact(fd, size))


def _read_exact(fd: int, size: int) -> bytes:
    import os  # noqa: PLC0415

    chunks: list[bytes] = []
    left = size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
