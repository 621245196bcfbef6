"""The contract-only install, for real: a fresh venv with the project and its core deps only.

The wheel is built from a copy of the source (so nothing lands in the tree) without build
isolation; the core dependencies are read from the wheel's own metadata, so the test
proves what ``pip install floe-compute-kit`` would pull. pip uses the machine's local
indexes only when it has any (offline here), else its configured index, as
scripts/_venv.sh does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.requirement("KIT-170"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
#: What the contract-only install must not bring.
# dbt.cli, not dbt: the wheel ships adapter shims in the dbt namespace package.
NOT_PULLED = ("pytest", "hypothesis", "duckdb", "dbt.cli", "rich", "sqlglot", "jsonschema")
KIT_HINT = "pip install 'floe-compute-kit[kit]'"


@dataclass(frozen=True)
class FreshVenv:
    root: Path
    wheel: Path

    @property
    def python(self) -> str:
        return str(self.root / "bin" / "python")

    def run(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.python, *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env or _clean_env(),
            timeout=300,
            check=False,
        )

    def script(self, name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.root / "bin" / name), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=_clean_env(),
            timeout=120,
            check=False,
        )

    def pip_install(self, *args: str) -> None:
        done = self.run("-m", "pip", "install", "--quiet", *args, env=_pip_env())
        assert done.returncode == 0, done.stdout + done.stderr


def _clean_env() -> dict[str, str]:
    """No PYTHONPATH or virtualenv leaking the test venv's packages into the fresh one."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _local_indexes() -> list[str]:
    """The file:// indexes in pip's configuration (this machine's offline mirror)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    urls: list[str] = []
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(("index-url", "extra-index-url")):
            urls += [u for u in value.strip("'\"").split() if u.startswith("file://")]
    return urls


def _pip_env() -> dict[str, str]:
    env = _clean_env()
    local = _local_indexes()
    if local:  # offline: only the local indexes, never the network
        env["PIP_INDEX_URL"] = local[0]
        env["PIP_EXTRA_INDEX_URL"] = " ".join(local[1:])
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _core_requirements(wheel: Path) -> list[str]:
    """Requires-Dist lines that no extra guards: what a plain install pulls."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(name).decode()
    reqs = re.findall(r"^Requires-Dist: (.+)$", metadata, flags=re.MULTILINE)
    return [r.strip() for r in reqs if "extra ==" not in r]


def _build_wheel(out: Path) -> Path:
    src = out / "src-copy"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "tests", "out", "build", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(out / "dist"),
            str(src),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return next((out / "dist").glob("floe_compute_kit-*.whl"))


@pytest.fixture(scope="module")
def contract_only(tmp_path_factory: pytest.TempPathFactory) -> FreshVenv:
    base = tmp_path_factory.mktemp("contract-only")
    wheel = _build_wheel(base)
    venv_dir = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True, env=_clean_env())
    venv = FreshVenv(venv_dir, wheel)
    venv.pip_install("--no-deps", str(wheel))
    venv.pip_install(*_core_requirements(wheel))
    return venv


def test_core_requirements_are_the_contracts_imports(contract_only: FreshVenv) -> None:
    names = {
        re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0].lower()
        for r in _core_requirements(contract_only.wheel)
    }
    assert names == {"pydantic", "packaging", "pyyaml", "opentelemetry-api"}


