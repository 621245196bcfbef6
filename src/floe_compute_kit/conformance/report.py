"""Certification: run the suite, seal the result in a certificate, verify and replay it.

The CLI subcommands ``report``, ``verify`` and ``replay`` are thin wrappers over
these functions, so tools can certify in-process too::

    cert = certify("duckdb", level=Level.INTEGRATION)
    write_certificate(cert, Path("out/certificate"))
"""

from __future__ import annotations

import datetime as dt
import json
import pprint
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata as md
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from floe_compute_kit import __version__
from floe_compute_kit._atomic import make_folder, write_atomic
from floe_compute_kit.conformance._certificate import (
    SCHEMA_VERSION,
    build_certificate,
    catalogue_errors,
    certificate_digest,
    consistency_errors,
    schema_errors,
)
from floe_compute_kit.conformance._provenance import environment_info
from floe_compute_kit.conformance._render import render_html, render_junit, render_markdown
from floe_compute_kit.conformance._results import CheckResult, Level, Outcome
from floe_compute_kit.conformance._settings import DEFAULTS
from floe_compute_kit.conformance._waivers import Waiver, waiver_problems
from floe_compute_kit.conformance.certificate import (
    Certificate,
    parse_certificate,
    read_certificate_json,
    validation_lines,
)
from floe_compute_kit.conformance.certificate._escape import one_line
from floe_compute_kit.conformance.checks import load_catalogue
from floe_compute_kit.errors import CertificateError

__all__ = [
    "FORMATS",
    "certify",
    "failing_check_ids",
    "read_certificate",
    "replay_snippet",
    "rerun_differences",
    "verify_certificate",
    "write_certificate",
]

#: output format -> file name written by write_certificate.
FORMATS: Final = {
    "json": "certificate.json",
    "md": "certificate.md",
    "html": "certificate.html",
    "junit": "junit.xml",
}


def _kit_version() -> str:
    try:
        return md.version("floe-compute-kit")
    except md.PackageNotFoundError:  # running from a source tree that is not installed
        return __version__


def certify(
    plugin_spec: str,
    *,
    level: Level = Level.CORE,
    seed: int = DEFAULTS.seed,
    max_examples: int = DEFAULTS.max_examples,
    budget_s: float = DEFAULTS.budget_s,
    waivers: Sequence[Waiver] = (),
    iceberg_uri: str | None = None,
    workdir: Path | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    today: dt.date | None = None,
    isolation: str = "host",
    target: Path | None = DEFAULTS.target,
) -> dict[str, Any]:
    """Run the suite against ``plugin_spec`` and return the sealed certificate.

    ``run.load_error`` is set (and nothing is certified) when the plugin cannot be loaded.
    """
    # Lazy: importing the runner imports every check module (and what they import).
    from floe_compute_kit.conformance.runner import run_suite  # noqa: PLC0415

    catalogue = load_catalogue()
    started = time.perf_counter()
    suite = run_suite(
        plugin_spec,
        level=level,
        seed=seed,
        max_examples=max_examples,
        budget_s=budget_s,
        iceberg_uri=iceberg_uri,
        workdir=workdir,
        on_result=on_result,
        isolation=isolation,
        target=target,
    )
    duration = time.perf_counter() - started
    load_error: str | None = getattr(suite, "load_error", None)
    provenance = suite.provenance
    problems = waiver_problems(
        waivers, (c.spec.id for c in catalogue), today or dt.datetime.now(dt.UTC).date()
    )
    cert = build_certificate(
        secrets=suite.secrets,
        kit_version=_kit_version(),
        catalogue=catalogue,
        plugin={
            "spec": plugin_spec,
            "name": suite.plugin_name,
            "version": suite.plugin_version,
            "floe_api_version": suite.floe_api_version,
            "class": suite.plugin_class,
            "capabilities": suite.capabilities,
        },
        distribution=provenance.get("distribution"),
        environment=provenance.get("environment") or environment_info(None),
        run={
            "seed": seed,
            "max_examples": max_examples,
            "budget_s": budget_s,
            "duration_s": round(duration, 3),
            "isolation": suite.isolation,
        },
        results=suite.results,
        waivers=waivers,
        waiver_problems=problems,
        requested=level,
        load_error=load_error,
    )
    errors = schema_errors(cert)
    if errors:  # the kit wrote something its own schema rejects: a kit bug, say so loudly
        raise AssertionError("certificate does not match its schema:\n" + "\n".join(errors))
    return cert


