"""Renderings of a certificate: Markdown, an HTML page with reproductions, JUnit XML for CI."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from _cert_data import build, results
from floe_compute_kit.conformance._render import render_html, render_junit, render_markdown
from floe_compute_kit.conformance._results import Outcome
from floe_compute_kit.conformance._waivers import Waiver

pytestmark = pytest.mark.requirement("KIT-009")


def _cert() -> dict[str, object]:
    waiver = Waiver("connection.read_only", "known <gap>", dt.date(2099, 1, 1), "https://x/1")
    return build(
        results=results(
            profile_threads=Outcome.FAILED,
            connection_read_only=Outcome.FAILED,
            catalog_sql=Outcome.UNSUPPORTED,
        ),
        waivers=[waiver],
    )


def test_markdown_names_the_plugin_level_requirements_and_each_failure() -> None:
    md = render_markdown(_cert())
    assert md.startswith("# floe compute certificate: demo 1.2.3 (floe API 1.0)")
    assert "**NOT CERTIFIED at integration (level achieved: none)**" in md
    assert "| KIT-001 | FAIL | `profile.threads` |" in md
    assert "| FR-007 | unsupported | `catalog.sql` |" in md
    assert "### `profile.threads`: FAIL" in md
    assert "profile.threads broke: threads 1 != 4" in md
    assert '"threads": 4' in md  # the shrunk example
    assert "Reproduce: `floe-conformance replay certificate.json --check profile.threads`" in md
    assert "Waived until 2099-01-01: known \\<gap\\> (https://x/1)" in md  # escaped
    assert "| driver demo-driver | 1.0 |" in md
    assert "| adapter dbt-demo | not installed |" in md


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.ids: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)
        self.ids += [v for k, v in attrs if k == "id" and v]

    def handle_endtag(self, tag: str) -> None:
        assert self.open, f"</{tag}> closes nothing"
        assert self.open[-1] == tag, f"</{tag}> closes <{self.open[-1]}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_well_formed_and_shows_failures_with_reproductions() -> None:
    page = render_html(_cert())
    parser = _Collect()
    body = page.split("\n", 1)[1].replace('<meta charset="utf-8">', "")
    parser.feed(body)
    text = "".join(parser.text)
    assert "NOT CERTIFIED at integration (level achieved: none)" in text
    assert "demo 1.2.3 (floe API 1.0)" in text
    assert "KIT-001" in text
    assert parser.ids == ["profile.threads", "connection.read_only"]
    assert "floe-conformance replay certificate.json --check profile.threads" in text
    assert "known <gap>" in text  # escaped in the markup, intact as text
    assert "<gap>" not in page
    assert "ValueError" in text  # the plugin's traceback


def test_junit_has_one_testcase_per_check_with_failures_and_skips() -> None:
    cert = _cert()
    root = ET.fromstring(render_junit(cert))  # noqa: S314 - XML the kit just wrote itself
    assert root.tag == "testsuite"
    assert root.get("tests") == "5"
    assert root.get("failures") == "1"
    assert root.get("skipped") == "2"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {c["id"] for c in cert["checks"]}  # type: ignore[index]
    failure = cases["profile.threads"].find("failure")
    assert failure is not None
    assert failure.get("message") == "profile.threads broke: threads 1 != 4"
    assert "Shrunk failing example (seed 7)" in (failure.text or "")
    skipped = cases["connection.read_only"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "waived until 2099-01-01: known <gap>"
    assert cases["meta.name"].find("failure") is None
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["level_achieved"] == "none"


def test_a_certified_plugin_renders_as_certified() -> None:
    cert = build()
    assert "**CERTIFIED at integration (level achieved: integration)**" in render_markdown(cert)
    assert "## Failures" not in render_markdown(cert)
    junit = ET.fromstring(render_junit(cert))  # noqa: S314 - XML the kit just wrote itself
    assert junit.get("failures") == "0"


def test_a_plugin_imported_from_a_path_says_so_instead_of_a_supplier() -> None:
    cert = build()
    cert["distribution"] = {
        "name": None,
        "version": None,
        "package": "mydb_floe",
        "files": [{"path": "mydb_floe/plugin.py", "sha256": "0" * 64}],
        "files_sha256": "1" * 64,
        "hash_source": "computed",
    }
    md = render_markdown(cert)
    assert "no installed distribution (imported from a path)" in md
    assert "? ?" not in md
