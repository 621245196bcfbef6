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

from floe_compute_kit import __version__
from floe_compute_kit.conformance._certificate import (
    build_certificate,
    certificate_digest,
    consistency_errors,
    schema_errors,
    underlying_outcome,
)
from floe_compute_kit.conformance._provenance import environment_info
from floe_compute_kit.conformance._render import render_html, render_junit, render_markdown
from floe_compute_kit.conformance._results import CheckResult, Level, Outcome
from floe_compute_kit.conformance._settings import DEFAULTS
from floe_compute_kit.conformance._waivers import Waiver, waiver_problems
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
    )
    duration = time.perf_counter() - started
    load_error: str | None = getattr(suite, "load_error", None)
    provenance = suite.provenance
    problems = waiver_problems(
        waivers, (c.spec.id for c in catalogue), today or dt.datetime.now(dt.UTC).date()
    )
    cert = build_certificate(
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


def write_certificate(
    cert: dict[str, Any], out: Path, formats: Iterable[str] = tuple(FORMATS)
) -> list[Path]:
    """Write the chosen renderings of ``cert`` into ``out``; returns the paths written."""
    renderers: dict[str, Callable[[dict[str, Any]], str]] = {
        "json": lambda c: json.dumps(c, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        "md": render_markdown,
        "html": render_html,
        "junit": render_junit,
    }
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        path = out / FORMATS[fmt]
        path.write_text(renderers[fmt](cert), encoding="utf-8")
        written.append(path)
    return written


def read_certificate(path: Path) -> dict[str, Any]:
    """The certificate at ``path``; CertificateError if it is unreadable or not a JSON object."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CertificateError(
            f"cannot read certificate {path}: {exc.strerror or exc}",
            file=str(path),
            reason="unreadable",
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CertificateError(
            f"{path} is not JSON: {exc}", file=str(path), reason="not JSON"
        ) from exc
    if not isinstance(data, dict):
        raise CertificateError(
            f"{path} holds a JSON {type(data).__name__}, not a certificate object",
            file=str(path),
            reason="not an object",
        )
    return data


def verify_certificate(cert: dict[str, Any]) -> list[str]:
    """Everything wrong with ``cert``: schema violations, a verdict its checks do not
    support, and a digest that does not match."""
    problems = [f"schema: {e}" for e in schema_errors(cert)]
    if not problems:
        problems += [f"consistency: {e}" for e in consistency_errors(cert)]
    recorded = cert.get("digest")
    actual = certificate_digest(cert)
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
) -> tuple[dict[str, Any], list[str]]:
    """Re-run the recorded plugin with the recorded seed and settings; list what changed.

    Waivers are re-applied as recorded (expiry is not re-judged: the question is whether
    the plugin still behaves as certified).
    """
    run = cert["run"]
    waivers = [Waiver.from_json(w) for w in cert.get("waivers", [])]
    fresh = certify(
        cert["plugin"]["spec"],
        level=Level(run["requested_level"]),
        seed=int(run["seed"]),
        max_examples=int(run["max_examples"]),
        budget_s=float(run["budget_s"]),
        waivers=waivers,
        workdir=workdir,
        on_result=on_result,
        today=min((w.expires for w in waivers), default=None),
    )
    diffs: list[str] = []
    for key, label in [
        (("plugin", "version"), "plugin version"),
        (("plugin", "floe_api_version"), "floe_api_version"),
        (("kit", "version"), "kit version"),
        (("kit", "catalogue_version"), "catalogue version"),
        (("distribution", "files_sha256"), "plugin files sha256"),
    ]:
        old = _get(cert, key)
        new = _get(fresh, key)
        if old != new:
            diffs.append(f"{label}: {old} -> {new}")
    old_checks = {c["id"]: c for c in cert["checks"]}
    new_checks = {c["id"]: c for c in fresh["checks"]}
    for cid in sorted(old_checks.keys() | new_checks.keys()):
        if cid not in new_checks:
            diffs.append(f"{cid}: recorded {underlying_outcome(old_checks[cid])}, not run now")
        elif cid not in old_checks:
            diffs.append(f"{cid}: not recorded, {underlying_outcome(new_checks[cid])} now")
        else:
            old_o = underlying_outcome(old_checks[cid])
            new_o = underlying_outcome(new_checks[cid])
            if old_o != new_o:
                diffs.append(
                    f"{cid}: recorded {old_o}, {new_o} now"
                    + (
                        f" ({_one_line(new_checks[cid]['message'])})"
                        if new_checks[cid]["message"]
                        else ""
                    )
                )
            elif old_checks[cid]["example"] != new_checks[cid]["example"]:
                diffs.append(f"{cid}: same outcome, different shrunk example")
    if cert.get("level_achieved") != fresh.get("level_achieved"):
        diffs.append(
            f"level achieved: {cert.get('level_achieved')} -> {fresh.get('level_achieved')}"
        )
    return fresh, diffs


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def replay_snippet(cert: dict[str, Any], check_id: str, cert_file: str = "certificate.json") -> str:
    """A self-contained Python script that re-runs one recorded failure.

    It exits non-zero (AssertionError with the check's message) while the failure is
    still there, and prints PASSED once it is fixed.
    """
    checks = {c["id"]: c for c in cert["checks"]}
    if check_id not in checks:
        raise KeyError(check_id)
    check = checks[check_id]
    run = cert["run"]
    plugin = cert["plugin"]
    order = [c["id"] for c in cert["checks"]]
    before = order[: order.index(check_id)]
    lines = [
        f"# Replay of floe conformance check {check_id!r} against plugin {plugin['spec']!r},",
        f"# from {cert_file} (plugin {plugin.get('name')} {plugin.get('version')}, "
        f"kit {cert['kit']['version']}, seed {run['seed']}).",
        f"# Recorded: {underlying_outcome(check)}: {_one_line(check['message'])}",
        f"# Clause: {_one_line(check['wording'])}",
        "# Run it where the plugin is importable (installed, or on PYTHONPATH). It fails with",
        "# the check's message while the defect is there and prints PASSED once it is fixed.",
        "from floe_compute_kit.cli.conformance import build_parser",
        "from floe_compute_kit.conformance._results import Level, Outcome",
        "from floe_compute_kit.conformance.runner import run_suite",
        "",
        "# Load what `floe-conformance report` loads: hypothesis mixes constants from loaded",
        "# local modules into its draws, so this keeps the same seed drawing the same configs.",
        "build_parser()",
        "",
        f"PLUGIN = {plugin['spec']!r}",
        f"CHECK = {check_id!r}",
        "# The checks that ran before it, re-run first so the suite state (shared samples,",
        "# loaded modules) is the one the failure was found in; only CHECK is judged.",
        f"BEFORE = {pprint.pformat(before, width=88, compact=True)}",
    ]
    example = check.get("example")
    if example is not None:
        lines += [
            "# The shrunk failing config the certificate recorded (secrets masked), to poke at:",
            f"EXAMPLE = {pprint.pformat(example)}",
        ]
    lines += [
        "",
        "suite = run_suite(",
        "    PLUGIN,",
        f"    level=Level({run['requested_level']!r}),",
        f"    seed={int(run['seed'])},",
        f"    max_examples={int(run['max_examples'])},",
        f"    budget_s={float(run['budget_s'])},",
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
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def failing_check_ids(cert: dict[str, Any]) -> list[str]:
    return [
        c["id"]
        for c in cert["checks"]
        if underlying_outcome(c) in {Outcome.FAILED.value, Outcome.ERROR.value}
    ]
