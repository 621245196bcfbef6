"""Checks: validate_connection against the live target (extended level).

The core connection checks judge what a health check says; these judge whether it
is true. Each runs the plugin's health check against the live target
(:func:`~floe_compute_kit.conformance._live.live_config`) and changes one thing the
plugin cannot fake: a wrong credential, a loopback proxy that delays, refuses, resets
or blackholes, a catalogue listed by dbt's own adapter before and after. A check that
needs the engine first proves the plugin touched it (a connection through the proxy,
a file the kernel saw opened), so a health check that never connects cannot pass
vacuously; where the kit cannot see either, the check is not applicable and says why.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, SecretStr, ValidationError

from floe_compute_kit.conformance._check import (
    CheckContext,
    CheckFailed,
    CheckUnsupported,
    check,
)
from floe_compute_kit.conformance._dbt_catalog import Catalog, list_catalog
from floe_compute_kit.conformance._file_watch import FileEvents, watch
from floe_compute_kit.conformance._invoke import PluginRaised, TimedCall, call
from floe_compute_kit.conformance._lanes import beside_dir, quiet_window
from floe_compute_kit.conformance._live import live_config
from floe_compute_kit.conformance._proxy import Fault, FaultProxy
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance.checks._dbt import build_env, dbt_process, require_adapter
from floe_compute_kit.conformance.checks._support import mask, walk_strings
from floe_compute_kit.conformance.checks.connection import (
    MIN_MESSAGE_LEN,
    _standard_configs,
    as_result,
    fresh_call,
    parsed,
    probe,
)
from floe_compute_kit.conformance.engines import Engine, engine_for

__all__ = ["DELAY_S", "FAULTS", "REPEATS"]

METHOD: Final = "validate_connection"
#: the delay the proxy adds before it forwards a connection
DELAY_S: Final = 0.3
#: the faults a host:port target is put behind, one call each
FAULTS: Final = (Fault.REFUSE, Fault.RESET, Fault.BLACKHOLE)
#: validate_connection calls between the two catalogue listings
REPEATS: Final = 2
_AUTH_WORDS: Final = re.compile(r"authenticat|password|credential|login|unauthori[sz]ed", re.I)
_LIVE: Final = "live.config"
READ_ONLY_ID: Final = "live.read_only"
_HOOK: Final = "conformance_integration_config(workdir)"
_NO_HOST_PORT: Final = "the live target is not a host:port target (no `host` and `port` fields)"


# --- the live target ------------------------------------------------------------------
def _live(ctx: CheckContext) -> Any:
    """The live config, once per run; a plugin hook that fails names itself."""
    if _LIVE not in ctx.extra:
        try:
            ctx.extra[_LIVE] = live_config(ctx)
        except PluginRaised as exc:
            raise CheckFailed(
                f"the plugin's {_HOOK} hook, which names the live target, raised: "
                f"{exc.error}; fix it (or pass a target to the kit) to reach the extended level"
            ) from None
        except (ValueError, TypeError) as exc:
            raise CheckFailed(
                f"the live target config is not valid for the plugin's model ({exc}); return "
                f"a valid config from {_HOOK}"
            ) from None
    return ctx.extra[_LIVE]


def _with(config: Any, changes: dict[str, Any]) -> Any:
    """``config`` with ``changes``, validated by the plugin's own model."""
    try:
        return type(config).model_validate({**config.model_dump(), **changes})
    except ValidationError as exc:
        raise CheckFailed(
            f"the plugin's config model rejects the live config with {sorted(changes)} "
            f"changed ({str(exc).splitlines()[0]}); the live checks cannot be run",
            example=mask(config),
        ) from None


def _host_port(config: Any) -> tuple[str, int] | None:
    """``(host, port)`` for configs with typed ``host`` and ``port`` fields."""
    fields = getattr(type(config), "model_fields", {})
    if "host" not in fields or "port" not in fields:
        return None
    host, port = getattr(config, "host", None), getattr(config, "port", None)
    if isinstance(host, str) and host and isinstance(port, int) and not isinstance(port, bool):
        return host, port
    return None


