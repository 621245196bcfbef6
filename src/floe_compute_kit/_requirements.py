"""The requirement catalogue: every id a check or a test may name, with what it asks.

FR-, SC- and US ids (scenarios ``USn-ASm``) mean what the upstream spec 001-compute-plugin says
(summarised in our words); ``KIT-nnn`` ids are what the kit adds beyond the spec. One table, so
that the contract reference (docs/contract.md), the rendered catalogue
(conformance/requirements.md) and the test markers cannot drift apart: a test fails when a
marker names an id missing here, or when an id here has no test.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

__all__ = ["REQUIREMENTS"]

_TABLE: dict[str, str] = {
    # SPEC-001 functional requirements: the contract.
    "FR-001": "A ComputePlugin ABC with five typed abstract methods: generate_dbt_profile, "
    "get_required_dbt_packages, validate_connection, get_resource_requirements and "
    "get_catalog_attachment_sql.",
    "FR-002": "Type safety: the contract's signatures are typed and every configuration and "
    "result is a pydantic model that validates its input.",
    "FR-003": "Plugins register through the `floe.computes` entry-point group and are discovered "
    "and loaded from it; a plugin that fails to load is named with the reason.",
    "FR-004": "Every plugin carries its metadata: name, version and floe_api_version.",
    "FR-004a": "A compute plugin never executes SQL or other I/O itself (dbt runs all SQL through "
    "profiles.yml); validate_connection's lightweight probe is the one exception.",
    # SPEC-001 functional requirements: the DuckDB plugin.
    "FR-005": "A DuckDB plugin implements the ComputePlugin ABC.",
    "FR-006": "The DuckDB plugin supports in-memory and file-based databases.",
    "FR-007": "Iceberg tables are read and written through DuckDB's Iceberg extension, attached "
    "by get_catalog_attachment_sql.",
    "FR-008": "generate_dbt_profile produces profiles that dbt-duckdb accepts and builds with.",
    "FR-009": "DuckDB memory limits are configurable and enforced by the engine: an over-limit "
    "query fails with DuckDB's out-of-memory error, not a killed process.",
    # SPEC-001 functional requirements: multi-compute and governance.
    "FR-010": "`compute.approved` in manifest.yaml lists the N approved compute targets; the "
    "manifest is parsed into validated models.",
    "FR-011": "`compute.default` is the compute a transform gets when it names none.",
    "FR-012": "`transforms[].compute` in floe.yaml selects a compute per transform.",
    "FR-013": "Compute selections are validated at compile time, not at run time: a compute that "
    "is not approved is a compile error.",
    "FR-014": "Environment parity: a transform runs on the same compute in dev, staging and prod.",
    "FR-015": "Hierarchical restriction: enterprise -> domain -> product, each level within the "
    "one above.",
    "FR-016": "A domain's approved computes are a subset of the enterprise's.",
    "FR-017": "A governance violation gives a clear error naming the file, the key, the level "
    "that forbids it and the allowed options.",
    # SPEC-001 functional requirements: operations.
    "FR-018": "validate_connection probes the target with the engine's native driver, lightweight"
    " and read-only, never through `dbt debug`.",
    "FR-019": "validate_connection returns a ConnectionResult (status, latency_ms, message, "
    "warnings) and never raises.",
    "FR-020": "Query timeouts are configured through generate_dbt_profile's output and enforced "
    "while dbt runs: a query past its timeout is cancelled.",
    "FR-021": "Connection pooling is configured through generate_dbt_profile's output where the "
    "adapter has it (DuckDB: one shared connection, a cursor per dbt thread, `threads` "
    "sets the pool size).",
    "FR-022": "Structured error types for compute failures (connection, timeout, query), each "
    "subclassing the builtin it resembles.",
    "FR-023": "Every compute error carries a correlation id and is logged with it.",
    "FR-024": "Compute metrics through OpenTelemetry (`floe.compute` meter): query duration, "
    "error rate and pool utilization, besides validation metrics.",
    # SPEC-001 success criteria.
    "SC-001": "A plugin developer writes a new compute adapter that the registry discovers, from "
    "the documentation alone (the tutorial's plugin certifies).",
    "SC-002": "A complete dbt project runs on DuckDB locally with zero external services.",
    "SC-003": "Three or more compute targets are validated and loaded within 5 s of manifest "
    "parsing.",
    "SC-004": "Per-transform compute selections are validated at compile time and every error is "
    "reported at once, within 2 s.",
    "SC-005": "Environment parity violations are caught at compile time, every one, naming the "
    "transform, the environments and the computes.",
    "SC-006": "A query past its timeout is cancelled within 1 s of the timeout expiring.",
    "SC-007": "Connection health degradation is detected within 30 s by health-check polling "
    "(`floe-compute health --watch`).",
    "SC-008": "Every compute plugin passes the compliance suite, every ABC method implemented "
    "correctly (the reference plugin's committed certificate is current).",
    "SC-009": "Governance errors name the violated constraint and list the allowed options.",
    # SPEC-001 user stories and their acceptance scenarios.
    "US1": "A plugin developer implements a compute plugin against the ABC.",
    "US1-AS1": "Inheriting the ABC gives clear guidance: five typed, documented methods.",
    "US1-AS2": "An incomplete plugin fails at instantiation, naming every missing member.",
    "US1-AS3": "A plugin registered through an entry point is discovered and loaded.",
    "US2": "A data engineer uses DuckDB for local development.",
    "US2-AS1": "DuckDB is the default when a transform names no compute, and runs with zero "
    "configuration.",
    "US2-AS2": "Iceberg tables are read and written through DuckDB's extension.",
    "US2-AS3": "Memory limits are respected: an over-limit query fails gracefully with the "
    "engine's error, never a crashed process.",
    "US2-AS4": "The generated profiles.yml is valid for dbt-duckdb.",
    "US3": "A platform engineer approves several computes in manifest.yaml.",
    "US3-AS1": "The approved computes are all discovered, loaded and validated.",
    "US3-AS2": "`compute.default` is used when a transform names no compute.",
    "US3-AS3": "A compute that is not approved is a compile-time error.",
    "US4": "A data engineer selects a compute per transform in floe.yaml.",
    "US4-AS1": "`compute: X` on a transform configures that transform for X.",
    "US4-AS2": "A transform with no compute gets the platform default.",
    "US4-AS3": "A transform uses the same compute in every environment (parity enforced).",
    "US5": "An enterprise architect restricts computes from enterprise to domain to product.",
    "US5-AS1": "A domain's approved list narrows the enterprise's: only the domain's computes are "
    "allowed below it.",
    "US5-AS2": "A domain approving a compute the enterprise does not is a governance error.",
    "US5-AS3": "A product using a compute outside its domain gets an error listing the allowed "
    "options.",
    "US6": "An operator monitors compute connection health.",
    "US6-AS1": "A health check returns the status, the measured latency and any warnings.",
    "US6-AS2": "A transient failure is retried (bounded, within the 5 s budget) before it is "
    "reported; a recovered connection is DEGRADED with a warning saying what happened.",
    "US6-AS3": "Connection status, pool size and error rates are observable through OpenTelemetry.",
    "US7": "An operator relies on query timeouts.",
    "US7-AS1": "The configured timeout cancels a long query gracefully with a timeout error.",
    "US7-AS2": "A per-model timeout override (dbt model config `floe_timeout_seconds`) is "
    "honoured.",
    "US7-AS3": "A timeout is logged with the query id, its duration and the configured timeout.",
    # The kit's own requirements (beyond SPEC-001).
    "KIT-001": "generate_dbt_profile returns a YAML-safe, deterministic, pure dbt target with "
    "`type` and `threads`, a timeout that takes effect, secrets only as env_var "
    "references, accepted by the installed adapter's own credentials schema.",
    "KIT-002": "get_required_dbt_packages returns PEP 508 requirements that include the dbt "
    "adapter package for the profile's type.",
    "KIT-003": "get_resource_requirements returns valid, monotonic Kubernetes resources for small,"
    " medium and large; an unknown size lists the valid ones.",
    "KIT-004": "Bad manifest or floe.yaml input names the file, the key path, the value and what "
    "is allowed.",
    "KIT-005": "Spans from the `floe.compute` tracer for each validate_connection and "
    "generate_dbt_profile call carry the plugin and the status.",
    "KIT-006": "No secret reaches a span, a metric attribute or a log line.",
    "KIT-007": "Configs are generated from any plugin's config model, varying every field within "
    "its constraints; invalid mutations are rejected naming the field.",
    "KIT-008": "Capabilities: claims are known and tested; unclaimed features answer cleanly and "
    "are reported as unsupported, not failed.",
    "KIT-009": "`floe-conformance report` runs the suite at a requested level, the integration "
    "level including a real `dbt build` of a bundled project.",
    "KIT-010": "A certificate is valid against a versioned JSON Schema and records the kit, the "
    "catalogue, the plugin and its distribution, the environment, the seed, every "
    "result and a content digest.",
    "KIT-011": "`floe-conformance verify` checks a certificate's digest, schema and verdict; "
    "`--rerun` re-runs with the recorded seed and reports differences.",
    "KIT-012": "`floe-conformance replay --check ID` prints a runnable snippet that reproduces "
    "that failure.",
    "KIT-013": "Waivers (check id, reason, expiry, link): expired or unknown ones fail the run; "
    "waived checks are shown as waived and cap the level.",
    "KIT-014": "`floe-conformance init NAME` scaffolds a plugin package whose tests point at each "
    "part left to write.",
    "KIT-015": "The kit provides a running Iceberg REST catalog fixture: an external URI, "
    "testcontainers where Docker answers, else a local process on loopback.",
    "KIT-016": "Structural plugins (right shape, other base class) are checked too, their results "
    "validated against the models field by field.",
    "KIT-017": "The pytest plugin and contract suites: one option group, nothing collected without"
    " --floe-plugin; xdist, junitxml and hypothesis profiles work; a failure prints the"
    " shrunk config and its seed.",
    "KIT-018": "Vendoring copies the suites into an author's repository with a content hash, warns"
    " on drift and never overwrites local changes without --force.",
    "KIT-019": "At least 95% of generated configs are valid for the reference plugin's model.",
    "KIT-020": "The documentation is product: the contract reference and the requirement catalogue"
    " are generated and current, and the docs' snippets run.",
    "KIT-021": "A plugin that raises, hangs, exits or returns the wrong type is reported as "
    "failing checks with the reason, never as a crash of the suite.",
    "KIT-022": "The checks catalogue is well formed: every ABC clause has a check, ids are unique,"
    " and every check has a zoo plugin that fails exactly it.",
    "KIT-023": "When approved computes fail to load or configure, one aggregate error names each "
    "of them and why.",
    # Secrets and the network (KIT-220..229).
    "KIT-220": "Canary secrets in every credential never leave the plugin, in plain text or "
    "encoded (base64, URL-encoding, hex): not in the health result, exceptions, log records, "
    "span or metric attributes, stdout/stderr, the profile, or dbt's logs and target/.",
    "KIT-221": "Distinct credentials are read from distinct environment variables in the profile.",
    "KIT-222": "The dbt adapter requirement of get_required_dbt_packages is satisfied by the "
    "adapter version installed and used to validate the profile.",
    "KIT-223": "No I/O leaves the machine while the kit calls a plugin: every non-loopback name "
    "lookup and connect is refused at once with a clear OSError, except hosts the user allowed.",
    # Added by other parts of the kit.
    "KIT-110": "The kit starts a real PostgreSQL server on loopback for tests and live targets: "
    "Debian's binaries as an unprivileged user (or testcontainers where Docker "
    "answers), SCRAM password auth, 127.0.0.1 only, stop/start; missing binaries name "
    "the install command.",
    "KIT-200": "The live target of the extended and integration checks comes from the user's "
    "--floe-target file, else the plugin's LiveTargetHook (conformance_live_target), "
    "else a target the kit starts (a DuckDB file, a loopback PostgreSQL); a networked "
    "plugin with none fails naming the hook and --floe-target.",
    "KIT-201": "dbt_build and query_timeout are checked for every plugin at the integration "
    "level, claimed or not; the certificate names the optional capabilities not claimed "
    "and the checks they made not applicable.",
    "KIT-202": "Planted live defects (a timeout that cancels nothing, a build never run) are "
    "refused at integration on the build or timeout check, whose message names them.",
    "KIT-210": "validate_connection leaves the live target as it found it: dbt's adapter lists "
    "the same schemas and relations after repeated calls, no file it opened is created, "
    "written or left locked, and dbt can still take the target.",
    "KIT-211": "validate_connection against the live target with any one credential wrong is "
    "UNHEALTHY, says authentication failed and never echoes the wrong value.",
    "KIT-212": "Through a loopback proxy in front of a host:port target, latency_ms reflects an "
    "added delay, and refused, reset and blackholed connections are UNHEALTHY within the budget.",
    "KIT-213": "A DEGRADED result carries at least one warning saying what is degraded.",
    "KIT-214": "A live check that needs the engine proves the plugin touched it (a connection "
    "through the proxy, a file the kernel saw opened), or is not applicable and says why.",
    "KIT-170": "`pip install floe-compute-kit` is the contract only: it imports without the test "
    "kit or any engine, and a CLI or pytest option that needs an extra exits with a "
    "line naming the extra and its install command.",
    "KIT-171": "A missing piece (pyiceberg, a dbt adapter, an env var the profile reads) is named "
    "with the fix before it fails, and the logs a message points at survive the run "
    "under the output folder (`report --out DIR` keeps them in DIR/logs/).",
    "KIT-172": "The CLI's tables and progress display fit 80 columns.",
    "KIT-250": "Errors take their structured fields through one base constructor, pickle with "
    "them, and have a stable str(): the message alone, the correlation id in repr/to_dict/logs.",
    "KIT-251": "One plugin resolver serves the registry and the conformance kit: an entry-point "
    "name, module:attr or module.attr, with typed errors naming the supplying distribution.",
    "KIT-252": "Each package's __init__ lists every public name in __all__, and a lazy (PEP 562) "
    "map, where import cost needs one, resolves exactly those names, which mypy sees.",
    "KIT-275": "In the plugin host, checks that wait on other processes (dbt, a catalog "
    "server) run in lanes beside the other checks; each check still starts only after the "
    "checks it depends on, results keep catalogue order, and in-process runs stay serial.",
    "KIT-277": "A check whose spec names a longer timeout_s (the dbt checks: an engine job such "
    "as Spark's first build) gets that long before it is abandoned; every other check keeps "
    "the run's check timeout.",
    "KIT-240": "A plugin written against upstream floe-core (floe_core.plugins.ComputePlugin) "
    "is loaded and certified like any other; its is_self_hosted is a bool and "
    "get_dbt_macro_paths() names existing directories.",
    "KIT-241": "augment_dbt_profile(profile) returns a dict that keeps `type`, does no I/O and "
    "leaves its input unchanged.",
    "KIT-242": "get_config_schema() returns a pydantic model class or None, and the kit generates "
    "configs from the model it returns.",
    "KIT-243": "For a plugin on floe-core's generic ComputeConfig, the kit builds `connection` "
    "dicts from the dbt adapter's credentials schema, hostile values included; the plugin "
    "accepts each or rejects it with a ValueError naming the key, and its health check never "
    "raises.",
    "KIT-244": "The kit documents what it makes of floe-compute-duckdb 0.1.0a1 and how that "
    "distribution and the kit's own floe_compute_duckdb share an import name.",
    "KIT-270": "The read-only profile checks ask the plugin once per config per run; "
    "profile.deterministic compares fresh calls with that first answer, so a plugin that "
    "answers differently on later calls is still caught.",
    "KIT-271": "The plugin host's per-call bookkeeping (side-effect scan, capture, wire) stays "
    "cheap on the common path and misses no thread, child, env, cwd or signal change.",
    "KIT-273": "The plugin host is spawned before the catalogue is imported and its load reply "
    "read later, so its start-up overlaps the kit's.",
    "KIT-274": "Provenance names the distribution that supplied the plugin without scanning "
    "every installed distribution's files.",
    "KIT-260": "Every dbt invocation the kit makes goes through one prewarmed launcher per run "
    "(dbt imported once), and behaves as a fresh dbt process would: exit code, env, cwd, "
    "output lines as they come.",
    "KIT-261": "A dbt invocation through the launcher keeps the kit's deadline: its whole "
    "process group is killed, and nothing the launcher started outlives the run.",
    "KIT-262": "When the launcher cannot start, dies or is switched off "
    "(FLOE_CONFORMANCE_DBT_LAUNCHER=0), dbt runs as a plain subprocess and the verdict is the "
    "same: a launcher problem never fails the plugin.",
    "KIT-265": "Independent validate_connection calls run concurrently in sibling plugin "
    "hosts, and what a sibling does fails the same check as in the primary host.",
}

#: requirement id -> what it asks (read-only).
REQUIREMENTS: Final = MappingProxyType(_TABLE)
