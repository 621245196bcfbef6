"""Checks: integration. A real ``dbt build`` with the profile the plugin generates.

Every other check judges the profile by reading it; this one hands it to dbt and
the plugin's own adapter, which is the only judge that counts in production. The
project is bundled with the kit (``conformance/dbt_project``: a seed, two models,
data tests, portable SQL) and copied into the check's work directory, so dbt's
``target/`` and ``logs/`` never land in the installed package.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from importlib import metadata as md
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from pydantic import BaseModel, SecretStr

from floe_compute_kit.conformance._check import CheckContext, CheckFailed, check
from floe_compute_kit.conformance._invoke import call
from floe_compute_kit.conformance._live import live_config
from floe_compute_kit.conformance._logs import KEEP_HINT, keep_log
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance.checks._support import mask, secret_values
from floe_compute_kit.conformance.checks.profile import ENV_VAR_RE
from floe_compute_kit.conformance.checks.secrets import scan_build_artefacts

__all__ = ["DBT_BUILD_ID", "EXPECTED_NODES", "build_env", "bundled_project", "integration_config"]

#: the old name of :func:`floe_compute_kit.conformance._live.live_config`
integration_config = live_config

DBT_BUILD_ID: Final = "integration.dbt_build"
#: resource type -> how many nodes of it the bundled project has; all must succeed.
EXPECTED_NODES: Final = {"seed": 1, "model": 2, "test": 7}
_TARGET: Final = "conformance"
_OUTPUT_TAIL: Final = 40
_DBT_LOG_NAME: Final = "integration.dbt_build-dbt.log"


def bundled_project() -> Path:
    """The directory of the dbt project shipped with the kit."""
    return Path(str(resources.files("floe_compute_kit.conformance").joinpath("dbt_project")))


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


def _require_adapter(ctx: CheckContext, profile_type: str) -> None:
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


def _dbt_command() -> list[str]:
    beside = Path(sys.executable).with_name("dbt")
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-m", "dbt.cli.main"]


def _redacted(value: Any, config: Any) -> Any:
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


def _tail(text: str, lines: int = _OUTPUT_TAIL) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(kept)


def _node_summary(run_results: Path) -> tuple[dict[str, int], list[str]]:
    """Successful nodes per resource type, and every node that did not succeed."""
    data = json.loads(run_results.read_text(encoding="utf-8"))
    ok: dict[str, int] = {}
    bad: list[str] = []
    for result in data.get("results", []):
        uid = str(result.get("unique_id", "?"))
        kind = uid.split(".", 1)[0]
        status = str(result.get("status"))
        if status in {"success", "pass"}:
            ok[kind] = ok.get(kind, 0) + 1
        else:
            bad.append(f"{uid}: {status}: {result.get('message')}")
    return ok, bad


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


def _credential_items(config: Any) -> dict[str, str]:
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
    credentials = _credential_items(config)
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
    keys = sorted(_credential_items(config))
    return (
        f"the profile reads the environment variable(s) {', '.join(missing)}, which no "
        f"credential of the config provides (credentials: {', '.join(keys) or 'none'}) and "
        f"the environment does not set, so `dbt build` would fail with the engine's own error; "
        f"give the config the credential(s) (the kit exports credential KEY as [PREFIX_]KEY "
        f"in upper case, e.g. password -> FLOE_MYDB_PASSWORD) or export the variable(s) "
        f"before the run"
    )


def _dbt_log(project: Path, config: Any, *, failed: bool) -> str:
    """Keep dbt's own log beside the run's logs; for a failure, the words naming it."""
    log = project / "logs" / "dbt.log"
    secrets = [s for s in secret_values(config) if s]
    if not failed:
        keep_log(log, _DBT_LOG_NAME, secrets=secrets)
        return ""
    kept = keep_log(log, _DBT_LOG_NAME, secrets=secrets)
    if kept is not None:
        return f"\ndbt's full log is kept at {kept}"
    return f"\ndbt's full log is removed with the work directory ({KEEP_HINT})"


@check(
    DBT_BUILD_ID,
    method="generate_dbt_profile",
    requirements=("KIT-009",),
    wording=(
        "A profile generated by the plugin MUST let `dbt build` of the kit's bundled project "
        "(a seed, two models, data tests) succeed with the plugin's own dbt adapter."
    ),
    level=Level.INTEGRATION,
    capability="dbt_build",
)
def dbt_build(ctx: CheckContext) -> None:
    config = live_config(ctx)
    profile = call(ctx.plugin, "generate_dbt_profile", config)
    if not isinstance(profile, dict) or not isinstance(profile.get("type"), str):
        raise CheckFailed(
            "generate_dbt_profile returned no dict with a string 'type'; dbt cannot use it",
            example=mask(config),
        )
    _require_adapter(ctx, profile["type"])

    root = ctx.workdir / "integration"
    project = root / "project"
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(bundled_project(), project)
    (root / "profiles.yml").write_text(
        yaml.safe_dump(
            {"floe_conformance": {"target": _TARGET, "outputs": {_TARGET: profile}}},
            sort_keys=True,
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
    env = {
        **os.environ,
        **exported,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
    }
    command = [
        *_dbt_command(),
        "build",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(root),
        "--target",
        _TARGET,
    ]
    timeout = max(30.0, ctx.check_timeout_s - 10.0)
    try:
        done = subprocess.run(  # noqa: S603 - a fixed dbt command line on files we wrote
            command,
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(
            f"`dbt build` did not finish within {timeout:g} s with the plugin's profile",
            example=mask(config),
            details={"profile": _redacted(profile, config)},
        ) from exc
    output = (done.stdout or "") + (done.stderr or "")
    output = _redacted(output, config)
    log_note = _dbt_log(project, config, failed=done.returncode != 0)
    if done.returncode != 0:
        raise CheckFailed(
            f"`dbt build` failed (exit {done.returncode}) with the plugin's profile "
            f"(type {profile['type']!r}); dbt said:\n{_tail(output)}{log_note}",
            example=mask(config),
            details={"profile": _redacted(profile, config), "dbt_output": _tail(output, 200)},
        )
    run_results = project / "target" / "run_results.json"
    if not run_results.exists():
        raise CheckFailed(
            "`dbt build` exited 0 but wrote no target/run_results.json; dbt said:\n"
            + _tail(output),
            example=mask(config),
        )
    scan_build_artefacts(project, [s for s in secret_values(config) if s])  # logs/, target/
    ok, bad = _node_summary(run_results)
    missing = {k: n for k, n in EXPECTED_NODES.items() if ok.get(k, 0) < n}
    if bad or missing:
        raise CheckFailed(
            "`dbt build` did not build every node of the bundled project: "
            + "; ".join(
                bad + [f"{k}: {ok.get(k, 0)} of {n} succeeded" for k, n in missing.items()]
            ),
            example=mask(config),
            details={"succeeded": ok},
        )
