"""The override points of the contract suites, as pytest fixtures on a mixin class.

They live on a class (not in a conftest) so that a suite works wherever its class is
used: installed, or vendored into an author's repository. Override one by defining a
fixture of the same name on your test class::

    class TestMyPlugin(ComputePluginContract):
        plugin = MyPlugin

        @pytest.fixture
        def floe_config_strategy(self):
            return my_strategy()

Fixtures: ``floe_plugin`` (the target), ``floe_level``, ``floe_seed``,
``floe_max_examples``, ``floe_budget``, ``floe_iceberg_uri``,
``floe_config_strategy`` (valid configs; default: generated from config_model),
``floe_unreachable_config`` (a config whose target cannot be reached), and
``floe_context`` (what every check receives).

The plugin and the level also decide which checks are collected, before any fixture
runs: set them as class attributes (``plugin = MyPlugin``, ``level = "extended"``) or
pass ``--floe-plugin`` / ``--floe-level``; the command line wins over the class.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, ClassVar

import pytest

from floe_compute_kit.conformance._check import CheckContext
from floe_compute_kit.conformance._loader import LoadedPlugin, LoadFailure, load_target
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance.pytest_plugin import (
    DEFAULT_BUDGET_S,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_SEED,
    OPT_BUDGET,
    OPT_ICEBERG_URI,
    OPT_IN_PROCESS,
    OPT_LEVEL,
    OPT_MAX_EXAMPLES,
    OPT_PLUGIN,
    OPT_SEED,
    OPT_TARGET,
    STATE_KEY,
    RunState,
    dest,
)

__all__ = ["ContractFixtures", "load_cached", "resolve_option"]


def resolve_option(
    config: pytest.Config, option: str, cls: type, attribute: str, default: Any
) -> Any:
    """The command line wins, then the test class's attribute, then the default."""
    value = config.getoption(dest(option), default=None)
    if value is not None:
        return value
    from_class = getattr(cls, attribute, None)
    return default if from_class is None else from_class


def _state(config: pytest.Config) -> RunState:
    stash = config.stash
    if STATE_KEY not in stash:
        stash[STATE_KEY] = RunState()
    return stash[STATE_KEY]


def load_cached(config: pytest.Config, target: Any) -> LoadedPlugin | LoadFailure:
    """Load ``target`` once per pytest run (kept in config.stash, never in a global)."""
    loads: dict[Any, LoadedPlugin | LoadFailure] = _state(config).loads
    key = target if isinstance(target, str | type) else id(target)
    if key not in loads:
        in_process = bool(config.getoption(dest(OPT_IN_PROCESS), default=False))
        if isinstance(target, str) and not in_process:
            # A named plugin runs in its own host process, as `floe-conformance report`
            # runs it; classes and instances given in code are called in-process.
            from floe_compute_kit.conformance.host import load_in_host  # noqa: PLC0415

            workdir = Path(tempfile.mkdtemp(prefix="floe-conformance-host-"))
            loads[key] = load_in_host(target, workdir)
            host = getattr(getattr(loads[key], "instance", None), "floe_host", None)
            config.add_cleanup(lambda: _remove(workdir))
            if host is not None:
                config.add_cleanup(host.close)
        else:
            loads[key] = load_target(target)
    return loads[key]


