"""``connection`` dicts for plugins on floe-core's generic ComputeConfig (KIT-243).

Such a plugin reads its engine settings from a free ``connection={...}`` dict, so its
config model says nothing the kit could generate from. What does say it is the dbt
adapter the profile names: its Credentials dataclass declares every key a profile may
hold, with types (``DuckDBCredentials.json_schema()``, dbt's own API). Users write those
keys into floe.yaml, right and wrong, so the dicts here use those keys with well-typed
values and with hostile ones: ``..`` paths, quotes and statement breaks, dbt ``env_var``
templates, long strings, odd Unicode and values of the wrong type. Host-like keys only
ever get loopback addresses (or a wrong type), so no value makes a plugin reach out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

__all__ = ["HOSTILE_TEXT", "WRONG_TYPES", "connection_dicts", "credentials_fields"]

#: Strings a careless or hostile floe.yaml puts where a name or a path belongs.
HOSTILE_TEXT: Final = (
    "..",
    "../../etc/passwd",
    "../floe.duckdb",
    "data/../../outside.db",
    "'",
    '"',
    "'; DROP TABLE t; --",
    '" OR 1=1 --',
    "a'b\"c`d",
    "{{ env_var('HOME') }}",
    "$(touch floe-pwned)",
    "\x00",
    "\u202egnp.exe",
    "名前.duckdb",
    "Ω≈ç√∫",
    "🦆",
    "",
    " ",
    "x" * 10_000,
)
#: Values of the wrong type for any key (YAML makes each of them easy to write).
WRONG_TYPES: Final[tuple[Any, ...]] = (0, -1, 2**63, 1.5, True, None, [], {}, ["a", 1], {"k": "v"})
_LOOPBACK: Final = ("127.0.0.1", "localhost", "::1")
_HOST_KEYS: Final = frozenset({"host", "hostname", "server", "address", "addr"})
_PORT_KEYS: Final = frozenset({"port"})
_PATH_HINTS: Final = ("path", "root", "dir", "file", "location")
_WORDS: Final = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)


def credentials_fields(credentials: Any) -> dict[str, dict[str, Any]]:
    """Each key a dbt Credentials class declares, with its JSON Schema (dbt's json_schema())."""
    schema = credentials.json_schema()
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return {str(k): v for k, v in properties.items() if isinstance(v, dict)}


def _is_path(key: str) -> bool:
    return any(hint in key for hint in _PATH_HINTS)


def _typed(key: str, schema: Mapping[str, Any], depth: int = 0) -> SearchStrategy[Any]:  # noqa: PLR0911 - one branch per JSON type
    """A well-typed value for ``key`` from its JSON Schema."""
    forms = schema.get("anyOf") or schema.get("oneOf")
    if forms:
        return st.one_of([_typed(key, form, depth) for form in forms])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    kind = schema.get("type")
    if key in _HOST_KEYS:
        return st.sampled_from(_LOOPBACK)
    if key in _PORT_KEYS or kind == "integer":
        low = int(schema.get("minimum", 0))
        return st.integers(low, max(low, int(schema.get("maximum", 65535))))
    if kind == "string":
        if _is_path(key):
            return _WORDS.map(lambda w: f"{w}.db")
        return _WORDS
    if kind == "boolean":
        return st.booleans()
    if kind == "number":
        return st.floats(0, 1e6, allow_nan=False)
    if kind == "null":
        return st.none()
    if kind == "array":
        items = schema.get("items", {})
        inner = _typed(key, items, depth + 1) if depth < 2 and items else _WORDS
        return st.lists(inner, max_size=2)
    if kind == "object" and depth < 2 and schema.get("properties"):
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {
                name: _typed(name, sub, depth + 1)
                for name, sub in schema["properties"].items()
                if name in required
            },
            optional={
                name: _typed(name, sub, depth + 1)
                for name, sub in schema["properties"].items()
                if name not in required
            },
        )
    return st.dictionaries(_WORDS, _WORDS, max_size=2)


def _hostile(key: str) -> SearchStrategy[Any]:
    """A value for ``key`` that a plugin must reject clearly or survive."""
    if key in _HOST_KEYS:  # loopback only: a generated host never leaves the machine
        return st.sampled_from(_LOOPBACK + WRONG_TYPES)
    return (
        st.sampled_from(HOSTILE_TEXT)
        | st.sampled_from(WRONG_TYPES)
        | st.text(min_size=1, max_size=40)
        | st.lists(st.sampled_from(HOSTILE_TEXT), min_size=1, max_size=2)
    )


def connection_dicts(
    fields: Mapping[str, Mapping[str, Any]], *, hostile: bool = True
) -> SearchStrategy[dict[str, Any]]:
    """Dicts over the declared keys: well-typed values, and (``hostile``) hostile ones.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20, database=None)
    ... @given(connection_dicts({"path": {"type": "string"}, "port": {"type": "integer"}}))
    ... def test_keys(connection):
    ...     assert set(connection) <= {"path", "port"} and connection
    >>> test_keys()
    """
    if not fields:
        return st.just({})
    values: dict[str, SearchStrategy[Any]] = {}
    for key, schema in fields.items():
        typed = _typed(key, schema)
        values[key] = st.one_of(typed, _hostile(key)) if hostile else typed
    keys = sorted(values)
    return st.lists(
        st.sampled_from(keys), min_size=1, max_size=min(4, len(keys)), unique=True
    ).flatmap(lambda chosen: st.fixed_dictionaries({k: values[k] for k in chosen}))
