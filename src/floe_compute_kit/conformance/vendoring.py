"""Copying the contract suites into an author's repository, and noticing drift.

``floe-conformance vendor DIR`` writes DIR as a package holding copies of
``fixtures.py`` and ``suites.py`` plus ``_floe_vendor.json`` with the sha256 of each
copy as written. Two things are told apart:

* local changes: a copy no longer matches its recorded hash. ``vendor`` refuses to
  overwrite it unless ``--force``;
* drift: the installed kit's file no longer matches the recorded hash (the kit was
  upgraded). Importing the vendored package warns with VendoredSuiteDriftWarning.

Every file is written atomically; a DIR that cannot hold a package (a file, a link, a
folder that cannot be written) raises AtomicWriteError naming it and the fix.

The checks themselves always come from the installed kit; the copies are the pytest
glue (fixtures and suite classes), which is what an author may want to pin or adapt.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from floe_compute_kit._atomic import AtomicWriteError, make_folder, write_atomic

__all__ = [
    "MANIFEST",
    "VENDORED_FILES",
    "VendorResult",
    "VendoredSuiteDriftWarning",
    "check_drift",
    "vendor",
]

VENDORED_FILES: Final = ("fixtures.py", "suites.py")
MANIFEST: Final = "_floe_vendor.json"
_SOURCE_DIR: Final = Path(__file__).parent
_INIT: Final = '''"""floe conformance suites, vendored by `floe-conformance vendor` (do not edit).

Re-run `floe-conformance vendor {dest}` after upgrading floe-compute-kit; add --force
to replace local changes.
"""

from pathlib import Path

from floe_compute_kit.conformance.vendoring import check_drift

from .suites import (
    BaseCatalogContract,
    BaseConnectionContract,
    BaseMetadataContract,
    BasePackagesContract,
    BaseProfileContract,
    BaseResourcesContract,
    BaseSecretsContract,
    ComputePluginContract,
)

check_drift(Path(__file__).parent)

__all__ = [
    "BaseCatalogContract",
    "BaseConnectionContract",
    "BaseMetadataContract",
    "BasePackagesContract",
    "BaseProfileContract",
    "BaseResourcesContract",
    "BaseSecretsContract",
    "ComputePluginContract",
]
'''


class VendoredSuiteDriftWarning(UserWarning):
    """The vendored suites were copied from a different version of the installed kit."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest(dest: Path) -> dict[str, str]:
    path = dest / MANIFEST
    if not path.is_file() or path.is_symlink():
        return {}
    try:
        files = json.loads(path.read_text(encoding="utf-8")).get("files", {})
    except (ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


@dataclass
class VendorResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # local changes kept (no --force)


def _local_changes(dest: Path, recorded: dict[str, str]) -> list[str]:
    changed = []
    for name in (*VENDORED_FILES, "__init__.py"):
        path = dest / name
        if not path.exists() and not path.is_symlink():
            continue
        expected = recorded.get(name)
        # Only a regular file is read: a FIFO there would block, a folder cannot be.
        regular = path.is_file() and not path.is_symlink()
        if not regular or expected is None or _sha256(path.read_bytes()) != expected:
            changed.append(name)
    return changed


def _usable(dest: Path) -> None:
    """Refuse a DIR that cannot hold a package, before anything is written."""
    if dest.exists() and not dest.is_dir():
        raise AtomicWriteError(
            dest, "exists and is not a folder", fix="give a folder for the vendored package"
        )
    if dest.is_symlink():
        raise AtomicWriteError(dest, "is a symbolic link", fix="give the folder itself")


def vendor(dest: Path, *, force: bool = False) -> VendorResult:
    """Copy the suites into ``dest``; never overwrite local changes unless ``force``."""
    from floe_compute_kit import __version__  # noqa: PLC0415

    result = VendorResult()
    _usable(dest)
    recorded = _manifest(dest)
    changed = _local_changes(dest, recorded)
    if changed and not force:
        result.refused = changed
        return result
    make_folder(dest, fix="choose a writable folder")
    contents = {name: (_SOURCE_DIR / name).read_bytes() for name in VENDORED_FILES}
    contents["__init__.py"] = _INIT.format(dest=dest.as_posix()).encode("utf-8")
    hashes = {}
    for name, data in contents.items():
        path = dest / name
        hashes[name] = _sha256(data)
        if path.is_file() and path.read_bytes() == data:
            result.unchanged.append(name)
            continue
        write_atomic(path, data, lock=False)  # no lock files left in the package
        result.written.append(name)
    manifest = {"kit_version": __version__, "files": hashes}
    write_atomic(dest / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n", lock=False)
    return result


def check_drift(dest: Path) -> list[str]:
    """Warn (VendoredSuiteDriftWarning) about files whose installed original has changed."""
    recorded = _manifest(dest)
    drifted = [
        name
        for name in VENDORED_FILES
        if recorded.get(name) != _sha256((_SOURCE_DIR / name).read_bytes())
    ]
    if drifted:
        warnings.warn(
            f"vendored floe conformance suites in {dest} differ from the installed "
            f"floe-compute-kit ({', '.join(drifted)}); run `floe-conformance vendor {dest}` "
            "to update them (--force replaces local changes)",
            VendoredSuiteDriftWarning,
            stacklevel=2,
        )
    return drifted
