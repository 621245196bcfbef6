"""``floe-conformance``: one dispatcher; each subcommand lives in its own small module.

Each subcommand module exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``, and imports its heavy dependencies inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from floe_compute_kit._extras import CONFORMANCE_NEEDS, EXIT_MISSING, missing_extra

__all__ = ["SUBCOMMANDS", "main"]

#: subcommand name -> module under floe_compute_kit.cli
SUBCOMMANDS: dict[str, str] = {
    "list": "_conformance_list",
    "report": "_conformance_report",
    "verify": "_conformance_verify",
    "replay": "_conformance_replay",
    "vendor": "_conformance_vendor",
    "init": "_conformance_init",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="floe-conformance",
        description="Certify a floe compute plugin against the ComputePlugin contract.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        try:
            module = importlib.import_module(f"floe_compute_kit.cli.{module_name}")
        except ModuleNotFoundError:  # a subcommand not built yet is simply absent
            continue
        sp = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sp)
        sp.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Before the parser: a subcommand whose module cannot import would otherwise vanish.
    problem = missing_extra("floe-conformance", "kit", CONFORMANCE_NEEDS)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_MISSING
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args._run(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
