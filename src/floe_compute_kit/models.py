"""The pydantic models of the floe compute contract.

They are the single source of truth: plugins subclass ComputeConfig, the kit's
hypothesis strategies are derived from them, and every CLI input is parsed into
them. Validation errors are turned into ComputeConfigurationError naming the
field, the value and what is allowed (see :func:`parse_config`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, NoReturn, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)

from floe_compute_kit._problems import field_problems, key_path
from floe_compute_kit.errors import ComputeConfigurationError, log_error

__all__ = [
    "WORKLOAD_PRESETS",
    "CatalogConfig",
    "ComputeConfig",
    "ConnectionResult",
    "ConnectionStatus",
    "K8sQuantity",
    "ResourceSpec",
    "parse_config",
    "parse_quantity",
    "resource_preset",
]

PLUGIN_NAME_PATTERN: Final = r"^[a-z][a-z0-9_]*$"

# Kubernetes resource.Quantity grammar: a signed decimal number, then either a
# binary SI suffix, a decimal SI suffix, or a decimal exponent.
_QUANTITY_RE = re.compile(
    r"^(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
QUANTITY_HELP: Final = (
    "a Kubernetes quantity such as 500m, 2, 256Mi, 4Gi or 1e3 "
    "(suffixes Ki Mi Gi Ti Pi Ei n u m k M G T P E)"
)


def parse_quantity(text: str) -> Decimal:
    """The numeric value of a Kubernetes quantity; ValueError if it is not one."""
    match = _QUANTITY_RE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not {QUANTITY_HELP}")
    try:
        number = Decimal(match["num"])
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise ValueError(f"{text!r} is not {QUANTITY_HELP}") from exc
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        value = number * _BINARY[suffix]
    elif suffix in _DECIMAL:
        value = number * _DECIMAL[suffix]
    elif suffix:
        value = number.scaleb(int(suffix[1:]))
    else:
        value = number
    if value < 0:
        raise ValueError(f"{text!r} is negative; resource quantities must be >= 0")
    return value


def _check_quantity(text: str) -> str:
    parse_quantity(text)
    return text


K8sQuantity = Annotated[str, AfterValidator(_check_quantity)]


class _FreeForFields:
    """Hides an inherited pydantic v1 method from a config class, so that a plugin's config
    may have a field of that name (``schema`` is natural for a database) without pydantic's
    "shadows an attribute in parent" warning, which fires when a base class has the name."""

    def __init__(self, replacement: str) -> None:
        self.replacement = replacement
        self.name = "?"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> NoReturn:
        raise AttributeError(
            f"{self.name!r} is left free for plugin config fields; "
            f"use {self.replacement} (pydantic v2) instead"
        )


class ComputeConfig(BaseModel):
    """What every compute config has. Plugins subclass it and add their fields.

    >>> ComputeConfig(plugin="duckdb", threads=8).timeout_seconds
    3600
    """

    model_config = ConfigDict(extra="forbid", validate_default=True)
    if not TYPE_CHECKING:  # type checkers keep seeing pydantic's own BaseModel.schema
        # pydantic v1's deprecated BaseModel.schema(); a database config wants the name.
        schema: ClassVar[_FreeForFields] = _FreeForFields("model_json_schema()")

    plugin: str = Field(pattern=PLUGIN_NAME_PATTERN, description="the compute plugin's name")
    # strict: `threads: true` must be an error, not 1
    timeout_seconds: int = Field(
        default=3600,
        ge=1,
        le=86400,
        strict=True,
        description="cancel any query running longer than this",
    )
    threads: int = Field(default=4, ge=1, le=64, strict=True, description="dbt threads")
    connection: dict[str, Any] = Field(
        default_factory=dict, description="engine-specific connection settings"
    )
    credentials: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="secrets; rendered into profiles only as env_var references",
    )


class ConnectionStatus(StrEnum):
    """Health of a compute target, as validate_connection reports it."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