def _not_host_port(what: str) -> CheckUnsupported:
    return CheckUnsupported(
        f"the live target is not a host:port target (its config has no `host` and `port` "
        f"fields), so there is no TCP connection to put a proxy in front of; {what} applies "
        "to networked plugins only"
    )


def _answer(timed: TimedCall, config: Any, when: str) -> Any:
    """The ConnectionResult of ``timed``; CheckFailed when it hung or raised."""
    if timed.timed_out:
        raise CheckFailed(
            f"{METHOD} did not return within the {timed.wall_ms / 1000:.1f} s it was given "
            f"{when}; it must give up and report UNHEALTHY within the budget",
            example=mask(config),
        )
    if timed.error is not None:
        timed.error.example = mask(config)
        raise timed.error
    return as_result(timed.value)


def _healthy_live(ctx: CheckContext, what: str) -> Any:
    """The live config, after proving the plugin reports it usable (else ``what`` would
    prove nothing)."""
    config = _live(ctx)
    result = _answer(probe(ctx, config), config, "against the live target")
    if result.status.value == "unhealthy":
        raise CheckFailed(
            f"{METHOD} reports the live target UNHEALTHY ({result.message!r}), so {what} "
            f"cannot be judged; give the kit a reachable target ({_HOOK})",
            example=mask(config),
        )
    return config


# --- read-only (first: a later check's call could create what this one looks for) ------
def _has_file_targets(engine: Engine) -> bool:
    return type(engine).seed_file_target is not Engine.seed_file_target


def _watched(ctx: CheckContext, config: Any) -> list[Path]:
    """The work directory, and the folder of every absolute path named by a config value
    (by value, never by field name)."""
    roots = {ctx.workdir}
    data = config.model_dump(mode="json") if isinstance(config, BaseModel) else {}
    for text in walk_strings(data):
        if text.startswith("/") and len(text) < 4096:
            path = Path(text)
            with contextlib.suppress(OSError):
                if path.is_relative_to(ctx.workdir):
                    # a target the kit chose under its work dir: dbt creates the file, not
                    # its folder
                    path.parent.mkdir(parents=True, exist_ok=True)
                folder = path if path.is_dir() else path.parent
                if folder.is_dir() and folder != Path("/"):
                    roots.add(folder)
    return sorted(roots)


def _listing(
    ctx: CheckContext, profile: dict[str, Any], env: dict[str, str]
) -> tuple[Catalog | None, str]:
    root = ctx.workdir / "live_read_only"
    root.mkdir(parents=True, exist_ok=True)
    return list_catalog(
        lambda args, cwd, extra, limit: dbt_process(
            ctx, args, cwd=cwd, env=extra, deadline_s=limit
        ),
        profile,
        env,
        root,
        timeout_s=max(30.0, ctx.check_timeout_s / 3),
    )


def _dbt_said(output: str) -> str:
    return "\n".join(output.strip().splitlines()[-15:])


def _calls(ctx: CheckContext, config: Any, roots: list[Path]) -> tuple[FileEvents, int]:
    """REPEATS health checks, watched: the file events, and the connections the proxy saw.

    In a quiet window: this check starts with the run, and no other check may touch a
    file while the watch is open."""
    try:
        with quiet_window(ctx, READ_ONLY_ID):
            return _watched_calls(ctx, config, roots)
    except TimeoutError as exc:
        raise RuntimeError(
            f"the kit found no moment when no other check was running to watch the health "
            f"check in ({exc})"
        ) from None


def _watched_calls(ctx: CheckContext, config: Any, roots: list[Path]) -> tuple[FileEvents, int]:
    upstream = _host_port(config)
    events = FileEvents()
    connections = 0
    for _ in range(REPEATS):
        with contextlib.ExitStack() as stack:
            target = config
            proxy = None
            if upstream is not None:
                target, proxy = stack.enter_context(_behind(config, upstream, Fault.DELAY))
            # what runs beside the window (dbt, a catalog) keeps its files out of sight
            seen = stack.enter_context(watch(roots, exclude=[beside_dir(ctx)]))
            timed = fresh_call(ctx, target)
        if proxy is not None:
            connections += proxy.connections
        for mine, theirs in (
            (events.opened, seen.opened),
            (events.created, seen.created),
            (events.written, seen.written),
            (events.deleted, seen.deleted),
        ):
            mine.update(theirs)
        result = _answer(timed, target, "against the live target")
        if result.status.value == "unhealthy":
            raise CheckFailed(
                f"{METHOD} reports the live target UNHEALTHY ({result.message!r}) although "
                "dbt has just opened it, so whether it leaves the target unchanged cannot be "
                f"judged; give the kit a target the health check can reach ({_HOOK})",
                example=mask(config),
            )
    return events, connections


