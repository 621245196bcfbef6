"""Logs that outlive the run: a message never names a file that is deleted after it.

The catalog's and dbt's logs are written inside a check's work directory, which the
runner removes when the suite ends. ``floe-conformance report --out DIR`` keeps them
under ``DIR/logs/`` (:func:`logs_kept_in`); a message then names the kept copy. Without
a kept folder (a bare ``run_suite``), a message carries the log's tail instead of a path.

The folder is process-wide, not a context variable: checks run in worker threads, which
do not inherit the caller's context.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

__all__ = [
    "KEEP_HINT",
    "MASK",
    "keep_log",
    "kept_logs_dir",
    "log_reference",
    "logs_kept_in",
]

MASK: Final = "**********"
KEEP_HINT: Final = "run `floe-conformance report --out DIR` to keep the logs under DIR/logs/"
_TAIL_CHARS: Final = 4000
_lock = threading.Lock()
_state: dict[str, Path | None] = {"dir": None}


@contextlib.contextmanager
def logs_kept_in(directory: Path) -> Iterator[Path]:
    """Keep the logs that messages point at in ``directory`` (created) while the block runs."""
    directory = directory.resolve()
    with _lock:
        previous = _state["dir"]
        _state["dir"] = directory
    try:
        yield directory
    finally:
        with _lock:
            _state["dir"] = previous


def kept_logs_dir() -> Path | None:
    """The folder set by :func:`logs_kept_in`, or None."""
    with _lock:
        return _state["dir"]


def _masked(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _free_name(directory: Path, name: str) -> Path:
    """``name`` in ``directory``, or ``stem-2.suffix``... when a run keeps two such logs."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "log"
    candidate = directory / safe
    stem, suffix = candidate.stem, candidate.suffix
    n = 1
    while candidate.exists():
        n += 1
        candidate = directory / f"{stem}-{n}{suffix}"
    return candidate


def keep_log(source: Path, name: str, *, secrets: Iterable[str] = ()) -> Path | None:
    """Copy ``source`` (secrets masked) into the kept folder as ``name``; the copy's path.

    None when no folder is kept or ``source`` does not exist (nothing to point at).
    """
    directory = kept_logs_dir()
    if directory is None or not source.is_file():
        return None
    text = _masked(source.read_text(encoding="utf-8", errors="replace"), secrets)
    with _lock:
        directory.mkdir(parents=True, exist_ok=True)
        target = _free_name(directory, name)
        target.write_text(text, encoding="utf-8")
    return target


def log_reference(source: Path, name: str, *, secrets: Iterable[str] = ()) -> str:
    """How a message points at a log: the kept copy's path and its tail, or the tail alone."""
    text = source.read_text(encoding="utf-8", errors="replace") if source.is_file() else ""
    tail = _masked(text, secrets)[-_TAIL_CHARS:].strip()
    kept = keep_log(source, name, secrets=secrets)
    where = f"its log is kept at {kept}" if kept else f"its log is removed ({KEEP_HINT})"
    return f"{where}; the end of it:\n{tail}" if tail else f"{where}; it is empty"
