"""``floe-conformance list``: the checks catalogue, as a table, markdown or JSON."""

from __future__ import annotations

import argparse
import json

NAME = "list"
HELP = "print the checks catalogue (id, level, capability, requirements, RFC-2119 clause)"
FORMATS = ("table", "markdown", "json")
LEVELS = ("core", "extended", "integration")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (default), markdown (docs/contract.md) or json",
    )
    parser.add_argument(
        "--level",
        choices=LEVELS,
        default=None,
        help="only the checks run at this level (each level includes the ones before)",
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console  # noqa: PLC0415 - rich is only needed to print
    from rich.table import Table  # noqa: PLC0415

    from floe_compute_kit.conformance._results import Level  # noqa: PLC0415
    from floe_compute_kit.conformance.catalogue_doc import render_markdown  # noqa: PLC0415
    from floe_compute_kit.conformance.checks import load_catalogue  # noqa: PLC0415

    catalogue = load_catalogue()
    if args.level is not None:
        level = Level(args.level)
        catalogue = [r for r in catalogue if level.includes(r.spec.level)]
    if args.format == "markdown":
        print(render_markdown(catalogue), end="")
        return 0
    if args.format == "json":
        rows = [
            {
                "id": r.spec.id,
                "method": r.spec.method,
                "level": r.spec.level.value,
                "capability": r.spec.capability,
                "requirements": list(r.spec.requirements),
                "wording": r.spec.wording,
            }
            for r in catalogue
        ]
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title=f"floe conformance checks ({len(catalogue)})", show_lines=False)
    for column in ("check", "level", "capability", "requirements", "clause"):
        table.add_column(column, overflow="fold")
    for r in catalogue:
        table.add_row(
            r.spec.id,
            r.spec.level.value,
            r.spec.capability or "-",
            ", ".join(r.spec.requirements),
            r.spec.wording,
        )
    Console().print(table)
    return 0
