"""What the checks share: configs to try, property runs with hypothesis, sandboxed calls.

Configs come from three places, tried in this order: the plugin's hand-written
``example_configs()``, then configs generated from its ``config_model`` (or the
strategy the author supplied). A failing generated config is shrunk by hypothesis
and reported with secrets masked, together with the seed that reproduces it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from floe_compute_kit.conformance._check import CheckContext, CheckFailed
from floe_compute_kit.conformance._determinism import shared_thread_random
from floe_compute_kit.conformance._invoke import PluginRaised, call, plugin_traceback, read

__all__ = [
    "PROFILE_TYPE_KEY",
    "ahead",
    "baseline_config",
    "example_configs",
    "for_all",
    "for_all_values",
    "generated_configs",
    "hosted",
    "mask",
    "no_io",
    "prefetch_calls",
    "profile_type",
    "screened_configs",
    "secret_values",
]

_EXAMPLES = "support.examples"
_BASELINE = "support.baseline"
#: ``ctx.extra`` key of the profile type :func:`profile_type` found (the dbt launcher reads it)
PROFILE_TYPE_KEY = "support.profile_type"
#: the key of the generated-config sample that for_all screens
_CONFIGS = "configs"
#: Generated samples by (what, model, seed, n): drawing is deterministic for these, so
#: suite runs in one process (the zoo, the benches) draw each sample once. Copies go out,
#: so a plugin that mutates its input cannot spoil a later run.
_MEMO: dict[tuple[str, type[Any], int, int], list[Any]] = {}
#: held while a sample is drawn: checks in lanes that want the same sample draw it once
_DRAWING = threading.RLock()


@contextlib.contextmanager
def _drawing(ctx: CheckContext) -> Iterator[None]:
    """:data:`_DRAWING`, waited for no longer than a check may run: a check abandoned
    while it drew (a config model that hangs) must not stall every later draw."""
    held = _DRAWING.acquire(timeout=max(1.0, ctx.check_timeout_s))
    try:
        yield
    finally:
        if held:
            _DRAWING.release()


def mask(config: Any) -> dict[str, Any]:
    """A JSON-safe dict of ``config`` with every secret replaced by asterisks."""
    if isinstance(config, BaseModel):
        data: Any = json.loads(config.model_dump_json())
    elif isinstance(config, dict):
        data = json.loads(json.dumps(config, default=str))
    else:
        return {"value": repr(config)}
    from floe_compute_kit.conformance._masking import mask_secrets  # noqa: PLC0415

    masked: dict[str, Any] = mask_secrets(data)
    return masked


def coerce(ctx: CheckContext, value: Any) -> Any:
    """``value`` (a model instance or a dict) as an instance of the plugin's config model."""
    if isinstance(value, ctx.config_model):
        return value
    if isinstance(value, BaseModel):
        return ctx.config_model.model_validate(value.model_dump())
    from floe_compute_kit.conformance.host._wire import Foreign  # noqa: PLC0415

    if isinstance(value, Foreign):  # another model, returned from the plugin host
        return ctx.config_model.model_validate(value.floe_fields())
    return ctx.config_model.model_validate(value)


def example_configs(ctx: CheckContext) -> list[Any]:
    """The plugin's example configs as instances of its model; [] if it has none or they fail.

    Problems with them are the business of ``config.examples`` alone.
    """
    if _EXAMPLES not in ctx.extra:
        configs: list[Any] = []
        if hasattr(ctx.plugin, "example_configs"):
            try:
                configs = [coerce(ctx, c) for c in call(ctx.plugin, "example_configs")]
            except (PluginRaised, ValidationError, TypeError):
                configs = []
        ctx.extra[_EXAMPLES] = configs
    return list(ctx.extra[_EXAMPLES])


def _strategy(ctx: CheckContext) -> Any:
    if ctx.config_strategy is not None:
        return ctx.config_strategy.map(lambda v: coerce(ctx, v))
    from floe_compute_kit.conformance.strategies import configs  # noqa: PLC0415

    strategy = configs(ctx.config_model)
    name = _plugin_name(ctx)
    if name is not None and "plugin" in ctx.config_model.model_fields:
        # A generated config names this plugin, as a real floe.yaml would.
        def rename(cfg: Any) -> Any:
            if getattr(cfg, "plugin", None) == name:
                return cfg  # named so already (a Literal field): no second validation
            try:
                return ctx.config_model.model_validate({**cfg.model_dump(), "plugin": name})
            except ValidationError:
                return cfg

        return strategy.map(rename)
    return strategy


def _plugin_name(ctx: CheckContext) -> str | None:
    try:
        value = read(ctx.plugin, "name")
    except PluginRaised:
        return None
    return value if isinstance(value, str) else None