def _render_json(cert: dict[str, Any]) -> str:
    return json.dumps(cert, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_RENDERERS: Final[dict[str, Callable[[dict[str, Any]], str]]] = {
    "json": _render_json,
    "md": render_markdown,
    "html": render_html,
    "junit": render_junit,
}


def write_certificate(
    cert: dict[str, Any], out: Path, formats: Iterable[str] = tuple(FORMATS)
) -> list[Path]:
    """Write the chosen renderings of ``cert`` into ``out``; returns the paths written.

    Everything is rendered before anything is written, and each file is replaced
    atomically (temp file, fsync, rename): a failing or interrupted run leaves the previous
    files whole. Raises :class:`~floe_compute_kit._atomic.AtomicWriteError` naming the file.
    """
    rendered = [(out / FORMATS[fmt], _RENDERERS[fmt](cert)) for fmt in formats]
    make_folder(out, fix="choose a writable --out")
    for path, text in rendered:
        # No lock file: the rename is atomic on its own, and a .lock beside each output
        # would be published with the certificate (two runs into one folder: last one wins).
        write_atomic(path, text, lock=False)
    return [path for path, _ in rendered]


def read_certificate(path: Path) -> dict[str, Any]:
    """The certificate at ``path``, validated against the model.

    CertificateError (one line naming the file, the problem and the fix) when it is
    unreadable, too large or too deep, not UTF-8 JSON, holds duplicate keys, or is not a
    certificate of this schema.
    """
    data = read_certificate_json(path)
    try:
        parse_certificate(data)
    except ValidationError as exc:
        lines = validation_lines(exc)
        more = f" (and {len(lines) - 1} more problem(s))" if len(lines) > 1 else ""
        raise CertificateError(
            f"{path}: not a floe compute certificate of schema {SCHEMA_VERSION}: "
            f"{one_line(lines[0], 300)}{more}; give the certificate.json that "
            "`floe-conformance report` wrote",
            file=str(path),
            reason="not a certificate",
        ) from None
    return data


def verify_certificate(cert: dict[str, Any]) -> list[str]:
    """Everything wrong with ``cert``: schema violations, checks that are not the
    catalogue's, a verdict its checks do not support, and a digest that does not match."""
    problems = [f"schema: {e}" for e in schema_errors(cert)]
    if not problems:
        problems += [f"catalogue: {e}" for e in catalogue_errors(cert, load_catalogue())]
        problems += [f"consistency: {e}" for e in consistency_errors(cert)]
    recorded = cert.get("digest")
    try:
        actual = certificate_digest(cert)
    except (TypeError, ValueError):  # not JSON-able (only a hand-made dict can be)
        return [*problems, "digest: the content cannot be hashed as JSON"]
    if recorded != actual:
        problems.append(
            f"digest: recorded {recorded} but the content hashes to {actual}; "
            "the certificate was edited after it was issued"
        )
    return problems


def rerun_differences(
    cert: dict[str, Any],
    *,
    on_result: Callable[[CheckResult], None] | None = None,
    workdir: Path | None = None,
    target: Path | None = DEFAULTS.target,
) -> tuple[dict[str, Any], list[str]]:
    """Re-run the recorded plugin with the recorded seed and settings; list what changed.

    ``target``: the live target file to re-run against (``--target``), as for ``report``.

    Waivers are re-applied as recorded (expiry is not re-judged: the question is whether
    the plugin still behaves as certified). This imports the plugin ``plugin.spec`` names:
    the CLI asks before it calls this for a certificate from someone else.
    """
    old = parse_certificate(cert)
    run = old.run
    waivers = [Waiver.from_json(w.model_dump()) for w in old.waivers]
    fresh = certify(
        old.plugin.spec,
        level=run.requested_level,
        seed=run.seed,
        max_examples=run.max_examples,
        budget_s=run.budget_s,
        waivers=waivers,
        workdir=workdir,
        on_result=on_result,
        today=min((w.expires for w in waivers), default=None),
        target=target,
    )
    new = parse_certificate(fresh)
    diffs = [
        f"{label}: {was} -> {now}"
        for label, was, now in [
            ("plugin version", old.plugin.version, new.plugin.version),
            ("floe_api_version", old.plugin.floe_api_version, new.plugin.floe_api_version),
            ("kit version", old.kit.version, new.kit.version),
            ("catalogue version", old.kit.catalogue_version, new.kit.catalogue_version),
            ("plugin files sha256", _files_sha(old), _files_sha(new)),
        ]
        if was != now
    ]
    old_checks = {c.id: c for c in old.checks}
    new_checks = {c.id: c for c in new.checks}
    for cid in sorted(old_checks.keys() | new_checks.keys()):
        was_check, now_check = old_checks.get(cid), new_checks.get(cid)
        if was_check is None or now_check is None:
            only = was_check or now_check
            outcome = only.underlying_outcome.value if only is not None else "?"
            diffs.append(
                f"{cid}: recorded {outcome}, not run now"
                if now_check is None
                else f"{cid}: not recorded, {outcome} now"
            )
        elif was_check.underlying_outcome != now_check.underlying_outcome:
            why = f" ({_one_line(now_check.message)})" if now_check.message else ""
            diffs.append(
                f"{cid}: recorded {was_check.underlying_outcome.value}, "
                f"{now_check.underlying_outcome.value} now{why}"
            )
        elif was_check.example != now_check.example:
            diffs.append(f"{cid}: same outcome, different shrunk example")
    if old.level_achieved != new.level_achieved:
        diffs.append(
            f"level achieved: {_level(old.level_achieved)} -> {_level(new.level_achieved)}"
        )
    return fresh, diffs


def _files_sha(cert: Certificate) -> str | None:
    return cert.distribution.files_sha256 if cert.distribution is not None else None


def _level(level: Level | None) -> str | None:
    return level.value if level is not None else None


def replay_snippet(cert: dict[str, Any], check_id: str, cert_file: str = "certificate.json") -> str:
    """A self-contained Python script that re-runs one recorded failure.

    It exits non-zero (AssertionError with the check's message) while the failure is
    still there, and prints PASSED once it is fixed. The certificate is someone else's
    text, so every value enters the script as a ``repr`` literal or an escaped one-line
    comment, never as code, and the check ids are the catalogue's (KeyError otherwise).
    """
    model = parse_certificate(cert)
    known = {reg.spec.id for reg in load_catalogue()}
    check = model.check(check_id)
    if check_id not in known:
        raise KeyError(check_id)
    run = model.run
    plugin = model.plugin
    order = [c.id for c in model.checks if c.id in known]
    before = order[: order.index(check_id)]
    lines = [
        f"# Replay of floe conformance check {one_line(check_id)} against plugin "
        f"{one_line(plugin.spec, 200)},",
        f"# from {one_line(cert_file, 200)} (plugin {one_line(plugin.name, 80)} "
        f"{one_line(plugin.version, 40)}, kit {one_line(model.kit.version, 40)}, seed {run.seed}).",
        f"# Recorded: {check.underlying_outcome.value}: {_one_line(check.message)}",
        f"# Clause: {_one_line(check.wording)}",
        "# Run it where the plugin is importable (installed, or on PYTHONPATH). It fails with",
        "# the check's message while the defect is there and prints PASSED once it is fixed.",
        "# It imports the plugin named below: run it only for a plugin you would install.",
        "from floe_compute_kit.cli.conformance import build_parser",
        "from floe_compute_kit.conformance._results import Level, Outcome",
        "from floe_compute_kit.conformance.runner import run_suite",
        "",
        "# Load what `floe-conformance report` loads: hypothesis mixes constants from loaded",
        "# local modules into its draws, so this keeps the same seed drawing the same configs.",
        "build_parser()",
        "",
        f"PLUGIN = {plugin.spec!r}",
        f"CHECK = {check_id!r}",
        "# The checks that ran before it, re-run first so the suite state (shared samples,",
        "# loaded modules) is the one the failure was found in; only CHECK is judged.",
        f"BEFORE = {pprint.pformat(before, width=88, compact=True)}",
    ]
    if check.example is not None:
        lines += [
            "# The shrunk failing config the certificate recorded (secrets masked), to poke at:",
            f"EXAMPLE = {pprint.pformat(check.example)}",
        ]
    lines += [
        "",
        "suite = run_suite(",
        "    PLUGIN,",
        f"    level=Level({run.requested_level.value!r}),",
        f"    seed={int(run.seed)!r},",
        f"    max_examples={int(run.max_examples)!r},",
        f"    budget_s={float(run.budget_s)!r},",
        "    check_ids=[*BEFORE, CHECK],",
        ")",
        'if getattr(suite, "load_error", None):',
        '    raise SystemExit(f"the plugin could not be loaded: {suite.load_error}")',
        "result = suite.by_id()[CHECK]",
        "if result.example is not None:",
        '    print("shrunk example:", result.example)',
        "if result.traceback:",
        "    print(result.traceback)",
        "assert result.outcome in (Outcome.PASSED, Outcome.UNSUPPORTED), (",
        '    f"{CHECK} {result.outcome.value}: {result.message}"',
        ")",
        'print(f"PASSED: {CHECK} no longer fails")',
    ]
    return "\n".join(lines) + "\n"


def _one_line(text: str, limit: int = 200) -> str:
    return one_line(" ".join(text.split()), limit)


def failing_check_ids(cert: dict[str, Any]) -> list[str]:
    """The checks that failed or errored (waived ones included: the failure is still there)."""
    return [
        c.id
        for c in parse_certificate(cert).checks
        if c.underlying_outcome in {Outcome.FAILED, Outcome.ERROR}
    ]
