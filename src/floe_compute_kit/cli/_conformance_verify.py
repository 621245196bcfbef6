"""``floe-conformance verify``: is this certificate intact, and does the plugin still earn it?

Exit codes: 0 valid (and, with --rerun, no difference); 1 digest, schema or rerun
problems; 2 the file cannot be read as a certificate.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from floe_compute_kit.cli._progress import suite_progress
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance.report import (
    read_certificate,
    rerun_differences,
    verify_certificate,
)
from floe_compute_kit.errors import CertificateError

NAME = "verify"
HELP = "check a certificate's digest and schema; --rerun re-runs it with the recorded seed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("certificate", type=Path, help="path to certificate.json")
    parser.add_argument(
        "--rerun",
        action="store_true",
        help="re-run the suite with the recorded plugin, level and seed, and report differences",
    )


def run(args: argparse.Namespace) -> int:
    try:
        cert = read_certificate(args.certificate)
    except CertificateError as exc:
        print(f"error: {exc.message}")
        return 2
    problems = verify_certificate(cert)
    for problem in problems:
        print(f"INVALID {problem}")
    if problems:
        return 1
    plugin = cert["plugin"]
    print(
        f"OK {args.certificate}: digest and schema {cert['schema_version']} valid; "
        f"{plugin['name']} {plugin['version']} level achieved "
        f"{cert['level_achieved'] or 'none'} of {cert['run']['requested_level']} "
        f"({'certified' if cert['certified'] else 'not certified'})"
    )
    if not args.rerun:
        return 0
    # The runner imports every check module: only when re-running.
    from floe_compute_kit.conformance.runner import select_checks  # noqa: PLC0415

    total = len(select_checks(Level(cert["run"]["requested_level"])))
    with suite_progress(f"re-running {cert['plugin']['spec']}", total) as advance:
        _, diffs = rerun_differences(cert, on_result=advance)
    for diff in diffs:
        print(f"DIFFERENT {diff}")
    if diffs:
        print(f"rerun with seed {cert['run']['seed']}: {len(diffs)} difference(s)")
        return 1
    print(f"rerun with seed {cert['run']['seed']}: same results")
    return 0
