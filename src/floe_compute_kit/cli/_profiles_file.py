"""profiles.yml as ``floe-compute compile`` writes it: whole or not at all, and only its own.

It was written in place once: a full disk left a truncated file that still parsed,
concurrent compiles interleaved, a hand-written profiles.yml was replaced without a word
and a planted symlink was followed. Now the file goes through
:func:`floe_compute_kit._atomic.write_atomic` (temp file, fsync, rename, a lock, no
symlinks), starts with :data:`HEADER`, and a file without that header is replaced only
with ``--force``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Final

import yaml

from floe_compute_kit._atomic import AtomicWriteError, write_atomic

__all__ = ["HEADER", "ProfilesWriteError", "write_profiles"]

#: The first line of every profiles.yml this tool writes; how it recognises its own.
HEADER: Final = "# Written by floe-compute compile; replaced on every compile (edit floe.yaml).\n"
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class ProfilesWriteError(OSError):
    """profiles.yml was not written (``path``, ``reason``, ``fix``); any previous file is intact."""

    def __init__(self, path: Path, reason: str, fix: str) -> None:
        self.path = path
        self.reason = reason
        self.fix = fix
        super().__init__(f"{path}: {reason}; {fix}")

    def to_dict(self) -> dict[str, str]:
        return {
            "error_type": type(self).__name__,
            "file": str(self.path),
            "reason": self.reason,
            "fix": self.fix,
            "message": str(self),
        }


def _ours(path: Path) -> bool:
    """Whether the regular file at ``path`` starts with :data:`HEADER` (reads one line at most)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    try:
        return os.read(fd, len(HEADER)).decode("utf-8", "replace") == HEADER
    finally:
        os.close(fd)


def _prepare(out_dir: Path, path: Path, *, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ProfilesWriteError(
            out_dir, "is a file, not a folder", "pass a folder as --profiles-dir"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProfilesWriteError(
            out_dir,
            f"cannot create the folder: {exc.strerror or exc}",
            "check the path and its permissions, or pass another --profiles-dir",
        ) from None
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ProfilesWriteError(
            path, f"cannot inspect it: {exc.strerror or exc}", "check the folder's permissions"
        ) from None
    if stat.S_ISLNK(info.st_mode):
        raise ProfilesWriteError(
            path, "is a symbolic link; refusing to follow it", "remove the link"
        )
    if not stat.S_ISREG(info.st_mode):
        raise ProfilesWriteError(path, "exists and is not a regular file", "remove it")
    try:
        ours = _ours(path)
    except OSError as exc:
        raise ProfilesWriteError(
            path, f"cannot read it: {exc.strerror or exc}", "check its permissions"
        ) from None
    if not ours and not force:
        raise ProfilesWriteError(
            path,
            "was not written by floe-compute (its first line is not the floe-compute header)",
            "move it away, choose another --profiles-dir, or pass --force to replace it",
        )


def write_profiles(out_dir: Path, profiles: dict[str, Any], *, force: bool = False) -> Path:
    """Write ``profiles`` to ``out_dir/profiles.yml`` atomically; return the path."""
    path = Path(out_dir) / "profiles.yml"
    _prepare(Path(out_dir), path, force=force)
    text = HEADER + yaml.dump(profiles, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)
    try:
        write_atomic(path, text)
    except AtomicWriteError as exc:
        raise ProfilesWriteError(path, exc.reason, exc.fix or "check the folder") from None
    return path
