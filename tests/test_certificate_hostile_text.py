"""Plugin text in a certificate: secrets scrubbed before storing, escaped per output format.

A check's message, traceback, example and details quote the plugin. None of it may leak
a secret into the four outputs, render as a heading, an image or HTML in Markdown, as
markup or a script link in HTML, or make junit.xml invalid XML.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import pytest
from markdown_it import MarkdownIt

from _cert_data import build, results
from floe_compute_kit.conformance._render import render_html, render_junit, render_markdown
from floe_compute_kit.conformance._results import CheckResult, Outcome
from floe_compute_kit.conformance._waivers import Waiver
from floe_compute_kit.conformance.certificate import MASK, Scrubber
from floe_compute_kit.conformance.report import _render_json

pytestmark = pytest.mark.requirement("KIT-010")

SECRET = "hunter2-Sup3r/Secret"


def _leaky_results() -> list[CheckResult]:
    out = results(profile_threads=Outcome.FAILED, connection_read_only=Outcome.FAILED)
    for r in out:
        if r.outcome is Outcome.FAILED:
            r.message = f"the plugin raised: ValueError: cannot log in with {SECRET!r}"
            r.traceback = (
                f'Traceback (most recent call last):\n  File "p.py", line 3\n'
                f'    connect(password="{SECRET}")\nValueError: bad password {SECRET}'
            )
            r.example = {"note": f"tried {SECRET}", "nested": [{"x": SECRET}]}
            r.details = {"seen": SECRET, SECRET: 1}
    return out


def _outputs(cert: dict[str, Any]) -> dict[str, str]:
    return {
        "json": _render_json(cert),
        "md": render_markdown(cert),
        "html": render_html(cert),
        "junit": render_junit(cert),
    }


def test_a_known_secret_in_plugin_text_reaches_no_output() -> None:
    cert = build(results=_leaky_results(), load_error=None, secrets=[SECRET])
    for fmt, text in _outputs(cert).items():
        assert SECRET not in text, fmt
        assert "hunter2" not in text, fmt
        assert MASK in text, fmt
    # The repr/JSON spellings of a secret are masked too.
    tricky = "a\"b\\c'd"
    assert tricky not in Scrubber([tricky]).text(f"x {tricky!r} {json.dumps(tricky)}")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connect failed: password=s3cr3tvalue host=x", "s3cr3tvalue"),
        ("{'client_secret': 'abcdEFGH1234'}", "abcdEFGH1234"),
        ("token: tok_live_9f8e7d6c", "tok_live_9f8e7d6c"),
        ("GET https://user:pa55word@catalog.example/v1 failed", "pa55word"),
        ("header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc", "eyJhbGciOiJIUzI1NiJ9"),
        ("aws key AKIAIOSFODNN7EXAMPLE rejected", "AKIAIOSFODNN7EXAMPLE"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow"),
    ],
)
def test_credential_shaped_text_is_masked_without_being_told(text: str, secret: str) -> None:
    r = results(profile_threads=Outcome.FAILED)
    for item in r:
        if item.outcome is Outcome.FAILED:
            item.message = text
    cert = build(results=r)
    for fmt, rendered in _outputs(cert).items():
        assert secret not in rendered, fmt


def test_short_known_values_are_left_alone() -> None:
    # Masking every "1" would garble the message and protect nothing.
    assert Scrubber(["1"]).text("threads 1 != 4") == "threads 1 != 4"


HOSTILE = (
    "boom\n```\n\n# CERTIFIED\n\n![x](https://evil.example/pixel.png)\n"
    '<img src="https://evil.example/a.png"><script>alert(1)</script>\n'
    "<details><summary>x</summary>\n~~~\n## Level achieved: integration\n"
    "[click](javascript:alert(1))\x1b[31m\x00\x07\x0b\ud7ff\ufffe"
)


def _hostile_cert() -> dict[str, Any]:
    r = results(profile_threads=Outcome.FAILED, connection_read_only=Outcome.FAILED)
    for item in r:
        if item.outcome is Outcome.FAILED:
            item.message = HOSTILE
            item.traceback = HOSTILE
            item.example = {"k": HOSTILE}
    waiver = Waiver("connection.read_only", HOSTILE, dt.date(2099, 1, 1), "javascript:alert(1)")
    plugin = {
        "spec": "demo:Demo",
        "name": HOSTILE,
        "version": "1",
        "floe_api_version": "1.0",
        "class": "demo:`Demo`\n# CERTIFIED",
        "capabilities": [],
    }
    return build(results=r, waivers=[waiver], plugin=plugin)


def _md_tokens(text: str) -> list[Any]:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    flat = []
    for token in tokens:
        flat.append(token)
        flat += token.children or []
    return flat


def test_markdown_renders_only_our_headings_no_images_and_no_html() -> None:
    md = render_markdown(_hostile_cert())
    tokens = _md_tokens(md)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    ours = {
        "By requirement",
        "By method",
        "Checks",
        "Failures",
        "Waivers",
        "Environment",
        "Verify",
        "`profile.threads`: FAIL",
        "`connection.read_only`: WAIVED",
    }
    assert headings[0].startswith("floe compute certificate: boom")  # the name, escaped
    assert set(headings[1:]) <= ours, headings
    kinds = {t.type for t in tokens}
    assert "image" not in kinds
    assert not kinds & {"html_block", "html_inline"}
    links = [t for t in tokens if t.type == "link_open"]
    assert links == []
    assert "\x1b" not in md
    assert "\x00" not in md


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]


def test_html_escapes_plugin_text_and_links_only_to_http() -> None:
    page = render_html(_hostile_cert())
    parser = _Tags()
    parser.feed(page)
    assert "img" not in parser.tags
    assert "script" not in parser.tags
    assert all(h.startswith(("#", "http://", "https://")) for h in parser.hrefs), parser.hrefs
    assert "&lt;script&gt;" in page
    assert parser.tags.count("details") == 2  # ours, one per failure, not the plugin's


def test_junit_is_valid_xml_whatever_the_plugin_printed() -> None:
    junit = render_junit(_hostile_cert())
    root = ET.fromstring(junit)  # noqa: S314 - XML the kit just wrote itself
    failure = next(root.iter("failure"))
    assert "boom" in (failure.text or "")
    assert "CERTIFIED" in (failure.text or "")  # shown as text, harmlessly
    assert "\x1b" not in junit
    assert "\x00" not in junit


def test_a_value_seen_as_a_credential_once_is_masked_everywhere() -> None:
    r = results(profile_threads=Outcome.FAILED)
    for item in r:
        if item.outcome is Outcome.FAILED:
            item.message = "login failed for password=Tr0ub4dor"
            item.traceback = "Traceback ...\nValueError: Tr0ub4dor"  # bare: no key beside it
            item.details = {"raw": "Tr0ub4dor"}
    cert = build(results=r)
    for fmt, rendered in _outputs(cert).items():
        assert "Tr0ub4dor" not in rendered, fmt


def test_ordinary_text_near_secret_words_is_left_alone() -> None:
    scrub = Scrubber()
    for text in ["passed: reading x", "max_tokens=4096", "the password field is required"]:
        assert scrub.text(text) == text
