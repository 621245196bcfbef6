"""Every error the kit raises, in one module.

Each error subclasses the builtin it resembles, so callers who know nothing of
floe can still ``except ValueError`` or ``except TimeoutError``; and each carries
structured fields (plugin_name, field, allowed, correlation_id ...) so tools can
act on them without parsing messages (FR-022, FR-023).
"""

from __future__ import annotations

import inspect
import logging
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Final, TypedDict, TypeVar, Unpack

__all__ = [
    "ERRORS_LOGGER",
    "CertificateError",
    "Common",
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
    "log_error",
    "new_correlation_id",
]

#: The logger every error record goes to, wherever it is raised or handled.
ERRORS_LOGGER: Final = "floe.compute.errors"
_log = logging.getLogger(ERRORS_LOGGER)
_SCALAR: Final = (str, int, float, bool)

_E = TypeVar("_E", bound="ComputeError")


class Common(TypedDict, total=False):
    """The fields every error takes (``**common: Unpack[Common]`` in a subclass)."""

    plugin_name: str | None
    correlation_id: str | None


def new_correlation_id() -> str:
    """A fresh id that ties an error to the log lines and spans around it."""
    return uuid.uuid4().hex


def _options(allowed: Iterable[object]) -> str:
    return ", ".join(repr(a) if not isinstance(a, str) else a for a in allowed)


def _rebuild(cls: type[ComputeError], message: str) -> ComputeError:
    """Unpickle without the subclass's own ``__init__`` signature (the state follows)."""
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    return exc


class ComputeError(Exception):
    """Base of every floe compute error; the one constructor of the structured fields.

    A subclass declares its fields as class annotations and passes them through
    ``super().__init__(message, field=value, ..., **common)``; storage, ``repr``,
    ``to_dict`` and pickling come from here. ``str()`` is the message alone, stable run
    to run; the random ``correlation_id`` is in ``repr``, ``to_dict`` and the log record.

    Nothing is logged when an error is built (the kit builds many on purpose): the code
    that raises or handles one calls :func:`log_error` (FR-023).
    """

    plugin_name: str | None
    correlation_id: str
    _floe_logged: bool = False  # set by log_error, so an error is logged once
    #: every declared field, in declaration order, base fields first
    _fields: ClassVar[tuple[str, ...]] = ("plugin_name", "correlation_id")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = [n for n in inspect.get_annotations(cls) if not n.startswith("_")]
        cls._fields = tuple(dict.fromkeys((*cls._fields, *own)))

    def __init__(
        self,
        message: str,
        /,
        *,
        plugin_name: str | None = None,
        correlation_id: str | None = None,
        **fields: object,
    ) -> None:
        super().__init__(message)
        unknown = sorted(set(fields).difference(self._fields))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} has no field {', '.join(unknown)}; "
                f"its fields are {', '.join(self._fields)}"
            )
        self.message = message
        self.plugin_name = plugin_name
        self.correlation_id = correlation_id or new_correlation_id()
        for name in self._fields[2:]:
            setattr(self, name, fields.get(name))

    def fields(self) -> dict[str, object]:
        """The structured fields by name, in declaration order."""
        return {name: getattr(self, name, None) for name in self._fields}

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        shown = [repr(self.message)]
        shown += [f"{k}={v!r}" for k, v in self.fields().items() if v is not None]
        return f"{type(self).__name__}({', '.join(shown)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message), dict(vars(self)))

    def to_dict(self) -> dict[str, Any]:
        """Structured fields, for JSON output and span attributes (JSON-plain values only)."""
        data: dict[str, Any] = {"error_type": type(self).__name__, "message": self.message}
        for name, value in self.fields().items():
            if value is None or isinstance(value, _SCALAR):
                data[name] = value
            elif isinstance(value, list | tuple) and all(
                v is None or isinstance(v, _SCALAR) for v in value
            ):
                data[name] = list(value)
        return data


