"""Install throwaway plugin distributions for real, so discovery is tested without patching.

``pip install --target`` writes real ``.dist-info`` metadata with ``entry_points.txt``;
putting the target on ``sys.path`` (or ``PYTHONPATH`` for a subprocess) is exactly how
an installed distribution becomes visible to importlib.metadata.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def write_distribution(
    root: Path,
    *,
    dist_name: str,
    package: str,
    entry_points: dict[str, str],
    files: dict[str, str],
    version: str = "0.1.0",
    group: str = "floe.computes",
) -> Path:
    """A source tree with a pyproject declaring ``entry_points`` under ``group``."""
    src = root / dist_name
    (src / package).mkdir(parents=True, exist_ok=True)
    eps = "\n".join(f'{name} = "{value}"' for name, value in entry_points.items())
    (src / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["setuptools>=64"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{dist_name}"
            version = "{version}"

            [project.entry-points."{group}"]
            """
        )
        + eps
        + '\n\n[tool.setuptools]\npackages = ["'
        + package
        + '"]\n'
    )
    for rel, text in files.items():
        path = src / package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return src


def install_distribution(source: Path, target: Path) -> Path:
    """``pip install --target`` without build isolation, so no network is needed."""
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return target


#: one distribution to install: (dist name, package, entry points, files of the package)
DistSpec = tuple[str, str, dict[str, str], dict[str, str]]


def install_distributions(root: Path, specs: Iterable[DistSpec]) -> Path:
    """Write and install each distribution into ``root / "site"``; returns that folder."""
    target = root / "site"
    for dist, package, eps, files in specs:
        source = write_distribution(
            root, dist_name=dist, package=package, entry_points=eps, files=files
        )
        install_distribution(source, target)
    return target


def rival_specs(name: str = "dup") -> list[DistSpec]:
    """Two distributions that claim the same entry-point ``name``."""
    return [
        (dist, package, {name: f"{package}:P"}, {"__init__.py": "P = None\n"})
        for dist, package in (("floe-dup-a", "floe_dup_a"), ("floe-dup-b", "floe_dup_b"))
    ]


@contextmanager
def on_sys_path(folder: Path, *module_prefixes: str) -> Iterator[Path]:
    """``folder`` on sys.path for a while; afterwards removed, with the modules it gave."""
    sys.path.insert(0, str(folder))
    try:
        yield folder
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.startswith(module_prefixes)]:
            del sys.modules[name]
