"""Running dbt with the plugin's profile: the one place the integration checks do it.

``integration.dbt_build`` builds the bundled project, ``integration.query_timeout``
runs a few generated models; both need the same steps: a profile dbt can use, the
adapter installed, the env vars the profile reads exported from the config's
credentials, dbt run with a deadline (forked by the run's prewarmed launcher, else a
plain subprocess), secrets masked out of what it said, and run_results.json read back.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata as md
from pathlib import Path
from typing import Any, Final

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from pydantic import BaseModel, SecretStr

from floe_compute_kit.conformance._check import CheckContext, CheckFailed
from floe_compute_kit.conformance._dbt_launcher import BASE_ENV, Launched, launcher_for
from floe_compute_kit.conformance._invoke import call
from floe_compute_kit.conformance._logs import KEEP_HINT, keep_log
from floe_compute_kit.conformance.checks._support import mask, secret_values
from floe_compute_kit.conformance.checks.profile import ENV_VAR_RE

__all__ = [
    "DBT_CHECK_TIMEOUT_S",
    "DbtRun",
    "StopWhen",
    "build_env",
    "checked_profile",
    "credential_items",
    "dbt_command",
    "dbt_process",
    "redacted",
    "require_adapter",
    "run_dbt",
    "tail",
]

TARGET: Final = "conformance"
PROFILE_NAME: Final = "floe_conformance"
_OUTPUT_TAIL: Final = 40
#: how long a check that runs dbt may take (its spec's timeout_s): Spark's first build
#: starts a JVM and takes 40 to 50 s on a loaded 2-core machine, twice that on a slower one
DBT_CHECK_TIMEOUT_S: Final = 300.0
#: ``stop_when(lines so far, seconds since start)``: a reason to stop dbt now, or None
StopWhen = Callable[[list[str], float], str | None]


@dataclass
class DbtRun:
    """What one dbt invocation left: its exit code, its (masked) output, its node results."""

    project: Path
    returncode: int | None
    output: str
    results: list[dict[str, Any]] = field(default_factory=list)
    #: set when the kit stopped dbt itself (``stop_when`` said so, or the deadline passed)
    stopped: str | None = None
    log_note: str = ""

    def node(self, name: str) -> dict[str, Any] | None:
        """The run result of the model called ``name`` (the last part of its unique id)."""
        for result in self.results:
            if str(result.get("unique_id", "")).rsplit(".", 1)[-1] == name:
                return result
        return None


def _adapter_requirement(ctx: CheckContext, profile_type: str) -> str | None:
    """The plugin's requirement naming the adapter for ``profile_type`` (adapter first)."""
    packages = call(ctx.plugin, "get_required_dbt_packages")
    reqs: list[Requirement] = []
    for text in packages if isinstance(packages, list) else []:
        try:
            reqs.append(Requirement(str(text)))
        except InvalidRequirement:
            continue
    for req in reqs:
        if req.name.lower().replace("_", "-") == f"dbt-{profile_type}".lower().replace("_", "-"):
            return str(req)
    return str(reqs[0]) if reqs else None


def require_adapter(ctx: CheckContext, profile_type: str) -> None:
    requirement = _adapter_requirement(ctx, profile_type) or f"dbt-{profile_type}"
    dist = Requirement(requirement).name
    try:
        md.version(dist)
        installed = True
    except md.PackageNotFoundError:
        installed = False
    if not installed or importlib.util.find_spec(f"dbt.adapters.{profile_type}") is None:
        raise CheckFailed(
            f"the dbt adapter for profile type {profile_type!r} is not installed, so the "
            f"integration level cannot be reached: install it with "
            f"`pip install '{requirement}'` and run the report again",
            details={"install": requirement, "profile_type": profile_type},
        )


def checked_profile(ctx: CheckContext, config: Any) -> dict[str, Any]:
    """The plugin's profile for ``config``, once it is a dict dbt can take and its adapter
    is installed."""
    profile = call(ctx.plugin, "generate_dbt_profile", config)
    if not isinstance(profile, dict) or not isinstance(profile.get("type"), str):
        raise CheckFailed(
            "generate_dbt_profile returned no dict with a string 'type'; dbt cannot use it",
            example=mask(config),
        )
    require_adapter(ctx, profile["type"])
    return profile


def dbt_command() -> list[str]:
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-m", "dbt.cli.main"]


def redacted(value: Any, config: Any) -> Any:
    """``value`` with every secret of ``config`` masked: details end up in certificates,
    and a plugin that writes secrets into its profile is exactly the one to fail here."""
    secrets = sorted({s for s in secret_values(config) if s}, key=len, reverse=True)
    if not secrets:
        return value
    text = json.dumps(value) if not isinstance(value, str) else value
    for secret in secrets:
        text = text.replace(
            json.dumps(secret)[1:-1] if not isinstance(value, str) else secret, "**********"
        )
    return text if isinstance(value, str) else json.loads(text)


