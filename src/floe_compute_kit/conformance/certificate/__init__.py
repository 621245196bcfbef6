"""The certificate: its typed model (which generates the shipped schema), a bounded reader,
the secret scrubbing applied when it is built and the escaping applied when it is shown.

The parts of the model (``KitInfo``, ``RunInfo``, ``Summary``...) live in ``_model``; a
reader needs only :class:`Certificate` and what hangs off it."""

from __future__ import annotations

from floe_compute_kit.conformance.certificate._model import (
    CERTIFICATE_KIND,
    SCHEMA_ID,
    SCHEMA_VERSION,
    Certificate,
    CheckRecord,
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
    "Certificate",
    "CheckRecord",
    "Scrubber",
    "json_schema",
    "parse_certificate",
    "read_certificate_json",
    "validation_lines",
]
