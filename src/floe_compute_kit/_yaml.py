"""One bounded YAML reader for every file the CLIs read (manifest.yaml, floe.yaml, waivers).

A 443-byte alias bomb once ran for 13 minutes; /dev/zero as an input never ended; a
duplicate key silently let the last value win. So every input is stat'ed first (only
regular files, symlinks resolved), read to at most :data:`MAX_BYTES`, decoded as UTF-8
only, and parsed with alias expansion, nesting and node count bounded. Duplicate keys,
tags (``!!binary``, ``!!python/...``, ``!custom``), keys that are not text, integers
beyond 64 bits and control characters are errors naming the file, the line or key and
the fix.

The fast path is yaml-rs (the ``yaml`` extra; about 30x faster than PyYAML's
CSafeLoader on a 10,000-transform floe.yaml); the reference path is PyYAML's
CSafeLoader with the same rules. Both read YAML 1.2 scalars: only ``true``/``false`` are
booleans (``yes``, ``on`` stay text), and dates stay text. Any error of the fast path is
re-read by the reference path, which locates it by line.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, NoReturn

import yaml

__all__ = [
    "MAX_ALIASES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "YAMLInputError",
    "load_yaml_file",
    "load_yaml_text",
]

#: Largest input read, in bytes (a 10,000-transform floe.yaml is about 0.5 MB).
MAX_BYTES: Final = 16 * 1024 * 1024
#: Most alias uses (``*name``) in one document.
MAX_ALIASES: Final = 1_000
#: Most nodes once aliases are expanded (a 10,000-transform floe.yaml has about 40,000).
MAX_NODES: Final = 1_000_000
#: Deepest nesting of mappings and lists.
MAX_DEPTH: Final = 64
_MAX_INT: Final = 2**63

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A "!" where a tag could start; inside a quoted scalar this is a false alarm, which only
# sends the text to the reference path, never changes the result.
_MAYBE_TAG = re.compile(r"(?:^|[\s\[\{,?:-])!", re.MULTILINE)
_BOMS: Final = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)
_SAVE_AS_UTF8: Final = "save the file as UTF-8"


class YAMLInputError(ValueError):
    """A YAML input cannot be used: ``file``, ``line`` or ``key_path``, ``problem``, ``fix``."""

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        fix: str,
        line: int | None = None,
        key_path: str = "<document>",
        line_in_problem: bool = False,
    ) -> None:
        self.file = file
        self.problem = problem
        self.fix = fix
        self.line = line
        self.key_path = key_path
        where = f"line {line}: " if line is not None and not line_in_problem else ""
        if key_path not in ("<document>", "<file>") and line is None:
            where = f"{key_path}: "
        super().__init__(f"{file}: {where}{problem}; {fix}")


# --- reading bytes --------------------------------------------------------------------------


def _read_bounded(path: Path, shown: str, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file; anything else is refused before reading."""
    try:
        info = os.stat(path)  # follows symlinks: a link to /dev/zero is judged as /dev/zero
    except OSError as exc:
        raise YAMLInputError(
            shown,
            f"cannot read file: {exc.strerror or exc}",
            fix="check the path",
            key_path="<file>",
        ) from None
    _require_regular(info, shown)
    if info.st_size > limit:
        raise YAMLInputError(
            shown, f"is {info.st_size:,} bytes", fix=_too_big(limit), key_path="<file>"
        )
    try:
        # O_NONBLOCK: a FIFO swapped in after the stat must not block the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise YAMLInputError(
            shown,
            f"cannot read file: {exc.strerror or exc}",
            fix="check the file's permissions",
            key_path="<file>",
        ) from None
    try:
        _require_regular(os.fstat(fd), shown)
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise YAMLInputError(
            shown, f"cannot read file: {exc.strerror or exc}", fix="check the path"
        ) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:  # the file grew after the stat
        raise YAMLInputError(
            shown, f"is over {limit:,} bytes", fix=_too_big(limit), key_path="<file>"
        )
    return data


def _too_big(limit: int) -> str:
    return f"inputs are limited to {limit // (1024 * 1024)} MiB; split the file or remove data"


def _require_regular(info: os.stat_result, shown: str) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    kind = (
        "a folder"
        if stat.S_ISDIR(info.st_mode)
        else "a FIFO"
        if stat.S_ISFIFO(info.st_mode)
        else "a device"
        if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
        else "a socket"
        if stat.S_ISSOCK(info.st_mode)
        else "not a regular file"
    )
    raise YAMLInputError(
        shown, f"is {kind}, not a regular file", fix="pass a YAML file", key_path="<file>"
    )


