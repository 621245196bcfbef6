"""Checks: generate_dbt_profile (KIT-001; no I/O FR-004a)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Final

from pydantic import SecretStr, ValidationError

from floe_compute_kit.conformance._adapter_judge import credentials_for, declared_keys, rejection
from floe_compute_kit.conformance._check import CheckContext, CheckFailed, check
from floe_compute_kit.conformance._invoke import call
from floe_compute_kit.conformance._lanes import always_beside, beside_dir, quiet_hold
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance.checks._support import (
    ahead,
    for_all,
    mask,
    no_io,
    prefetch_calls,
    screened_configs,
    secret_values,
    walk_strings,
)

METHOD: Final = "generate_dbt_profile"
ENV_VAR_RE: Final = re.compile(
    r"\{\{\s*env_var\(\s*['\"](?P<name>[^'\"]+)['\"]\s*(?:,\s*['\"](?P<default>[^'\"]*)['\"]\s*)?\)"
    r"\s*(?:\|\s*\w+\s*)*\}\}"
)
#: Secrets shorter than this could appear in a profile by coincidence ("1" in "threads: 1").
MIN_SECRET_LEN: Final = 6
_ADAPTERS: dict[str, Any] = {}
#: the module that judges profiles in a child of the dbt launcher
JUDGE: Final = "floe_compute_kit.conformance._adapter_judge"
DBT_SCHEMA: Final = "profile.dbt_schema"
#: how long that child may take (it imports nothing the launcher has not)
JUDGE_TIMEOUT_S: Final = 60.0


_PROFILES: Final = "profile.memo"
_PROFILES_KEEP: Final = 5_000


def _config_key(config: Any) -> str | None:
    """Equal configs (secrets included) give equal keys; None when it cannot tell."""
    from floe_compute_kit.conformance.host._wire import WireError, encode  # noqa: PLC0415

    try:
        return json.dumps([type(config).__qualname__, encode(config)], sort_keys=True)
    except (WireError, TypeError, ValueError, RecursionError):
        return None


def fresh_profile_of(ctx: CheckContext, config: Any) -> dict[str, Any]:
    """A new call for ``config``'s profile, where a new call is the point of the check."""
    profile = call(ctx.plugin, METHOD, config)
    if not isinstance(profile, dict):
        raise CheckFailed(f"{METHOD} MUST return a dict; got {type(profile).__name__}")
    return profile


def profile_of(ctx: CheckContext, config: Any) -> dict[str, Any]:
    """The plugin's profile for ``config``; anything but a dict fails the check.

    The read-only checks judge the same configs, so the first answer for a config is
    kept for the run (a copy goes out each time). A plugin that answers differently
    later is profile.deterministic's business, which compares fresh calls with it.
    """
    key = _config_key(config)
    memo: dict[str, dict[str, Any]] = ctx.extra.setdefault(_PROFILES, {})
    if key is not None and key in memo:
        return copy.deepcopy(memo[key])
    profile = fresh_profile_of(ctx, config)
    if key is not None and len(memo) < _PROFILES_KEEP:
        memo[key] = copy.deepcopy(profile)
    return profile


def prefetch_profiles(ctx: CheckContext, configs: list[Any]) -> None:
    """The profiles of ``configs`` that :func:`profile_of` does not hold yet, asked for
    in one trip (in a plugin host; one by one otherwise, as each is needed)."""
    memo: dict[str, dict[str, Any]] = ctx.extra.get(_PROFILES, {})
    todo: dict[str, Any] = {}
    for config in configs:
        key = _config_key(config)
        if key is not None and key not in memo:
            todo.setdefault(key, config)
    prefetch_calls(ctx, METHOD, [[config] for config in todo.values()])


def _prefetch_validations(configs: list[Any], data: list[Any]) -> None:
    from floe_compute_kit.conformance.host._mirror import prefetch_validations  # noqa: PLC0415

    if configs:
        prefetch_validations(type(configs[0]), data)


