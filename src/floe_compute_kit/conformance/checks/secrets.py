"""Checks: canary secrets never leave the plugin (KIT-220..KIT-224).

The kit puts a distinct canary into every credential of a few configs, calls the
plugin with them once per suite run (profile, health check, catalog SQL), and looks
for every canary, plain and encoded (:mod:`.._leaks`), in everything the calls made
visible: the health result, exceptions and tracebacks, log records, span and metric
attributes, stdout and stderr. Each channel is its own check, so a leak names where
it happened. In the plugin host all of them are seen; in-process, spans, metrics and
output below Python are not, and the checks say so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, get_args, get_origin

from pydantic import BaseModel, SecretStr, ValidationError

from floe_compute_kit.conformance._check import CheckContext, CheckFailed, CheckUnsupported, check
from floe_compute_kit.conformance._invoke import PluginRaised, TimedCall, call
from floe_compute_kit.conformance._leaks import Leak, canary, find_leaks
from floe_compute_kit.conformance.checks._support import (
    example_configs,
    generated_configs,
    mask,
)

__all__ = ["canary_configs", "scan_build_artefacts"]

_OBSERVED: Final = "secrets.observed"
_CANARIES: Final = "secrets.canary_configs"
#: How many configs carry canaries: every example with a secret, then generated ones.
MAX_CONFIGS: Final = 4
#: How many values of one Literal field are tried as bases.
MAX_KINDS: Final = 8
#: How many generated configs are tried as bases for the canary configs.
MAX_BASES: Final = 4
#: Credential names tried when the model does not list them (a ``dict[str, SecretStr]``).
COMMON_CREDENTIALS: Final = (
    "password",
    "token",
    "secret",
    "api_key",
    "client_id",
    "client_secret",
    "key_id",
    "access_key",
    "secret_key",
    "session_token",
    "private_key",
)
#: Files under logs/ and target/ larger than this are read only up to it.
MAX_ARTEFACT_BYTES: Final = 8 * 1024 * 1024


def _swap(value: Any, path: str, found: dict[str, str], alnum: bool) -> Any:
    if isinstance(value, SecretStr):
        token = canary(len(found), salt=f"{path}:{id(found)}", alnum=alnum)
        found[path] = token
        return SecretStr(token)
    if isinstance(value, dict):
        return {k: _swap(v, f"{path}.{k}", found, alnum) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_swap(v, f"{path}[{i}]", found, alnum) for i, v in enumerate(value)]
    return value


def with_canaries(config: Any) -> tuple[Any, dict[str, str]] | None:
    """``config`` with a distinct canary in every secret, and credential name -> canary.

    None when the config holds no secret, or its model accepts no canary.
    """
    if not isinstance(config, BaseModel):
        return None
    data = config.model_dump()
    for alnum in (False, True):  # some models refuse '/', '+' or '%' in a secret
        found: dict[str, str] = {}
        swapped = {k: _swap(v, k, found, alnum) for k, v in data.items()}
        if not found:
            return None
        try:
            return type(config).model_validate(swapped), found
        except ValidationError:
            continue
    return None


def canary_configs(ctx: CheckContext) -> list[tuple[Any, dict[str, str]]]:
    """Up to :data:`MAX_CONFIGS` configs with a canary in every credential.

    Bases are the examples, then generated configs; each gets as many credentials as its
    model accepts (added one name at a time), so the canaries reach every credential the
    plugin can be given, not only the ones an example happens to set.
    """
    if _CANARIES not in ctx.extra:
        generated = generated_configs(ctx, ctx.max_examples)
        examples = example_configs(ctx)
        bases = [*examples, *_kinds(examples[:1] or generated[:1]), *generated[:MAX_BASES]]
        filled = [_with_credentials(ctx, base) for base in bases]
        # the configs with the most secrets first: they test the most at once
        filled.sort(key=lambda c: -len(_secret_names(c)))
        out: list[tuple[Any, dict[str, str]]] = []
        seen: set[str] = set()
        for config in filled:
            marked = with_canaries(config)
            if marked is None or len(out) >= MAX_CONFIGS:
                continue
            shape = ",".join(sorted(marked[1]))
            if shape in seen and len(seen) > 1:
                continue  # the same credentials again prove little
            seen.add(shape)
            out.append(marked)
        ctx.extra[_CANARIES] = out
    result: list[tuple[Any, dict[str, str]]] = ctx.extra[_CANARIES]
    return result


def _credential_names(model: Any) -> list[str]:
    """Names a ``credentials`` dict may hold: the key type's Literal values, else common ones."""
    info = getattr(model, "model_fields", {}).get("credentials")
    if info is None:
        return []
    from floe_compute_kit.conformance._fields import _NONE, _unwrap  # noqa: PLC0415

    tp, _ = _unwrap(info.annotation, _NONE)
    args = get_args(tp)
    if args:
        key, _ = _unwrap(args[0], _NONE)
        if get_origin(key) is Literal:
            return [str(a) for a in get_args(key)]
    return list(COMMON_CREDENTIALS)


def _kinds(configs: list[Any]) -> list[Any]:
    """``configs[0]`` once per value of each Literal field other than ``plugin``.

    Which credentials a model accepts often depends on a kind field (DuckDB's
    ``secret_type``); one variant per kind lets every credential name be reached.
    """
    if not configs or not isinstance(configs[0], BaseModel):
        return []
    from floe_compute_kit.conformance._fields import _NONE, _unwrap  # noqa: PLC0415

    base = configs[0]
    out: list[Any] = []
    for name, info in type(base).model_fields.items():
        tp, _ = _unwrap(info.annotation, _NONE)
        if name == "plugin" or get_origin(tp) is not Literal:
            continue
        for value in get_args(tp)[:MAX_KINDS]:
            if value == getattr(base, name):
                continue
            try:
                out.append(type(base).model_validate({**base.model_dump(), name: value}))
            except ValidationError:
                continue
    return out


def _with_credentials(ctx: CheckContext, base: Any) -> Any:
    """``base`` with every credential name its model accepts added (a placeholder value).

    Which names a model takes can depend on the others (and on other fields), so the
    names are added one at a time, each kept if the model accepts it. The verdicts on
    every name alone and on all of them at once are fetched first in one trip (a plugin
    host answers a dozen configs as fast as one): when all are accepted, or the ones
    accepted alone are accepted together, that is the answer without a trip per name.
    """
    from floe_compute_kit.conformance.host._mirror import prefetch_validations  # noqa: PLC0415

    names = _credential_names(type(base))
    if not names or not isinstance(base, BaseModel):
        return base
    model = type(base)
    data = base.model_dump()
    credentials = dict(data.get("credentials") or {})
    pending = [name for name in names if name not in credentials]
    value = {
        name: SecretStr(canary(len(credentials) + i, salt="fill")) for i, name in enumerate(pending)
    }

    def trial(added: list[str]) -> dict[str, Any]:
        return {**data, "credentials": {**credentials, **{n: value[n] for n in added}}}

    alone = [trial([name]) for name in pending]
    prefetch_validations(model, [trial(pending), *alone])
    accepted = [name for name, one in zip(pending, alone, strict=True) if _accepts(model, one)]
    for added in (pending, accepted):
        try:
            return model.model_validate(trial(added)) if added else base
        except ValidationError:
            continue
    best, kept = base, list[str]()  # the names depend on each other: one at a time
    for name in pending:
        try:
            best = model.model_validate(trial([*kept, name]))
        except ValidationError:
            continue
        kept.append(name)
    return best


def _accepts(model: Any, data: dict[str, Any]) -> bool:
    try:
        model.model_validate(data)
    except ValidationError:
        return False
    return True


