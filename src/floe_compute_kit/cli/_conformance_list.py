"""``floe-conformance list``: the checks catalogue, as a table, markdown or JSON.

The default view fits 80 columns: one line per check (id, level, capability,
requirements) with its clause wrapped below it. ``--wide`` prints the five-column
table, for terminals wide enough to read it.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from floe_compute_kit.conformance._check import RegisteredCheck

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
    parser.add_argument(
        "--wide",
        action="store_true",
        help="table format: one five-column table (needs a wide terminal) instead of one "
        "line per check with its clause below",
    )


def _print_narrow(console: Console, catalogue: Sequence[RegisteredCheck]) -> None:
    """One line per check, its clause wrapped and indented below: readable at 80 columns."""
    from rich.text import Text  # noqa: PLC0415 - rich is only needed to print

    rows = [
        (
            r.spec.id,
            r.spec.level.value,
            r.spec.capability or "-",
            ", ".join(r.spec.requirements),
        )
        for r in catalogue
    ]
    header = ("check", "level", "capability", "requirements")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]

    room = max(console.width, 40) - sum(widths) - 2 * len(widths)

    def fitted(requirements: str) -> str:
        """As many ids as fit, then how many more (``--wide`` and json show them all)."""
        ids = requirements.split(", ")
        for keep in range(len(ids), 0, -1):
            text = ", ".join(ids[:keep]) + (f" +{len(ids) - keep}" if keep < len(ids) else "")
            if len(text) <= room:
                return text
        return requirements

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells[:3], widths, strict=True)) + (
            "  " + fitted(cells[3])
        )

    console.print(Text(f"floe conformance checks ({len(rows)})", style="bold"))
    console.print(Text(line(header), style="bold"))
    for row, r in zip(rows, catalogue, strict=True):
        console.print(Text(line(row).rstrip()))
        clause = textwrap.fill(
            r.spec.wording,
            width=max(console.width, 40),
            initial_indent=" " * 4,
            subsequent_indent=" " * 4,
            break_on_hyphens=False,
        )
        console.print(Text(clause, style="dim"), soft_wrap=True)


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
    console = Console()
    if not args.wide:
        _print_narrow(console, catalogue)
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
    console.print(table)
    return 0