def _decode(data: bytes, shown: str) -> str:
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise YAMLInputError(shown, f"is {name} encoded", fix=_SAVE_AS_UTF8, line=1)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YAMLInputError(
            shown, f"is not UTF-8 text (byte {exc.start})", fix=_SAVE_AS_UTF8, line=line
        ) from None
    bad = _CONTROL.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        hint = (
            "; if it is UTF-16 or binary, " + _SAVE_AS_UTF8
            if bad.group() == "\x00"
            else "; remove it"
        )
        raise YAMLInputError(
            shown,
            f"contains the control character {bad.group()!r}",
            fix="YAML text may not hold control characters" + hint,
            line=line,
        )
    return text


# --- parsing --------------------------------------------------------------------------------

_CORE_TAGS: Final = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")
)
_INT_12 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_BOOL_12 = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_FLOAT_12 = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


_REPLACED_TAGS: Final = frozenset(f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "timestamp"))
_SafeBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeBase):  # type: ignore[misc] # a SafeLoader subclass (C or Python)
    """PyYAML's safe loader with YAML 1.2 booleans and integers and no timestamps."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL_12, list("tTfF"))
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT_12, list("-+0123456789"))
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+.0123456789"))


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text)


def _construct_bool(loader: Any, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


_FEWER_ALIASES: Final = "aliases are limited; write the values out or use fewer '*' references"
_NO_TAGS: Final = (
    "remove the tag: only plain text, numbers, true/false, lists and mappings are read"
)
_ONE_KEY: Final = "each key may appear once in a mapping; remove or merge one"


def _check_nodes(root: yaml.Node, shown: str) -> None:
    """Tags, duplicate keys, alias uses and the expanded size, before anything is built."""
    seen: dict[int, int] = {}  # id(node) -> expanded size
    aliases = 0

    def refuse(node: yaml.Node, problem: str, fix: str) -> YAMLInputError:
        return YAMLInputError(shown, problem, fix=fix, line=node.start_mark.line + 1)

    def size(node: yaml.Node, depth: int) -> int:
        nonlocal aliases
        known = seen.get(id(node))
        if known is not None:  # a node met again is an alias use
            aliases += 1
            if aliases > MAX_ALIASES:
                raise refuse(node, f"uses more than {MAX_ALIASES:,} aliases", _FEWER_ALIASES)
            return known
        if node.tag not in _CORE_TAGS:
            raise refuse(node, f"uses the tag {node.tag!r}", _NO_TAGS)
        if depth > MAX_DEPTH:
            raise refuse(node, f"nests deeper than {MAX_DEPTH} levels", "flatten the document")
        seen[id(node)] = 1  # a cycle back to a node in progress counts once
        total = 1
        if isinstance(node, yaml.MappingNode):
            keys: set[object] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        raise refuse(key, f"duplicate key {key.value[:80]!r}", _ONE_KEY)
                    keys.add(key.value)
                total += size(key, depth + 1) + size(value, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item, depth + 1)
        if total > MAX_NODES:
            raise refuse(node, f"expands to more than {MAX_NODES:,} values", _FEWER_ALIASES)
        seen[id(node)] = total
        return total

    size(root, 0)


def _reference_load(text: str, shown: str) -> object:
    loader = _StrictLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "unparseable"
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise YAMLInputError(
                shown,
                f"malformed YAML{at}: {problem}",
                fix="fix the syntax (allowed: a YAML mapping)",
                line=mark.line + 1 if mark is not None else None,
                line_in_problem=True,
            ) from None
        except yaml.YAMLError as exc:
            raise YAMLInputError(
                shown, f"malformed YAML: {exc}", fix="fix the syntax (allowed: a YAML mapping)"
            ) from None
        if node is None:
            return None
        _check_nodes(node, shown)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _fast_loader() -> Callable[[str], object] | None:
    try:
        import yaml_rs  # noqa: PLC0415 - optional: the ``yaml`` extra
    except ImportError:
        return None
    limits = yaml_rs.AliasLimits(
        max_total_replayed_events=MAX_ALIASES * 100,
        max_replay_stack_depth=MAX_DEPTH,
        max_alias_expansions_per_anchor=MAX_ALIASES,
    )

    def load(text: str) -> object:
        return yaml_rs.loads(
            text,
            parse_datetime=False,
            alias_limits=limits,
            duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error,
        )

    return load


_FAST: list[Callable[[str], object] | None] = []


def _parse(text: str, shown: str) -> object:
    if not _FAST:
        _FAST.append(_fast_loader())
    fast = _FAST[0]
    if fast is None or _MAYBE_TAG.search(text):
        return _reference_load(text, shown)
    try:
        return fast(text)
    except Exception as exc:  # any fast-path failure is located by the reference path
        _reference_load(text, shown)  # raises the located error in every case we know of
        raise YAMLInputError(
            shown, f"malformed YAML: {str(exc)[:200]}", fix="fix the syntax"
        ) from None


# --- after parsing --------------------------------------------------------------------------


class _BadValueError(Exception):
    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.parts: list[str | int] = []


def _clean(value: object, depth: int) -> bool:
    """The fast pass of :func:`_walk`: True when nothing is wrong (no paths kept)."""
    if type(value) is dict:
        items: Any = value.values()
        ok = depth <= MAX_DEPTH and "<<" not in value and all(type(k) is str for k in value)
    elif type(value) is list:
        items = value
        ok = depth <= MAX_DEPTH
    else:
        return _clean_scalar(value)
    for item in items if ok else ():
        t = type(item)
        if t is str:
            ok = item.isascii() or _encodable(item)
        elif t is dict or t is list:
            ok = _clean(item, depth + 1)
        else:
            ok = _clean_scalar(item)
        if not ok:
            break
    return ok


def _clean_scalar(value: object) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return -_MAX_INT < value < _MAX_INT
    if isinstance(value, str):
        return value.isascii() or _encodable(value)
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _walk(value: object, depth: int) -> None:
    """Keys are text, integers fit 64 bits, text is encodable: what pydantic must not see."""
    if isinstance(value, dict | list):
        if depth > MAX_DEPTH:
            raise _BadValueError(f"nests deeper than {MAX_DEPTH} levels", "flatten the document")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(value, dict) and not isinstance(key, str):
                _not_text(key)
            if key == "<<":
                raise _BadValueError(
                    "uses a merge key (<<)", "write the merged keys out: merge keys are not read"
                )
            try:
                _walk(item, depth + 1)
            except _BadValueError as bad:
                bad.parts.append(_safe_key(key) if isinstance(key, str) else key)
                raise
    elif isinstance(value, str):
        _check_text(value)
    elif (
        isinstance(value, int) and not isinstance(value, bool) and not -_MAX_INT < value < _MAX_INT
    ):
        raise _BadValueError("holds an integer beyond 64 bits", "use a smaller number")


def _not_text(key: object) -> NoReturn:
    raise _BadValueError(
        f"a key is {_short(key)}, not text",
        "write keys as plain names (quote a number to make it text)",
    )


def _check_text(value: str) -> None:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _BadValueError(
                "holds a lone surrogate escape (e.g. \\ud800)", "remove the escape"
            ) from None


def _safe_key(key: str) -> str:
    return key if len(key) <= 80 and key.isprintable() else repr(key[:80])


def _short(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        digits = math.floor(math.log10(abs(value))) + 1 if value else 1  # str() stops at 4300
        if digits > 1 and 10 ** (digits - 1) > abs(value):  # log10 rounded up
            digits -= 1
        return f"a {digits}-digit integer" if digits > 20 else f"the integer {value}"
    return f"a {type(value).__name__} ({repr(value)[:80]})"


def _key_path(parts: list[str | int]) -> str:
    out = ""
    for part in reversed(parts):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "<root>"


def load_yaml_text(text: str, shown: str) -> object:
    """Parse ``text`` (already decoded) under the bounds; ``shown`` names it in errors."""
    bad = _CONTROL.search(text)
    if bad is not None:
        raise YAMLInputError(
            shown,
            f"contains the control character {bad.group()!r}",
            fix="remove it",
            line=text.count("\n", 0, bad.start()) + 1,
        )
    data = _parse(text, shown)
    if _clean(data, 0):
        return data
    try:
        _walk(data, 0)
    except _BadValueError as bad_value:
        raise YAMLInputError(
            shown, bad_value.problem, fix=bad_value.fix, key_path=_key_path(bad_value.parts)
        ) from None
    return data


def load_yaml_file(path: Path | str, shown: str | None = None, *, limit: int = MAX_BYTES) -> object:
    """The YAML document in ``path``, read and parsed under the bounds above."""
    path = Path(path)
    shown = shown or str(path)
    return load_yaml_text(_decode(_read_bounded(path, shown, limit), shown), shown)