def baseline_config(ctx: CheckContext) -> Any:
    """One valid config: the first example, the model's defaults, or a generated one."""
    if _BASELINE not in ctx.extra:
        examples = example_configs(ctx)
        config: Any = examples[0] if examples else None
        if config is None:
            for data in ({"plugin": _plugin_name(ctx)}, {}):
                try:
                    config = ctx.config_model.model_validate(
                        {k: v for k, v in data.items() if v is not None}
                    )
                    break
                except ValidationError:
                    continue
        if config is None:
            from hypothesis import HealthCheck, find, settings  # noqa: PLC0415

            config = find(
                _strategy(ctx),
                lambda _: True,
                settings=settings(database=None, suppress_health_check=list(HealthCheck)),
            )
        ctx.extra[_BASELINE] = config
    return ctx.extra[_BASELINE]


def _attach(exc: CheckFailed | PluginRaised, config: Any, seed: int | None) -> None:
    exc.example = mask(config)
    exc.seed = seed


def _first_failure(exc: BaseException) -> BaseException:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _first_failure(inner)
            if isinstance(found, CheckFailed | PluginRaised):
                return found
        return exc.exceptions[0] if exc.exceptions else exc
    return exc


def sample(ctx: CheckContext, key: str, strategy: Callable[[], Any], n: int) -> list[Any]:
    """``n`` values drawn once per suite run under the suite's seed, shared by the checks.

    Generating a config costs far more than checking one, so the property checks
    screen the same sample; hypothesis runs again (and shrinks) only on a failure.
    """
    with _drawing(ctx):
        shared_thread_random()
        return _sample(ctx, key, strategy, n)


def _sample(ctx: CheckContext, key: str, strategy: Callable[[], Any], n: int) -> list[Any]:
    samples: dict[str, list[Any]] = ctx.extra.setdefault("support.samples", {})
    memo_key = (key, ctx.config_model, ctx.seed, n) if ctx.config_strategy is None else None
    if key not in samples and memo_key in _MEMO:
        samples[key] = copy.deepcopy(_MEMO[memo_key])
    if key not in samples or len(samples[key]) < n:
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings  # noqa: PLC0415
        from hypothesis import seed as hypothesis_seed  # noqa: PLC0415

        drawn: list[Any] = []

        @hypothesis_seed(ctx.seed)
        @settings(
            max_examples=n,
            database=None,
            deadline=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            phases=(Phase.generate,),
            print_blob=False,
        )
        @given(strategy())
        def collect(value: Any) -> None:
            drawn.append(value)

        collect()
        samples[key] = drawn
        if memo_key is not None:
            _MEMO[memo_key] = copy.deepcopy(drawn)
    return samples[key][:n]


def for_all(
    ctx: CheckContext,
    prop: Callable[[Any], None],
    *,
    max_examples: int | None = None,
    examples: bool = True,
) -> None:
    """``prop(config)`` for every example config, then for generated ones.

    A failure is re-raised with the (shrunk) failing config, secrets masked, and the seed.
    """
    if examples:
        for index, config in enumerate(example_configs(ctx)):
            try:
                prop(copy.deepcopy(config))
            except (CheckFailed, PluginRaised) as exc:
                _attach(exc, config, None)
                if isinstance(exc, CheckFailed):
                    exc.details.setdefault("source", f"example_configs()[{index}]")
                raise
    screen(ctx, _CONFIGS, lambda: _strategy(ctx), prop, max_examples=max_examples)


def generated_configs(ctx: CheckContext, n: int) -> list[Any]:
    """The first ``n`` generated configs of the run's shared sample: the ones
    :func:`for_all` screens after the examples (drawn once, then copies are handed out)."""
    return sample(ctx, _CONFIGS, lambda: _strategy(ctx), n)


def screened_configs(ctx: CheckContext) -> list[Any]:
    """The configs :func:`for_all` hands its property, in its order: the examples, then
    the generated sample."""
    return [*example_configs(ctx), *generated_configs(ctx, ctx.max_examples)]


def hosted(ctx: CheckContext) -> bool:
    """Whether the plugin runs in a plugin host (not an object in this process, whose
    attributes, ``floe_call`` among them, would be the plugin's own)."""
    from floe_compute_kit.conformance.host._client import HostPlugin  # noqa: PLC0415

    return isinstance(ctx.plugin, HostPlugin)


def ahead(ctx: CheckContext, prepare: Callable[[], None]) -> None:
    """``prepare()`` (a check's calls made ahead, see :func:`prefetch_calls`) where the
    plugin runs in a host. It only saves trips: whatever goes wrong in it is left for the
    check's own calls to meet and report, each with the config that causes it."""
    if not hosted(ctx):
        return
    with contextlib.suppress(Exception):
        prepare()


def prefetch_calls(
    ctx: CheckContext, method: str, calls: Sequence[Sequence[Any]], *, sandboxed: bool = False
) -> None:
    """Make a property's plugin calls ahead, in one trip, where the plugin runs in a host
    (the checks' own calls then take those replies, in the same order); nothing happens
    for a plugin object in this process."""
    if hosted(ctx):
        ctx.plugin.floe_prefetch_calls(method, calls, sandboxed=sandboxed)