def tail(text: str, lines: int = _OUTPUT_TAIL) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(kept)


def _profile_env_vars(profile: Any) -> dict[str, bool]:
    """Every env var the profile reads -> whether its reference gives a default."""
    found: dict[str, bool] = {}

    def walk(value: Any) -> None:
        if isinstance(value, str):
            for m in ENV_VAR_RE.finditer(value):
                found[m["name"]] = found.get(m["name"], False) or m["default"] is not None
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(profile)
    return found


def credential_items(config: Any) -> dict[str, str]:
    """name -> secret value of every credential of ``config``: the ``credentials`` entries
    and any top-level secret field (a model, or its plain dump)."""
    items: dict[str, str] = {}
    fields: Any = (
        {n: getattr(config, n) for n in type(config).model_fields}
        if isinstance(config, BaseModel)
        else config
        if isinstance(config, dict)
        else {}
    )
    for name, value in fields.items():
        if isinstance(value, SecretStr):
            items[str(name)] = value.get_secret_value()
    credentials = fields.get("credentials")
    for name, value in (credentials or {}).items() if isinstance(credentials, dict) else ():
        secret = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(secret, str):
            items[str(name)] = secret
    return items


def _credential_for(env_name: str, credentials: dict[str, str]) -> str | None:
    """The credential an env var carries, by the convention ``[PREFIX_]KEY`` (upper case):
    ``FLOE_DUCKDB_S3_KEY_ID`` <- ``s3_key_id``; the longest matching key wins."""
    wanted = env_name.upper()
    matches = [
        key
        for key in credentials
        if wanted == key.upper() or wanted.endswith("_" + key.upper().lstrip("_"))
    ]
    return max(matches, key=len) if matches else None


def build_env(profile: Any, config: Any) -> tuple[dict[str, str], list[str]]:
    """The env vars the integration build exports from the config's credentials, and the
    names the profile reads (without a default) that neither they nor the environment set."""
    credentials = credential_items(config)
    exported: dict[str, str] = {}
    missing: list[str] = []
    for name, has_default in sorted(_profile_env_vars(profile).items()):
        key = _credential_for(name, credentials)
        if key is not None:
            exported[name] = credentials[key]
        elif not has_default and name not in os.environ:
            missing.append(name)
    return exported, missing


def _missing_env_message(missing: list[str], config: Any) -> str:
    keys = sorted(credential_items(config))
    return (
        f"the profile reads the environment variable(s) {', '.join(missing)}, which no "
        f"credential of the config provides (credentials: {', '.join(keys) or 'none'}) and "
        f"the environment does not set, so `dbt build` would fail with the engine's own error; "
        f"give the config the credential(s) (the kit exports credential KEY as [PREFIX_]KEY "
        f"in upper case, e.g. password -> FLOE_MYDB_PASSWORD) or export the variable(s) "
        f"before the run"
    )


def _keep_dbt_log(project: Path, config: Any, log_name: str, *, failed: bool) -> str:
    """Keep dbt's own log beside the run's logs; for a failure, the words naming it."""
    kept = keep_log(
        project / "logs" / "dbt.log", log_name, secrets=[s for s in secret_values(config) if s]
    )
    if not failed:
        return ""
    if kept is not None:
        return f"\ndbt's full log is kept at {kept}"
    return f"\ndbt's full log is removed with the work directory ({KEEP_HINT})"


