"""``floe-conformance verify``: is this certificate intact, and does the plugin still earn it?

Exit codes: 0 valid (and, with --rerun, no difference); 1 digest, catalogue, verdict,
duplicate-key or rerun problems; 2 the file is not a readable certificate, or a rerun was
not confirmed.

Everything printed that came from the certificate is escaped to one line, so no value in
it can print a line of its own (a fake ``OK``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from floe_compute_kit.cli._progress import suite_progress
from floe_compute_kit.conformance.certificate import parse_certificate
from floe_compute_kit.conformance.certificate._escape import one_line
from floe_compute_kit.conformance.certificate._read import DUPLICATE_KEY
from floe_compute_kit.conformance.report import (
    read_certificate,
    rerun_differences,
    verify_certificate,
)
from floe_compute_kit.errors import CertificateError, log_error

NAME = "verify"
HELP = "check a certificate's digest, schema and verdict; --rerun re-runs it with the recorded seed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("certificate", type=Path, help="path to certificate.json")
    parser.add_argument(
        "--rerun",
        action="store_true",
        help="re-run the suite with the recorded plugin, level and seed, and report differences "
        "(this imports and runs the plugin the certificate names)",
    )
    parser.add_argument(
        "--target",
        "--floe-target",
        dest="target",
        type=Path,
        default=None,
        metavar="FILE",
        help="with --rerun: the live target file (YAML/JSON of the plugin's config), as for "
        "`report --target`",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="with --rerun: run the named plugin without asking (CI, certificates you trust)",
    )


def _confirmed(spec: str, yes: bool) -> bool:
    """Ask before importing code a certificate names; refuse without a terminal to ask on."""
    if yes:
        return True
    if not sys.stdin.isatty():
        print(
            f"error: --rerun imports and runs the plugin {one_line(spec, 200)!s} that the "
            "certificate names, and there is no terminal to ask on; pass --yes if you trust "
            "this certificate and the installed plugin",
            file=sys.stderr,
        )
        return False
    print(
        f"--rerun will import and run {one_line(spec, 200)}, as named by this certificate.\n"
        "Only do this for a certificate you trust, with the plugin installed from a source "
        "you trust. Run it? [y/N] ",
        end="",
        flush=True,
    )
    if sys.stdin.readline().strip().lower() in {"y", "yes"}:
        return True
    print("not re-run: not confirmed", file=sys.stderr)
    return False


def _verified(path: Path) -> dict[str, Any] | int:
    """The certificate at ``path`` when it verifies (printing OK), else the exit code."""
    try:
        cert = read_certificate(path)
    except CertificateError as exc:
        log_error(exc, handled=True)
        if exc.reason == DUPLICATE_KEY:  # a forgery, not a broken file
            print(f"INVALID {one_line(exc.message)}")
            return 1
        print(f"error: {one_line(exc.message)}")
        return 2
    problems = verify_certificate(cert)
    for problem in problems:
        print(f"INVALID {one_line(problem)}")
    if problems:
        return 1
    model = parse_certificate(cert)
    achieved = model.level_achieved.value if model.level_achieved else "none"
    plugin = f"{one_line(model.plugin.name or '?', 80)} {one_line(model.plugin.version or '?', 40)}"
    print(
        f"OK {one_line(path, 300)}: digest, schema {one_line(model.schema_version)}, catalogue "
        f"and verdict valid; {plugin} level achieved {achieved} of "
        f"{model.run.requested_level.value} "
        f"({'certified' if model.certified else 'not certified'})"
    )
    return cert


def _rerun(cert: dict[str, Any], target: Path | None = None) -> int:
    # The runner imports every check module: only when re-running.
    from floe_compute_kit.conformance.runner import select_checks  # noqa: PLC0415

    model = parse_certificate(cert)
    total = len(select_checks(model.run.requested_level))
    with suite_progress(f"re-running {one_line(model.plugin.spec, 80)}", total) as advance:
        _, diffs = rerun_differences(cert, on_result=advance, target=target)
    for diff in diffs:
        print(f"DIFFERENT {one_line(diff)}")
    if diffs:
        print(f"rerun with seed {model.run.seed}: {len(diffs)} difference(s)")
        return 1
    print(f"rerun with seed {model.run.seed}: same results")
    return 0


def run(args: argparse.Namespace) -> int:
    cert = _verified(args.certificate)
    if isinstance(cert, int):
        return cert
    if not args.rerun:
        return 0
    if not _confirmed(cert["plugin"]["spec"], args.yes):
        return 2
    return _rerun(cert, args.target)
