"""Hostile input to ``floe-compute``, as a user meets it: one line, exit 2, no traceback, no leak.

Each case here ended in a traceback, a hang, a leaked credential, a silent wrong result or a
lost file before the bounded YAML loader (_yaml.py), the masked-error translator
(_problems.py) and the profiles.yml writer (cli/_profiles_file.py) (issues 14 and 15).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from floe_compute_duckdb import DuckDBComputePlugin, DuckDBConfig
from floe_compute_kit import (
    ComputeConfig,
    ConnectionResult,
    ConnectionStatus,
)
from floe_compute_kit.cli._profiles_file import HEADER
from floe_compute_kit.cli.compute import _observe_health, main
from floe_compute_kit.errors import ComputeConfigurationError
from floe_compute_kit.models import parse_config

pytestmark = pytest.mark.requirement("KIT-004")

BIN = Path(sys.executable).parent
SECRET = "PLANTED-s3cr3t-value-4711"
ENTERPRISE = """\
scope: enterprise
name: acme
compute:
  approved: [duckdb]
  default: duckdb
{config}"""
PRODUCT = """\
name: orders
domain: ../enterprise/manifest.yaml
transforms:
  - {name: a, path: models/a}
  - {name: b, path: models/b}
environments: {dev: {}, staging: {}, prod: {}}
"""


def tree(root: Path, *, config: str = "", product: str = PRODUCT) -> Path:
    (root / "enterprise").mkdir(parents=True, exist_ok=True)
    (root / "orders").mkdir(parents=True, exist_ok=True)
    (root / "enterprise" / "manifest.yaml").write_text(ENTERPRISE.format(config=config))
    path = root / "orders" / "floe.yaml"
    path.write_text(product)
    return path


def run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "floe-compute"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,
    )


def _one_clear_error(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    out = done.stdout + done.stderr
    assert done.returncode == 2, out
    assert "Traceback" not in out, out
    flat = " ".join(out.split())
    for needle in needles:
        assert needle in flat, flat


# --- the bounded YAML loader, from the CLI -------------------------------------------------


def _utf16(path: Path) -> None:
    path.write_bytes(PRODUCT.encode("utf-16"))


def _latin1(path: Path) -> None:
    path.write_bytes(PRODUCT.replace("orders", "caf\xe9").encode("latin-1"))


def _huge_int_key(path: Path) -> None:
    path.write_text(PRODUCT + "? " + "9" * 5000 + "\n: 1\n")


def _duplicate_key(path: Path) -> None:
    path.write_text(PRODUCT.replace("environments:", "name: other\nenvironments:"))


def _binary(path: Path) -> None:
    path.write_text(PRODUCT.replace("name: orders", "name: !!binary b3JkZXJz"))


def _python_tag(path: Path) -> None:
    path.write_text(PRODUCT.replace("name: orders", "name: !!python/object/apply:os.getpid []"))


def _alias_bomb(path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path.write_text(PRODUCT + "\n".join(lines) + "\n")


def _nul_in_name(path: Path) -> None:
    path.write_text(PRODUCT.replace("{name: a,", '{name: "a\\0b",'))


def _escape_in_path(path: Path) -> None:
    path.write_text(PRODUCT.replace("path: models/a", 'path: "models/\\e[31ma"'))


def _raw_escape(path: Path) -> None:
    path.write_text(PRODUCT.replace("models/a", "models/\x1b[2Ja"))


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _dev_zero_link(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/zero")


def _too_big(path: Path) -> None:
    with path.open("w") as handle:
        handle.write(PRODUCT)
        handle.write("# " + "x" * (17 * 1024 * 1024) + "\n")


BAD_INPUTS = {
    "utf-16": (_utf16, "is UTF-16 encoded; save the file as UTF-8"),
    "latin-1": (_latin1, "is not UTF-8 text"),
    "huge integer key": (_huge_int_key, "a key is a 5000-digit integer, not text"),
    "duplicate key": (_duplicate_key, "line 6: duplicate key 'name'"),
    "binary tag": (_binary, "uses the tag 'tag:yaml.org,2002:binary'"),
    "python tag": (_python_tag, "uses the tag 'tag:yaml.org,2002:python/object/apply:os.getpid'"),
    "alias bomb": (_alias_bomb, "aliases are limited"),
    "NUL in a transform name": (_nul_in_name, "transforms[0].name: must not contain control"),
    "escape code in a path": (_escape_in_path, "transforms[0].path: must not contain control"),
    "raw escape code": (_raw_escape, "contains the control character '\\x1b'"),
    "a directory": (_directory, "is a folder, not a regular file"),
    "a FIFO": (_fifo, "is a FIFO, not a regular file"),
    "a symlink to /dev/zero": (_dev_zero_link, "is a device, not a regular file"),
    "over the size limit": (_too_big, "inputs are limited to 16 MiB"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_floe_yaml_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    path = tree(tmp_path)
    plant, message = BAD_INPUTS[case]
    plant(path)
    done = run("compile", str(path))
    _one_clear_error(done, "floe.yaml", message)
    assert not (path.parent / "profiles.yml").exists()


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_the_input_is_refused_before_reading(device: str) -> None:
    _one_clear_error(run("compile", device), device, "is a device, not a regular file")


def test_threads_true_is_an_error_not_one(tmp_path: Path) -> None:
    path = tree(tmp_path, config="  config:\n    duckdb: {threads: true}\n")
    done = run("compile", str(path), "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "threads" in done.stdout
    assert "valid integer" in done.stdout
    assert not (path.parent / "profiles.yml").exists()


def test_yaml_12_words_stay_text(tmp_path: Path) -> None:
    """``on``/``yes`` are text (YAML 1.2), so a transform named ``on`` keeps its name."""
    path = tree(tmp_path, product=PRODUCT.replace("{name: b,", "{name: on,"))
    done = run("compile", str(path), "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [t["name"] for t in json.loads(done.stdout)["transforms"]] == ["a", "on"]


@pytest.mark.requirement("KIT-001")
def test_a_hostile_model_path_is_shell_quoted_in_the_dbt_command(tmp_path: Path) -> None:
    path = tree(tmp_path, product=PRODUCT.replace("path: models/b", "path: 'x ; rm -rf /'"))
    done = run("compile", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--select path:models/a 'path:x ; rm -rf /'" in done.stdout


# --- masked errors ------------------------------------------------------------------------

TRIGGERS = {
    "memory_limit setting": "settings: {memory_limit: 4GB}",
    "network setting": "settings: {autoinstall_known_extensions: true}",
    "duplicate attach aliases": "attach: [{path: a.duckdb, alias: lake, type: duckdb}, "
    "{path: b.duckdb, alias: lake, type: duckdb}]",
    "alias equal to the main database": "path: lake.duckdb, attach: "
    "[{path: b.duckdb, alias: lake, type: duckdb}]",
    "typo of credentials": "credentails: {token: " + SECRET + "}",
    "secret in an unknown scalar": "credentails: " + SECRET,
}


@pytest.mark.requirement("FR-022")
@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_no_output_echoes_a_credential(
    tmp_path: Path,
    trigger: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = f"  config:\n    duckdb: {{credentials: {{token: {SECRET}}}, {TRIGGERS[trigger]}}}\n"
    path = tree(tmp_path, config=config)
    caplog.set_level(logging.DEBUG)
    codes = [
        main(["-v", "compile", str(path)]),
        main(["compile", str(path), "--format", "json"]),
        main(["health", str(path)]),
        main(["health", str(path), "--format", "json"]),
        main(["health", str(path), "--env", "prod", "--format", "json"]),
    ]
    assert all(code in (1, 2) for code in codes), codes
    out = capsys.readouterr()
    seen = out.out + out.err + caplog.text
    assert "invalid" in seen or "unknown key" in seen
    assert SECRET not in seen

    data = yaml.safe_load(path.parent.parent.joinpath("enterprise/manifest.yaml").read_text())
    with pytest.raises(ComputeConfigurationError) as info:
        parse_config(DuckDBConfig, data["compute"]["config"]["duckdb"] | {"plugin": "duckdb"})
    err = info.value
    for text in (str(err), repr(err), json.dumps(err.to_dict(), default=str)):
        assert SECRET not in text


@pytest.mark.requirement("FR-022")
def test_a_huge_unknown_value_is_not_echoed(tmp_path: Path) -> None:
    big = "v" * 2_000_000
    path = tree(tmp_path, config=f"  config:\n    duckdb: {{bogus: {big}, threads: x{big}}}\n")
    done = run("compile", str(path), "--format", "json")
    assert done.returncode == 1
    assert "bogus" in done.stdout
    assert "2,000,001 characters" in done.stdout  # the bad threads value, cut to 80
    assert len(done.stdout) < 20_000


# --- profiles.yml --------------------------------------------------------------------------


def _compiled(tmp_path: Path) -> tuple[Path, Path]:
    path = tree(tmp_path)
    done = run("compile", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    profiles = path.parent / "profiles.yml"
    assert profiles.read_text().startswith(HEADER)
    return path, profiles


@pytest.mark.requirement("KIT-001")
def test_a_planted_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    path = tree(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (path.parent / "profiles.yml").symlink_to(victim)
    _one_clear_error(run("compile", str(path)), "profiles.yml", "symbolic link")
    assert victim.read_text() == "precious\n"


@pytest.mark.requirement("KIT-001")
def test_a_hand_written_profiles_yml_needs_force(tmp_path: Path) -> None:
    path = tree(tmp_path)
    profiles = path.parent / "profiles.yml"
    profiles.write_text("mine:\n  target: dev\n")
    _one_clear_error(run("compile", str(path)), "was not written by floe-compute", "--force")
    assert profiles.read_text() == "mine:\n  target: dev\n"
    done = run("compile", str(path), "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    assert profiles.read_text().startswith(HEADER)
    assert run("compile", str(path)).returncode == 0  # ours now: no --force needed


@pytest.mark.requirement("KIT-001")
def test_a_file_size_limit_leaves_the_previous_file_intact(tmp_path: Path) -> None:
    path, profiles = _compiled(tmp_path)
    before = profiles.read_bytes()
    path.write_text(
        PRODUCT.replace("environments: {dev: {}, staging: {}, prod: {}}", "")
        + (
            "environments:\n"
            + "".join(f"  e{i}: {{}}\n" for i in range(300))
            + "  dev: {}\n  staging: {}\n  prod: {}\n"
        )
    )
    script = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) + 100}, {len(before) + 100}))\n"
        "from floe_compute_kit.cli.compute import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "compile", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    _one_clear_error(done, "profiles.yml", "previous file is intact")
    assert profiles.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.requirement("KIT-001")
def test_concurrent_compiles_never_corrupt_profiles_yml(tmp_path: Path) -> None:
    path, profiles = _compiled(tmp_path)
    for _ in range(3):
        procs = [
            subprocess.Popen(
                [str(BIN / "floe-compute"), "compile", str(path), "--format", "json"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(4)
        ]
        codes = [p.wait(timeout=120) for p in procs]
        assert codes == [0, 0, 0, 0]
        text = profiles.read_text()
        assert text.startswith(HEADER)
        assert len(yaml.safe_load(text)["orders"]["outputs"]) == 3


@pytest.mark.requirement("KIT-001")
def test_a_profiles_dir_that_is_a_file(tmp_path: Path) -> None:
    path = tree(tmp_path)
    blocker = tmp_path / "out"
    blocker.write_text("")
    done = run("compile", str(path), "--profiles-dir", str(blocker))
    _one_clear_error(done, "out", "is a file, not a folder", "--profiles-dir")


@pytest.mark.requirement("KIT-001")
def test_a_profiles_dir_it_may_not_write(tmp_path: Path) -> None:
    path = tree(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    for part in (tmp_path, path.parent, path.parent.parent / "enterprise"):
        part.chmod(0o755)
    command = [str(BIN / "floe-compute"), "compile", str(path), "--profiles-dir", str(locked)]
    done = subprocess.run(
        _as_unprivileged(command), capture_output=True, text=True, timeout=120, check=False
    )
    _one_clear_error(done, "locked", "Permission denied")
    assert list(locked.iterdir()) == []


# --- health ---------------------------------------------------------------------------------


class _Waiting(DuckDBComputePlugin):
    """Healthy only if all ten checks are running at the same time (a barrier of ten)."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self.barrier = barrier

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        try:
            self.barrier.wait(timeout=4)
        except threading.BrokenBarrierError:
            return ConnectionResult(status=ConnectionStatus.UNHEALTHY, latency_ms=0, message="x")
        return ConnectionResult(status=ConnectionStatus.HEALTHY, latency_ms=0)


