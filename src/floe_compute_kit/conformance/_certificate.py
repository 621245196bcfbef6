"""The certificate: a JSON document a platform team can check without trusting the author.

Built from a :class:`SuiteResult` plus provenance, validated against the schema
shipped beside this module, and sealed with a sha256 over its canonical JSON
(sorted keys, no whitespace, UTF-8) with the ``digest`` field left out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any, Final

from floe_compute_kit.conformance._check import RegisteredCheck
from floe_compute_kit.conformance._results import CheckResult, CheckSpec, Level, Outcome
from floe_compute_kit.conformance._waivers import Waiver

__all__ = [
    "CERTIFICATE_KIND",
    "SCHEMA_VERSION",
    "VOLATILE_FIELDS",
    "apply_waivers",
    "build_certificate",
    "catalogue_version",
    "certificate_digest",
    "consistency_errors",
    "level_achieved",
    "load_schema",
    "normalized",
    "schema_errors",
    "underlying_outcome",
]

SCHEMA_VERSION: Final = "1.0"
CERTIFICATE_KIND: Final = "floe-compute-certificate"

#: Outcomes that do not block a level: the plugin honours the clause, or does not claim it.
_CLEAR = {Outcome.PASSED, Outcome.UNSUPPORTED}

#: Paths (dotted; "*" for every list item) that change from run to run with the same code.
VOLATILE_FIELDS: Final = (
    "digest",
    "created_at",
    "environment",
    "run.duration_s",
    "checks.*.duration_s",
)


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def certificate_digest(cert: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``cert`` without its ``digest`` field."""
    body = {k: v for k, v in cert.items() if k != "digest"}
    return "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()


def spec_json(spec: CheckSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "method": spec.method,
        "requirements": list(spec.requirements),
        "wording": spec.wording,
        "level": spec.level.value,
        "capability": spec.capability,
    }


def catalogue_version(checks: Iterable[RegisteredCheck]) -> str:
    """A hash of every check's id, wording, level, method, requirements and capability.

    Two certificates with the same catalogue version were judged by the same clauses.
    """
    specs = sorted((spec_json(c.spec) for c in checks), key=lambda s: s["id"])
    return "sha256:" + hashlib.sha256(canonical_json(specs)).hexdigest()


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def apply_waivers(
    results: Sequence[CheckResult], waivers: Sequence[Waiver]
) -> tuple[list[CheckResult], dict[str, dict[str, Any]]]:
    """Results with failed/errored waived checks turned into WAIVED, and the waivers used.

    A waiver for a check that passed (or did not run) is reported as unused, not applied.
    """
    by_check = {w.check: w for w in waivers}
    out: list[CheckResult] = []
    applied: dict[str, dict[str, Any]] = {}
    for result in results:
        waiver = by_check.get(result.check_id)
        if waiver is not None and result.outcome in {Outcome.FAILED, Outcome.ERROR}:
            applied[result.check_id] = {**waiver.to_json(), "underlying_outcome": result.outcome}
            out.append(CheckResult(**{**vars(result), "outcome": Outcome.WAIVED}))
        else:
            out.append(result)
    return out, applied


def level_achieved(
    outcomes: Mapping[str, Outcome], levels: Mapping[str, Level], requested: Level
) -> Level | None:
    """The highest level up to ``requested`` whose checks (and those below) all cleared.

    Passed and unsupported clear a check; failed, error and waived do not, so a waived
    check caps the level below its own.
    """
    achieved: Level | None = None
    for level in Level:
        if not requested.includes(level):
            break
        at_level = [cid for cid, lvl in levels.items() if lvl == level and cid in outcomes]
        if any(outcomes[cid] not in _CLEAR for cid in at_level):
            break
        achieved = level
    return achieved


def underlying_outcome(check: Mapping[str, Any]) -> str:
    """What the check itself returned, before any waiver."""
    waiver = check.get("waiver")
    if check.get("outcome") == Outcome.WAIVED and isinstance(waiver, Mapping):
        return str(waiver["underlying_outcome"])
    return str(check.get("outcome"))


def _verdict(
    checks: Sequence[Mapping[str, Any]], requested: Level, *, failed_run: bool
) -> Level | None:
    if failed_run:
        return None
    outcomes = {c["id"]: Outcome(c["outcome"]) for c in checks}
    levels = {c["id"]: Level(c["level"]) for c in checks}
    return level_achieved(outcomes, levels, requested)


def consistency_errors(cert: Mapping[str, Any]) -> list[str]:
    """Where a (schema-valid) certificate's verdict or summary disagrees with its own checks.

    The digest proves a certificate was not edited after sealing; this proves the seal
    was put on a verdict the recorded results support.
    """
    checks = cert["checks"]
    run = cert["run"]
    achieved = _verdict(
        checks,
        Level(run["requested_level"]),
        failed_run=bool(run.get("load_error") or cert["waiver_problems"]),
    )
    problems: list[str] = []
    recorded = cert["level_achieved"]
    if recorded != (achieved.value if achieved else None):
        problems.append(
            f"level_achieved: recorded {recorded} but the recorded checks support "
            f"{achieved.value if achieved else None}"
        )
    certified = achieved is not None and achieved.includes(Level(run["requested_level"]))
    if cert["certified"] != certified:
        problems.append(f"certified: recorded {cert['certified']} but the checks say {certified}")
    if cert["summary"] != _summary(checks):
        problems.append("summary: the counts do not match the recorded checks")
    for c in checks:
        if (c["outcome"] == Outcome.WAIVED.value) != (c["waiver"] is not None):
            problems.append(f"checks/{c['id']}: outcome {c['outcome']} with waiver {c['waiver']}")
    return problems


