"""Certificate renderings: Markdown for repositories, HTML for people, JUnit XML for CI.

All three are pure functions of the certificate, read through its typed model, so
``verify`` and the staleness test can re-render a committed certificate and compare.
Text that came from the plugin goes through one escaping rule per format
(:mod:`~floe_compute_kit.conformance.certificate._escape`): it cannot open a heading, an
image or raw HTML in Markdown, markup or a ``javascript:`` link in HTML, or make the XML
invalid.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from floe_compute_kit.conformance._results import Outcome
from floe_compute_kit.conformance.certificate import Certificate, CheckRecord, parse_certificate
from floe_compute_kit.conformance.certificate._escape import (
    html_href,
    html_text,
    md_code_block,
    md_inline,
    xml_text,
)

__all__ = ["render_html", "render_junit", "render_markdown", "replay_command"]

_MARK = {
    "passed": "PASS",
    "failed": "FAIL",
    "error": "ERROR",
    "unsupported": "unsupported",
    "waived": "WAIVED",
}
_COUNT_COLUMNS = ("passed", "failed", "error", "unsupported", "waived")
_FAILING = {Outcome.FAILED, Outcome.ERROR, Outcome.WAIVED}

CertificateLike = Mapping[str, Any] | Certificate


def _model(cert: CertificateLike) -> Certificate:
    return cert if isinstance(cert, Certificate) else parse_certificate(dict(cert))


def _example_title(check: CheckRecord) -> str:
    seed = check.seed
    return f"Shrunk failing example (seed {seed})" if seed is not None else "Failing example"


def _example_json(check: CheckRecord) -> str:
    return json.dumps(check.example, indent=2, sort_keys=True)


def replay_command(check_id: str, file: str = "certificate.json") -> str:
    return f"floe-conformance replay {file} --check {check_id}"


def _verdict(cert: Certificate) -> str:
    achieved = cert.level_achieved.value if cert.level_achieved else "none"
    word = "CERTIFIED" if cert.certified else "NOT CERTIFIED"
    return f"{word} at {cert.run.requested_level.value} (level achieved: {achieved})"


def _plugin_line(cert: Certificate) -> str:
    p = cert.plugin
    return f"{p.name or '?'} {p.version or '?'} (floe API {p.floe_api_version or '?'})"


def _dist_line(cert: Certificate) -> str:
    d = cert.distribution
    if d is None:
        return "unknown (not installed from a distribution)"
    supplier = (
        f"{d.name} {d.version or '(no version)'}"
        if d.name
        else "no installed distribution (imported from a path)"
    )
    return (
        f"{supplier}: package {d.package}, "
        f"{len(d.files)} files, sha256 {d.files_sha256} ({d.hash_source})"
    )


def _env_rows(cert: Certificate) -> list[tuple[str, str]]:
    env = cert.environment
    rows = [("python", f"{env.implementation} {env.python}"), ("platform", env.platform)]
    rows += [(name, version or "not installed") for name, version in env.packages.items()]
    if env.adapter.name:
        rows.append((f"adapter {env.adapter.name}", env.adapter.version or "not installed"))
    rows += [
        (f"driver {name}", version or "not installed") for name, version in env.drivers.items()
    ]
    return rows


def _failing(cert: Certificate) -> list[CheckRecord]:
    return [c for c in cert.checks if c.outcome in _FAILING]


def _fields(cert: Certificate) -> list[tuple[str, object]]:
    kit, run = cert.kit, cert.run
    return [
        ("plugin", _plugin_line(cert)),
        ("plugin class", cert.plugin.class_ or "?"),
        ("plugin spec", cert.plugin.spec),
        ("capabilities", ", ".join(cert.plugin.capabilities) or "none claimed"),
        ("distribution", _dist_line(cert)),
        ("kit", f"floe-compute-kit {kit.version}"),
        ("catalogue", f"{kit.catalogue_version} ({kit.catalogue_size} checks)"),
        ("requested level", run.requested_level.value),
        ("level achieved", cert.level_achieved.value if cert.level_achieved else "none"),
        ("seed", run.seed),
        ("max examples", run.max_examples),
        ("created", cert.created_at),
        ("digest", cert.digest),
    ]


# --- Markdown ----------------------------------------------------------------------------


def _code(text: str) -> str:
    # Ids and digests are validated (no backticks); anything else is escaped text instead.
    plain = not any(ch in text for ch in "`|\r\n")  # "|" would end a table cell
    return f"`{text}`" if plain else md_inline(text)


_CODE_FIELDS = {"digest", "plugin spec", "plugin class"}


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_markdown(cert: CertificateLike) -> str:
    c = _model(cert)
    run = c.run
    out = [
        f"# floe compute certificate: {md_inline(_plugin_line(c))}",
        "",
        f"**{_verdict(c)}**",
        "",
        *_md_table(
            ("field", "value"),
            [
                (name, _code(str(value)) if name in _CODE_FIELDS else md_inline(value))
                for name, value in _fields(c)
            ],
        ),
        "",
    ]
    if run.load_error:
        out += ["## Plugin could not be loaded", "", *md_code_block(run.load_error), ""]
    if c.waiver_problems:
        out += ["## Waiver problems (these fail the run)", ""]
        out += [f"- {md_inline(p)}" for p in c.waiver_problems] + [""]
    out += ["## By requirement", ""]
    out += _md_table(
        ("requirement", "status", "checks"),
        [
            (req, _MARK[e.status.value], ", ".join(_code(cid) for cid in e.checks))
            for req, e in c.summary.by_requirement.items()
        ],
    )
    out += ["", "## By method", ""]
    out += _md_table(
        ("method", *_COUNT_COLUMNS),
        [
            (md_inline(m), *(str(row.of(k)) for k in _COUNT_COLUMNS))
            for m, row in c.summary.by_method.items()
        ],
    )
    out += ["", "## Checks", ""]
    out += _md_table(
        ("check", "level", "outcome", "requirements", "clause"),
        [
            (
                _code(r.id),
                r.level.value,
                _MARK[r.outcome.value],
                ", ".join(r.requirements),
                md_inline(r.wording),
            )
            for r in c.checks
        ],
    )
    failing = _failing(c)
    if failing:
        out += ["", "## Failures", ""]
        for r in failing:
            out += _md_failure(r)
    if c.waivers:
        out += ["", "## Waivers", ""]
        out += _md_table(
            ("check", "expires", "applied", "reason", "link"),
            [
                (
                    _code(w.check),
                    w.expires,
                    "yes" if w.applied else "no (unused)",
                    md_inline(w.reason),
                    md_inline(w.link),
                )
                for w in c.waivers
            ],
        )
    env = [(md_inline(a), md_inline(b)) for a, b in _env_rows(c)]
    out += ["", "## Environment", "", *_md_table(("component", "version"), env)]
    out += [
        "",
        "## Verify",
        "",
        "```",
        "floe-conformance verify certificate.json          # digest and schema",
        "floe-conformance verify certificate.json --rerun  # runs the plugin it names (asks first)",
        "```",
        "",
    ]
    return "\n".join(out)


def _md_failure(r: CheckRecord) -> list[str]:
    out = [f"### {_code(r.id)}: {_MARK[r.outcome.value]}", "", f"> {md_inline(r.wording)}", ""]
    if r.waiver is not None:
        w = r.waiver
        out += [
            f"Waived until {w.expires}: {md_inline(w.reason)} ({md_inline(w.link)})",
            "",
        ]
    out += [*md_code_block(r.message or "(no message)"), ""]
    if r.example is not None:
        out += [f"{_example_title(r)}:", "", *md_code_block(_example_json(r), "json"), ""]
    if r.traceback:
        out += ["Traceback:", "", *md_code_block(r.traceback.rstrip()), ""]
    out += [f"Reproduce: `{replay_command(r.id)}`", ""]
    return out


# --- HTML --------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
pre{background:#f7f7f7;padding:.6rem;overflow-x:auto;white-space:pre-wrap}
.passed{color:#176317}.failed,.error{color:#a40000;font-weight:bold}
.waived{color:#8a5a00;font-weight:bold}.unsupported{color:#666}
.verdict{font-size:1.3rem;padding:.6rem;border-radius:.3rem}
.yes{background:#e5f5e5}.no{background:#fbe4e4}
"""