@check(
    "profile.yaml_round_trip",
    method=METHOD,
    requirements=("KIT-001",),
    wording="The profile MUST be a plain dict that survives a YAML dump and load unchanged.",
)
def yaml_round_trip(ctx: CheckContext) -> None:
    import yaml  # noqa: PLC0415 - only when the check runs

    # The libyaml classes where PyYAML has them: floe compile writes profiles.yml with
    # CSafeDumper and dbt reads it with CSafeLoader, so the round trip is theirs.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def prop(config: Any) -> None:
        profile = profile_of(ctx, config)
        try:
            text = yaml.dump(profile, Dumper=dumper, sort_keys=True)
        except yaml.YAMLError as exc:
            raise CheckFailed(
                f"the profile holds a value YAML cannot represent (only plain dicts, lists, "
                f"str, int, float, bool and None): {exc}"
            ) from None
        again = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, C or Python
        if again != profile:
            raise CheckFailed(
                "the profile changes in a YAML dump/load round trip "
                f"(e.g. tuples or non-string keys): {profile!r} became {again!r}"
            )

    ahead(ctx, lambda: prefetch_profiles(ctx, screened_configs(ctx)))
    for_all(ctx, prop)


_PLAIN: Final = (str, int, float, bool, type(None))


def _not_plain(value: Any, where: str = "profile") -> str | None:  # noqa: PLR0911 - one return per kind of value
    """Where ``value`` holds something other than YAML-plain data, or None."""
    if type(value) in _PLAIN:
        return None
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                return f"{where} has a {type(key).__name__} key {key!r:.60}"
            found = _not_plain(item, f"{where}.{key}")
            if found:
                return found
        return None
    if type(value) is list:
        for index, item in enumerate(value):
            found = _not_plain(item, f"{where}[{index}]")
            if found:
                return found
        return None
    return f"{where} is a {type(value).__name__} ({value!r:.60})"


@check(
    "profile.plain_types",
    method=METHOD,
    requirements=("KIT-001",),
    wording="The profile MUST hold only YAML-plain data: dicts with string keys, lists, "
    "str, int, float, bool and None (no sets, bytes, dates, tuples or objects).",
)
def plain_types(ctx: CheckContext) -> None:
    def prop(config: Any) -> None:
        found = _not_plain(profile_of(ctx, config))
        if found:
            raise CheckFailed(
                f"{found}: dbt reads profiles.yml, so every value MUST be plain YAML data"
            )

    for_all(ctx, prop)


@check(
    "profile.type",
    method=METHOD,
    requirements=("KIT-001",),
    wording="The profile MUST have a non-empty string `type` naming the dbt adapter.",
)
def has_type(ctx: CheckContext) -> None:
    def prop(config: Any) -> None:
        kind = profile_of(ctx, config).get("type")
        if not isinstance(kind, str) or not kind:
            raise CheckFailed(f"the profile MUST have a string 'type'; got {kind!r}")

    for_all(ctx, prop)


@check(
    "profile.threads",
    method=METHOD,
    requirements=("KIT-001",),
    wording="The profile's `threads` MUST equal `config.threads`.",
)
def threads_match(ctx: CheckContext) -> None:
    def prop(config: Any) -> None:
        threads = profile_of(ctx, config).get("threads")
        if threads != config.threads or type(threads) is not int:
            raise CheckFailed(
                f"the profile's threads MUST equal config.threads ({config.threads}); "
                f"got {threads!r}"
            )

    for_all(ctx, prop)


def _other_timeout_data(config: Any) -> dict[str, Any]:
    other = 60 if config.timeout_seconds != 60 else 120
    return {**config.model_dump(), "timeout_seconds": other}


def _other_timeout(config: Any) -> Any:
    return type(config).model_validate(_other_timeout_data(config))


