"""The certificate as typed data: one pydantic model that is also the shipped JSON Schema.

``certificate.schema.json`` is generated from :class:`Certificate` (``scripts/regenerate-schema``),
so the schema a platform team validates against and the model the kit reads with cannot
drift apart. Every model is strict and closed: a check id that is an int, a level that is
not a level or a field the kit never writes is an error, not a guess.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, model_serializer

from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance._settings import BUDGET_LIMIT_S, MAX_EXAMPLES_LIMIT, SEED_LIMIT

__all__ = [
    "CERTIFICATE_KIND",
    "SCHEMA_ID",
    "SCHEMA_VERSION",
    "AppliedWaiver",
    "Certificate",
    "CheckRecord",
    "Counts",
    "Distribution",
    "Environment",
    "FileHash",
    "KitInfo",
    "PluginInfo",
    "RequirementStatus",
    "RunInfo",
    "Summary",
    "UnclaimedCapability",
    "WaiverRecord",
    "json_schema",
]

SCHEMA_VERSION: Final = "1.0"
CERTIFICATE_KIND: Final = "floe-compute-certificate"
SCHEMA_ID: Final = (
    f"https://floe.dev/schemas/floe-compute-certificate/{SCHEMA_VERSION}/certificate.schema.json"
)

#: Generous bounds for text a plugin can put in a certificate (messages, tracebacks): the
#: reader refuses larger files before parsing, these keep one field from being all of it.
_TEXT: Final = 1_000_000
_NAME: Final = 10_000

Text = Annotated[str, Field(max_length=_TEXT)]
Name = Annotated[str, Field(max_length=_NAME)]
NonEmptyName = Annotated[str, Field(min_length=1, max_length=_NAME)]
Version = Annotated[str | None, Field(max_length=_NAME)]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Sha256Tagged = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]


def _parses_as(parse: Any) -> Any:
    # Keep the text (the digest is over it), but only if it means what it claims.
    def check(value: str) -> str:
        parse(value)
        return value

    return AfterValidator(check)


IsoDate = Annotated[
    str,
    Field(pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"}),
    _parses_as(dt.date.fromisoformat),
]
Timestamp = Annotated[
    str,
    Field(max_length=64, json_schema_extra={"format": "date-time"}),
    _parses_as(dt.datetime.fromisoformat),
]
CheckId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.<>-]+$")]
RequirementId = Annotated[str, Field(pattern=r"^[A-Z]+-?[0-9]+[a-z]?(-AS[0-9]+)?$", max_length=50)]
# Enums from JSON text: the value string is the enum (strict would demand an instance).
LevelValue = Annotated[Level, Field(strict=False)]
OutcomeValue = Annotated[Outcome, Field(strict=False)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True, populate_by_name=True, str_max_length=_TEXT
    )


class Counts(_Model):
    """How many checks ended in each outcome."""

    passed: Annotated[int, Field(ge=0)]
    failed: Annotated[int, Field(ge=0)]
    error: Annotated[int, Field(ge=0)]
    unsupported: Annotated[int, Field(ge=0)]
    waived: Annotated[int, Field(ge=0)]

    def of(self, outcome: str) -> int:
        value: int = getattr(self, Outcome(outcome).value)
        return value


class _WaiverFields(_Model):
    check: NonEmptyName
    reason: Annotated[str, Field(min_length=1, max_length=_TEXT)]
    expires: IsoDate
    link: NonEmptyName


class WaiverRecord(_WaiverFields):
    """A waiver given to the run, and whether it applied to a failing check."""

    applied: bool


class AppliedWaiver(_WaiverFields):
    """The waiver on a waived check, with what the check itself returned."""

    underlying_outcome: Literal["failed", "error"]


class KitInfo(_Model):
    name: Literal["floe-compute-kit"]
    version: NonEmptyName
    catalogue_version: Sha256Tagged
    catalogue_size: Annotated[int, Field(ge=0, le=100_000)]


class UnclaimedCapability(_Model):
    """An optional capability the plugin does not claim, and the checks (or parts of
    checks) that were not applicable because of it."""

    capability: NonEmptyName
    checks: list[CheckId]


def _without_none(data: Any, name: str) -> Any:
    """``data`` without ``name`` when it is None: a field added in a later kit, so that
    certificates written before it read and dump back unchanged."""
    if isinstance(data, dict) and data.get(name) is None:
        data.pop(name, None)
    return data


class PluginInfo(_Model):
    spec: NonEmptyName
    name: Version
    version: Version
    floe_api_version: Version
    class_: Annotated[Version, Field(alias="class")]
    capabilities: list[Name]
    #: the optional capabilities not claimed; absent in certificates written before
    #: dbt_build and query_timeout became mandatory at the integration level
    unclaimed_capabilities: list[UnclaimedCapability] | None = None

    @model_serializer(mode="wrap")
    def _without_unknown_unclaimed(self, handler: Any) -> Any:
        # Certificates from before the field read and dump back unchanged.
        return _without_none(handler(self), "unclaimed_capabilities")


class FileHash(_Model):
    path: NonEmptyName
    sha256: Sha256Hex


class Distribution(_Model):
    """The distribution that supplied the plugin, with a hash of every package file."""

    name: Version
    version: Version
    package: Name
    hash_source: Literal["record", "computed"]
    files_sha256: Sha256Hex
    files: list[FileHash]


class AdapterInfo(_Model):
    name: Version
    version: Version


class Environment(_Model):
    python: Name
    implementation: Name
    platform: Name
    packages: dict[Name, Version]
    adapter: AdapterInfo
    drivers: dict[Name, Version]


class RunInfo(_Model):
    requested_level: LevelValue
    seed: Annotated[int, Field(gt=-SEED_LIMIT, lt=SEED_LIMIT)]
    max_examples: Annotated[int, Field(ge=1, le=MAX_EXAMPLES_LIMIT)]
    budget_s: Annotated[float, Field(gt=0, le=BUDGET_LIMIT_S, allow_inf_nan=False)]
    duration_s: Seconds
    load_error: Text | None
    #: how the plugin ran: "host" (its own process) or "in-process"; absent in
    #: certificates written before the plugin host existed
    isolation: Literal["host", "in-process"] | None = None

    @model_serializer(mode="wrap")
    def _without_unknown_isolation(self, handler: Any) -> Any:
        # Certificates from before the plugin host read and dump back unchanged.
        return _without_none(handler(self), "isolation")


class CheckRecord(_Model):
    """One clause as the catalogue states it, and how the plugin fared."""

    id: CheckId
    method: Name
    requirements: list[RequirementId]
    wording: Text
    level: LevelValue
    capability: Name | None
    outcome: OutcomeValue
    duration_s: Seconds
    message: Text
    traceback: Text | None
    example: dict[str, JsonValue] | None
    seed: int | None
    details: dict[str, JsonValue]
    waiver: AppliedWaiver | None

    @property
    def underlying_outcome(self) -> Outcome:
        """What the check itself returned, before any waiver."""
        if self.outcome is Outcome.WAIVED and self.waiver is not None:
            return Outcome(self.waiver.underlying_outcome)
        return self.outcome


class RequirementStatus(_Model):
    checks: list[CheckId]
    status: OutcomeValue


class Summary(_Model):
    total: Annotated[int, Field(ge=0)]
    counts: Counts
    by_method: dict[Name, Counts]
    by_requirement: dict[RequirementId, RequirementStatus]


class Certificate(_Model):
    """floe compute plugin conformance certificate.

    Written by `floe-conformance report`; checked by `floe-conformance verify`.
    schema_version changes its major part on any incompatible change.
    """

    kind: Literal["floe-compute-certificate"]
    schema_version: Annotated[str, Field(pattern=r"^1\.[0-9]+$")]
    created_at: Timestamp
    kit: KitInfo
    plugin: PluginInfo
    distribution: Distribution | None
    environment: Environment
    run: RunInfo
    waivers: list[WaiverRecord]
    waiver_problems: list[Text]
    checks: list[CheckRecord]
    summary: Summary
    level_achieved: LevelValue | None
    certified: bool
    digest: Sha256Tagged

    def check(self, check_id: str) -> CheckRecord:
        """The recorded check ``check_id``; KeyError when the certificate has none."""
        for record in self.checks:
            if record.id == check_id:
                return record
        raise KeyError(check_id)

    def to_json(self) -> dict[str, Any]:
        """The plain JSON form (the one the digest is computed over)."""
        return self.model_dump(mode="json", by_alias=True)


def _schema_title(schema: dict[str, Any]) -> None:
    schema["title"] = "floe compute plugin conformance certificate"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`Certificate`, as shipped in ``certificate.schema.json``."""
    schema = Certificate.model_json_schema(by_alias=True, mode="validation")
    _schema_title(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }
