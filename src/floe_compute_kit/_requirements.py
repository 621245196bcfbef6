"""The requirement catalogue: every id a check or a test may name, with what it asks.

One table, so that the contract reference (docs/contract.md), the rendered catalogue
(conformance/requirements.md) and the test markers cannot drift apart: a test fails
when a marker names an id missing here, or when an id here has no test.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

__all__ = ["REQUIREMENTS"]

_TABLE: dict[str, str] = {
    # The contract (foundation).
    "FR-001": "The ComputePlugin ABC defines the adapter contract: five typed abstract methods, "
    "a config_model and docstrings with examples.",
    "FR-002": "A plugin identifies itself: lowercase `name`, PEP 440 `version`, and a "
    "`floe_api_version` inside the range the kit supports.",
    "FR-003": "The core models validate with errors naming the field, the value and what is "
    "allowed; credentials are SecretStr and never appear in repr, str, logs or JSON; "
    "ResourceSpec holds Kubernetes quantities; WORKLOAD_PRESETS holds small, medium, large.",
    "FR-004": "Plugins are discovered through the `floe.computes` entry points; a plugin that "
    "fails to import, is incomplete, raises, returns the wrong type or hangs is reported with "
    "its cause (entry point, distribution, reason), never as a crash; duplicates raise a typed "
    "error; an unknown name lists the available ones.",
    "FR-004a": "Instantiating an incomplete plugin raises an error that names every missing "
    "member.",
    # The methods.
    "FR-005": "generate_dbt_profile returns a YAML-safe, deterministic, pure dbt target with "
    "`threads`, a timeout that takes effect, secrets only as env_var references, accepted by "
    "the installed adapter's own credentials schema.",
    "FR-006": "get_required_dbt_packages returns PEP 508 requirements that include the dbt "
    "adapter package for the profile's type.",
    "FR-007": "get_catalog_attachment_sql returns None or injection-safe single statements that "
    "attach an Iceberg catalog; DuckDB reads and writes Iceberg through them for real.",
    "FR-008": "validate_connection is a measured, read-only health check that never raises: "
    "HEALTHY, DEGRADED with warnings, or UNHEALTHY with an actionable message, within 5 s.",
    "FR-009": "get_resource_requirements returns valid, monotonic Kubernetes resources for "
    "small, medium and large; an unknown size lists the valid ones.",
    # Multi-compute and governance.
    "FR-010": "manifest.yaml and floe.yaml are parsed into validated models: approved computes, "
    "a default, per-compute configs, scopes, transforms and environments.",
    "FR-011": "Bad manifest input names the file, the key path, the value and what is allowed.",
    "FR-012": "A registry of the approved computes loads and configures each one, reporting every "
    "failing compute with its reason in one error.",
    "FR-013": "Each transform runs on its explicit compute or the default.",
    "FR-014": "A compute that is not approved is a compile-time error listing the allowed options "
    "and the level that forbids it.",
    "FR-015": "A domain's approved computes are a subset of the enterprise's.",
    "FR-016": "A domain's default compute is one of the domain's approved computes.",
    "FR-017": "A product's compute selections are within its domain's approved computes.",
    # Operations.
    "FR-018": "Spans named for each validate_connection and generate_dbt_profile call, from the "
    "`floe.compute` tracer, carry the plugin and the status.",
    "FR-019": "Metrics from the `floe.compute` meter: validation duration histogram, validation "
    "error counter, profile generation histogram.",
    "FR-020": "A query running past timeout_seconds is cancelled, and the error names the "
    "timeout and the model.",
    "FR-021": "memory_limit is enforced by the engine: an over-limit query fails with the "
    "engine's out-of-memory error, not a crashed process.",
    "FR-022": "Errors form one hierarchy, each subclassing the builtin it resembles, with "
    "structured fields, including a query error.",
    "FR-023": "Every compute error carries a correlation id and is logged with it.",
    "FR-024": "No secret reaches a span, a metric attribute or a log line.",
    # The conformance kit.
    "FR-025": "Configs are generated from any plugin's config model, varying every field within "
    "its constraints; invalid mutations are rejected naming the field; example configs valid.",
    "FR-026": "No I/O outside validate_connection: sockets, subprocesses, file writes and "
    "database connections are detected and named.",
    "FR-027": "Capabilities: claims are known and tested; unclaimed features answer cleanly and "
    "are reported as unsupported, not failed.",
    "FR-028": "`floe-conformance report` runs the suite in-process at a requested level, the "
    "integration level including a real `dbt build` of a bundled project.",
    "FR-029": "A certificate is valid against a versioned JSON Schema and records the kit, the "
    "catalogue, the plugin and its distribution with file hashes, the environment, the seed, "
    "every result and a content digest.",
    "FR-030": "`floe-conformance verify` checks a certificate's digest and schema; `--rerun` "
    "re-runs with the recorded seed and reports differences.",
    "FR-031": "`floe-conformance replay --check ID` prints a runnable snippet that reproduces "
    "that failure.",
    "FR-032": "Waivers (check id, reason, expiry, link): expired or unknown ones fail the run; "
    "waived checks are shown as waived and cap the level.",
    "FR-033": "`floe-conformance init NAME` scaffolds a plugin package whose tests point at each "
    "part left to write.",
    "FR-034": "The kit provides a running Iceberg REST catalog fixture: an external URI, "
    "testcontainers where Docker answers, else a local process on loopback.",
    "FR-035": "Structural plugins (right shape, other base class) are checked too, and their "
    "results validated against the models field by field.",
    "FR-036": "The pytest plugin and contract suites: one option group, nothing collected "
    "without --floe-plugin, xdist, junitxml and hypothesis profiles work, and a failure prints "
    "the shrunk config and its seed.",
    "FR-037": "Vendoring copies the suites into an author's repository with a content hash, "
    "warns on drift and never overwrites local changes without --force.",
    "FR-038": "The documentation lets a newcomer certify a plugin: the contract reference is "
    "generated from the catalogue and the tutorial's snippets run.",
    # The kit's own (KIT-110..119: PostgreSQL).
    "KIT-110": "The kit starts a real PostgreSQL server on loopback for tests and live "
    "targets: Debian's binaries as an unprivileged user (or testcontainers where Docker "
    "answers), SCRAM password auth, 127.0.0.1 only, stop/start; missing binaries name the "
    "install command.",
    # Success criteria.
    "SC-003": "A registry of three or more computes loads within 5 s.",
    "SC-004": "All compile errors are reported at once, within 2 s for 10,000 transforms.",
    "SC-005": "Environment parity: a transform resolving to different computes in different "
    "environments fails compile, naming the transform, the environments and the computes.",
    "SC-006": "A query past its timeout is cancelled within 1 s of the timeout.",
    "SC-007": "At least 95% of generated configs are valid for the reference plugin's model.",
    "SC-008": "The reference plugin's committed certificate is current.",
    "SC-009": "Enterprise -> domain -> product governance is checked at compile time.",
    # User stories.
    "US2": "A data engineer runs dbt on DuckDB with zero configuration, including Iceberg "
    "tables and memory limits.",
    "US3": "A platform engineer approves computes and a default in manifest.yaml.",
    "US4": "A data engineer selects a compute per transform in floe.yaml.",
    "US5": "An enterprise architect restricts computes from enterprise to domain to product.",
    "US6": "An operator checks compute health and reads OpenTelemetry spans and metrics.",
    "US7": "An operator relies on query timeouts that really cancel.",
    # A user's first hour (issue 14).
    "KIT-170": "`pip install floe-compute-kit` is the contract only: it imports without the "
    "test kit or any engine, and a CLI or pytest option that needs an extra exits with a line "
    "naming the extra and its install command.",
    "KIT-171": "A missing piece (pyiceberg, a dbt adapter, an env var the profile reads) is "
    "named with the fix before it fails, and the logs a message points at survive the run "
    "under the output folder (`report --out DIR` keeps them in DIR/logs/).",
    "KIT-172": "The CLI's tables and progress display fit 80 columns.",
}

#: requirement id -> what it asks (read-only).
REQUIREMENTS: Final = MappingProxyType(_TABLE)
