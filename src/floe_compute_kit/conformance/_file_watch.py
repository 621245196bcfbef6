"""What a plugin did to files, seen by the kernel (Linux inotify), not by field names.

The read-only check must know which files ``validate_connection`` opened, created or
wrote. Python's audit hooks see only Python-level opens; DuckDB, SQLite and other
engines open their files from C. inotify reports every open, create and write in the
watched folders, by any process (the plugin host included), so the kit learns the
target from what the plugin touched. Where inotify is missing, :func:`watch` raises
OSError and the caller says the check cannot judge files here.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

__all__ = ["FileEvents", "watch"]

_IN_ACCESS: Final = 0x001
_IN_MODIFY: Final = 0x002
_IN_CLOSE_WRITE: Final = 0x008
_IN_OPEN: Final = 0x020
_IN_MOVED_TO: Final = 0x080
_IN_CREATE: Final = 0x100
_IN_DELETE: Final = 0x200
_IN_ISDIR: Final = 0x40000000
_IN_NONBLOCK: Final = 0o4000
_IN_CLOEXEC: Final = 0o2000000
_MASK: Final = (
    _IN_ACCESS | _IN_MODIFY | _IN_CLOSE_WRITE | _IN_OPEN | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
)
_HEADER: Final = struct.Struct("iIII")
#: folders watched at most; a work directory holds far fewer
_MAX_DIRS: Final = 2000


@dataclass
class FileEvents:
    """Paths (files only) by what happened to them while the watch was open."""

    opened: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    written: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)

    @property
    def changed(self) -> set[str]:
        """Created, written or deleted: what a read-only call must never do."""
        return self.created | self.written | self.deleted


def _libc() -> ctypes.CDLL:
    name = ctypes.util.find_library("c") or "libc.so.6"
    return ctypes.CDLL(name, use_errno=True)


def _folders(roots: Iterable[Path], exclude: Iterable[Path] = ()) -> list[Path]:
    out: list[Path] = []
    seen: set[Path] = set()
    left_out = [Path(p) for p in exclude]
    for root in roots:
        if not root.is_dir() or any(root.is_relative_to(x) for x in left_out):
            continue
        for folder, subfolders, _ in os.walk(root):
            path = Path(folder)
            subfolders[:] = [s for s in subfolders if path / s not in left_out]
            if path not in seen and len(out) < _MAX_DIRS:
                seen.add(path)
                out.append(path)
    return out


@contextlib.contextmanager
def watch(roots: Iterable[Path], exclude: Iterable[Path] = ()) -> Iterator[FileEvents]:
    """Watch ``roots`` and every folder below them but ``exclude`` and what lies under it;
    the events fill in on exit."""
    libc = _libc()
    fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"inotify is not available here: {os.strerror(code)}")
    events = FileEvents()
    try:
        wds: dict[int, Path] = {}
        for folder in _folders(roots, exclude):
            wd = libc.inotify_add_watch(fd, os.fsencode(folder), _MASK)
            if wd >= 0:
                wds[wd] = folder
        yield events
        _read(fd, wds, events)
    finally:
        os.close(fd)


def _read(fd: int, wds: dict[int, Path], events: FileEvents) -> None:
    kinds = (
        (_IN_OPEN | _IN_ACCESS, events.opened),
        (_IN_CREATE | _IN_MOVED_TO, events.created),
        (_IN_MODIFY | _IN_CLOSE_WRITE, events.written),
        (_IN_DELETE, events.deleted),
    )
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EINTR:
                continue
            return
        offset = 0
        while offset + _HEADER.size <= len(data):
            wd, mask, _, length = _HEADER.unpack_from(data, offset)
            raw = data[offset + _HEADER.size : offset + _HEADER.size + length]
            offset += _HEADER.size + length
            name = raw.rstrip(b"\0").decode("utf-8", "surrogateescape")
            if mask & _IN_ISDIR or not name or wd not in wds:
                continue
            path = str(wds[wd] / name)
            for bits, into in kinds:
                if mask & bits:
                    into.add(path)
