"""The second compute plugin, ``duckdb_alt``, installed for real into a temporary site dir.

The distribution's source lives in tests/plugins/floe-compute-duckdb-alt; it is copied
out first so that building it never writes into the source tree. Tests put the site dir
on ``sys.path`` (in process) or ``PYTHONPATH`` (subprocesses): importlib.metadata then
discovers the ``duckdb_alt`` entry point exactly as it would from site-packages.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from _distributions import install_distribution, on_sys_path

ALT_SOURCE = Path(__file__).parent / "plugins" / "floe-compute-duckdb-alt"
ALT_DISTRIBUTION = "floe-compute-duckdb-alt"
ALT_VERSION = "0.3.0"


@pytest.fixture(scope="session")
def alt_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site dir holding floe-compute-duckdb-alt, installed once per test session (worker)."""
    root = tmp_path_factory.mktemp("alt_plugin")
    source = shutil.copytree(
        ALT_SOURCE,
        root / "src",
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    return install_distribution(source, root / "site")


@pytest.fixture
def alt_on_path(alt_site: Path) -> Iterator[Path]:
    """``alt_site`` on sys.path for one test, removed (with its modules) afterwards."""
    with on_sys_path(alt_site, "floe_compute_duckdb_alt"):
        yield alt_site


def subprocess_env(site: Path) -> dict[str, str]:
    """The environment for a CLI subprocess that should see the alt plugin installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["COLUMNS"] = "200"
    return env