def test_nothing_of_the_kit_or_an_engine_is_installed(contract_only: FreshVenv) -> None:
    probe = (
        "import importlib.util as u, sys\n"
        "def found(m):\n"
        "    try:\n        return u.find_spec(m) is not None\n"
        "    except ModuleNotFoundError:\n        return False\n"
        "print([m for m in sys.argv[1:] if found(m)])"
    )
    done = contract_only.run("-c", probe, *NOT_PULLED)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_public_contract_imports_and_works(contract_only: FreshVenv, tmp_path: Path) -> None:
    program = textwrap.dedent(
        """
        import sys
        import floe_compute_kit
        from floe_compute_kit import (
            WORKLOAD_PRESETS, CatalogConfig, ComputeConfig, ComputeConfigurationError,
            ComputeConnectionError, ComputeError, ComputePlugin, ComputeTimeoutError,
            ConnectionResult, ConnectionStatus, PluginMetadata, ResourceSpec,
        )
        for name in floe_compute_kit.__all__:
            getattr(floe_compute_kit, name)
        from floe_compute_kit.observability import traced_validation

        class Mine(ComputePlugin):
            name = "mine"
            version = "0.1.0"
            floe_api_version = floe_compute_kit.FLOE_API_VERSION
            def generate_dbt_profile(self, config):
                return {"type": "mine", "threads": config.threads}
            def get_required_dbt_packages(self):
                return ["dbt-mine>=1"]
            def validate_connection(self, config):
                return ConnectionResult(status=ConnectionStatus.HEALTHY, latency_ms=1.0)
            def get_resource_requirements(self, workload_size):
                return WORKLOAD_PRESETS[workload_size]
            def get_catalog_attachment_sql(self, catalog_config):
                return None

        plugin = Mine()
        config = ComputeConfig(plugin="mine", threads=3)
        with traced_validation("mine") as outcome:
            outcome.status = plugin.validate_connection(config).status.value
        assert plugin.generate_dbt_profile(config)["threads"] == 3
        assert isinstance(plugin.get_resource_requirements("small"), ResourceSpec)
        heavy = sorted(m for m in ("pytest", "hypothesis", "duckdb", "dbt", "rich", "sqlglot")
                       if m in sys.modules)
        print("OK", heavy)
        """
    )
    done = contract_only.run("-c", program, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "OK []"


@pytest.mark.parametrize(
    ("script", "args", "extra"),
    [
        ("floe-conformance", ("list",), "kit"),
        ("floe-conformance", ("report", "--plugin", "duckdb"), "kit"),
        ("floe-compute", ("plugins",), "cli"),
    ],
)
def test_a_cli_names_the_extra_it_needs(
    contract_only: FreshVenv, tmp_path: Path, script: str, args: tuple[str, ...], extra: str
) -> None:
    done = contract_only.script(script, *args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"pip install 'floe-compute-kit[{extra}]'" in done.stderr
    assert done.stderr.count("\n") == 1  # one line


@pytest.fixture(scope="module")
def with_pytest(contract_only: FreshVenv) -> FreshVenv:
    """The contract plus pytest alone: what a plugin author's bare test env may hold."""
    contract_only.pip_install("pytest")
    return contract_only


def test_the_pytest_plugin_is_harmless_without_hypothesis(
    with_pytest: FreshVenv, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """pytest alone (no hypothesis): the pytest11 entry loads, a plain run passes, and
    ``--floe-plugin`` is a usage error naming the kit extra, not a collection traceback."""
    contract_only = with_pytest
    project = tmp_path_factory.mktemp("plain-project")
    (project / "test_plain.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")

    help_text = contract_only.run("-m", "pytest", "--help", cwd=project)
    assert "--floe-plugin" in help_text.stdout  # the entry point is loaded
    plain = contract_only.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "1 passed" in plain.stdout

    suite = contract_only.run(
        "-m", "pytest", "-q", "-p", "no:cacheprovider", "--floe-plugin=duckdb", cwd=project
    )
    assert suite.returncode == pytest.ExitCode.USAGE_ERROR, suite.stdout + suite.stderr
    output = suite.stdout + suite.stderr
    assert KIT_HINT in output
    assert "hypothesis" in output
    assert "Traceback" not in output


@pytest.mark.requirement("KIT-171")
def test_the_local_iceberg_catalog_names_pyiceberg_and_its_extra(
    with_pytest: FreshVenv, tmp_path: Path
) -> None:
    """No pyiceberg installed: the catalog is not started (it would die with only an exit
    code); the error names pyiceberg, the extra's install command and the alternative."""
    program = textwrap.dedent(
        """
        import os, sys
        from pathlib import Path
        from floe_compute_kit._extras import MissingExtraError
        from floe_compute_kit.conformance.iceberg import iceberg_rest_catalog
        os.environ["FLOE_ICEBERG_SOURCE"] = "local"
        try:
            with iceberg_rest_catalog(workdir=Path(sys.argv[1])):
                pass
        except ModuleNotFoundError as exc:
            assert isinstance(exc, MissingExtraError), type(exc)
            print(exc)
        """
    )
    done = with_pytest.run("-c", program, str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    message = done.stdout.strip()
    assert "pyiceberg" in message
    assert "pip install 'floe-compute-kit[iceberg]'" in message
    assert "--iceberg-uri" in message
    assert not list(tmp_path.iterdir())  # nothing was started
