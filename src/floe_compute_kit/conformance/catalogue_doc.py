"""docs/contract.md, generated from the checks catalogue.

``floe-conformance list --format markdown > docs/contract.md`` regenerates it; a
test fails when the committed file differs from what the catalogue says.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from floe_compute_kit.conformance._check import RegisteredCheck

__all__ = ["REQUIREMENTS", "render_markdown"]

#: Every requirement id a check may name, with what it asks.
REQUIREMENTS: Final = {
    "FR-002": "A plugin identifies itself: lowercase `name`, PEP 440 `version`.",
    "FR-003": "A plugin states the contract version it targets (`floe_api_version`).",
    "FR-004": "Faults are reported, never crash the suite: a plugin that fails to import, is "
    "incomplete, raises, returns the wrong type or hangs gives failing checks with the reason.",
    "FR-005": "generate_dbt_profile: a YAML-safe, deterministic, pure dbt target that dbt accepts.",
    "FR-006": "get_required_dbt_packages: PEP 508 requirements including the dbt adapter.",
    "FR-007": "get_catalog_attachment_sql: injection-safe single statements, or None.",
    "FR-008": "validate_connection: a measured, read-only health check that never raises.",
    "FR-009": "get_resource_requirements: valid, monotonic Kubernetes resources per size.",
    "FR-025": "The config model: every field generated and checked; invalid configs rejected "
    "naming the field; example configs valid.",
    "FR-026": "No I/O outside validate_connection (sockets, subprocesses, file writes, "
    "database connections).",
    "FR-027": "Capabilities: claims are known and tested; unclaimed features answer cleanly "
    "and are reported as unsupported, not failed. (kit-level)",
    "FR-035": "Structural plugins: classes of the right shape are checked without "
    "subclassing ComputePlugin, their results validated field by field. (kit-level)",
    "FR-036": "The pytest plugin and contract suites: one option group, nothing collected "
    "without --floe-plugin, xdist, junitxml and hypothesis profiles work, a failure prints "
    "the shrunk config and its seed. (kit-level)",
    "FR-037": "Vendoring: the suites copied into an author's repository with a content hash, "
    "drift warned about, local changes never overwritten without --force. (kit-level)",
    "FR-038": "Documentation: the contract reference is generated from the catalogue and the "
    "tutorial's snippets run. (kit-level)",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(catalogue: Sequence[RegisteredCheck]) -> str:
    """The contract reference: one row per check, grouped by method, then the ids."""
    lines = [
        "# The ComputePlugin contract, check by check",
        "",
        "<!-- Generated from the checks catalogue: "
        "`floe-conformance list --format markdown > docs/contract.md`. Do not edit. -->",
        "",
        "Every clause below is a check of the conformance kit, run by "
        "`pytest --floe-plugin=...`, by the contract suites "
        "(`class TestMyPlugin(ComputePluginContract)`) and by `floe-conformance report`. "
        "Levels include the ones before them: core, then extended, then integration. A check "
        "that needs a capability the plugin does not claim is reported as *unsupported*, "
        "never as passed or failed. The key words MUST, MUST NOT, SHOULD and MAY are to be "
        "read as in RFC 2119.",
        "",
        f"{len(catalogue)} checks.",
        "",
    ]
    methods: dict[str, list[RegisteredCheck]] = {}
    for reg in catalogue:
        methods.setdefault(reg.spec.method, []).append(reg)
    for method, regs in methods.items():
        lines += [
            f"## `{method}`",
            "",
            "| check | level | capability | requirements | clause |",
            "|---|---|---|---|---|",
        ]
        for reg in regs:
            spec = reg.spec
            lines.append(
                f"| `{spec.id}` | {spec.level.value} | {spec.capability or '-'} | "
                f"{', '.join(spec.requirements)} | {_cell(spec.wording)} |"
            )
        lines.append("")
    used = sorted({r for reg in catalogue for r in reg.spec.requirements})
    lines += ["## Requirement ids", "", "| id | requirement |", "|---|---|"]
    for rid in used:
        lines.append(f"| {rid} | {_cell(REQUIREMENTS.get(rid, '(defined by the check module)'))} |")
    lines.append("")
    return "\n".join(lines)