@check(
    "profile.timeout",
    method=METHOD,
    requirements=("KIT-001", "FR-020"),
    wording="Changing `timeout_seconds` MUST change the profile: a timeout that nothing "
    "enforces is a defect.",
)
def timeout_changes_profile(ctx: CheckContext) -> None:
    def prop(config: Any) -> None:
        try:
            other = _other_timeout(config)
        except ValidationError:
            return  # the model does not allow another timeout here; nothing to compare
        if profile_of(ctx, config) == profile_of(ctx, other):
            raise CheckFailed(
                f"timeout_seconds={config.timeout_seconds} and "
                f"timeout_seconds={other.timeout_seconds} give the same profile: the "
                "timeout is not passed to anything that enforces it"
            )

    def prepare() -> None:
        configs = screened_configs(ctx)
        _prefetch_validations(configs, [_other_timeout_data(c) for c in configs])
        others = []
        for config in configs:
            try:
                others.append(_other_timeout(config))
            except ValidationError:
                continue
        prefetch_profiles(ctx, [*configs, *others])

    ahead(ctx, prepare)
    for_all(ctx, prop)


@check(
    "profile.deterministic",
    method=METHOD,
    requirements=("KIT-001",),
    wording="Equal configs MUST give equal profiles.",
)
def deterministic(ctx: CheckContext) -> None:
    def prop(config: Any) -> None:
        first = profile_of(ctx, config)  # the answer the other checks judged
        twin = type(config).model_validate(config.model_dump())
        # Two fresh calls, not one: in a host both are the same request (the plugin gets a
        # new copy each call), but a plugin that counts its calls could pass one.
        for again in (fresh_profile_of(ctx, twin), fresh_profile_of(ctx, config)):
            if again != first:
                raise CheckFailed(
                    f"two calls with equal configs gave different profiles: {first!r} "
                    f"then {again!r}"
                )

    def prepare() -> None:
        configs = screened_configs(ctx)
        _prefetch_validations(configs, [c.model_dump() for c in configs])
        prefetch_profiles(ctx, configs)  # the answers to compare with, if none is kept yet
        prefetch_calls(ctx, METHOD, [[c] for c in configs for _ in (1, 2)])  # the fresh calls

    ahead(ctx, prepare)
    for_all(ctx, prop)


@check(
    "profile.no_mutation",
    method=METHOD,
    requirements=("KIT-001",),
    wording="generate_dbt_profile MUST NOT mutate the config it is given.",
)
def no_mutation(ctx: CheckContext) -> None:
    def prop(config: Any) -> None:
        before = copy.deepcopy(config)
        fresh_profile_of(ctx, config)
        # In a host the plugin holds its own copy: the host reports it after the call.
        after_call = getattr(ctx.plugin, "last_args_after", None)
        after = after_call[0] if after_call else config
        if after != before:
            changed = [
                name
                for name in type(config).model_fields
                if getattr(after, name, None) != getattr(before, name)
            ]
            raise CheckFailed(f"generate_dbt_profile mutated the config: fields {changed}")

    ahead(ctx, lambda: prefetch_calls(ctx, METHOD, [[c] for c in screened_configs(ctx)]))
    for_all(ctx, prop)


@check(
    "profile.no_io",
    method=METHOD,
    requirements=("KIT-001", "FR-004a"),
    wording="generate_dbt_profile MUST NOT do I/O: no socket, subprocess, file write or "
    "database connection.",
)
def profile_no_io(ctx: CheckContext) -> None:
    ahead(
        ctx,
        lambda: prefetch_calls(ctx, METHOD, [[c] for c in screened_configs(ctx)], sandboxed=True),
    )
    for_all(ctx, lambda config: no_io(ctx, METHOD, config))


def _with_marked_secrets(config: Any) -> Any:
    """``config`` with every secret replaced by a distinctive token, when the model allows."""
    try:
        return type(config).model_validate(_marked_data(config))
    except ValidationError:
        return config


