"""Certificate renderings: Markdown for repositories, HTML for people, JUnit XML for CI.

All three are pure functions of the certificate JSON, so ``verify`` and the staleness
test can re-render a committed certificate and compare.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["render_html", "render_junit", "render_markdown", "replay_command"]

_MARK = {
    "passed": "PASS",
    "failed": "FAIL",
    "error": "ERROR",
    "unsupported": "unsupported",
    "waived": "WAIVED",
}
_COUNT_COLUMNS = ("passed", "failed", "error", "unsupported", "waived")


def _example_title(check: Mapping[str, Any]) -> str:
    seed = check.get("seed")
    return f"Shrunk failing example (seed {seed})" if seed is not None else "Failing example"


def replay_command(check_id: str, file: str = "certificate.json") -> str:
    return f"floe-conformance replay {file} --check {check_id}"


def _verdict(cert: Mapping[str, Any]) -> str:
    achieved = cert["level_achieved"] or "none"
    requested = cert["run"]["requested_level"]
    word = "CERTIFIED" if cert["certified"] else "NOT CERTIFIED"
    return f"{word} at {requested} (level achieved: {achieved})"


def _plugin_line(cert: Mapping[str, Any]) -> str:
    p = cert["plugin"]
    return (
        f"{p.get('name') or '?'} {p.get('version') or '?'} "
        f"(floe API {p.get('floe_api_version') or '?'})"
    )


def _dist_line(cert: Mapping[str, Any]) -> str:
    d = cert.get("distribution")
    if not d:
        return "unknown (not installed from a distribution)"
    supplier = (
        f"{d['name']} {d.get('version') or '(no version)'}"
        if d.get("name")
        else "no installed distribution (imported from a path)"
    )
    return (
        f"{supplier}: package {d['package']}, "
        f"{len(d['files'])} files, sha256 {d['files_sha256']} ({d['hash_source']})"
    )


def _env_rows(cert: Mapping[str, Any]) -> list[tuple[str, str]]:
    env = cert["environment"]
    rows = [
        ("python", f"{env['implementation']} {env['python']}"),
        ("platform", env["platform"]),
    ]
    rows += [(name, version or "not installed") for name, version in env["packages"].items()]
    adapter = env["adapter"]
    if adapter.get("name"):
        rows.append((f"adapter {adapter['name']}", adapter.get("version") or "not installed"))
    rows += [
        (f"driver {name}", version or "not installed") for name, version in env["drivers"].items()
    ]
    return rows


def _failing(cert: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in cert["checks"] if c["outcome"] in {"failed", "error", "waived"}]


def _md_cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(cert: Mapping[str, Any]) -> str:
    run = cert["run"]
    kit = cert["kit"]
    out = [
        f"# floe compute certificate: {_plugin_line(cert)}",
        "",
        f"**{_verdict(cert)}**",
        "",
        *_md_table(
            ("field", "value"),
            [
                ("plugin", f"{_plugin_line(cert)}, `{cert['plugin'].get('class')}`"),
                ("plugin spec", f"`{cert['plugin']['spec']}`"),
                ("capabilities", ", ".join(cert["plugin"]["capabilities"]) or "none claimed"),
                ("distribution", _dist_line(cert)),
                ("kit", f"floe-compute-kit {kit['version']}"),
                ("catalogue", f"{kit['catalogue_version']} ({kit['catalogue_size']} checks)"),
                ("requested level", run["requested_level"]),
                ("level achieved", cert["level_achieved"] or "none"),
                ("seed", run["seed"]),
                ("max examples", run["max_examples"]),
                ("created", cert["created_at"]),
                ("digest", f"`{cert['digest']}`"),
            ],
        ),
        "",
    ]
    if run.get("load_error"):
        out += ["## Plugin could not be loaded", "", "```", run["load_error"], "```", ""]
    if cert["waiver_problems"]:
        out += ["## Waiver problems (these fail the run)", ""]
        out += [f"- {p}" for p in cert["waiver_problems"]] + [""]
    summary = cert["summary"]
    out += ["## By requirement", ""]
    out += _md_table(
        ("requirement", "status", "checks"),
        [
            (req, _MARK[e["status"]], ", ".join(f"`{c}`" for c in e["checks"]))
            for req, e in summary["by_requirement"].items()
        ],
    )
    out += ["", "## By method", ""]
    out += _md_table(
        ("method", *_COUNT_COLUMNS),
        [(m, *(row[k] for k in _COUNT_COLUMNS)) for m, row in summary["by_method"].items()],
    )
    out += ["", "## Checks", ""]
    out += _md_table(
        ("check", "level", "outcome", "requirements", "clause"),
        [
            (
                f"`{c['id']}`",
                c["level"],
                _MARK[c["outcome"]],
                ", ".join(c["requirements"]),
                c["wording"],
            )
            for c in cert["checks"]
        ],
    )
    failing = _failing(cert)
    if failing:
        out += ["", "## Failures", ""]
        for c in failing:
            out += _md_failure(c)
    if cert["waivers"]:
        out += ["", "## Waivers", ""]
        out += _md_table(
            ("check", "expires", "applied", "reason", "link"),
            [
                (
                    f"`{w['check']}`",
                    w["expires"],
                    "yes" if w["applied"] else "no (unused)",
                    w["reason"],
                    w["link"],
                )
                for w in cert["waivers"]
            ],
        )
    env = _env_rows(cert)
    out += ["", "## Environment", "", *_md_table(("component", "version"), env)]
    out += [
        "",
        "## Verify",
        "",
        "```",
        "floe-conformance verify certificate.json          # digest and schema",
        "floe-conformance verify certificate.json --rerun  # same seed, same results?",
        "```",
        "",
    ]
    return "\n".join(out)


def _md_failure(c: Mapping[str, Any]) -> list[str]:
    out = [f"### `{c['id']}`: {_MARK[c['outcome']]}", "", f"> {c['wording']}", ""]
    if c.get("waiver"):
        w = c["waiver"]
        out += [f"Waived until {w['expires']}: {w['reason']} ({w['link']})", ""]
    out += ["```", c["message"] or "(no message)", "```", ""]
    if c.get("example") is not None:
        out += [
            f"{_example_title(c)}:",
            "",
            "```json",
            json.dumps(c["example"], indent=2, sort_keys=True),
            "```",
            "",
        ]
    if c.get("traceback"):
        out += [
            "<details><summary>traceback</summary>",
            "",
            "```",
            c["traceback"].rstrip(),
            "```",
            "",
            "</details>",
            "",
        ]
    out += [f"Reproduce: `{replay_command(c['id'])}`", ""]
    return out


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


def _h(text: object) -> str:
    return html.escape(str(text))


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_h(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _badge(outcome: str) -> str:
    return f'<span class="{_h(outcome)}">{_h(_MARK[outcome])}</span>'


def render_html(cert: Mapping[str, Any]) -> str:
    run = cert["run"]
    kit = cert["kit"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>floe compute certificate: {_h(_plugin_line(cert))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>floe compute certificate: {_h(_plugin_line(cert))}</h1>",
        f'<p class="verdict {"yes" if cert["certified"] else "no"}">{_h(_verdict(cert))}</p>',
        _html_table(
            ("field", "value"),
            [
                (_h(k), _h(v))
                for k, v in [
                    ("plugin", f"{_plugin_line(cert)} {cert['plugin'].get('class')}"),
                    ("plugin spec", cert["plugin"]["spec"]),
                    ("capabilities", ", ".join(cert["plugin"]["capabilities"]) or "none"),
                    ("distribution", _dist_line(cert)),
                    ("kit", f"floe-compute-kit {kit['version']}"),
                    ("catalogue", f"{kit['catalogue_version']} ({kit['catalogue_size']} checks)"),
                    ("requested level", run["requested_level"]),
                    ("level achieved", cert["level_achieved"] or "none"),
                    ("seed", run["seed"]),
                    ("created", cert["created_at"]),
                    ("digest", cert["digest"]),
                ]
            ],
        ),
    ]
    if run.get("load_error"):
        parts.append(f"<h2>Plugin could not be loaded</h2><pre>{_h(run['load_error'])}</pre>")
    if cert["waiver_problems"]:
        items = "".join(f"<li>{_h(p)}</li>" for p in cert["waiver_problems"])
        parts.append(f"<h2>Waiver problems (these fail the run)</h2><ul>{items}</ul>")
    summary = cert["summary"]
    parts.append("<h2>By requirement</h2>")
    parts.append(
        _html_table(
            ("requirement", "status", "checks"),
            [
                (_h(req), _badge(e["status"]), _h(", ".join(e["checks"])))
                for req, e in summary["by_requirement"].items()
            ],
        )
    )
    parts.append("<h2>By method</h2>")
    parts.append(
        _html_table(
            ("method", *_COUNT_COLUMNS),
            [
                (_h(m), *(_h(row[k]) for k in _COUNT_COLUMNS))
                for m, row in summary["by_method"].items()
            ],
        )
    )
    parts.append("<h2>Checks</h2>")
    parts.append(
        _html_table(
            ("check", "level", "outcome", "requirements", "clause", "seconds"),
            [
                (
                    f'<a href="#{_h(c["id"])}">{_h(c["id"])}</a>'
                    if c["outcome"] in {"failed", "error", "waived"}
                    else _h(c["id"]),
                    _h(c["level"]),
                    _badge(c["outcome"]),
                    _h(", ".join(c["requirements"])),
                    _h(c["wording"]),
                    _h(f"{c['duration_s']:.3f}"),
                )
                for c in cert["checks"]
            ],
        )
    )
    failing = _failing(cert)
    if failing:
        parts.append("<h2>Failures and how to reproduce them</h2>")
        for c in failing:
            parts.append(f'<h3 id="{_h(c["id"])}">{_h(c["id"])}: {_badge(c["outcome"])}</h3>')
            parts.append(f"<blockquote>{_h(c['wording'])}</blockquote>")
            if c.get("waiver"):
                w = c["waiver"]
                parts.append(
                    f"<p>Waived until {_h(w['expires'])}: {_h(w['reason'])} "
                    f'(<a href="{_h(w["link"])}">{_h(w["link"])}</a>)</p>'
                )
            parts.append(f"<pre>{_h(c['message'] or '(no message)')}</pre>")
            if c.get("example") is not None:
                example = json.dumps(c["example"], indent=2, sort_keys=True)
                parts.append(f"<p>{_h(_example_title(c))}:</p><pre>{_h(example)}</pre>")
            if c.get("traceback"):
                parts.append(
                    f"<details><summary>traceback</summary><pre>{_h(c['traceback'])}</pre>"
                    "</details>"
                )
            parts.append(f"<p>Reproduce:</p><pre>{_h(replay_command(c['id']))}</pre>")
    if cert["waivers"]:
        parts.append("<h2>Waivers</h2>")
        parts.append(
            _html_table(
                ("check", "expires", "applied", "reason", "link"),
                [
                    (
                        _h(w["check"]),
                        _h(w["expires"]),
                        "yes" if w["applied"] else "no (unused)",
                        _h(w["reason"]),
                        f'<a href="{_h(w["link"])}">{_h(w["link"])}</a>',
                    )
                    for w in cert["waivers"]
                ],
            )
        )
    parts.append("<h2>Environment</h2>")
    parts.append(
        _html_table(("component", "version"), [(_h(a), _h(b)) for a, b in _env_rows(cert)])
    )
    parts.append(
        "<h2>Verify</h2><pre>floe-conformance verify certificate.json\n"
        "floe-conformance verify certificate.json --rerun</pre>"
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_junit(cert: Mapping[str, Any]) -> str:
    """One testcase per check; unsupported and waived checks are "skipped" with the reason."""
    counts = cert["summary"]["counts"]
    suite = ET.Element(
        "testsuite",
        {
            "name": f"floe-conformance[{cert['plugin'].get('name') or cert['plugin']['spec']}]",
            "tests": str(cert["summary"]["total"]),
            "failures": str(counts["failed"]),
            "errors": str(counts["error"]),
            "skipped": str(counts["unsupported"] + counts["waived"]),
            "time": f"{cert['run']['duration_s']:.3f}",
            "timestamp": cert["created_at"],
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in [
        ("plugin", _plugin_line(cert)),
        ("requested_level", cert["run"]["requested_level"]),
        ("level_achieved", cert["level_achieved"] or "none"),
        ("seed", str(cert["run"]["seed"])),
        ("catalogue_version", cert["kit"]["catalogue_version"]),
        ("digest", cert["digest"]),
    ]:
        ET.SubElement(props, "property", {"name": name, "value": value})
    for c in cert["checks"]:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"floe.{c['method']}", "name": c["id"], "time": f"{c['duration_s']:.3f}"},
        )
        body = c["message"]
        if c.get("example") is not None:
            example = json.dumps(c["example"], indent=2, sort_keys=True)
            body += f"\n\n{_example_title(c)}:\n{example}"
        if c.get("traceback"):
            body += "\n\n" + c["traceback"]
        if c["outcome"] == "failed":
            ET.SubElement(case, "failure", {"message": c["message"][:500]}).text = body
        elif c["outcome"] == "error":
            ET.SubElement(case, "error", {"message": c["message"][:500]}).text = body
        elif c["outcome"] == "unsupported":
            ET.SubElement(case, "skipped", {"message": f"unsupported: {c['message']}"[:500]})
        elif c["outcome"] == "waived":
            w = c["waiver"] or {}
            ET.SubElement(
                case,
                "skipped",
                {"message": f"waived until {w.get('expires')}: {w.get('reason')}"[:500]},
            ).text = body
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