@pytest.mark.requirement("US6-AS1", "US6")
def test_health_checks_every_compute_at_once() -> None:
    """Ten checks meet at a barrier: run one after another, none would get past it."""
    barrier = threading.Barrier(10)
    plugin = _Waiting(barrier)
    rows = [
        {"compute": f"c{i}", "plugin": plugin, "config": ComputeConfig(plugin="waiting")}
        for i in range(10)
    ]
    results = _observe_health(rows)
    assert [r["compute"] for r in results] == [f"c{i}" for i in range(10)]
    assert {r["status"] for r in results} == {"healthy"}


def _as_unprivileged(command: list[str]) -> list[str]:
    """Root bypasses file modes unless it drops CAP_DAC_* (setpriv, as test_duckdb_plugin does)."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    assert setpriv, "running as root needs util-linux setpriv to drop CAP_DAC_OVERRIDE"
    caps = "-dac_override,-dac_read_search"
    return [setpriv, "--bounding-set", caps, "--inh-caps", caps, *command]


@pytest.mark.requirement("US6-AS1", "US6")
def test_health_of_a_database_file_dbt_cannot_write_is_degraded(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(database)).close()
    path = tree(tmp_path, config=f"  config:\n    duckdb: {{path: '{database}'}}\n")
    database.chmod(0o444)
    try:
        done = subprocess.run(
            _as_unprivileged([str(BIN / "floe-compute"), "health", str(path), "--format", "json"]),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        database.chmod(0o644)
    (row,) = json.loads(done.stdout)["computes"]
    assert row["status"] == "degraded", row
    assert "is not writable by this user" in row["warnings"][0]
    assert "dbt cannot build into it" in row["warnings"][0]


@pytest.mark.requirement("FR-022")
@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_validate_connection_messages_are_masked(trigger: str) -> None:
    data = yaml.safe_load(f"{{credentials: {{token: {SECRET}}}, {TRIGGERS[trigger]}}}")
    result = DuckDBComputePlugin().validate_connection(data | {"plugin": "duckdb"})
    assert result.status is ConnectionStatus.UNHEALTHY
    assert "invalid DuckDBConfig" in result.message
    assert SECRET not in result.message + " ".join(result.warnings)
