"""One plugin resolver: the registry and the conformance loader name plugins the same way.

Real distributions are pip-installed into a temporary directory, as in test_registry.py;
discovery and imports are never patched.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from _distributions import install_distributions, on_sys_path, rival_specs
from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit import DuplicatePluginError, PluginLoadError, PluginNotFoundError
from floe_compute_kit.conformance._loader import LoadedPlugin, LoadFailure, load_target
from floe_compute_kit.registry import resolve, resolve_plugin_class

pytestmark = pytest.mark.requirement("KIT-251")

PLUGIN_PY = """
from floe_compute_duckdb import DuckDBComputePlugin


class Exiting(DuckDBComputePlugin):
    name = "exiting"
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Distributions: one whose module exits at import, two claiming the name ``dup``."""
    exits = (
        "floe-exits",
        "floe_exits",
        {"exits": "floe_exits.plugin:Exiting"},
        {"__init__.py": "", "plugin.py": "import sys\nsys.exit(3)\n" + PLUGIN_PY},
    )
    return install_distributions(tmp_path_factory.mktemp("resolver"), [exits, *rival_specs()])


@pytest.fixture
def exits_on_path(site: Path) -> Iterator[Path]:
    """Only the exiting distribution on sys.path (the rivals stay in subprocesses)."""
    only = site.parent / "exits-only"
    if not only.exists():
        only.mkdir()
        for item in site.glob("floe_exits*"):
            (only / item.name).symlink_to(item)
    with on_sys_path(only, "floe_exits"):
        yield only


@pytest.mark.parametrize(
    "spec",
    [
        "duckdb",
        "floe_compute_duckdb.plugin:DuckDBComputePlugin",
        "floe_compute_duckdb.plugin.DuckDBComputePlugin",
        "floe_compute_duckdb.DuckDBComputePlugin",
    ],
)
def test_every_spec_form_resolves_in_the_registry_and_the_loader(spec: str) -> None:
    assert resolve_plugin_class(spec) is DuckDBComputePlugin
    loaded = load_target(spec)
    assert isinstance(loaded, LoadedPlugin)
    assert type(loaded.instance) is DuckDBComputePlugin


def test_an_entry_point_name_says_who_supplied_it() -> None:
    found = resolve("duckdb")
    assert found.info is not None
    assert found.info.distribution == "floe-compute-kit"
    assert resolve("floe_compute_duckdb.DuckDBComputePlugin").info is None


def test_an_unknown_name_is_the_same_typed_error_everywhere() -> None:
    with pytest.raises(PluginNotFoundError) as info:
        resolve("no_such_pkg.Plugin")
    assert "duckdb" in info.value.available
    assert "module:Attribute" in str(info.value)
    failure = load_target("no_such_pkg.Plugin")
    assert isinstance(failure, LoadFailure)
    assert failure.message == str(info.value)


def test_an_import_that_exits_is_a_load_error_naming_the_distribution(
    exits_on_path: Path,
) -> None:
    for spec in ("exits", "floe_exits.plugin:Exiting", "floe_exits.plugin.Exiting"):
        with pytest.raises(PluginLoadError) as info:
            resolve_plugin_class(spec)
        err = info.value
        assert err.distribution == "floe-exits 0.1.0", spec
        assert "SystemExit: 3" in str(err)
        assert isinstance(err.__cause__, SystemExit)
        failure = load_target(spec)
        assert isinstance(failure, LoadFailure)
        assert failure.message == str(err)
        assert failure.traceback is not None
        assert "sys.exit(3)" in failure.traceback


def test_a_name_two_distributions_claim_fails_only_for_that_name(site: Path) -> None:
    """In a subprocess, so the duplicate never leaks into this process's discovery."""
    code = (
        "import json\n"
        "from floe_compute_kit import DuplicatePluginError\n"
        "from floe_compute_kit.registry import resolve\n"
        "from floe_compute_kit.conformance._loader import load_target\n"
        "try:\n    resolve('dup')\nexcept DuplicatePluginError as e:\n    dup = e.distributions\n"
        "print(json.dumps({'dup': dup, 'duckdb': resolve('duckdb').info.name,\n"
        "                  'loader': load_target('dup').message}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(site), "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seen = json.loads(out)
    assert seen["duckdb"] == "duckdb"
    assert any("floe-dup-a 0.1.0" in d for d in seen["dup"])
    assert any("floe-dup-b 0.1.0" in d for d in seen["dup"])
    assert "floe-dup-a 0.1.0" in seen["loader"]
    assert "more than one distribution" in seen["loader"]
    assert issubclass(DuplicatePluginError, ValueError)