def _summary(checks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    counts = {o.value: 0 for o in Outcome}
    by_method: dict[str, dict[str, int]] = {}
    by_requirement: dict[str, dict[str, Any]] = {}
    for c in checks:
        outcome = c["outcome"]
        counts[outcome] += 1
        row = by_method.setdefault(c["method"], {o.value: 0 for o in Outcome})
        row[outcome] += 1
        for req in c["requirements"]:
            entry = by_requirement.setdefault(req, {"checks": [], "status": outcome})
            entry["checks"].append(c["id"])
            entry["status"] = _worse(entry["status"], outcome)
    return {
        "total": len(checks),
        "counts": counts,
        "by_method": dict(sorted(by_method.items())),
        "by_requirement": dict(sorted(by_requirement.items())),
    }


_SEVERITY = {
    Outcome.PASSED.value: 0,
    Outcome.UNSUPPORTED.value: 1,
    Outcome.WAIVED.value: 2,
    Outcome.ERROR.value: 3,
    Outcome.FAILED.value: 4,
}


def _worse(a: str, b: str) -> str:
    # A requirement is as good as its worst check; "unsupported" only if all are.
    if a == Outcome.PASSED.value and b == Outcome.UNSUPPORTED.value:
        return a
    if b == Outcome.PASSED.value and a == Outcome.UNSUPPORTED.value:
        return b
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def build_certificate(
    *,
    kit_version: str,
    catalogue: Sequence[RegisteredCheck],
    plugin: Mapping[str, Any],
    distribution: Mapping[str, Any] | None,
    environment: Mapping[str, Any],
    run: Mapping[str, Any],
    results: Sequence[CheckResult],
    waivers: Sequence[Waiver],
    waiver_problems: Sequence[str],
    requested: Level,
    load_error: str | None = None,
    created_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The sealed certificate for one run (results already in catalogue order)."""
    waived_results, applied = apply_waivers(results, waivers)
    specs = {c.spec.id: c.spec for c in catalogue}
    checks: list[dict[str, Any]] = []
    for r in waived_results:
        spec = specs.get(r.check_id) or CheckSpec(
            r.check_id, "plugin", (), "The plugin MUST load.", Level.CORE, None
        )
        checks.append(
            {
                **spec_json(spec),
                "outcome": r.outcome.value,
                "duration_s": round(float(r.duration_s), 4),
                "message": r.message,
                "traceback": r.traceback,
                "example": _json_safe(r.example),
                "seed": r.seed,
                "details": _json_safe(r.details),
                "waiver": applied.get(r.check_id),
            }
        )
    achieved = _verdict(checks, requested, failed_run=bool(load_error or waiver_problems))
    cert: dict[str, Any] = {
        "kind": CERTIFICATE_KIND,
        "schema_version": SCHEMA_VERSION,
        "created_at": (created_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        "kit": {
            "name": "floe-compute-kit",
            "version": kit_version,
            "catalogue_version": catalogue_version(catalogue),
            "catalogue_size": len(catalogue),
        },
        "plugin": dict(plugin),
        "distribution": None if distribution is None else dict(distribution),
        "environment": dict(environment),
        "run": {**run, "requested_level": requested.value, "load_error": load_error},
        "waivers": [{**w.to_json(), "applied": w.check in applied} for w in waivers],
        "waiver_problems": list(waiver_problems),
        "checks": checks,
        "summary": _summary(checks),
        "level_achieved": achieved.value if achieved else None,
        "certified": achieved is not None and achieved.includes(requested),
    }
    cert = _json_safe(cert)
    cert["digest"] = certificate_digest(cert)
    return cert


def load_schema() -> dict[str, Any]:
    text = (
        resources.files("floe_compute_kit.conformance")
        .joinpath("certificate.schema.json")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_errors(cert: object) -> list[str]:
    """Every way ``cert`` breaks the shipped schema, as ``path: message`` lines."""
    import jsonschema  # noqa: PLC0415 - costs ~0.1 s; only certify and verify need it

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(cert), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def _drop(data: Any, path: Sequence[str]) -> None:
    if not path:
        return
    head, *rest = path
    if head == "*" and isinstance(data, list):
        for item in data:
            _drop(item, rest)
    elif isinstance(data, dict) and head in data:
        if rest:
            _drop(data[head], rest)
        else:
            del data[head]


def normalized(cert: Mapping[str, Any]) -> dict[str, Any]:
    """``cert`` without the fields that change between runs of the same code."""
    data: dict[str, Any] = json.loads(json.dumps(cert))
    for field in VOLATILE_FIELDS:
        _drop(data, field.split("."))
    return data
