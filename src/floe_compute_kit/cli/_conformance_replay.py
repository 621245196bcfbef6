"""``floe-conformance replay``: print a Python script that reproduces one recorded failure.

Exit codes: 0 snippet printed; 2 unreadable certificate, or a check that did not fail.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from floe_compute_kit.conformance.report import (
    failing_check_ids,
    read_certificate,
    replay_snippet,
)
from floe_compute_kit.errors import CertificateError

NAME = "replay"
HELP = "print a runnable Python snippet reproducing one failing check of a certificate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("certificate", type=Path, help="path to certificate.json")
    parser.add_argument("--check", required=True, metavar="ID", help="the failing check's id")


def run(args: argparse.Namespace) -> int:
    try:
        cert = read_certificate(args.certificate)
    except CertificateError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    failing = failing_check_ids(cert)
    if args.check not in failing:
        known = {c.get("id") for c in cert.get("checks", [])}
        why = "did not fail" if args.check in known else "is not in this certificate"
        print(
            f"error: --check {args.check!r} {why}; failing checks: "
            f"{', '.join(failing) if failing else 'none'}",
            file=sys.stderr,
        )
        return 2
    sys.stdout.write(replay_snippet(cert, args.check, str(args.certificate)))
    return 0
