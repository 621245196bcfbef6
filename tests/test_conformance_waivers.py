"""Waivers files: every field required, bad values named, expired and unknown waivers caught."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from floe_compute_kit.conformance._waivers import (
    Waiver,
    load_waivers,
    parse_waivers,
    waiver_problems,
)
from floe_compute_kit.errors import WaiverError

pytestmark = pytest.mark.requirement("KIT-013")

GOOD = """\
waivers:
  - check: profile.timeout
    reason: the engine has no statement timeout yet
    expires: 2099-12-31
    link: https://example.org/issues/1
"""


def test_loads_a_waivers_file(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yml"
    path.write_text(GOOD)
    [waiver] = load_waivers(path)
    assert waiver == Waiver(
        check="profile.timeout",
        reason="the engine has no statement timeout yet",
        expires=dt.date(2099, 12, 31),
        link="https://example.org/issues/1",
    )
    assert Waiver.from_json(waiver.to_json()) == waiver


def test_a_bare_list_is_accepted() -> None:
    data = [{"check": "a.b", "reason": "r", "expires": "2030-01-01", "link": "l"}]
    assert [w.check for w in parse_waivers(data, "w.yml")] == ["a.b"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"reason": "r", "expires": "2030-01-01", "link": "l"}, "waivers[0].check"),
        ({"check": "a", "reason": " ", "expires": "2030-01-01", "link": "l"}, "waivers[0].reason"),
        ({"check": "a", "reason": "r", "expires": "soon", "link": "l"}, "waivers[0].expires"),
        ({"check": "a", "reason": "r", "expires": "2030-01-01"}, "waivers[0].link"),
        (
            {"check": "a", "reason": "r", "expires": "2030-01-01", "link": "l", "owner": "me"},
            "waivers[0].owner",
        ),
    ],
)
def test_a_bad_field_is_named_with_its_value(raw: dict[str, object], field: str) -> None:
    with pytest.raises(WaiverError) as info:
        parse_waivers({"waivers": [raw]}, "waivers.yml")
    assert info.value.field == field
    assert info.value.file == "waivers.yml"
    assert field in info.value.message
    assert isinstance(info.value, ValueError)


def test_the_same_check_waived_twice_is_rejected() -> None:
    raw = {"check": "a", "reason": "r", "expires": "2030-01-01", "link": "l"}
    with pytest.raises(WaiverError, match="waived twice"):
        parse_waivers([raw, raw], "w.yml")


def test_unreadable_and_invalid_yaml_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(WaiverError, match="cannot read waivers file"):
        load_waivers(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("waivers: [\n")
    with pytest.raises(WaiverError, match="not valid YAML"):
        load_waivers(bad)
    scalar = tmp_path / "scalar.yml"
    scalar.write_text("42\n")
    with pytest.raises(WaiverError, match="expected a list of waivers"):
        load_waivers(scalar)


def test_expired_and_unknown_waivers_are_problems() -> None:
    today = dt.date(2026, 6, 1)
    waivers = [
        Waiver("known.check", "r", dt.date(2026, 5, 31), "https://x/1"),
        Waiver("no.such.check", "r", dt.date(2027, 1, 1), "https://x/2"),
        Waiver("other.check", "r", today, "https://x/3"),
    ]
    problems = waiver_problems(waivers, ["known.check", "other.check"], today)
    assert len(problems) == 2
    assert "expired on 2026-05-31" in problems[0]
    assert "unknown check 'no.such.check'" in problems[1]


def test_a_waivers_file_with_a_duplicate_key_or_a_device_is_refused(tmp_path: Path) -> None:
    """The one bounded YAML reader: the last duplicate no longer wins silently."""
    dup = tmp_path / "dup.yml"
    dup.write_text("waivers:\n  - check: a\n    check: b\n")
    with pytest.raises(WaiverError, match="line 3: duplicate key 'check'"):
        load_waivers(dup)
    with pytest.raises(WaiverError, match="is a device, not a regular file"):
        load_waivers(Path("/dev/zero"))