def _require_touched(config: Any, engine: Engine, opened: list[str], connections: int) -> None:
    """CheckFailed (or not applicable) unless the health check reached the target."""
    if _host_port(config) is not None:
        if connections == 0:
            raise CheckFailed(
                f"{METHOD} never connected to the live target (a proxy in front of it saw no "
                "connection), so it proves nothing about it: a health check must reach the "
                "engine",
                example=mask(config),
            )
    elif not opened:
        if _has_file_targets(engine):
            raise CheckFailed(
                f"{METHOD} opened no file of the live target (the kernel saw none opened), so "
                "it proves nothing about it: a health check must open the target",
                example=mask(config),
            )
        raise CheckUnsupported(
            "the live target is neither a host:port target nor a file the kit saw opened, "
            "so the kit cannot tell whether the health check reached it"
        )


@check(
    READ_ONLY_ID,
    method=METHOD,
    requirements=("FR-018", "KIT-210", "KIT-214"),
    not_applicable_when="the kit can see neither a connection nor a file the health check "
    "opened (or cannot watch files on this system)",
    wording="Repeated validate_connection calls MUST leave the live target as they found it: "
    "dbt's adapter lists the same schemas and relations, no file is created, written or "
    "left locked, and dbt can still take the target afterwards.",
    level=Level.EXTENDED,
    # first on the live target, from the run's start: the others wait for it
    lane="live-target",
)
def live_target_unchanged(ctx: CheckContext) -> None:
    config = _live(ctx)
    profile = call(ctx.plugin, "generate_dbt_profile", config)
    if not isinstance(profile, dict) or not isinstance(profile.get("type"), str):
        raise CheckFailed("generate_dbt_profile returned no dict with a string 'type'")
    if _host_port(config) is None and not _has_file_targets(engine_for(profile["type"])):
        raise CheckUnsupported(
            f"the live target is neither a host:port target nor a file target of an engine "
            f"the kit knows (profile type {profile['type']!r}), so the kit cannot see what "
            "the health check touches"
        )
    require_adapter(ctx, profile["type"])
    env, missing = build_env(profile, config)
    if missing:
        raise CheckFailed(
            f"the profile reads {', '.join(missing)}, which no credential of the live config "
            "provides; dbt cannot list the target",
            example=mask(config),
        )
    roots = _watched(ctx, config)
    before, output = _listing(ctx, profile, env)
    if before is None:
        raise CheckFailed(
            "dbt could not list the live target's schemas and relations before the health "
            f"checks (`dbt run-operation` failed); dbt said:\n{_dbt_said(output)}",
            example=mask(config),
        )
    try:
        events, connections = _calls(ctx, config, roots)
    except OSError as exc:
        raise CheckUnsupported(
            f"the kit cannot watch files here ({exc}), so it cannot tell what the health "
            "check touched"
        ) from None
    ours = ctx.workdir / "live_read_only"
    changed = sorted(p for p in events.changed if not Path(p).is_relative_to(ours))
    if changed:
        raise CheckFailed(
            f"{METHOD} created, wrote or deleted files: {', '.join(changed[:5])}; a health "
            "check must open the target read-only",
            example=mask(config),
        )
    opened = sorted(p for p in events.opened if not Path(p).is_relative_to(ours))
    engine = engine_for(profile["type"])
    _require_touched(config, engine, opened, connections)
    after, output = _listing(ctx, profile, env)
    if after is None:
        for path in opened:
            problem = engine.write_lock_problem(Path(path)) if Path(path).is_file() else None
            if problem is not None:
                raise CheckFailed(
                    f"after {METHOD} the file it opened ({path}) cannot be opened for "
                    f"writing: it is still locked or held open ({problem}); close every "
                    "connection before returning",
                    example=mask(config),
                )
        raise CheckFailed(
            f"after {REPEATS} {METHOD} calls dbt can no longer take the live target "
            f"(`dbt run-operation` failed); dbt said:\n{_dbt_said(output)}",
            example=mask(config),
        )
    differences = before.differences(after)
    if differences:
        raise CheckFailed(
            f"{METHOD} changed the live target: {'; '.join(differences[:5])}; a health check "
            "must never create, alter or drop anything",
            example=mask(config),
            details={"differences": differences},
        )


