"""Every error the kit raises, in one module.

Each error subclasses the builtin it resembles, so callers who know nothing of
floe can still ``except ValueError`` or ``except TimeoutError``; and each carries
structured fields (plugin_name, field, allowed, correlation_id ...) so tools can
act on them without parsing messages (FR-022, FR-023).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "CertificateError",
    "CompilationError",
    "ComputeConfigurationError",
    "ComputeConnectionError",
    "ComputeError",
    "ComputeQueryError",
    "ComputeTimeoutError",
    "DuplicatePluginError",
    "IOViolationError",
    "IncompletePluginError",
    "ManifestError",
    "PluginLoadError",
    "PluginNotFoundError",
    "RegistryLoadError",
    "Violation",
    "WaiverError",
]

_log = logging.getLogger("floe.compute.errors")


def new_correlation_id() -> str:
    """A fresh id that ties an error to the log lines and spans around it."""
    return uuid.uuid4().hex


def _options(allowed: Iterable[object]) -> str:
    return ", ".join(repr(a) if not isinstance(a, str) else a for a in allowed)


class ComputeError(Exception):
    """Base of every floe compute error.

    Logged once (logger ``floe.compute.errors``, level INFO), when created, with its
    correlation id so that an operator can join the traceback to log lines and spans
    (FR-023).
    """

    def __init__(
        self,
        message: str,
        *,
        plugin_name: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.plugin_name = plugin_name
        self.correlation_id = correlation_id or new_correlation_id()
        # INFO, not WARNING: many errors are expected and handled (the kit provokes them
        # on purpose), and Python's last-resort handler would print every WARNING.
        _log.info(
            "%s [plugin=%s correlation_id=%s]: %s",
            type(self).__name__,
            plugin_name or "-",
            self.correlation_id,
            message,
            extra={"correlation_id": self.correlation_id, "plugin_name": plugin_name},
        )

    def __str__(self) -> str:
        return f"{self.message} (correlation_id={self.correlation_id})"

    def to_dict(self) -> dict[str, Any]:
        """Structured fields, for JSON output and span attributes."""
        data = {
            k: v
            for k, v in vars(self).items()
            if not k.startswith("_")
            and (v is None or isinstance(v, str | int | float | bool | list | tuple))
        }
        data["error_type"] = type(self).__name__
        return data


class ComputeConnectionError(ComputeError, ConnectionError):
    """The compute target cannot be reached or opened."""

    def __init__(
        self,
        message: str,
        *,
        plugin_name: str | None = None,
        target: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.target = target
        super().__init__(message, plugin_name=plugin_name, correlation_id=correlation_id)


class ComputeTimeoutError(ComputeError, TimeoutError):
    """A query ran past its configured timeout and was cancelled."""

    def __init__(
        self,
        message: str,
        *,
        plugin_name: str | None = None,
        timeout_seconds: float | None = None,
        elapsed_seconds: float | None = None,
        query_id: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.elapsed_seconds = elapsed_seconds
        self.query_id = query_id
        super().__init__(message, plugin_name=plugin_name, correlation_id=correlation_id)


class ComputeConfigurationError(ComputeError, ValueError):
    """A config value is not allowed: names the field, the value and the options."""

    def __init__(
        self,
        message: str,
        *,
        plugin_name: str | None = None,
        field: str | None = None,
        value: object = None,
        allowed: Sequence[object] | str | None = None,
        errors: Sequence[str] = (),
        correlation_id: str | None = None,
    ) -> None:
        self.field = field
        self.value = value
        self.allowed: list[object] | str | None = (
            allowed if allowed is None or isinstance(allowed, str) else list(allowed)
        )
        self.errors = list(errors)
        super().__init__(message, plugin_name=plugin_name, correlation_id=correlation_id)

    @classmethod
    def invalid_choice(
        cls,
        field: str,
        value: object,
        allowed: Sequence[object],
        *,
        plugin_name: str | None = None,
    ) -> ComputeConfigurationError:
        """The common case: a value outside a closed set of options."""
        from floe_compute_kit._problems import shown  # noqa: PLC0415 - keeps errors.py import-light

        return cls(
            f"{field}: {shown(value)} is not allowed; allowed: {_options(allowed)}",
            plugin_name=plugin_name,
            field=field,
            value=value,
            allowed=allowed,
        )


class ComputeQueryError(ComputeError, RuntimeError):
    """The engine rejected or failed a query (FR-022)."""

    def __init__(
        self,
        message: str,
        *,
        plugin_name: str | None = None,
        query_id: str | None = None,
        sql: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.query_id = query_id
        self.sql = sql
        super().__init__(message, plugin_name=plugin_name, correlation_id=correlation_id)


class IncompletePluginError(ComputeError, TypeError):
    """A ComputePlugin subclass was instantiated with abstract members left."""

    def __init__(
        self,
        class_name: str,
        missing: Sequence[str],
        *,
        plugin_name: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.class_name = class_name
        self.missing = sorted(missing)
        super().__init__(
            f"{class_name} does not implement: {', '.join(self.missing)}",
            plugin_name=plugin_name,
            correlation_id=correlation_id,
        )


class PluginLoadError(ComputeError, ImportError):
    """An entry point or ``module:attr`` spec could not be loaded."""

    def __init__(
        self,
        message: str,
        *,
        plugin_name: str | None = None,
        entry_point: str | None = None,
        distribution: str | None = None,
        reason: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.entry_point = entry_point
        self.distribution = distribution
        self.reason = reason
        super().__init__(message, plugin_name=plugin_name, correlation_id=correlation_id)


class DuplicatePluginError(ComputeError, ValueError):
    """Two distributions register a compute under the same name."""

    def __init__(
        self,
        plugin_name: str,
        distributions: Sequence[str],
        *,
        correlation_id: str | None = None,
    ) -> None:
        self.distributions = list(distributions)
        super().__init__(
            f"compute {plugin_name!r} is registered by more than one distribution: "
            f"{', '.join(self.distributions)}; uninstall all but one",
            plugin_name=plugin_name,
            correlation_id=correlation_id,
        )


class PluginNotFoundError(ComputeError, LookupError):
    """No installed plugin has this name; lists the ones that are."""

    def __init__(
        self,
        plugin_name: str,
        available: Sequence[str],
        *,
        correlation_id: str | None = None,
    ) -> None:
        self.available = sorted(available)
        shown = ", ".join(self.available) if self.available else "none installed"
        super().__init__(
            f"no compute plugin named {plugin_name!r}; available: {shown}",
            plugin_name=plugin_name,
            correlation_id=correlation_id,
        )


class ManifestError(ComputeConfigurationError):
    """manifest.yaml or floe.yaml is malformed or invalid.

    ``file`` and ``key_path`` (e.g. ``transforms[3].compute``) say where; every
    problem found in the file is in ``errors``, one line each, so a user fixes
    them in one pass (FR-010, KIT-004).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str,
        key_path: str,
        value: object = None,
        allowed: Sequence[object] | str | None = None,
        errors: Sequence[str] = (),
        line: int | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.file = file
        self.key_path = key_path
        self.line = line
        super().__init__(
            message,
            field=key_path,
            value=value,
            allowed=allowed,
            errors=errors or (message,),
            correlation_id=correlation_id,
        )


