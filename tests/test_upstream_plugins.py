"""Plugins written against upstream floe-core 0.1.0a1, certified as a user would.

floe-core and floe-compute-duckdb come from PyPI into a venv of their own (floe-core
pulls kubernetes, sigstore and datacontract-cli, which this project's venv must not
have), with this project installed editable beside them. The venv is made once and kept
under this venv's prefix (``<.venv>/floe-upstream/``), remade when pyproject.toml
changes: about 100 s the first time, nothing after. Then ``floe-conformance report``
runs there, as an author of such a plugin would run it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.requirement("KIT-240")

REPO = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).resolve().parent / "upstream_plugins"
UPSTREAM = ("floe-core==0.1.0a1", "floe-compute-duckdb==0.1.0a1")


def _pip(python: Path, *args: str) -> None:
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
        check=True,
        timeout=1200,
    )


@pytest.fixture(scope="session")
def upstream_python() -> Path:
    """The python of a venv with floe-core 0.1.0a1, floe-compute-duckdb 0.1.0a1 and this kit."""
    root = Path(sys.prefix) / "floe-upstream"
    root.mkdir(parents=True, exist_ok=True)
    env = root / "floe-core-0.1.0a1"
    python = env / "bin" / "python"
    wanted = hashlib.sha256(  # the checkout's path too: the kit is installed editable
        (REPO / "pyproject.toml").read_bytes() + " ".join([str(REPO), *UPSTREAM]).encode()
    ).hexdigest()
    stamp = env / ".floe-installed"
    with (root / ".lock").open("w") as lock:  # xdist workers make it once, one at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.is_file() or stamp.read_text() != wanted:
            shutil.rmtree(env, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=300)
            _pip(python, *UPSTREAM, "-e", f"{REPO}[kit,duckdb]")
            stamp.write_text(wanted)
    return python


def _report(python: Path, spec: str, out: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    env = {**os.environ, "PYTHONPATH": str(PLUGINS), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [
            str(python.parent / "floe-conformance"),
            "report",
            "--plugin",
            spec,
            "--out",
            str(out),
            *extra,
        ],
        check=False,  # the exit code is what the test judges
        cwd=out.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    certificate = json.loads((out / "certificate.json").read_text())
    return done.returncode, certificate, done.stdout + done.stderr


def _outcomes(certificate: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["outcome"] for c in certificate["checks"]}


def test_the_venv_has_floe_core_and_its_duckdb_plugin_wins_the_import_name(
    upstream_python: Path,
) -> None:
    code = (
        "import floe_core.plugins, floe_compute_duckdb, floe_compute_kit, json;"
        "print(json.dumps([floe_compute_duckdb.__file__, floe_compute_kit.__file__]))"
    )
    done = subprocess.run(
        [str(upstream_python), "-c", code], capture_output=True, text=True, check=True
    )
    duckdb_file, kit_file = json.loads(done.stdout)
    # site-packages comes before the editable install's path: upstream's package wins
    assert "site-packages" in duckdb_file
    assert Path(kit_file).is_relative_to(REPO / "src")


@pytest.mark.requirement("KIT-241", "KIT-242", "KIT-243")
@pytest.mark.parametrize("plugin", ["TinyDuck", "TinyDuckDeclared"])
def test_a_small_plugin_on_floe_core_is_certified_at_core(
    upstream_python: Path, tmp_path: Path, plugin: str
) -> None:
    code, certificate, output = _report(
        upstream_python, f"tinyduck:{plugin}", tmp_path / "out", "--level", "core"
    )
    assert code == 0, output
    assert certificate["certified"] is True
    verified = subprocess.run(
        [
            str(upstream_python.parent / "floe-conformance"),
            "verify",
            str(tmp_path / "out" / "certificate.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert certificate["level_achieved"] == "core"
    assert "floe_core_interface" in certificate["plugin"]["capabilities"]
    outcomes = _outcomes(certificate)
    members = ("self_hosted", "macro_paths", "augment_profile", "config_schema")
    assert {outcomes[f"upstream.{m}"] for m in members} == {"passed"}
    # generic config: connection dicts from dbt-duckdb's credentials; a declared model
    # (get_config_schema) is generated from instead
    generated = "passed" if plugin == "TinyDuck" else "unsupported"
    assert outcomes["upstream.connection_profile"] == generated
    assert outcomes["upstream.connection_health"] == generated


@pytest.mark.requirement("KIT-244")
def test_floe_compute_duckdb_0_1_0a1_is_not_certified_at_core(
    upstream_python: Path, tmp_path: Path
) -> None:
    """The verdict docs/upstream.md states: two defects, both in reading `connection`."""
    code, certificate, output = _report(
        upstream_python,
        "floe_compute_duckdb:DuckDBComputePlugin",
        tmp_path / "out",
        "--level",
        "core",
    )
    assert code == 1, output
    assert certificate["certified"] is False
    failed = {k for k, v in _outcomes(certificate).items() if v in ("failed", "error")}
    assert failed == {"upstream.connection_profile", "upstream.connection_health"}, output
    messages = {c["id"]: c["message"] for c in certificate["checks"]}
    assert "TypeError" in messages["upstream.connection_profile"]
    assert "'..'" in messages["upstream.connection_health"]