def screen(
    ctx: CheckContext,
    key: str,
    strategy: Callable[[], Any],
    prop: Callable[[Any], None],
    *,
    max_examples: int | None = None,
) -> None:
    """``prop`` over the shared sample; on a failure, let hypothesis shrink it."""
    n = max_examples or ctx.max_examples
    for value in sample(ctx, key, strategy, n):
        try:
            prop(copy.deepcopy(value))
        except (CheckFailed, PluginRaised) as exc:
            first = exc
            break
    else:
        return
    # Shrink: hypothesis under the same seed usually meets the failure again and
    # minimises it; if it does not, the sampled config (reproducible by seed) stands.
    try:
        for_all_values(ctx, strategy(), prop, max_examples=n)
    except (CheckFailed, PluginRaised):
        raise
    except Exception:  # noqa: S110 - shrinking is best effort; the sampled failure is reported
        pass
    _attach(first, value, ctx.seed)
    raise first


def for_all_values(
    ctx: CheckContext,
    strategy: Any,
    prop: Callable[[Any], None],
    *,
    max_examples: int | None = None,
) -> None:
    """``prop(value)`` for values hypothesis draws (and shrinks) under the suite's seed."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings  # noqa: PLC0415
    from hypothesis import seed as hypothesis_seed  # noqa: PLC0415

    seen: list[Any] = []

    @hypothesis_seed(ctx.seed)
    @settings(
        max_examples=max_examples or ctx.max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
        print_blob=False,
    )
    @given(strategy)
    def run(value: Any) -> None:
        seen.append(copy.deepcopy(value))  # reported as drawn, even if the plugin mutates it
        prop(value)

    try:
        run()  # not under _DRAWING: a shrink calls the plugin, for as long as it takes
    except BaseException as raw:
        exc = _first_failure(raw)
        if isinstance(exc, CheckFailed | PluginRaised) and seen:
            _attach(exc, seen[-1], ctx.seed)
            raise exc from None
        raise


def secret_values(config: Any) -> list[str]:
    """Every SecretStr value inside ``config`` (nested models, lists and dicts included)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                walk(item)

    walk(config)
    return found


def no_io(ctx: CheckContext, method: str, *args: Any) -> Any:
    """Call ``plugin.method(*args)`` in the sandbox; any I/O fails the check, naming the call."""
    from floe_compute_kit.conformance.sandbox import call_sandboxed  # noqa: PLC0415
    from floe_compute_kit.errors import IOViolationError  # noqa: PLC0415

    remote = getattr(ctx.plugin, "floe_call", None)
    violations: list[Any]
    try:
        if remote is not None:  # the sandbox runs in the host, around the plugin's call
            result = _host_sandboxed(ctx, method, args)
            violations = list(ctx.plugin.last_violations)
        else:
            result, violations = call_sandboxed(call, ctx.plugin, method, *args, method=method)
    except PluginRaised as exc:
        if remote is not None and ctx.plugin.last_violations:
            shown = "; ".join(ctx.plugin.last_violations)
            raise CheckFailed(
                f"{method} MUST NOT do I/O, but it did: {shown}",
                details={"violations": list(ctx.plugin.last_violations)},
            ) from None
        if isinstance(exc.error, IOViolationError) or _io_cause(exc.error):
            raise CheckFailed(
                f"{method} MUST NOT do I/O, but it did: {exc.error}",
                details={"violations": [str(exc.error)]},
            ) from None
        raise
    if violations:
        shown = "; ".join(str(v) for v in violations)
        raise CheckFailed(
            f"{method} MUST NOT do I/O, but it did: {shown}",
            details={"violations": [str(v) for v in violations]},
        )
    return result


def _host_sandboxed(ctx: CheckContext, method: str, args: tuple[Any, ...]) -> Any:
    try:
        return ctx.plugin.floe_call(method, *args, sandboxed=True)
    except Exception as exc:
        raise PluginRaised(method, exc, plugin_traceback(exc)) from exc


def _io_cause(error: BaseException) -> bool:
    from floe_compute_kit.errors import IOViolationError  # noqa: PLC0415

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, IOViolationError) or str(
            getattr(seen, "floe_remote_type", "")
        ).endswith("IOViolationError"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def profile_type(ctx: CheckContext) -> str:
    """The ``type`` of the profile generated for the baseline config."""
    if PROFILE_TYPE_KEY not in ctx.extra:
        profile = call(ctx.plugin, "generate_dbt_profile", baseline_config(ctx))
        kind = profile.get("type") if isinstance(profile, dict) else None
        if not isinstance(kind, str) or not kind:
            raise CheckFailed(
                "cannot tell the plugin's engine: generate_dbt_profile(baseline config) "
                f"returned no string 'type' (got {kind!r})"
            )
        ctx.extra[PROFILE_TYPE_KEY] = kind
    value: str = ctx.extra[PROFILE_TYPE_KEY]
    return value


def walk_strings(value: Any) -> Iterator[str]:
    """Every string (keys included) inside nested dicts and lists."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk_strings(key)
            yield from walk_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from walk_strings(item)