# --- DEGRADED carries a warning ---------------------------------------------------------
@check(
    "live.degraded_warning",
    method=METHOD,
    requirements=("FR-019", "US6-AS1", "KIT-213"),
    wording="A DEGRADED result MUST carry at least one warning saying what is degraded.",
    level=Level.EXTENDED,
    after=(READ_ONLY_ID,),
)
def degraded_has_warning(ctx: CheckContext) -> None:
    configs = _standard_configs(ctx)
    with contextlib.suppress(CheckFailed):  # the other live checks report a bad target
        configs.append(_live(ctx))
    for config in configs:
        result = probe(ctx, config)
        value = None if result.timed_out or result.error else parsed(result.value)
        if value is None or value.status.value != "degraded":
            continue
        if not [w for w in value.warnings if w.strip()]:
            raise CheckFailed(
                f"{METHOD} returned DEGRADED with no warning (message {value.message!r}); "
                "a DEGRADED result must say in `warnings` what is degraded",
                example=mask(config),
            )


# --- authentication ---------------------------------------------------------------------
def _credentials(config: Any) -> list[str]:
    """Names of the credentials in ``config``: ``credentials`` entries, then secret fields."""
    names = [f"credentials.{k}" for k in sorted(getattr(config, "credentials", None) or {})]
    for name in getattr(type(config), "model_fields", {}):
        if isinstance(getattr(config, name, None), SecretStr):
            names.append(name)
    return names


def _wrong(ctx: CheckContext, name: str) -> str:
    digest = hashlib.sha256(f"{ctx.seed}:{name}".encode()).hexdigest()[:16]
    return f"floe-wrong-{digest}"


def _with_credential(config: Any, name: str, value: str) -> Any:
    if name.startswith("credentials."):
        key = name.partition(".")[2]
        return _with(config, {"credentials": {**(config.credentials or {}), key: value}})
    return _with(config, {name: value})


@check(
    "live.authentication",
    method=METHOD,
    requirements=("FR-018", "FR-019", "KIT-211"),
    not_applicable_when="the live config carries no credential",
    wording="With any one credential of the live config wrong, validate_connection MUST "
    "return UNHEALTHY with a message that says authentication failed and does not repeat "
    "the wrong value.",
    level=Level.EXTENDED,
    after=(READ_ONLY_ID,),
)
def wrong_credential_is_unhealthy(ctx: CheckContext) -> None:
    names = _credentials(_live(ctx))
    if not names:
        raise CheckUnsupported(
            "the live config carries no credential (no `credentials` entry and no secret "
            "field), so there is none to get wrong"
        )
    config = _healthy_live(ctx, "a wrong credential")
    for name in names:
        wrong = _wrong(ctx, name)
        bad = _with_credential(config, name, wrong)
        result = _answer(fresh_call(ctx, bad), bad, f"with a wrong {name}")
        text = " ".join([result.message, *result.warnings])
        if result.status.value != "unhealthy":
            raise CheckFailed(
                f"with a wrong {name} the live target was reported {result.status.value.upper()}"
                f" ({result.message!r}): a health check must authenticate, and report a "
                "failed authentication as UNHEALTHY",
                example=mask(bad),
            )
        if wrong in text:
            raise CheckFailed(
                f"with a wrong {name} the result repeats the wrong value; never echo a "
                "credential, right or wrong",
                example=mask(bad),
            )
        if not _AUTH_WORDS.search(text):
            raise CheckFailed(
                f"with a wrong {name} the result is UNHEALTHY but its message does not say "
                f"authentication failed ({result.message!r}); name the cause (authentication, "
                "password, credentials) so the operator knows what to fix",
                example=mask(bad),
            )


