"""``floe-conformance vendor DIR``: copy the contract suites into your repository.

Exit codes: 0 written or already current; 1 refused because of local changes
(re-run with --force to replace them); 2 a DIR that cannot be written (the message says
why).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "vendor"
HELP = "copy the contract suites and fixtures into DIR (a package) with a content hash"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, help="target package directory, e.g. tests/floe_contract")
    parser.add_argument(
        "--force", action="store_true", help="replace vendored files that have local changes"
    )


def run(args: argparse.Namespace) -> int:
    from floe_compute_kit.conformance.vendoring import vendor  # noqa: PLC0415

    try:
        result = vendor(args.dir, force=args.force)
    except OSError as exc:  # AtomicWriteError names the file and the fix
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.refused:
        print(
            f"refused: {', '.join(result.refused)} in {args.dir} have local changes; "
            "re-run with --force to replace them"
        )
        return 1
    for name in result.written:
        print(f"wrote {args.dir / name}")
    for name in result.unchanged:
        print(f"unchanged {args.dir / name}")
    print(
        f"use it: from {args.dir.name} import ComputePluginContract; "
        "class TestMyPlugin(ComputePluginContract): plugin = MyPlugin"
    )
    return 0
