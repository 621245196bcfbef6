"""``floe-conformance replay``: print a Python script that reproduces one recorded failure.

Exit codes: 0 snippet printed; 2 unreadable certificate, or a check that did not fail or
that the kit's catalogue does not have.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from floe_compute_kit.conformance.certificate import parse_certificate
from floe_compute_kit.conformance.certificate._escape import one_line
from floe_compute_kit.conformance.report import (
    failing_check_ids,
    read_certificate,
    replay_snippet,
)
from floe_compute_kit.errors import CertificateError, log_error

NAME = "replay"
HELP = "print a runnable Python snippet reproducing one failing check of a certificate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("certificate", type=Path, help="path to certificate.json")
    parser.add_argument("--check", required=True, metavar="ID", help="the failing check's id")


def run(args: argparse.Namespace) -> int:
    try:
        cert = read_certificate(args.certificate)
    except CertificateError as exc:
        log_error(exc, handled=True)
        print(f"error: {one_line(exc.message)}", file=sys.stderr)
        return 2
    failing = failing_check_ids(cert)
    wanted = one_line(repr(args.check), 200)
    if args.check not in failing:
        known = {c.id for c in parse_certificate(cert).checks}
        why = "did not fail" if args.check in known else "is not in this certificate"
        print(
            f"error: --check {wanted} {why}; failing checks: "
            f"{one_line(', '.join(failing)) if failing else 'none'}",
            file=sys.stderr,
        )
        return 2
    try:
        snippet = replay_snippet(cert, args.check, str(args.certificate))
    except KeyError:
        print(
            f"error: --check {wanted} is not a check of this kit's catalogue; "
            "see `floe-conformance list`",
            file=sys.stderr,
        )
        return 2
    sys.stdout.write(snippet)
    return 0