class ConnectionResult(BaseModel):
    """The outcome of one validate_connection call."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: ConnectionStatus
    latency_ms: float = Field(ge=0, description="measured wall time of the check")
    message: str = ""
    warnings: tuple[str, ...] = ()


class ResourceSpec(BaseModel):
    """Kubernetes requests and limits for a dbt run on this compute."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cpu_request: K8sQuantity
    cpu_limit: K8sQuantity
    memory_request: K8sQuantity
    memory_limit: K8sQuantity
    ephemeral_storage_request: K8sQuantity = "1Gi"
    ephemeral_storage_limit: K8sQuantity = "2Gi"

    @model_validator(mode="after")
    def _request_within_limit(self) -> ResourceSpec:
        for kind in ("cpu", "memory", "ephemeral_storage"):
            request = getattr(self, f"{kind}_request")
            limit = getattr(self, f"{kind}_limit")
            if parse_quantity(request) > parse_quantity(limit):
                raise ValueError(
                    f"{kind}_request {request!r} exceeds {kind}_limit {limit!r}; "
                    "a request must be <= its limit"
                )
        return self

    def to_k8s(self) -> dict[str, dict[str, str]]:
        """The ``resources`` block of a Kubernetes container spec."""
        return {
            "requests": {
                "cpu": self.cpu_request,
                "memory": self.memory_request,
                "ephemeral-storage": self.ephemeral_storage_request,
            },
            "limits": {
                "cpu": self.cpu_limit,
                "memory": self.memory_limit,
                "ephemeral-storage": self.ephemeral_storage_limit,
            },
        }


WORKLOAD_PRESETS: Final[Mapping[str, ResourceSpec]] = MappingProxyType(
    {
        "small": ResourceSpec(
            cpu_request="100m",
            cpu_limit="500m",
            memory_request="256Mi",
            memory_limit="512Mi",
            ephemeral_storage_request="512Mi",
            ephemeral_storage_limit="1Gi",
        ),
        "medium": ResourceSpec(
            cpu_request="500m",
            cpu_limit="2000m",
            memory_request="1Gi",
            memory_limit="4Gi",
            ephemeral_storage_request="1Gi",
            ephemeral_storage_limit="4Gi",
        ),
        "large": ResourceSpec(
            cpu_request="2000m",
            cpu_limit="8000m",
            memory_request="4Gi",
            memory_limit="16Gi",
            ephemeral_storage_request="4Gi",
            ephemeral_storage_limit="16Gi",
        ),
    }
)


def resource_preset(workload_size: str, *, plugin_name: str | None = None) -> ResourceSpec:
    """The preset for a size; an unknown size lists the valid ones."""
    try:
        return WORKLOAD_PRESETS[workload_size]
    except (KeyError, TypeError):
        raise log_error(
            ComputeConfigurationError.invalid_choice(
                "workload_size", workload_size, list(WORKLOAD_PRESETS), plugin_name=plugin_name
            )
        ) from None


class CatalogConfig(BaseModel):
    """Where a compute finds its Iceberg (or other) catalog."""

    model_config = ConfigDict(extra="forbid")

    catalog_type: str = Field(min_length=1, description="e.g. rest, glue")
    catalog_uri: str = Field(min_length=1, description="the catalog endpoint")
    catalog_name: str = Field(min_length=1, description="the name the engine attaches it as")
    warehouse: str | None = None
    credentials: dict[str, SecretStr] = Field(default_factory=dict)


_M = TypeVar("_M", bound=BaseModel)


def _dotted(prefix: str, loc: tuple[str | int, ...], source: str | None) -> str:
    if not loc:
        return source or "<root>"
    return prefix + ".".join(str(p) if isinstance(p, int) else key_path((p,)) for p in loc)


def coerce_config(
    model: type[_M], config: BaseModel | Mapping[str, Any], *, plugin_name: str | None = None
) -> _M:
    """``config`` as an instance of ``model``: as it is when it already is one, else its data
    (a generic ComputeConfig or a mapping) parsed with :func:`parse_config`'s errors."""
    if isinstance(config, model):
        return config
    data = config.model_dump() if isinstance(config, BaseModel) else dict(config)
    return parse_config(model, data, plugin_name=plugin_name)


def parse_config(
    model: type[_M],
    data: Mapping[str, Any],
    *,
    plugin_name: str | None = None,
    source: str | None = None,
) -> _M:
    """Validate ``data`` into ``model`` or raise one ComputeConfigurationError.

    The error names every bad field with its value and what is allowed, and
    never echoes a credential.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        prefix = f"{source}." if source else ""
        problems = field_problems(model, exc)
        lines = []
        for problem in problems:
            field = _dotted(prefix, problem.loc, source)
            what = "is invalid" if problem.value is None else f"{problem.value} is invalid"
            line = f"{field}: {what}: {problem.message}"
            if problem.allowed:
                line += f" (allowed: {problem.allowed})"
            lines.append(line)
        first = problems[0]
        field = _dotted(prefix, first.loc, source)
        value, allowed = first.raw, first.allowed
        header = f"invalid {model.__name__}" + (f" in {source}" if source else "")
        raise log_error(
            ComputeConfigurationError(
                f"{header}: " + "; ".join(lines),
                plugin_name=plugin_name,
                field=field,
                value=value,
                allowed=allowed or None,
                errors=lines,
            )
        ) from None