_h = html_text


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_h(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _badge(outcome: Outcome) -> str:
    return f'<span class="{outcome.value}">{_MARK[outcome.value]}</span>'


def render_html(cert: CertificateLike) -> str:
    c = _model(cert)
    run = c.run
    fields = [(k, v) for k, v in _fields(c) if k != "max examples"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>floe compute certificate: {_h(_plugin_line(c))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>floe compute certificate: {_h(_plugin_line(c))}</h1>",
        f'<p class="verdict {"yes" if c.certified else "no"}">{_h(_verdict(c))}</p>',
        _html_table(("field", "value"), [(_h(k), _h(v)) for k, v in fields]),
    ]
    if run.load_error:
        parts.append(f"<h2>Plugin could not be loaded</h2><pre>{_h(run.load_error)}</pre>")
    if c.waiver_problems:
        items = "".join(f"<li>{_h(p)}</li>" for p in c.waiver_problems)
        parts.append(f"<h2>Waiver problems (these fail the run)</h2><ul>{items}</ul>")
    parts.append("<h2>By requirement</h2>")
    parts.append(
        _html_table(
            ("requirement", "status", "checks"),
            [
                (_h(req), _badge(e.status), _h(", ".join(e.checks)))
                for req, e in c.summary.by_requirement.items()
            ],
        )
    )
    parts.append("<h2>By method</h2>")
    parts.append(
        _html_table(
            ("method", *_COUNT_COLUMNS),
            [
                (_h(m), *(_h(row.of(k)) for k in _COUNT_COLUMNS))
                for m, row in c.summary.by_method.items()
            ],
        )
    )
    parts.append("<h2>Checks</h2>")
    parts.append(
        _html_table(
            ("check", "level", "outcome", "requirements", "clause", "seconds"),
            [
                (
                    f'<a href="#{_h(r.id)}">{_h(r.id)}</a>' if r.outcome in _FAILING else _h(r.id),
                    _h(r.level.value),
                    _badge(r.outcome),
                    _h(", ".join(r.requirements)),
                    _h(r.wording),
                    _h(f"{r.duration_s:.3f}"),
                )
                for r in c.checks
            ],
        )
    )
    failing = _failing(c)
    if failing:
        parts.append("<h2>Failures and how to reproduce them</h2>")
        for r in failing:
            parts += _html_failure(r)
    if c.waivers:
        parts.append("<h2>Waivers</h2>")
        parts.append(
            _html_table(
                ("check", "expires", "applied", "reason", "link"),
                [
                    (
                        _h(w.check),
                        _h(w.expires),
                        "yes" if w.applied else "no (unused)",
                        _h(w.reason),
                        html_href(w.link),
                    )
                    for w in c.waivers
                ],
            )
        )
    parts.append("<h2>Environment</h2>")
    parts.append(_html_table(("component", "version"), [(_h(a), _h(b)) for a, b in _env_rows(c)]))
    parts.append(
        "<h2>Verify</h2><pre>floe-conformance verify certificate.json\n"
        "floe-conformance verify certificate.json --rerun</pre>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_failure(r: CheckRecord) -> list[str]:
    parts = [
        f'<h3 id="{_h(r.id)}">{_h(r.id)}: {_badge(r.outcome)}</h3>',
        f"<blockquote>{_h(r.wording)}</blockquote>",
    ]
    if r.waiver is not None:
        w = r.waiver
        parts.append(f"<p>Waived until {_h(w.expires)}: {_h(w.reason)} ({html_href(w.link)})</p>")
    parts.append(f"<pre>{_h(r.message or '(no message)')}</pre>")
    if r.example is not None:
        parts.append(f"<p>{_h(_example_title(r))}:</p><pre>{_h(_example_json(r))}</pre>")
    if r.traceback:
        parts.append(f"<details><summary>traceback</summary><pre>{_h(r.traceback)}</pre></details>")
    parts.append(f"<p>Reproduce:</p><pre>{_h(replay_command(r.id))}</pre>")
    return parts


# --- JUnit XML ---------------------------------------------------------------------------


def _junit_body(r: CheckRecord) -> str:
    body = r.message
    if r.example is not None:
        body += f"\n\n{_example_title(r)}:\n{_example_json(r)}"
    if r.traceback:
        body += "\n\n" + r.traceback
    return xml_text(body)


def render_junit(cert: CertificateLike) -> str:
    """One testcase per check; unsupported and waived checks are "skipped" with the reason."""
    c = _model(cert)
    counts = c.summary.counts
    x = xml_text
    suite = ET.Element(
        "testsuite",
        {
            "name": x(f"floe-conformance[{c.plugin.name or c.plugin.spec}]"),
            "tests": str(c.summary.total),
            "failures": str(counts.failed),
            "errors": str(counts.error),
            "skipped": str(counts.unsupported + counts.waived),
            "time": f"{c.run.duration_s:.3f}",
            "timestamp": x(c.created_at),
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in [
        ("plugin", _plugin_line(c)),
        ("requested_level", c.run.requested_level.value),
        ("level_achieved", c.level_achieved.value if c.level_achieved else "none"),
        ("seed", str(c.run.seed)),
        ("catalogue_version", c.kit.catalogue_version),
        ("digest", c.digest),
    ]:
        ET.SubElement(props, "property", {"name": name, "value": x(value)})
    for r in c.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": x(f"floe.{r.method}"), "name": r.id, "time": f"{r.duration_s:.3f}"},
        )
        short = x(r.message[:500])
        if r.outcome is Outcome.FAILED:
            ET.SubElement(case, "failure", {"message": short}).text = _junit_body(r)
        elif r.outcome is Outcome.ERROR:
            ET.SubElement(case, "error", {"message": short}).text = _junit_body(r)
        elif r.outcome is Outcome.UNSUPPORTED:
            ET.SubElement(case, "skipped", {"message": x(f"unsupported: {r.message}"[:500])})
        elif r.outcome is Outcome.WAIVED:
            w = r.waiver
            reason = f"waived until {w.expires}: {w.reason}" if w else "waived"
            ET.SubElement(case, "skipped", {"message": x(reason[:500])}).text = _junit_body(r)
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
