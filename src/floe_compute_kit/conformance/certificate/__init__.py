"""The certificate: its typed model (which generates the shipped schema), a bounded reader,
the secret scrubbing applied when it is built and the escaping applied when it is shown."""

from __future__ import annotations

from floe_compute_kit.conformance.certificate._model import (
    CERTIFICATE_KIND,
    SCHEMA_ID,
    SCHEMA_VERSION,
    AppliedWaiver,
    Certificate,
    CheckRecord,
    Counts,
    Distribution,
    Environment,
    FileHash,
    KitInfo,
    PluginInfo,
    RequirementStatus,
    RunInfo,
    Summary,
    WaiverRecord,
    json_schema,
)
from floe_compute_kit.conformance.certificate._read import (
    MAX_BYTES,
    MAX_DEPTH,
    parse_certificate,
    read_certificate_json,
    validation_lines,
)
from floe_compute_kit.conformance.certificate._scrub import MASK, Scrubber

__all__ = [
    "CERTIFICATE_KIND",
    "MASK",
    "MAX_BYTES",
    "MAX_DEPTH",
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
    "Scrubber",
    "Summary",
    "WaiverRecord",
    "json_schema",
    "parse_certificate",
    "read_certificate_json",
    "validation_lines",
]