def _marked_data(config: Any) -> Any:
    counter = iter(range(10_000))

    def swap(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return SecretStr(f"floeSECRET{next(counter):04d}x")
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return swap(config.model_dump())


@check(
    "profile.no_plain_secrets",
    method=METHOD,
    requirements=("KIT-001", "KIT-220"),
    wording="The profile MUST NOT contain a secret value in plain text or encoded (base64, "
    "URL-encoding, hex); secrets MUST be rendered as `{{ env_var('...') }}` references.",
)
def no_plain_secrets(ctx: CheckContext) -> None:
    def prop(config: Any) -> None:
        # Judge distinctive tokens, so that a generated secret that happens to equal a
        # non-secret value of the same config (a setting, a path) is not called a leak.
        variant = _with_marked_secrets(config)
        secrets = {s for s in secret_values(variant) if len(s) >= MIN_SECRET_LEN}
        if variant is config:  # the model refused the tokens: judge the real values
            plain = list(walk_strings(config.model_dump()))  # SecretStr stays opaque here
            secrets = {s for s in secrets if not any(s in p for p in plain)}
        if not secrets:
            return
        from floe_compute_kit.conformance._leaks import find_leaks, strings_in  # noqa: PLC0415

        named = {f"secret {i}": value for i, value in enumerate(sorted(secrets))}
        leaks = find_leaks(strings_in(profile_of(ctx, variant), "profile"), named)
        if leaks:
            where = "; ".join(f"{leak.spelling} at {leak.where}" for leak in leaks[:5])
            raise CheckFailed(
                f"the profile contains {len(leaks)} secret value(s) in plain text or encoded "
                f"({where}); render each as \"{{{{ env_var('NAME') }}}}\" and document the "
                "variable (base64, URL-encoding or hex of a secret is the secret in plain sight)"
            )

    from floe_compute_kit.conformance.checks.secrets import canary_configs  # noqa: PLC0415

    canaries = [config for config, _ in canary_configs(ctx)]

    def prepare() -> None:
        configs = [*screened_configs(ctx), *canaries]
        _prefetch_validations(configs, [_marked_data(c) for c in configs])
        prefetch_profiles(ctx, [_with_marked_secrets(c) for c in configs])

    ahead(ctx, prepare)
    for_all(ctx, prop)
    # and the configs with a value in every credential the model accepts
    for config in canaries:
        try:
            prop(config)
        except CheckFailed as exc:
            exc.example = mask(config)
            exc.details.setdefault("source", "a config with every credential set")
            raise


def render_env_vars(value: Any) -> Any:
    """``value`` with every env_var reference replaced, as dbt would render it."""
    if isinstance(value, str):
        return ENV_VAR_RE.sub(lambda m: m["default"] or "floe_env_placeholder", value)
    if isinstance(value, dict):
        return {k: render_env_vars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [render_env_vars(v) for v in value]
    return value


def adapter_credentials(kind: str) -> Any:
    """The installed dbt adapter's Credentials class for profile ``type`` ``kind``."""
    if kind not in _ADAPTERS:
        try:
            _ADAPTERS[kind] = credentials_for(kind)
        except LookupError as exc:
            raise CheckFailed(str(exc)) from None
    return _ADAPTERS[kind]


def _unknown_keys(kind: str, profile: dict[str, Any], declared: set[str]) -> str | None:
    unknown = sorted(set(profile) - declared)
    if not unknown:
        return None
    return (
        f"the profile uses keys that dbt-{kind} does not declare and silently ignores: "
        f"{unknown}; declared keys: {sorted(declared)}"
    )


def _credentials_data(profile: dict[str, Any]) -> Any:
    return render_env_vars({k: v for k, v in profile.items() if k not in ("type", "threads")})


def _judged_beside(ctx: CheckContext, seen: list[tuple[Any, str, dict[str, Any]]]) -> Any:
    """Each drawn profile's failure (None: accepted), judged by a child of the run's dbt
    launcher; None when it cannot be judged there (the check then judges here)."""
    from floe_compute_kit.conformance._dbt_launcher import run_module  # noqa: PLC0415

    failures: list[str | None] = [None] * len(seen)
    folder = beside_dir(ctx) / "adapter-judge"
    folder.mkdir(parents=True, exist_ok=True)
    # the files are numbered: a profile's type is the plugin's text, never a file name
    for number, kind in enumerate(sorted({kind for _, kind, _ in seen})):
        mine = [index for index, (_, k, _) in enumerate(seen) if k == kind]
        profiles = [seen[index][2] for index in mine]
        source, target = folder / f"{number}.in.json", folder / f"{number}.out.json"
        datas = [_credentials_data(p) for p in profiles]
        try:
            text = json.dumps({"kind": kind, "profiles": datas})
            if json.loads(text)["profiles"] != datas:  # a tuple, a non-str key: judged here
                return None
            source.write_text(text, encoding="utf-8")
        except (TypeError, ValueError, OSError):  # not JSON: judged here
            return None
        try:
            code = run_module(ctx, JUDGE, [str(source), str(target)], timeout_s=JUDGE_TIMEOUT_S)
            verdict = json.loads(target.read_text(encoding="utf-8")) if code == 0 else None
        except (OSError, ValueError):
            verdict = None
        finally:
            source.unlink(missing_ok=True)
            target.unlink(missing_ok=True)
        if not isinstance(verdict, dict) or "fatal" in verdict:
            return None  # judged here, where the message is made the same way
        rejections = verdict.get("rejections")
        if not isinstance(rejections, list) or len(rejections) != len(mine):
            return None
        declared = set(verdict.get("declared") or ())
        for index, profile, why in zip(mine, profiles, rejections, strict=True):
            failures[index] = _unknown_keys(kind, profile, declared) or (str(why) if why else None)
    return failures


@check(
    DBT_SCHEMA,
    method=METHOD,
    requirements=("KIT-001",),
    wording="The installed dbt adapter for the profile's `type` MUST accept the profile, and "
    "the profile MUST use only keys that the adapter or dbt-core declares.",
    level=Level.EXTENDED,
    lane="dbt-adapter",
    beside_when=always_beside,
)
def accepted_by_adapter(ctx: CheckContext) -> None:
    # The drawn profiles are judged beside the kit first (dbt is imported there); the
    # kit imports the adapter itself only to report a failure (and shrink it), or when
    # there is no launcher. The check runs beside the others from the run's start: it
    # holds the run's quiet around its calls of the plugin, not while the judge runs.
    seen: list[tuple[Any, str, dict[str, Any]]] = []

    def collect(config: Any) -> None:
        profile = profile_of(ctx, config)
        kind = profile.get("type")
        if isinstance(kind, str):  # else profile.type reports it
            seen.append((config, kind, profile))

    def prop(config: Any) -> None:
        profile = profile_of(ctx, config)
        kind = profile.get("type")
        if not isinstance(kind, str):
            return  # profile.type reports it
        credentials = adapter_credentials(kind)
        unknown = _unknown_keys(kind, profile, declared_keys(credentials))
        if unknown:
            raise CheckFailed(unknown)
        why = rejection(kind, credentials, _credentials_data(profile))
        if why:
            raise CheckFailed(why)

    with quiet_hold(ctx, DBT_SCHEMA):
        for_all(ctx, collect)
    failures = _judged_beside(ctx, seen)
    if failures is not None and not any(failures):
        return
    with quiet_hold(ctx, DBT_SCHEMA):
        for_all(ctx, prop)
    for (config, _, _), failure in zip(seen, failures or (), strict=False):
        if failure:  # judged beside, yet accepted here: a profile that changes between calls
            raise CheckFailed(failure, example=mask(config))
