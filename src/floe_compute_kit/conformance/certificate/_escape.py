"""One escaping rule per output format, for text that came from a plugin.

Messages, tracebacks, names and waiver reasons are the plugin author's text. In Markdown
they must not open a heading, an image or raw HTML; in HTML they are escaped and links are
only ever http(s); in JUnit XML the characters XML 1.0 forbids are dropped; on a terminal
or in a generated script, control characters and newlines are shown as escapes so that no
value can fake a line of the kit's own output.
"""

from __future__ import annotations

import html
import re
from typing import Final

__all__ = ["html_href", "html_text", "md_code_block", "md_inline", "one_line", "xml_text"]

#: C0 and C1 controls but tab and newline, DEL, and the bidi overrides that reorder text.
_CONTROL: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_XML_ILLEGAL: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# "_" only where it could open or close emphasis: inside a word it is literal. Backticks
# stay: a code span shows its content literally, so it can only hide text, never add markup.
_MD_SPECIAL: Final = re.compile(r"([\\*\[\]<>#!|~&]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def _visible(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def one_line(text: object, limit: int | None = None) -> str:
    """``text`` on one line, every control character shown as an escape (terminal, comments).

    Newlines become ``\\n``: a value must never start a line of its own in the kit's output.
    """
    shown = (
        _visible(str(text))
        .replace("\r", "\\r")
        .replace("\n", "\\n")
        .replace("\t", "\\t")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
        .replace("\x85", "\\x85")
    )
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 3] + "..."
    return shown


def md_inline(text: object) -> str:
    """Markdown text that renders as exactly ``text``: one line, every markup character escaped."""
    flat = " ".join(_visible(str(text)).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def md_code_block(text: str, info: str = "") -> list[str]:
    """A fenced block that ``text`` cannot close: the fence is longer than any backtick run."""
    body = _visible(text).replace("\r\n", "\n").replace("\r", "\n")
    runs = [len(m.group()) for m in re.finditer("`+", body)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return [fence + info, body.rstrip("\n"), fence]


def html_text(text: object) -> str:
    return html.escape(_visible(str(text)), quote=True)


def html_href(url: str) -> str:
    """An ``<a>`` for http(s) URLs; any other scheme (``javascript:``...) is shown as text."""
    if re.match(r"(?i)^https?://[^\s\"'<>]+$", url):
        return f'<a href="{html_text(url)}">{html_text(url)}</a>'
    return html_text(url)


def xml_text(text: object) -> str:
    """``text`` without the characters XML 1.0 cannot hold (ElementTree escapes the rest)."""
    return _XML_ILLEGAL.sub("\ufffd", str(text))
