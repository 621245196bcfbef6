"""docs/contract.md, generated from the checks catalogue.

``floe-conformance list --format markdown > docs/contract.md`` regenerates it; a
test fails when the committed file differs from what the catalogue says.
"""

from __future__ import annotations

from collections.abc import Sequence

from floe_compute_kit._requirements import REQUIREMENTS
from floe_compute_kit.conformance._check import RegisteredCheck

__all__ = ["REQUIREMENTS", "render_markdown"]


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
        lines.append(f"| {rid} | {_cell(REQUIREMENTS[rid])} |")
    lines.append("")
    return "\n".join(lines)
