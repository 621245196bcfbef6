"""How a contract clause becomes a runnable check.

A check is a plain function ``fn(ctx) -> None`` registered with :func:`check`.
It passes by returning, fails by raising :class:`CheckFailed`, and says the
plugin does not claim the feature by raising :class:`CheckUnsupported`. No
pytest here: the report CLI runs the same functions.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from floe_compute_kit.conformance._results import CheckSpec, Level

__all__ = [
    "PARTLY_NEEDS",
    "REGISTERED",
    "CheckContext",
    "CheckFailed",
    "CheckFn",
    "CheckUnsupported",
    "RegisteredCheck",
    "check",
]


class CheckFailed(AssertionError):  # noqa: N818 - an outcome, named like pytest's Failed
    """The plugin broke the clause. ``example`` is the (shrunk) config that shows it."""

    def __init__(
        self,
        message: str,
        *,
        example: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.example = example
        self.details = details or {}
        self.seed: int | None = None  # the seed that reproduces ``example``, when generated
        self.plugin_traceback: str | None = None


class CheckUnsupported(Exception):  # noqa: N818 - an outcome, not an error
    """The plugin does not claim the capability this check needs."""


@dataclass
class CheckContext:
    """Everything a check may use. Fields are added with defaults, never removed."""

    plugin: Any  # a ComputePlugin, or a structural equivalent
    plugin_spec: str
    config_model: type[Any]
    workdir: Path
    seed: int = 0
    max_examples: int = 50
    budget_s: float = 5.0
    config_strategy: Any = None  # a plugin-supplied hypothesis strategy of valid configs
    iceberg_uri: str | None = None  # a running Iceberg REST catalog, when one is available
    capabilities: frozenset[str] = frozenset()
    extra: dict[str, Any] = field(default_factory=dict)
    #: what the plugin declared as config_model, even when it is not a pydantic model
    declared_config_model: Any = None
    #: True when the plugin does not subclass ComputePlugin (results are checked field by field)
    structural: bool = False
    #: a config whose target cannot be reached (override point; else the plugin's
    #: ``conformance_unreachable_config()`` or the kit's guess for the profile type)
    unreachable_config: Any = None
    #: how long one whole check may run before it is abandoned as hung
    check_timeout_s: float = 120.0
    #: services checks start for the whole run (e.g. an Iceberg catalog); closed by
    #: whoever made the context, before its workdir is removed
    resources: ExitStack = field(default_factory=ExitStack)
    #: the user's ``--floe-target`` file (YAML/JSON of the plugin's config for the live
    #: target); it wins over the plugin's hook and over a target the kit starts
    live_target_file: Path | None = None
    #: that file read when the run started: its mapping, or why it could not be read
    live_target_data: dict[str, Any] | str | None = None

    def close(self) -> None:
        """Stop what the checks started for this context."""
        self.resources.close()


CheckFn = Callable[[CheckContext], None]


@dataclass(frozen=True)
class RegisteredCheck:
    spec: CheckSpec
    fn: CheckFn


#: check id -> registered check; filled when the check modules are imported.
REGISTERED: dict[str, RegisteredCheck] = {}
#: capability -> ids of checks that run for every plugin but skip a part of themselves
#: when it is not claimed (the certificate names them beside the unclaimed capability)
PARTLY_NEEDS: dict[str, set[str]] = {}


def _where(fn: CheckFn) -> tuple[str, str]:
    return (getattr(fn, "__module__", ""), getattr(fn, "__qualname__", repr(fn)))


def check(
    id: str,
    *,
    method: str,
    requirements: tuple[str, ...],
    wording: str,
    level: Level = Level.CORE,
    capability: str | None = None,
    not_applicable_when: str | None = None,
    lane: str | None = None,
    after: tuple[str, ...] = (),
    timeout_s: float | None = None,
    beside_when: Callable[[CheckContext], bool] | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the check for one contract clause."""

    def register(fn: CheckFn) -> CheckFn:
        previous = REGISTERED.get(id)
        # A module imported again (pytester restores sys.modules) re-registers its own
        # function; only a different function under the same id is an error.
        if previous is not None and _where(previous.fn) != _where(fn):
            raise ValueError(f"check id {id!r} is registered twice")
        spec = CheckSpec(
            id,
            method,
            tuple(requirements),
            wording,
            level,
            capability,
            not_applicable_when,
            lane,
            tuple(after),
            timeout_s,
            beside_when,
        )
        REGISTERED[id] = RegisteredCheck(spec, fn)
        return fn

    return register