def _secret_names(config: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    if isinstance(config, BaseModel):
        _swap(config.model_dump(), "", found, alnum=True)
    return found


@dataclass
class Observation:
    """What the plugin made visible while it held canaries, by channel."""

    secrets: dict[str, str] = field(default_factory=dict)
    texts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)

    def add(self, channel: str, where: str, text: Any) -> None:
        if isinstance(text, str) and text:
            self.texts.setdefault(channel, []).append((where, text))

    def leaks(self, channel: str) -> list[Leak]:
        return find_leaks(self.texts.get(channel, []), self.secrets)


def _calls(ctx: CheckContext, config: Any, index: int, seen: Observation) -> None:
    """The canary calls with one config, one after another (in-process)."""
    _quick_calls(ctx, config, index, seen)
    _health_seen(seen, index, _health_calls(ctx, [config])[0])


def _quick_calls(ctx: CheckContext, config: Any, index: int, seen: Observation) -> None:
    from floe_compute_kit.conformance.checks.catalog import benign_catalog  # noqa: PLC0415

    label = f"canary config {index}"
    for method, args in (
        ("generate_dbt_profile", (config,)),
        ("get_catalog_attachment_sql", (_canary_catalog(benign_catalog(), seen),)),
    ):
        try:
            call(ctx.plugin, method, *args)
        except PluginRaised as exc:
            _raised(seen, f"{method}({label})", exc)


def _health_calls(ctx: CheckContext, configs: list[Any]) -> list[TimedCall]:
    """A fresh health call per config, concurrent in the host.

    Each config gets a file target of its own under the work dir (what is judged is
    where the canaries go, not the target), so no two calls share a file.
    """
    from floe_compute_kit.conformance.checks import connection  # noqa: PLC0415

    moved = []
    for index, config in enumerate(configs):
        target = connection._relocate(ctx, config)
        files = connection._file_targets(target)
        folder = ctx.workdir / "canary" / str(index)
        own = connection._replaced(
            target, {k: str(folder / Path(v).name) for k, v in files.items()}
        )
        moved.append(target if own is None else own)
    return connection.fresh_many(ctx, moved)


def _health_seen(seen: Observation, index: int, result: TimedCall) -> None:
    from floe_compute_kit.conformance.checks.connection import parsed  # noqa: PLC0415

    where = f"validate_connection(canary config {index})"
    if result.error is not None:
        _raised(seen, where, result.error)
    elif not result.timed_out:
        value = parsed(result.value)
        if value is None:
            seen.add("result", f"{where}'s result", repr(result.value))
        else:
            seen.add("result", f"{where}'s message", value.message)
            for i, warning in enumerate(value.warnings):
                seen.add("result", f"{where}'s warnings[{i}]", warning)


def _canary_catalog(catalog: Any, seen: Observation) -> Any:
    token = canary(len(seen.secrets), salt="catalog")
    seen.secrets["catalog credentials.token"] = token
    return catalog.model_copy(update={"credentials": {"token": SecretStr(token)}})


def _raised(seen: Observation, where: str, exc: PluginRaised) -> None:
    try:
        text = str(exc.error)
    except Exception:  # an exception whose str() raises
        text = ""
    seen.add("exceptions", f"the exception {where} raised", text)
    seen.add("exceptions", f"the traceback of {where}", exc.traceback)
    for note in getattr(exc.error, "__notes__", ()) or ():
        seen.add("exceptions", f"a note on the exception {where} raised", str(note))