def _write_project(project: Path, models: Mapping[str, str] | None, name: str) -> None:
    if project.exists():
        shutil.rmtree(project)
    if models is None:
        from floe_compute_kit.conformance.checks.integration import (  # noqa: PLC0415 - a cycle
            bundled_project,
        )

        shutil.copytree(bundled_project(), project)
        return
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {
                "name": name,
                "version": "1.0.0",
                "config-version": 2,
                "profile": PROFILE_NAME,
                "models": {name: {"+materialized": "table"}},
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    for model, sql in models.items():
        (project / "models" / f"{model}.sql").write_text(sql + "\n", encoding="utf-8")


def _popen(command: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - a fixed dbt command line on files we wrote
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )


def _follow(
    proc: subprocess.Popen[str] | Launched,
    *,
    deadline_s: float,
    stop_when: StopWhen | None,
) -> tuple[int | None, str, str | None]:
    """Watch one running dbt: its output lines as they come, stopped (its whole process
    group killed) at ``deadline_s`` or as soon as ``stop_when`` gives a reason."""
    started = time.monotonic()
    lines: list[str] = []
    stdout = proc.stdout
    assert stdout is not None  # a pipe was asked for

    def pump() -> None:
        for line in stdout:
            if len(lines) < 20_000:
                lines.append(line)

    reader = threading.Thread(target=pump, daemon=True, name="floe-dbt-output")
    reader.start()
    stopped: str | None = None
    while proc.poll() is None and not getattr(proc, "lost", False):
        elapsed = time.monotonic() - started
        if elapsed > deadline_s:
            stopped = f"dbt did not finish within {deadline_s:g} s"
        elif stop_when is not None:
            stopped = stop_when(list(lines), elapsed)
        if stopped is not None:
            _kill_group(proc.pid)
            break
        time.sleep(0.1)
    proc.wait()
    reader.join(timeout=5)
    with contextlib.suppress(OSError):
        stdout.close()
    return (None if stopped else proc.returncode), "".join(lines), stopped


def _kill_group(pid: int) -> None:
    """SIGKILL dbt's process group (and dbt itself, should it not lead one yet)."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def dbt_process(
    ctx: CheckContext | None,
    args: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    deadline_s: float,
    watchdog: Callable[[], StopWhen] | None = None,
    urgent: bool = False,
) -> tuple[int | None, str, str | None]:
    """``dbt <args>`` with ``env`` added to the environment: its exit code (None when the
    kit stopped it), its output, and why it was stopped. ``urgent``: the run's longest
    chain, forked without waiting for the launcher's warm (``DbtLauncher.launch``).

    Through the run's prewarmed launcher when there is one (``_dbt_launcher``), else a
    plain subprocess; should the launcher go away mid-run, dbt runs again plainly (a
    fresh ``watchdog()`` for it), so its failure never reads as the plugin's.
    """
    full_env = {**os.environ, **env, **BASE_ENV}
    command = dbt_command()
    launcher = launcher_for(ctx) if ctx is not None else None
    child = None
    if launcher is not None:
        argv0 = command[0] if len(command) == 1 else "dbt"
        child = launcher.launch([argv0, *args], cwd=cwd, env=full_env, urgent=urgent)
    started = time.monotonic()
    if child is not None:
        code, output, stopped = _follow(
            child, deadline_s=deadline_s, stop_when=watchdog() if watchdog else None
        )
        if not child.lost or stopped is not None:
            return code, output, stopped
        _kill_group(child.pid)
    left = max(1.0, deadline_s - (time.monotonic() - started))
    return _follow(
        _popen([*command, *args], cwd=cwd, env=full_env),
        deadline_s=left,
        stop_when=watchdog() if watchdog else None,
    )


def run_dbt(
    ctx: CheckContext,
    config: Any,
    profile: dict[str, Any],
    *,
    folder: str,
    args: list[str],
    models: Mapping[str, str] | None = None,
    log_name: str,
    deadline_s: float | None = None,
    watchdog: Callable[[], StopWhen] | None = None,
    under: Path | None = None,
    urgent: bool = False,
) -> DbtRun:
    """``dbt <args>`` on a project under ``folder`` of ``under`` (the work directory by
    default): the bundled project, or one made of ``models`` (name -> SQL, materialized
    as tables), with the plugin's profile. ``watchdog()`` makes the ``stop_when(lines so
    far, seconds since start)`` that may stop dbt early with a reason (a fresh one per
    attempt); ``urgent`` as for :func:`dbt_process`."""
    root = (ctx.workdir if under is None else under) / folder
    project = root / "project"
    _write_project(project, models, "floe_conformance_" + folder.replace("-", "_"))
    (root / "profiles.yml").write_text(
        yaml.safe_dump(
            {PROFILE_NAME: {"target": TARGET, "outputs": {TARGET: profile}}}, sort_keys=True
        ),
        encoding="utf-8",
    )
    exported, unset = build_env(profile, config)
    if unset:
        raise CheckFailed(
            _missing_env_message(unset, config),
            example=mask(config),
            details={"missing_env_vars": unset, "exported_env_vars": sorted(exported)},
        )
    command = [
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(root),
        "--target",
        TARGET,
    ]
    if deadline_s is None:  # short of the check's own limit, so dbt's output is kept
        deadline_s = max(ctx.check_timeout_s, DBT_CHECK_TIMEOUT_S) - 15.0
    code, output, stopped = dbt_process(
        ctx,
        command,
        cwd=project,
        env=exported,
        deadline_s=deadline_s,
        watchdog=watchdog,
        urgent=urgent,
    )
    run = DbtRun(project, code, str(redacted(output, config)), stopped=stopped)
    run.log_note = _keep_dbt_log(project, config, log_name, failed=code != 0)
    run_results = project / "target" / "run_results.json"
    if run_results.exists() and stopped is None:
        data = json.loads(run_results.read_text(encoding="utf-8"))
        run.results = [r for r in data.get("results", []) if isinstance(r, dict)]
    return run
