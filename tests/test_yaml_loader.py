"""The bounded YAML reader on its own: both paths agree, both refuse, the docs state its limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import floe_compute_kit._yaml as bounded
from floe_compute_duckdb.config import MAX_TEXT
from floe_compute_kit._problems import MAX_SHOWN
from floe_compute_kit._yaml import YAMLInputError, load_yaml_text

pytestmark = pytest.mark.requirement("FR-010")

DOCS = Path(__file__).parents[1] / "docs" / "governance.md"
SAMPLE = """\
name: orders
flags: {a: true, b: False, c: yes, d: on, e: no}
numbers: [1, -2, 0o17, 0x1f, 017, 1.5, .inf, 1e3]
nothing: [~, null, '']
dates: [2024-01-01, '2024-01-01']
anchors: {base: &base {x: 1}, copy: *base}
text: "caf\\u00e9 \\u2603"
block: |
  two
  lines
"""


@pytest.fixture(params=["fast", "reference"])
def path_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    saved = list(bounded._FAST)
    if request.param == "reference":
        bounded._FAST[:] = [None]
    try:
        yield str(request.param)
    finally:
        bounded._FAST[:] = saved


def test_the_fast_path_is_installed_for_the_test_suite() -> None:
    """dev installs the yaml extra; without it every run takes the reference path."""
    assert bounded._fast_loader() is not None


def test_both_paths_read_the_same_values() -> None:
    fast = load_yaml_text(SAMPLE, "s.yaml")
    bounded._FAST[:] = [None]
    try:
        reference = load_yaml_text(SAMPLE, "s.yaml")
    finally:
        bounded._FAST[:] = [bounded._fast_loader()]
    assert fast == reference
    assert fast["flags"] == {"a": True, "b": False, "c": "yes", "d": "on", "e": "no"}  # type: ignore[index]
    assert fast["dates"] == ["2024-01-01", "2024-01-01"]  # type: ignore[index]


_PAIRS = list(zip("abcdefgh", "bcdefghi", strict=True))
BAD = {
    "duplicate key": ("a: 1\nb: 2\na: 3\n", "line 3: duplicate key 'a'"),
    "nested duplicate": ("a:\n  b: 1\n  b: 2\n", "line 3: duplicate key 'b'"),
    "binary tag": ("a: !!binary aGk=\n", "uses the tag"),
    "custom tag": ("a: !env HOME\n", "uses the tag '!env'"),
    "alias bomb": (
        "a: &a [x,x,x,x,x,x,x,x,x]\n"
        + "".join(
            f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "aliases are limited",
    ),
    "integer key": ("1: x\n", "a key is the integer 1, not text"),
    "big integer": ("a: 99999999999999999999\n", "a: holds an integer beyond 64 bits"),
    "NUL": ("a: b\x00\n", "control character '\\x00'"),
    "syntax": ("a: [1\n", "malformed YAML"),
    "merge key": ("base: &b {x: 1}\nc:\n  <<: *b\n", "merge"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_both_paths_refuse(path_kind: str, case: str) -> None:
    text, message = BAD[case]
    with pytest.raises(YAMLInputError) as info:
        load_yaml_text(text, "bad.yaml")
    assert str(info.value).startswith("bad.yaml: ")
    assert message in str(info.value), path_kind


def test_the_docs_state_the_limits_the_code_enforces() -> None:
    text = " ".join(DOCS.read_text().split())
    assert f"at most {bounded.MAX_BYTES // (1024 * 1024)} MiB (`MAX_BYTES`)" in text
    assert f"at most {bounded.MAX_ALIASES:,} alias uses (`MAX_ALIASES`)" in text
    assert f"at most {bounded.MAX_NODES:,} values once expanded (`MAX_NODES`)" in text
    assert f"at most {bounded.MAX_DEPTH} deep (`MAX_DEPTH`)" in text
    assert f"cut to {MAX_SHOWN} characters" in text
    assert MAX_TEXT == 4096