def observe(ctx: CheckContext) -> Observation:
    """The canary calls, made once per suite run and shared by the checks below."""
    if _OBSERVED in ctx.extra:
        observed: Observation = ctx.extra[_OBSERVED]
        return observed
    seen = Observation()
    host = getattr(ctx.plugin, "floe_host", None)
    configs = canary_configs(ctx)
    for index, (_, secrets) in enumerate(configs):
        seen.secrets.update({f"canary config {index} {k}": v for k, v in secrets.items()})
    if host is not None:
        host.captured.clear()
        for index, (config, _) in enumerate(configs):
            _quick_calls(ctx, config, index, seen)
        # The health calls are independent (a canary config each): run them side by side
        # in sibling hosts, whose logs, spans, metrics and output land in host.captured.
        for index, result in enumerate(_health_calls(ctx, [c for c, _ in configs])):
            _health_seen(seen, index, result)
        for method, captured in list(host.captured):
            _host_texts(seen, method, captured)
        seen.add("output", "the plugin's stdout/stderr", _settled_output(host))
    else:
        from floe_compute_kit.conformance.host._capture import capture_in_process  # noqa: PLC0415

        for index, (config, _) in enumerate(configs):
            with capture_in_process() as captured:
                _calls(ctx, config, index, seen)
            for i, text in enumerate(captured.get("logs", ())):
                seen.add("logs", f"log record {i} during canary config {index}", text)
            seen.add("output", f"stdout/stderr during canary config {index}", captured["output"])
        seen.unsupported["telemetry"] = (
            "in-process runs do not install the kit's OpenTelemetry providers (the process's "
            "global ones are the caller's); run in the plugin host to have spans and "
            "metrics scanned"
        )
    ctx.extra[_OBSERVED] = seen
    return seen


def _host_texts(seen: Observation, method: str, captured: dict[str, Any]) -> None:
    for i, text in enumerate(captured.get("logs", ())):
        seen.add("logs", f"a log record emitted in {method} (#{i})", str(text))
    for i, text in enumerate(captured.get("spans", ())):
        seen.add("telemetry", f"a span attribute recorded in {method} (span #{i})", str(text))
    for i, text in enumerate(captured.get("metrics", ())):
        seen.add("telemetry", f"a metric attribute recorded in {method} (#{i})", str(text))
    if captured.get("telemetry"):
        seen.unsupported["telemetry"] = str(captured["telemetry"])


def _settled_output(host: Any) -> str:
    """The host's output tail once its pipes have drained (the host flushes before replying)."""
    text = host.output_tail()
    for _ in range(10):
        time.sleep(0.02)
        again = host.output_tail()
        if again == text:
            break
        text = again
    return str(text)


def _judge(ctx: CheckContext, channel: str, what: str) -> None:
    seen = observe(ctx)
    if not seen.secrets:
        raise CheckUnsupported(
            "no config the plugin accepts holds a secret (no SecretStr field or credential), "
            "so there is nothing to leak"
        )
    leaks = seen.leaks(channel)
    if leaks:
        shown = "; ".join(str(leak) for leak in leaks[:5])
        raise CheckFailed(
            f"a credential leaked through {what}: {shown}. Never put a credential (in plain "
            "text, base64, URL-encoding or hex) there; name the credential, not its value",
            details={"leaks": [str(leak) for leak in leaks], "channel": channel},
        )
    if channel in seen.unsupported:
        raise CheckUnsupported(seen.unsupported[channel])


_WORDING_TAIL: Final = (
    " (canaries in every credential, looked for in plain text, base64, URL-encoding and hex)."
)
#: One check per channel: (id, channel, where a leak is reported, wording, requirements).
CHANNELS: Final = (
    (
        "secrets.health_result",
        "result",
        "validate_connection's message or warnings",
        "The message and warnings of validate_connection MUST NOT contain a credential",
        ("KIT-220",),
    ),
    (
        "secrets.exceptions",
        "exceptions",
        "an exception's text or traceback",
        "The text, notes and traceback of an exception a plugin raises MUST NOT contain a "
        "credential",
        ("KIT-220",),
    ),
    (
        "secrets.logs",
        "logs",
        "a log record",
        "No log record a plugin emits (any logger, any level down to DEBUG) MUST contain a "
        "credential",
        ("KIT-220",),
    ),
    (
        "secrets.telemetry",
        "telemetry",
        "an OpenTelemetry span or metric attribute",
        "No OpenTelemetry span or metric attribute a plugin records MUST contain a credential",
        ("KIT-220",),
    ),
    (
        "secrets.output",
        "output",
        "the plugin's stdout or stderr",
        "Nothing a plugin writes to stdout or stderr MUST contain a credential",
        ("KIT-220",),
    ),
)


