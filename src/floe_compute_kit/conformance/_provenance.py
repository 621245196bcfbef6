"""Where a certified plugin came from, and what it ran on.

A certificate is only worth something if a platform team can tell that the code
they install is the code that was certified: so it names the distribution that
supplied the plugin, with a sha256 of every file of the plugin's package (from the
wheel's RECORD when there is one, computed from the files otherwise, e.g. for an
editable install), and the versions of everything that shaped the result.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata as md
import platform
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

__all__ = ["distribution_info", "environment_info", "plugin_package_requirements", "providers"]

#: Always recorded: the libraries that decide how checks run and what they accept.
BASE_PACKAGES = ("floe-compute-kit", "pytest", "hypothesis", "pydantic", "dbt-core", "jsonschema")

_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


def _version(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def plugin_package_requirements(plugin: object) -> list[str]:
    """The plugin's dbt requirement names, adapter first; [] if it cannot say."""
    try:
        reqs = plugin.get_required_dbt_packages()  # type: ignore[attr-defined]
    except Exception:
        return []
    names: list[str] = []
    for req in reqs if isinstance(reqs, list) else []:
        try:
            names.append(Requirement(str(req)).name)
        except InvalidRequirement:
            continue
    return names


def environment_info(plugin: object | None) -> dict[str, Any]:
    """Python, platform and the versions of the kit, test stack, dbt, adapter and drivers."""
    required = plugin_package_requirements(plugin) if plugin is not None else []
    adapter = required[0] if required else None
    drivers = {name: _version(name) for name in required[1:]}
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in BASE_PACKAGES},
        "adapter": {"name": adapter, "version": _version(adapter) if adapter else None},
        "drivers": drivers,
    }


def _hex_from_record(value: str | None) -> str | None:
    # RECORD stores "sha256=<urlsafe base64, no padding>".
    if not value or "=" not in value:
        return None
    algo, _, digest = value.partition("=")
    if algo != "sha256":
        return None
    raw = base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4))
    return raw.hex()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _top_package(module_name: str) -> tuple[str, Path | None]:
    top = module_name.split(".", 1)[0]
    module = sys.modules.get(top)
    file = getattr(module, "__file__", None)
    if file is None:
        return top, None
    path = Path(file)
    return top, (path.parent if path.name == "__init__.py" else path)


def _hash_tree(top: str, root: Path) -> list[dict[str, str]]:
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    base = root.parent
    out: list[dict[str, str]] = []
    for path in files:
        rel = path.relative_to(base)
        if _SKIP_DIRS & set(rel.parts) or path.suffix in {".pyc", ".pyo"}:
            continue
        out.append({"path": rel.as_posix(), "sha256": _sha256(path)})
    return out


def _record_tops(dist: md.Distribution) -> set[str] | None:
    """Top-level names inferred from RECORD read as text, as importlib infers them from
    ``dist.files`` (a path object per file made that the costliest part of provenance)."""
    text = dist.read_text("RECORD")
    if text is None:
        return None
    tops: set[str] = set()
    for row in csv.reader(text.splitlines()):
        path = row[0] if row else ""
        name = path.rpartition("/")[2]
        if not name.endswith(".py") or name == ".py":
            continue
        parts = [p for p in path.split("/") if p and p != "."]
        if path.startswith("/"):
            parts.insert(0, "/")
        tops.add(parts[0] if len(parts) > 1 else name[:-3])
    return tops


def providers(top: str) -> Iterator[str]:
    """Names of the distributions providing import package ``top``, in the order
    ``importlib.metadata.packages_distributions()[top]`` lists them, read lazily."""
    for dist in md.distributions():
        declared = (dist.read_text("top_level.txt") or "").split()
        if declared:
            found = declared.count(top)
        else:
            tops = _record_tops(dist)
            if tops is None:
                tops = {
                    f.parts[0] if len(f.parts) > 1 else f.with_suffix("").name
                    for f in dist.files or ()
                    if f.suffix == ".py"
                }
            found = int(top in tops)
        for _ in range(found):
            yield dist.metadata["Name"]


def distribution_info(plugin_class: type | None) -> dict[str, Any] | None:
    """The distribution that supplied ``plugin_class`` and hashes of its package files.

    ``files`` covers the plugin's top-level package (not the whole distribution, which for
    a kit-bundled plugin is the kit itself); ``hash_source`` says whether the hashes were
    read from RECORD or computed here.
    """
    if plugin_class is None:
        return None
    top, root = _top_package(plugin_class.__module__)
    dist_names = providers(top)
    dist: md.Distribution | None = None
    for name in dist_names:
        try:
            dist = md.distribution(name)
            break
        except md.PackageNotFoundError:
            continue
    files: list[dict[str, str]] = []
    source = "computed"
    if dist is not None and dist.files:
        recorded = [f for f in dist.files if f.parts and f.parts[0] == top]
        if recorded and all(f.hash is not None or f.suffix == ".pyc" for f in recorded):
            for f in sorted(recorded, key=lambda f: f.as_posix()):
                if f.suffix in {".pyc", ".pyo"} or _SKIP_DIRS & set(f.parts):
                    continue
                digest = _hex_from_record(f.hash.value if f.hash else None)
                if digest is None:
                    digest = _sha256(Path(str(dist.locate_file(f))))
                files.append({"path": f.as_posix(), "sha256": digest})
            source = "record"
    if not files and root is not None:
        files = _hash_tree(top, root)
    combined = hashlib.sha256(
        "".join(f"{f['path']}\0{f['sha256']}\n" for f in files).encode()
    ).hexdigest()
    return {
        "name": dist.metadata["Name"] if dist is not None else None,
        "version": dist.version if dist is not None else None,
        "package": top,
        "hash_source": source,
        "files_sha256": combined,
        "files": files,
    }
