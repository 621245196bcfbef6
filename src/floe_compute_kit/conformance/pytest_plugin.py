"""pytest11 entry point of the conformance kit (kept thin and lazy).

``pytest --floe-plugin=mypkg:MyPlugin`` (or an entry-point name such as
``--floe-plugin=duckdb``) runs the whole contract suite against that plugin, in
any directory: the suite module is added to the collection arguments. Without
``--floe-plugin`` this plugin only registers its options and collects nothing.
Disable it entirely with ``pytest -p no:floe_conformance``.

Nothing heavy is imported here: the checks, hypothesis and the plugin under test
are imported by the suite module when it is collected.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any, Final

import pytest

from floe_compute_kit.conformance._settings import (
    BUDGET_LIMIT_S,
    DEFAULTS,
    LEVELS,
    MAX_EXAMPLES_LIMIT,
    bounded,
    iceberg_uri,
    seed,
)

__all__ = [
    "GROUP",
    "OPT_BUDGET",
    "OPT_ICEBERG_URI",
    "OPT_IN_PROCESS",
    "OPT_LEVEL",
    "OPT_MAX_EXAMPLES",
    "OPT_PLUGIN",
    "OPT_SEED",
    "OPT_TARGET",
    "PLUGIN_NAME",
    "RunState",
    "dest",
]

#: The name pytest knows this plugin by: ``-p no:floe_conformance`` disables it.
PLUGIN_NAME: Final = "floe_conformance"
GROUP: Final = "floe conformance"
OPT_PLUGIN: Final = "--floe-plugin"
OPT_LEVEL: Final = "--floe-level"
OPT_MAX_EXAMPLES: Final = "--floe-max-examples"
OPT_SEED: Final = "--floe-seed"
OPT_BUDGET: Final = "--floe-budget"
OPT_ICEBERG_URI: Final = "--floe-iceberg-uri"
OPT_IN_PROCESS: Final = "--floe-in-process"
OPT_TARGET: Final = "--floe-target"
DEFAULT_MAX_EXAMPLES: Final = DEFAULTS.max_examples
DEFAULT_SEED: Final = DEFAULTS.seed
DEFAULT_BUDGET_S: Final = DEFAULTS.budget_s
#: Fixtures of the iceberg helper module, available in every run when it is installed.
ICEBERG_FIXTURES: Final = "floe_compute_kit.conformance._iceberg_fixtures"
#: The module collected when --floe-plugin is given.
SUITE_MODULE: Final = "floe_compute_kit.conformance._collected"


@dataclass
class RunState:
    """What one pytest run keeps: each plugin loaded once, one check context per settings."""

    #: target -> LoadedPlugin | LoadFailure
    loads: dict[Any, Any] = field(default_factory=dict)
    #: (plugin, settings) -> CheckContext
    contexts: dict[Any, Any] = field(default_factory=dict)


#: Where this plugin keeps its per-run state.
STATE_KEY: Final = pytest.StashKey[RunState]()


def dest(option: str) -> str:
    """The argparse destination of an option: ``--floe-max-examples`` -> ``floe_max_examples``."""
    return option.lstrip("-").replace("-", "_")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        GROUP, "floe compute plugin conformance (disable with -p no:floe_conformance)"
    )
    group.addoption(
        OPT_PLUGIN,
        dest=dest(OPT_PLUGIN),
        metavar="SPEC",
        default=None,
        help="run the contract suite against this plugin: module:Attribute or an "
        "entry-point name of the floe.computes group (e.g. duckdb)",
    )
    group.addoption(
        OPT_LEVEL,
        dest=dest(OPT_LEVEL),
        choices=LEVELS,
        default=None,
        help="certification level to run; each includes the ones before (default: core)",
    )
    group.addoption(
        OPT_MAX_EXAMPLES,
        dest=dest(OPT_MAX_EXAMPLES),
        type=bounded(int, OPT_MAX_EXAMPLES, MAX_EXAMPLES_LIMIT),
        default=None,
        metavar="N",
        help=f"generated configs per property check (default: {DEFAULT_MAX_EXAMPLES})",
    )
    group.addoption(
        OPT_SEED,
        dest=dest(OPT_SEED),
        type=seed(OPT_SEED),
        default=None,
        metavar="SEED",
        help="hypothesis seed; a failure prints the one that reproduces it "
        f"(default: {DEFAULT_SEED})",
    )
    group.addoption(
        OPT_BUDGET,
        dest=dest(OPT_BUDGET),
        type=bounded(float, OPT_BUDGET, BUDGET_LIMIT_S),
        default=None,
        metavar="SECONDS",
        help=f"time budget of one validate_connection call (default: {DEFAULT_BUDGET_S:g})",
    )
    group.addoption(
        OPT_ICEBERG_URI,
        dest=dest(OPT_ICEBERG_URI),
        type=iceberg_uri(OPT_ICEBERG_URI),
        default=None,
        metavar="URI",
        help="a running Iceberg REST catalog for the integration-level catalog checks",
    )
    group.addoption(
        OPT_TARGET,
        dest=dest(OPT_TARGET),
        default=None,
        metavar="FILE",
        help="YAML/JSON file of the plugin's config for the live target (default: the "
        "plugin's conformance_live_target hook, else a target the kit starts)",
    )
    group.addoption(
        OPT_IN_PROCESS,
        dest=dest(OPT_IN_PROCESS),
        action="store_true",
        default=False,
        help="call the plugin in this process instead of its own host process (for "
        "debugging: a crash or hang of the plugin then ends the test run)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # The Iceberg fixture module is pytest + stdlib only, so every run may have it;
    # registered as a plugin, a conftest fixture of the same name still overrides it.
    manager = config.pluginmanager
    if not manager.has_plugin(ICEBERG_FIXTURES):
        manager.import_plugin(ICEBERG_FIXTURES)
    config.addinivalue_line(
        "markers", "requirement(*ids): the requirements (FR-/SC-/US-) a test proves"
    )
    if config.getoption(dest(OPT_PLUGIN), default=None):
        _require_kit()
        path = _suite_path()
        if path not in config.args:
            config.args.append(path)


def _require_kit() -> None:
    """The suite imports hypothesis and the checks: say which extra, not a collection error."""
    from floe_compute_kit._extras import KIT_NEEDS, missing_extra  # noqa: PLC0415 - only with --floe-plugin

    problem = missing_extra(f"pytest {OPT_PLUGIN}", "kit", KIT_NEEDS)
    if problem is not None:
        raise pytest.UsageError(problem.removeprefix("error: "))


def _suite_path() -> str:
    spec = importlib.util.find_spec(SUITE_MODULE)
    if spec is None or spec.origin is None:  # pragma: no cover - shipped with this package
        raise ImportError(f"{SUITE_MODULE} is missing from the installed kit")
    return spec.origin
