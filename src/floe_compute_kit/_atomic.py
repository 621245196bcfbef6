"""One way to write an output file: whole or not at all.

profiles.yml and certificates are read by other tools while we run, and a half-written
file that still parses is worse than none. So every output goes to a temporary file
beside the target, is fsynced, and replaces the target in one rename, under an
exclusive lock so that concurrent writers queue instead of interleaving. A symlink at
the target is refused rather than followed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["AtomicWriteError", "locked", "make_folder", "write_atomic"]


class AtomicWriteError(OSError):
    """The output could not be written; the previous file, if any, is intact."""

    def __init__(self, path: Path, reason: str, *, fix: str = "") -> None:
        self.path = path
        self.reason = reason
        self.fix = fix
        super().__init__(f"{path}: {reason}" + (f"; {fix}" if fix else ""))


def make_folder(path: Path, *, fix: str) -> None:
    """``path`` and its parents, made if missing; AtomicWriteError naming it otherwise."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AtomicWriteError(
            path, f"cannot create the folder: {exc.strerror or exc}", fix=fix
        ) from None


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock for ``path`` (on ``<path>.lock`` beside it)."""
    lock_path = path.with_name(f".{path.name}.lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise AtomicWriteError(
            path,
            f"cannot create the lock file {lock_path.name}: {exc.strerror}",
            fix="check that the folder exists and is writable",
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_atomic(path: Path, data: str | bytes, *, lock: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically (temp file, fsync, rename).

    Raises :class:`AtomicWriteError` naming the file and the fix; on any failure the
    previous content of ``path`` is left as it was and no temporary file remains.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if path.is_symlink():
        raise AtomicWriteError(
            path,
            "is a symbolic link; refusing to follow it",
            fix="remove the link or choose another output path",
        )
    if path.exists() and not path.is_file():
        raise AtomicWriteError(path, "exists and is not a regular file", fix="choose another path")
    parent = path.parent
    if not parent.is_dir():
        raise AtomicWriteError(
            path,
            f"its folder {parent} does not exist or is not a folder",
            fix="create the folder first",
        )
    with locked(path) if lock else contextlib.nullcontext():
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
        except OSError as exc:
            raise AtomicWriteError(
                path,
                f"cannot write in {parent}: {exc.strerror}",
                fix="check the folder's permissions and free space",
            ) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            if path.exists():
                with contextlib.suppress(OSError):
                    os.chmod(tmp, path.stat().st_mode & 0o7777)
            else:
                os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise AtomicWriteError(
                path,
                f"could not be written: {exc.strerror or exc}",
                fix="free disk space or raise the file-size limit; the previous file is intact",
            ) from None
        with contextlib.suppress(OSError):
            dir_fd = os.open(parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