def _channel_check(check_id: str, channel: str, what: str) -> Any:
    def judge(ctx: CheckContext) -> None:
        _judge(ctx, channel, what)

    judge.__name__ = judge.__qualname__ = check_id.replace(".", "_")
    judge.__doc__ = f"Canaries never reach {what}."
    return judge


for _id, _channel, _what, _wording, _requirements in CHANNELS:
    check(
        _id,
        method="validate_connection",
        requirements=_requirements,
        wording=_wording + _WORDING_TAIL,
        not_applicable_when="the plugin's config model accepts no credential to plant a "
        "canary in, or (in-process) the channel cannot be watched",
    )(_channel_check(_id, _channel, _what))


def _env_refs(value: Any, credentials: set[str], into: dict[str, set[str]]) -> None:
    """env var name -> the credential names whose profile key reads it."""
    from floe_compute_kit.conformance.checks.profile import ENV_VAR_RE  # noqa: PLC0415

    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and str(key) in credentials:
                for match in ENV_VAR_RE.finditer(item):
                    into.setdefault(match["name"], set()).add(str(key))
            else:
                _env_refs(item, credentials, into)
    elif isinstance(value, list | tuple):
        for item in value:
            _env_refs(item, credentials, into)


@check(
    "secrets.distinct_env_vars",
    method="generate_dbt_profile",
    requirements=("KIT-221",),
    wording="Distinct credentials MUST be read from distinct environment variables: no env "
    "var reference in the profile serves two credentials.",
    not_applicable_when="the config has fewer than two credentials",
)
def distinct_env_vars(ctx: CheckContext) -> None:
    from floe_compute_kit.conformance.checks._dbt import credential_items  # noqa: PLC0415
    from floe_compute_kit.conformance.checks.profile import profile_of  # noqa: PLC0415

    judged = 0
    for config, _ in canary_configs(ctx):
        credentials = credential_items(config)
        if len(set(credentials.values())) < 2:
            continue
        refs: dict[str, set[str]] = {}
        _env_refs(profile_of(ctx, config), set(credentials), refs)
        if sum(len(keys) for keys in refs.values()) < 2:
            continue  # the profile reads fewer than two credentials by name: nothing to pair
        judged += 1
        shared = {name: sorted(keys) for name, keys in refs.items() if len(keys) > 1}
        if shared:
            name, keys = sorted(shared.items())[0]
            raise CheckFailed(
                f"the profile reads the credentials {', '.join(keys)} all from the one "
                f"environment variable {name}: each credential needs its own variable "
                "(e.g. FLOE_<ENGINE>_<CREDENTIAL>), or one value is used for all of them",
                example=mask(config),
                details={"shared_env_vars": shared},
            )
    if not judged:
        raise CheckUnsupported(
            "no config the plugin accepts gives a profile that reads two or more credentials "
            "from the environment"
        )


def scan_build_artefacts(project: Path, secrets: list[str]) -> None:
    """Fail when a secret (plain or encoded) is in a file under ``project``'s logs/ or target/.

    Called by ``integration.dbt_build`` after the build: dbt writes the rendered
    profile's effects (logs, manifests, compiled SQL) there, and a CI job keeps them.
    """
    wanted = {f"credential {i}": s for i, s in enumerate(secrets) if len(s) >= 6}
    if not wanted:
        return
    found: list[Leak] = []
    for folder in ("logs", "target"):
        root = project / folder
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            with path.open("rb") as handle:
                text = handle.read(MAX_ARTEFACT_BYTES).decode("utf-8", "replace")
            found += find_leaks([(str(path.relative_to(project)), text)], wanted)
    if found:
        raise CheckFailed(
            "a credential of the live config leaked into dbt's own files after `dbt build`: "
            + "; ".join(f"{leak.spelling} in {leak.where}" for leak in found[:5])
            + ". dbt keeps these files (CI uploads them); keep secrets out of model SQL, "
            "vars and logged messages",
            details={"leaks": [f"{leak.spelling} in {leak.where}" for leak in found]},
        )