def log_error(exc: _E, *, handled: bool = False, logger: logging.Logger | None = None) -> _E:
    """Log ``exc`` once, with its correlation id, where it is raised or handled.

    Returns ``exc`` so a raise site reads ``raise log_error(SomeError(...))``. A second
    call for the same error (the handler of one its raiser logged) logs nothing. INFO,
    not WARNING: many errors are expected and handled (the kit provokes them on
    purpose), and Python's last-resort handler would print every WARNING. When an
    OpenTelemetry span is recording, the error is added to it as an event carrying the
    same correlation id, so the traceback, the log line and the span join up.
    """
    if exc._floe_logged:
        return exc
    exc._floe_logged = True
    (logger or _log).info(
        "%s [plugin=%s correlation_id=%s]: %s",
        type(exc).__name__,
        exc.plugin_name or "-",
        exc.correlation_id,
        exc.message,
        extra={
            "correlation_id": exc.correlation_id,
            "plugin_name": exc.plugin_name,
            "error_type": type(exc).__name__,
            "error_handled": handled,
        },
        stacklevel=2,
    )
    _add_span_event(exc, handled=handled)
    return exc


def _add_span_event(exc: ComputeError, *, handled: bool) -> None:
    if "opentelemetry.trace" not in sys.modules:  # never import OpenTelemetry for this
        return
    from opentelemetry import trace  # noqa: PLC0415 - only when already imported

    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(
            "floe.compute.error",
            {
                "error_type": type(exc).__name__,
                "correlation_id": exc.correlation_id,
                "handled": handled,
            },
        )


class ComputeConnectionError(ComputeError, ConnectionError):
    """The compute target cannot be reached or opened."""

    target: str | None

    def __init__(
        self, message: str, /, *, target: str | None = None, **common: Unpack[Common]
    ) -> None:
        super().__init__(message, target=target, **common)


class ComputeTimeoutError(ComputeError, TimeoutError):
    """A query ran past its configured timeout and was cancelled."""

    timeout_seconds: float | None
    elapsed_seconds: float | None
    query_id: str | None

    def __init__(
        self,
        message: str,
        /,
        *,
        timeout_seconds: float | None = None,
        elapsed_seconds: float | None = None,
        query_id: str | None = None,
        **common: Unpack[Common],
    ) -> None:
        super().__init__(
            message,
            timeout_seconds=timeout_seconds,
            elapsed_seconds=elapsed_seconds,
            query_id=query_id,
            **common,
        )


class ComputeConfigurationError(ComputeError, ValueError):
    """A config value is not allowed: names the field, the value and the options."""

    field: str | None
    value: object
    allowed: list[object] | str | None
    errors: list[str]

    def __init__(
        self,
        message: str,
        /,
        *,
        field: str | None = None,
        value: object = None,
        allowed: Sequence[object] | str | None = None,
        errors: Sequence[str] = (),
        **common: Unpack[Common],
    ) -> None:
        super().__init__(
            message,
            field=field,
            value=value,
            allowed=allowed if allowed is None or isinstance(allowed, str) else list(allowed),
            errors=list(errors),
            **common,
        )

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

    query_id: str | None
    sql: str | None

    def __init__(
        self,
        message: str,
        /,
        *,
        query_id: str | None = None,
        sql: str | None = None,
        **common: Unpack[Common],
    ) -> None:
        super().__init__(message, query_id=query_id, sql=sql, **common)


class IncompletePluginError(ComputeError, TypeError):
    """A ComputePlugin subclass was instantiated with abstract members left."""

    class_name: str
    missing: list[str]

    def __init__(
        self, class_name: str, missing: Sequence[str], /, **common: Unpack[Common]
    ) -> None:
        shown = sorted(missing)
        super().__init__(
            f"{class_name} does not implement: {', '.join(shown)}",
            class_name=class_name,
            missing=shown,
            **common,
        )


class PluginLoadError(ComputeError, ImportError):
    """An entry point or plugin spec could not be loaded; names who supplied it and why."""

    entry_point: str | None
    distribution: str | None
    reason: str | None

    def __init__(
        self,
        message: str,
        /,
        *,
        entry_point: str | None = None,
        distribution: str | None = None,
        reason: str | None = None,
        **common: Unpack[Common],
    ) -> None:
        super().__init__(
            message, entry_point=entry_point, distribution=distribution, reason=reason, **common
        )


