"""Waivers: a failing check acknowledged on the record, with a reason, a link and an end date.

A waiver never raises a level: the waived check is shown as "waived" and caps the
level achieved below its own level. An expired waiver, or one naming a check the
catalogue does not have, fails the run: a waiver that no longer means anything must
not sit silently in a certificate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe_compute_kit._yaml import YAMLInputError, load_yaml_file
from floe_compute_kit.errors import WaiverError

__all__ = ["WAIVER_FIELDS", "Waiver", "load_waivers", "parse_waivers", "waiver_problems"]

#: field -> what it must hold; every waiver has all of them.
WAIVER_FIELDS: dict[str, str] = {
    "check": "the id of the waived check, as `floe-conformance list` prints it",
    "reason": "why the failure is accepted, in a sentence",
    "expires": "the last day the waiver holds, as YYYY-MM-DD",
    "link": "where the fix is tracked (an issue URL)",
}


@dataclass(frozen=True)
class Waiver:
    check: str
    reason: str
    expires: dt.date
    link: str

    def to_json(self) -> dict[str, str]:
        return {
            "check": self.check,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
            "link": self.link,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Waiver:
        return cls(
            check=str(data["check"]),
            reason=str(data["reason"]),
            expires=dt.date.fromisoformat(str(data["expires"])),
            link=str(data["link"]),
        )


def _text(raw: dict[str, Any], key: str, index: int, file: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise WaiverError(
            f"{file}: waivers[{index}].{key}: {value!r} is not allowed; "
            f"it must be {WAIVER_FIELDS[key]}",
            file=file,
            field=f"waivers[{index}].{key}",
            value=value,
            allowed=WAIVER_FIELDS[key],
        )
    return value.strip()


def _date(raw: dict[str, Any], index: int, file: str) -> dt.date:
    value = raw.get("expires")
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise WaiverError(
        f"{file}: waivers[{index}].expires: {value!r} is not allowed; "
        f"it must be {WAIVER_FIELDS['expires']}",
        file=file,
        field=f"waivers[{index}].expires",
        value=value,
        allowed=WAIVER_FIELDS["expires"],
    )


def parse_waivers(data: object, file: str) -> list[Waiver]:
    """Waivers from parsed YAML: ``{waivers: [...]}`` or a bare list."""
    if isinstance(data, dict) and set(data) <= {"waivers"}:
        data = data.get("waivers") or []
    if not isinstance(data, list):
        raise WaiverError(
            f"{file}: expected a list of waivers under 'waivers:', got {type(data).__name__}",
            file=file,
            field="waivers",
            value=data,
            allowed="a list of mappings with " + ", ".join(WAIVER_FIELDS),
        )
    waivers: list[Waiver] = []
    for index, raw in enumerate(data):
        if not isinstance(raw, dict):
            raise WaiverError(
                f"{file}: waivers[{index}]: {raw!r} is not a mapping",
                file=file,
                field=f"waivers[{index}]",
                value=raw,
                allowed="a mapping with " + ", ".join(WAIVER_FIELDS),
            )
        unknown = sorted(set(raw) - set(WAIVER_FIELDS))
        if unknown:
            raise WaiverError(
                f"{file}: waivers[{index}].{unknown[0]}: unknown field(s) "
                f"{', '.join(map(str, unknown))}; allowed: {', '.join(WAIVER_FIELDS)}",
                file=file,
                field=f"waivers[{index}].{unknown[0]}",
                value=raw[unknown[0]],
                allowed=list(WAIVER_FIELDS),
            )
        waivers.append(
            Waiver(
                check=_text(raw, "check", index, file),
                reason=_text(raw, "reason", index, file),
                expires=_date(raw, index, file),
                link=_text(raw, "link", index, file),
            )
        )
    seen: set[str] = set()
    for index, waiver in enumerate(waivers):
        if waiver.check in seen:
            raise WaiverError(
                f"{file}: waivers[{index}].check: {waiver.check!r} is waived twice",
                file=file,
                field=f"waivers[{index}].check",
                value=waiver.check,
            )
        seen.add(waiver.check)
    return waivers


def load_waivers(path: Path) -> list[Waiver]:
    """Read a waivers YAML file; WaiverError names the file, field and value when it is bad."""
    file = str(path)
    try:  # the one bounded YAML reader (size, encoding, duplicate keys, aliases, tags)
        data = load_yaml_file(path, file)
    except YAMLInputError as exc:
        what = "cannot read waivers file" if exc.key_path == "<file>" else "not valid YAML:"
        raise WaiverError(f"{what} {exc}", file=file) from None
    return parse_waivers(data if data is not None else [], file)


def waiver_problems(
    waivers: Sequence[Waiver], known_checks: Iterable[str], today: dt.date
) -> list[str]:
    """Why these waivers fail the run: expired ones and ones naming no known check."""
    known = set(known_checks)
    problems: list[str] = []
    for waiver in waivers:
        if waiver.check not in known:
            problems.append(
                f"waiver for unknown check {waiver.check!r}: no such check in the catalogue "
                f"(see `floe-conformance list`)"
            )
        if waiver.expires < today:
            problems.append(
                f"waiver for {waiver.check!r} expired on {waiver.expires.isoformat()} "
                f"(today is {today.isoformat()}); fix the check or renew the waiver ({waiver.link})"
            )
    return problems