# --- latency and faults -------------------------------------------------------------------
@contextlib.contextmanager
def _behind(
    config: Any, upstream: tuple[str, int], fault: Fault, delay_s: float = 0.0
) -> Iterator[tuple[Any, FaultProxy]]:
    """``config`` pointed at a proxy in front of ``upstream`` that applies ``fault``."""
    with FaultProxy(upstream, fault, delay_s=delay_s) as proxy:
        yield _with(config, {"host": proxy.host, "port": proxy.port}), proxy


def _upstream(ctx: CheckContext, what: str) -> tuple[Any, tuple[str, int]]:
    config = _live(ctx)
    upstream = _host_port(config)
    if upstream is None:
        raise _not_host_port(what)
    try:
        FaultProxy(upstream, Fault.DELAY)
    except ValueError as exc:
        raise CheckFailed(f"the live target is not on this machine: {exc}") from None
    return _healthy_live(ctx, what), upstream


@check(
    "live.latency",
    method=METHOD,
    requirements=("FR-019", "US6-AS1", "KIT-212", "KIT-214"),
    not_applicable_when=_NO_HOST_PORT,
    wording="Through a loopback proxy that delays each connection, validate_connection MUST "
    "connect (the proxy sees it) and report a latency_ms of at least the added delay.",
    level=Level.EXTENDED,
    after=(READ_ONLY_ID,),
)
def latency_reflects_delay(ctx: CheckContext) -> None:
    config, upstream = _upstream(ctx, "the latency check")
    with _behind(config, upstream, Fault.DELAY, DELAY_S) as (slow, proxy):
        result = _answer(
            fresh_call(ctx, slow), slow, f"behind a proxy adding {DELAY_S * 1000:g} ms"
        )
        connections = proxy.connections
    if connections == 0:
        raise CheckFailed(
            f"{METHOD} never connected to the target (a proxy in front of it saw no "
            "connection): a health check must reach the engine, not assume it is there",
            example=mask(slow),
        )
    if result.status.value == "unhealthy":
        raise CheckFailed(
            f"behind a proxy that only adds {DELAY_S * 1000:g} ms the live target was reported "
            f"UNHEALTHY ({result.message!r}); a slow answer is not a failure",
            example=mask(slow),
        )
    if result.latency_ms < DELAY_S * 1000:
        raise CheckFailed(
            f"latency_ms={result.latency_ms:g}, but the proxy delayed the connection by "
            f"{DELAY_S * 1000:g} ms: latency_ms must be the measured time of the check",
            example=mask(slow),
            details={"delay_ms": DELAY_S * 1000, "latency_ms": result.latency_ms},
        )


_FAULT_WORDS: Final = {
    Fault.REFUSE: "refuses the connection",
    Fault.RESET: "resets the connection (RST)",
    Fault.BLACKHOLE: "accepts the connection and never answers (blackhole)",
}


@check(
    "live.faults",
    method=METHOD,
    requirements=("FR-018", "FR-019", "KIT-212"),
    not_applicable_when=_NO_HOST_PORT,
    wording="When a proxy in front of the target refuses, resets or blackholes the "
    "connection, validate_connection MUST return UNHEALTHY with an actionable message "
    "within the budget.",
    level=Level.EXTENDED,
    after=(READ_ONLY_ID,),
)
def faults_are_unhealthy(ctx: CheckContext) -> None:
    config, upstream = _upstream(ctx, "the fault check")
    for fault in FAULTS:
        with _behind(config, upstream, fault) as (faulty, _):
            when = f"when the target {_FAULT_WORDS[fault]}"
            result = _answer(fresh_call(ctx, faulty), faulty, when)
        if result.status.value != "unhealthy":
            raise CheckFailed(
                f"{when}, {METHOD} reported {result.status.value.upper()} "
                f"({result.message!r}); it must be UNHEALTHY",
                example=mask(faulty),
            )
        if len(result.message.strip()) < MIN_MESSAGE_LEN:
            raise CheckFailed(
                f"{when}, the UNHEALTHY result has no actionable message ({result.message!r})",
                example=mask(faulty),
            )