class DuplicatePluginError(ComputeError, ValueError):
    """Two distributions register a compute under the same name."""

    distributions: list[str]

    def __init__(
        self,
        plugin_name: str,
        distributions: Sequence[str],
        /,
        *,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(
            f"compute {plugin_name!r} is registered by more than one distribution: "
            f"{', '.join(distributions)}; uninstall all but one",
            plugin_name=plugin_name,
            correlation_id=correlation_id,
            distributions=list(distributions),
        )


class PluginNotFoundError(ComputeError, LookupError):
    """No installed plugin has this name; lists the ones that are."""

    available: list[str]

    def __init__(
        self,
        plugin_name: str,
        available: Sequence[str],
        /,
        *,
        hint: str = "",
        correlation_id: str | None = None,
    ) -> None:
        listed = sorted(available)
        shown = ", ".join(listed) if listed else "none installed"
        super().__init__(
            f"no compute plugin named {plugin_name!r}; available: {shown}{hint}",
            plugin_name=plugin_name,
            correlation_id=correlation_id,
            available=listed,
        )


class ManifestError(ComputeConfigurationError):
    """manifest.yaml or floe.yaml is malformed or invalid.

    ``file`` and ``key_path`` (e.g. ``transforms[3].compute``) say where; every
    problem found in the file is in ``errors``, one line each, so a user fixes
    them in one pass (FR-010, KIT-004).
    """

    file: str
    key_path: str
    line: int | None

    def __init__(
        self,
        message: str,
        /,
        *,
        file: str,
        key_path: str,
        value: object = None,
        allowed: Sequence[object] | str | None = None,
        errors: Sequence[str] = (),
        line: int | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            field=key_path,
            value=value,
            allowed=allowed,
            errors=errors or (message,),
            correlation_id=correlation_id,
        )
        # ComputeConfigurationError's constructor does not know these: set them after.
        self.file, self.key_path, self.line = file, key_path, line


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

    violations: list[Violation]

    def __init__(
        self, violations: Sequence[Violation], /, *, correlation_id: str | None = None
    ) -> None:
        count = len(violations)
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(
            f"compile failed with {count} violation{'s' if count != 1 else ''}:\n{lines}",
            correlation_id=correlation_id,
            violations=list(violations),
        )

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["violations"] = [v.to_dict() for v in self.violations]
        return data


class RegistryLoadError(ComputeError, ImportError):
    """Some approved computes could not be discovered, loaded or configured.

    ``failures`` maps each failing compute to its reason and ``errors`` holds the
    underlying errors, so one run shows every broken compute (KIT-023). ``partial`` is
    the registry of the computes that did load (an ApprovedComputes), for health checks.
    """

    failures: dict[str, str]
    errors: list[ComputeError]
    partial: object

    def __init__(
        self,
        failures: Mapping[str, str],
        /,
        *,
        errors: Sequence[ComputeError] = (),
        partial: object = None,
        correlation_id: str | None = None,
    ) -> None:
        lines = "\n".join(f"  - {name}: {reason}" for name, reason in sorted(failures.items()))
        super().__init__(
            f"{len(failures)} approved compute(s) failed to load:\n{lines}",
            correlation_id=correlation_id,
            failures=dict(failures),
            errors=list(errors),
            partial=partial,
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

    kind: str
    detail: str
    method: str
    location: str

    def __init__(
        self,
        kind: str,
        detail: str,
        /,
        *,
        method: str,
        location: str = "",
        **common: Unpack[Common],
    ) -> None:
        where = f" at {location}" if location else ""
        super().__init__(
            f"{method} must do no I/O, but made a {kind} call: {detail}{where}",
            kind=kind,
            detail=detail,
            method=method,
            location=location,
            **common,
        )


class CertificateError(ComputeError, ValueError):
    """A conformance certificate cannot be read, or is not one (``file``, ``reason``)."""

    file: str
    reason: str

    def __init__(
        self, message: str, /, *, file: str, reason: str, correlation_id: str | None = None
    ) -> None:
        super().__init__(message, file=file, reason=reason, correlation_id=correlation_id)


class WaiverError(ComputeConfigurationError):
    """A waivers file is malformed: names the file, the waiver's field and its value."""

    file: str

    def __init__(
        self,
        message: str,
        /,
        *,
        file: str,
        field: str | None = None,
        value: object = None,
        allowed: Sequence[object] | str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(
            message, field=field, value=value, allowed=allowed, correlation_id=correlation_id
        )
        self.file = file