class ContractFixtures:
    """Fixtures shared by every Base*Contract class; each one is an override point."""

    #: the plugin under test: a class, an instance, "module:Attr" or an entry-point name.
    #: None means the ``--floe-plugin`` option.
    plugin: ClassVar[Any] = None
    #: certification level to run (core, extended, integration); ``--floe-level`` wins.
    level: ClassVar[str | Level | None] = None
    seed: ClassVar[int | None] = None
    max_examples: ClassVar[int | None] = None
    budget_s: ClassVar[float | None] = None

    @classmethod
    def floe_target(cls, config: pytest.Config) -> Any:
        """What to load: the class's ``plugin`` attribute, else ``--floe-plugin``."""
        if cls.plugin is not None:
            return cls.plugin
        return config.getoption(dest(OPT_PLUGIN), default=None)

    @classmethod
    def floe_selected_level(cls, config: pytest.Config) -> Level:
        return Level(resolve_option(config, OPT_LEVEL, cls, "level", Level.CORE))

    @pytest.fixture
    def floe_plugin(self, request: pytest.FixtureRequest) -> Any:
        target = type(self).floe_target(request.config)
        if target is None:
            pytest.fail(
                f"no plugin to check: set `plugin = MyPlugin` on {type(self).__name__} "
                f"or pass {OPT_PLUGIN}=module:Attribute",
                pytrace=False,
            )
        return target

    @pytest.fixture
    def floe_level(self, request: pytest.FixtureRequest) -> Level:
        return type(self).floe_selected_level(request.config)

    @pytest.fixture
    def floe_seed(self, request: pytest.FixtureRequest) -> int:
        return int(resolve_option(request.config, OPT_SEED, type(self), "seed", DEFAULT_SEED))

    @pytest.fixture
    def floe_max_examples(self, request: pytest.FixtureRequest) -> int:
        return int(
            resolve_option(
                request.config, OPT_MAX_EXAMPLES, type(self), "max_examples", DEFAULT_MAX_EXAMPLES
            )
        )

    @pytest.fixture
    def floe_budget(self, request: pytest.FixtureRequest) -> float:
        return float(
            resolve_option(request.config, OPT_BUDGET, type(self), "budget_s", DEFAULT_BUDGET_S)
        )

    @pytest.fixture
    def floe_iceberg_uri(self, request: pytest.FixtureRequest) -> str | None:
        value = request.config.getoption(dest(OPT_ICEBERG_URI), default=None)
        return value if isinstance(value, str) else None

    @pytest.fixture
    def floe_live_target(self, request: pytest.FixtureRequest) -> Path | None:
        """The live target's config file (``--floe-target``); override to choose one."""
        value = request.config.getoption(dest(OPT_TARGET), default=None)
        return Path(value) if isinstance(value, str) else None

    @pytest.fixture
    def floe_config_strategy(self) -> Any:
        """A hypothesis strategy of valid configs; None: generated from config_model."""
        return None

    @pytest.fixture
    def floe_unreachable_config(self) -> Any:
        """A config whose target cannot be reached; None: the plugin's or the kit's guess."""
        return None

    @pytest.fixture
    def floe_context(  # noqa: PLR0917 - pytest passes fixtures positionally
        self,
        request: pytest.FixtureRequest,
        floe_plugin: Any,
        floe_seed: int,
        floe_max_examples: int,
        floe_budget: float,
        floe_iceberg_uri: str | None,
        floe_config_strategy: Any,
        floe_unreachable_config: Any,
        floe_live_target: Path | None,
    ) -> CheckContext | LoadFailure:
        """One shared context per plugin and settings, so probes are made once per run."""
        from floe_compute_kit.conformance.runner import make_context  # noqa: PLC0415

        loaded = load_cached(request.config, floe_plugin)
        if isinstance(loaded, LoadFailure):
            return loaded
        key = (
            loaded.spec,
            id(loaded.instance),
            floe_seed,
            floe_max_examples,
            floe_budget,
            floe_iceberg_uri,
            repr(floe_config_strategy),
            repr(floe_unreachable_config),
            floe_live_target,
        )
        contexts: dict[Any, CheckContext] = _state(request.config).contexts
        if key not in contexts:
            workdir = Path(tempfile.mkdtemp(prefix="floe-conformance-"))
            contexts[key] = make_context(
                loaded,
                workdir=workdir,
                seed=floe_seed,
                max_examples=floe_max_examples,
                budget_s=floe_budget,
                iceberg_uri=floe_iceberg_uri,
                config_strategy=floe_config_strategy,
                unreachable_config=floe_unreachable_config,
                target=floe_live_target,
            )
            request.config.add_cleanup(lambda: _remove(workdir))
            # cleanups run last-in first-out: the context's services stop before removal
            request.config.add_cleanup(contexts[key].close)
        return contexts[key]


def _remove(path: Path) -> None:
    import shutil  # noqa: PLC0415

    shutil.rmtree(path, ignore_errors=True)
