"""``floe-conformance init``: scaffold a plugin package whose tests list what is left to write.

Exit codes: 0 written; 2 a bad NAME, a non-empty target directory without --force, or a
target that cannot be written (the message names it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from floe_compute_kit.conformance._scaffold import names_for, scaffold
from floe_compute_kit.errors import ComputeConfigurationError, log_error

NAME = "init"
HELP = "scaffold a new compute plugin package (pyproject, plugin skeleton, contract tests)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the plugin's name, e.g. postgres")
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where to write the package (default: ./floe-compute-NAME)",
    )
    parser.add_argument(
        "--force", action="store_true", help="write into a non-empty directory, replacing files"
    )


def run(args: argparse.Namespace) -> int:
    try:
        names = names_for(args.name)
    except ComputeConfigurationError as exc:
        log_error(exc, handled=True)
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    target = args.dir if args.dir is not None else Path(names["dist"])
    try:
        written = scaffold(args.name, target, force=args.force)
    except OSError as exc:  # FileExistsError, AtomicWriteError: each names the path
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print(
        f"\nnext: cd {target} && pip install -e . && pytest\n"
        "each failing check names a method left to write in "
        f"src/{names['package']}/plugin.py"
    )
    return 0
