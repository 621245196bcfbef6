"""`init` scaffolding: a package that installs, registers, and whose tests list what is left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from _distributions import install_distribution
from floe_compute_kit.conformance._scaffold import TODO_METHODS, names_for, scaffold
from floe_compute_kit.errors import ComputeConfigurationError

pytestmark = pytest.mark.requirement("KIT-014")


def test_names_are_derived_from_the_plugin_name() -> None:
    assert names_for("my_db") == {
        "name": "my_db",
        "dist": "floe-compute-my-db",
        "package": "floe_compute_my_db",
        "plugin_class": "MyDbComputePlugin",
        "config_class": "MyDbConfig",
        "camel": "MyDb",
    }


@pytest.mark.parametrize("bad", ["MyDb", "1db", "my-db", "", "db;rm"])
def test_a_name_that_is_not_a_plugin_name_is_refused(bad: str) -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        names_for(bad)
    assert info.value.field == "NAME"
    assert info.value.value == bad
    assert "^[a-z][a-z0-9_]*$" in info.value.message


def test_a_non_empty_directory_is_not_overwritten_without_force(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="--force"):
        scaffold("mydb", tmp_path)
    written = scaffold("mydb", tmp_path, force=True)
    assert (tmp_path / "keep.txt").read_text() == "mine"
    assert tmp_path / "pyproject.toml" in written


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("scaffold")
    source = root / "floe-compute-acme"
    scaffold("acme", source)
    site = install_distribution(source, root / "site")
    return source, site


def _env(site: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def test_the_installed_package_registers_its_entry_point(installed: tuple[Path, Path]) -> None:
    _, site = installed
    code = (
        "from floe_compute_kit.registry import discover_plugins, load_plugin\n"
        "info = discover_plugins()['acme']\n"
        "print(info.distribution, info.value, load_plugin('acme').name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=_env(site), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "floe-compute-acme",
        "floe_compute_acme.plugin:AcmeComputePlugin",
        "acme",
    ]


def test_running_its_tests_points_at_each_part_left_to_write(
    installed: tuple[Path, Path],
) -> None:
    source, site = installed
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            "--floe-max-examples",
            "5",
        ],
        cwd=source,
        env=_env(site),
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    for method, todo in TODO_METHODS.items():
        assert f"AcmeComputePlugin.{method} is not written yet: {todo}" in output, method
    # What the skeleton already provides passes.
    for check_id in ("plugin.loads", "metadata.name", "metadata.version", "metadata.api_version"):
        assert f"test_contract[{check_id}] PASSED" in output, check_id