@dataclass(frozen=True)
class Violation:
    """One governance or compile problem; many are reported together (SC-004).

    ``level`` is the governance level that forbids the choice (``enterprise``,
    ``domain``) or ``product`` for problems in floe.yaml itself.
    """

    code: str
    message: str
    file: str = ""
    key_path: str = ""
    level: str | None = None
    transform: str | None = None
    compute: str | None = None
    environments: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.file}: {self.key_path}: " if self.file and self.key_path else ""
        return f"{where}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["environments"] = list(self.environments)
        data["allowed"] = list(self.allowed)
        return data


class CompilationError(ComputeError, ValueError):
    """A compile found violations; all of them are in ``violations``."""

    def __init__(
        self,
        violations: Sequence[Violation],
        *,
        correlation_id: str | None = None,
    ) -> None:
        self.violations = list(violations)
        count = len(self.violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(
            f"compile failed with {count} violation{'s' if count != 1 else ''}:\n{lines}",
            correlation_id=correlation_id,
        )

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["violations"] = [v.to_dict() for v in self.violations]
        return data


class RegistryLoadError(ComputeError, ImportError):
    """Some approved computes could not be discovered, loaded or configured.

    ``failures`` maps each failing compute to its reason and ``errors`` holds the
    underlying errors, so one run shows every broken compute (KIT-023).
    """

    def __init__(
        self,
        failures: Mapping[str, str],
        *,
        errors: Sequence[ComputeError] = (),
        partial: object = None,
        correlation_id: str | None = None,
    ) -> None:
        self.failures = dict(failures)
        self.errors = list(errors)
        #: the registry of the computes that did load (an ApprovedComputes), for health checks
        self.partial = partial
        lines = "\n".join(f"  - {name}: {reason}" for name, reason in sorted(self.failures.items()))
        super().__init__(
            f"{len(self.failures)} approved compute(s) failed to load:\n{lines}",
            correlation_id=correlation_id,
        )

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["failures"] = dict(self.failures)
        data["errors"] = [str(e) for e in self.errors]
        return data


class IOViolationError(ComputeError, PermissionError):
    """A plugin method that must do no I/O tried to (the conformance sandbox, FR-004a).

    ``kind`` is socket, subprocess, file_write or db_connect; ``detail`` is the call,
    e.g. ``socket.connect(('127.0.0.1', 5432))``; ``method`` is the plugin method.
    """

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        method: str,
        location: str = "",
        plugin_name: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.kind = kind
        self.detail = detail
        self.method = method
        self.location = location
        where = f" at {location}" if location else ""
        super().__init__(
            f"{method} must do no I/O, but made a {kind} call: {detail}{where}",
            plugin_name=plugin_name,
            correlation_id=correlation_id,
        )


class CertificateError(ComputeError, ValueError):
    """A conformance certificate cannot be read, or is not one (``file``, ``reason``)."""

    def __init__(
        self,
        message: str,
        *,
        file: str,
        reason: str,
        correlation_id: str | None = None,
    ) -> None:
        self.file = file
        self.reason = reason
        super().__init__(message, correlation_id=correlation_id)


class WaiverError(ComputeConfigurationError):
    """A waivers file is malformed: names the file, the waiver's field and its value."""

    def __init__(
        self,
        message: str,
        *,
        file: str,
        field: str | None = None,
        value: object = None,
        allowed: Sequence[object] | str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.file = file
        super().__init__(
            message, field=field, value=value, allowed=allowed, correlation_id=correlation_id
        )
