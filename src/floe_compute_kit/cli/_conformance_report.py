"""``floe-conformance report``: certify a plugin and write its certificate.

Exit codes: 0 certified at the requested level; 1 not certified; 2 usage error or a
plugin that could not be loaded (the message says why).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from floe_compute_kit._atomic import AtomicWriteError
from floe_compute_kit.cli._progress import CheckProgress
from floe_compute_kit.conformance._logs import logs_kept_in
from floe_compute_kit.conformance._render import replay_command
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance._settings import (
    BUDGET_LIMIT_S,
    DEFAULTS,
    MAX_EXAMPLES_LIMIT,
    bounded,
    iceberg_uri,
    seed,
)
from floe_compute_kit.conformance._waivers import load_waivers
from floe_compute_kit.conformance.report import FORMATS, certify, write_certificate
from floe_compute_kit.errors import WaiverError, log_error

NAME = "report"
HELP = "run the contract suite against a plugin and write its certificate (json, md, html, junit)"

EXIT_CERTIFIED = 0
EXIT_NOT_CERTIFIED = 1
EXIT_USAGE = 2


def _formats(text: str) -> list[str]:
    chosen = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"--formats: {text!r} is not allowed; allowed: a comma-separated subset of "
            f"{', '.join(FORMATS)}"
        )
    return chosen


def _target_file(text: str) -> Path:
    """A --target file must exist now: a typo must not fall back to another target."""
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(
            f"--target: {text!r} is not a file; give a YAML or JSON file holding the "
            "plugin's config for the live target (e.g. host: 127.0.0.1, port: 5432)"
        )
    return path.resolve()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugin",
        required=True,
        metavar="SPEC",
        help="entry-point name (e.g. duckdb) or module:Attribute of the plugin class",
    )
    parser.add_argument(
        "--level",
        choices=["core", "extended", "integration"],
        default=DEFAULTS.level,
        help="level to certify; each includes the ones before it (default: core)",
    )
    parser.add_argument("--out", type=Path, default=Path("certificate"), help="output directory")
    parser.add_argument(
        "--seed",
        type=seed("--seed"),
        default=DEFAULTS.seed,
        help=f"hypothesis seed (default: {DEFAULTS.seed})",
    )
    parser.add_argument(
        "--waivers",
        type=Path,
        metavar="FILE",
        help="YAML file of waivers (check, reason, expires, link)",
    )
    parser.add_argument(
        "--max-examples",
        type=bounded(int, "--max-examples", MAX_EXAMPLES_LIMIT),
        default=DEFAULTS.max_examples,
        help="generated configs per property check",
    )
    parser.add_argument(
        "--budget",
        type=bounded(float, "--budget", BUDGET_LIMIT_S),
        default=DEFAULTS.budget_s,
        help="seconds validate_connection may take",
    )
    parser.add_argument(
        "--iceberg-uri",
        type=iceberg_uri("--iceberg-uri"),
        help="a running Iceberg REST catalog for iceberg checks",
    )
    parser.add_argument(
        "--target",
        "--floe-target",
        dest="target",
        type=_target_file,
        default=DEFAULTS.target,
        metavar="FILE",
        help="YAML/JSON file of the plugin's config for the live target of the extended and "
        "integration checks (default: the plugin's conformance_live_target hook, else a "
        "target the kit starts: a DuckDB file, a loopback PostgreSQL)",
    )
    parser.add_argument(
        "--formats",
        type=_formats,
        default=None,
        help="comma-separated outputs to write: json,md,html,junit (default: all)",
    )


def _print_summary(console: Any, cert: dict[str, Any], cert_file: Path) -> None:
    # rich loads only when a report runs, not when the CLI parses arguments.
    from rich.markup import escape  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    summary = cert["summary"]
    columns = ("passed", "failed", "error", "unsupported", "waived")
    by_method = Table(title="By method")
    by_method.add_column("method")
    for col in columns:
        by_method.add_column(col, justify="right")
    for method, row in summary["by_method"].items():
        by_method.add_row(escape(method), *(str(row[c]) for c in columns))
    console.print(by_method)
    by_req = Table(title="By requirement")
    by_req.add_column("requirement")
    by_req.add_column("status")
    by_req.add_column("checks")
    style = {"passed": "green", "failed": "bold red", "error": "bold red", "waived": "yellow"}
    for req, entry in summary["by_requirement"].items():
        status = entry["status"]
        by_req.add_row(
            escape(req),
            f"[{style.get(status, 'dim')}]{status}[/]",
            escape(", ".join(entry["checks"])),
        )
    console.print(by_req)
    for c in cert["checks"]:
        if c["outcome"] in {"failed", "error", "waived"}:
            first = (c["message"] or "").strip().splitlines()[:1]
            console.print(
                f"[bold]{escape(c['id'])}[/] {c['outcome']}: {escape(first[0] if first else '')}",
                soft_wrap=True,
            )
            if c["outcome"] != "waived":
                console.print(
                    f"  reproduce: {escape(replay_command(c['id'], str(cert_file)))}",
                    soft_wrap=True,
                )
    for problem in cert["waiver_problems"]:
        console.print(f"[bold red]waiver problem:[/] {escape(problem)}", soft_wrap=True)


def run(args: argparse.Namespace) -> int:
    # rich and the runner load only when a report runs, not when the CLI parses arguments.
    from rich.console import Console  # noqa: PLC0415
    from rich.markup import escape  # noqa: PLC0415

    from floe_compute_kit.conformance.runner import select_checks  # noqa: PLC0415

    out = Console(highlight=False)
    level = Level(args.level)
    # Resolved now: nothing the plugin does to a working directory may move the output.
    args.out = args.out.resolve()
    _keep_hypothesis_out_of_cwd()
    try:
        waivers = load_waivers(args.waivers) if args.waivers is not None else []
    except WaiverError as exc:
        log_error(exc, handled=True)
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    planned = [r.spec.id for r in select_checks(level)]
    # The runner abandons a check after max(120 s, 12 budgets) (runner.make_context).
    check_budget = max(120.0, args.budget * 12)
    with (
        CheckProgress(f"certifying {args.plugin}", planned, budget_s=check_budget) as progress,
        logs_kept_in(args.out / "logs"),  # the logs a message names outlive the run
    ):
        progress.start(planned[0])
        cert = certify(
            args.plugin,
            level=level,
            seed=args.seed,
            max_examples=args.max_examples,
            budget_s=args.budget,
            waivers=waivers,
            iceberg_uri=args.iceberg_uri,
            on_result=progress.on_result,
            target=args.target,
        )
    load_error = cert["run"]["load_error"]
    if load_error and load_error.startswith(_NOT_FOUND):
        print(
            f"error: the plugin {args.plugin!r} could not be loaded, nothing was certified:\n"
            f"{load_error}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # Written before anything is printed: a plugin cannot lose the certificate by
    # breaking the terminal.
    try:
        written = write_certificate(cert, args.out, args.formats or tuple(FORMATS))
    except AtomicWriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if load_error:
        print(
            f"error: the plugin {args.plugin!r} could not be loaded, nothing was certified:\n"
            f"{load_error}",
            file=sys.stderr,
        )
        for path in written:
            print(f"wrote {path}", file=sys.stderr)
        return EXIT_NOT_CERTIFIED
    _print_summary(out, cert, args.out / FORMATS["json"])
    achieved = cert["level_achieved"] or "none"
    verdict = "CERTIFIED" if cert["certified"] else "NOT CERTIFIED"
    colour = "green" if cert["certified"] else "red"
    out.print(
        f"[bold {colour}]{verdict}[/] "
        + escape(
            f"{cert['plugin']['name']} {cert['plugin']['version']} "
            f"at {args.level} (level achieved: {achieved})"
        ),
        soft_wrap=True,
    )
    for path in written:
        out.print(escape(f"wrote {path}"), soft_wrap=True)
    sys.stdout.flush()
    return EXIT_CERTIFIED if cert["certified"] else EXIT_NOT_CERTIFIED


#: Load failures that mean the name or module does not resolve: a usage error (exit 2).
#: Anything else (the plugin's code raised, hung or crashed while loading) is its
#: defect: a certificate is written and the exit code is 1.
_NOT_FOUND = (
    "no compute plugin named",
    "cannot import plugin",
    "cannot load entry point",
    "cannot discover plugins",
)


def _keep_hypothesis_out_of_cwd() -> None:
    """Hypothesis keeps its files under a folder of the kit's, never the caller's cwd."""
    import atexit  # noqa: PLC0415
    import shutil  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    from hypothesis.configuration import set_hypothesis_home_dir  # noqa: PLC0415

    home = tempfile.mkdtemp(prefix="floe-conformance-hypothesis-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    set_hypothesis_home_dir(Path(home))
