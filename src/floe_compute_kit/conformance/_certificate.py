"""The certificate: a JSON document a platform team can check without trusting the author.

Built from a :class:`SuiteResult` plus provenance as a typed
:class:`~floe_compute_kit.conformance.certificate.Certificate` (whose model generates the
shipped schema), scrubbed of secrets, and sealed with a sha256 over its canonical JSON
(sorted keys, no whitespace, UTF-8) with the ``digest`` field left out.

The digest proves only that nobody edited the file without resealing it. What a forger
cannot reseal away is checked by :func:`consistency_errors` (the verdict follows from the
recorded results) and :func:`catalogue_errors` (the recorded results are the catalogue's
checks, each once, at its real level).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any, Final

from pydantic import ValidationError

from floe_compute_kit.conformance import _waivers
from floe_compute_kit.conformance._check import RegisteredCheck
from floe_compute_kit.conformance._results import CheckResult, CheckSpec, Level, Outcome
from floe_compute_kit.conformance._waivers import Waiver
from floe_compute_kit.conformance.certificate import (
    CERTIFICATE_KIND,
    SCHEMA_VERSION,
    Certificate,
    CheckRecord,
    Scrubber,
    parse_certificate,
    validation_lines,
)
from floe_compute_kit.conformance.certificate._model import (
    Counts,
    Distribution,
    Environment,
    KitInfo,
    PluginInfo,
    RequirementStatus,
    RunInfo,
    Summary,
    WaiverRecord,
)

__all__ = [
    "CERTIFICATE_KIND",
    "SCHEMA_VERSION",
    "VOLATILE_FIELDS",
    "apply_waivers",
    "build_certificate",
    "catalogue_errors",
    "catalogue_version",
    "certificate_digest",
    "consistency_errors",
    "level_achieved",
    "load_schema",
    "normalized",
    "schema_errors",
    "underlying_outcome",
]

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


def underlying_outcome(check: Mapping[str, Any] | CheckRecord) -> str:
    """What the check itself returned, before any waiver."""
    if isinstance(check, CheckRecord):
        return check.underlying_outcome.value
    waiver = check.get("waiver")
    if check.get("outcome") == Outcome.WAIVED and isinstance(waiver, Mapping):
        return str(waiver["underlying_outcome"])
    return str(check.get("outcome"))


def _verdict(checks: Sequence[CheckRecord], requested: Level, *, failed_run: bool) -> Level | None:
    if failed_run:
        return None
    outcomes = {c.id: c.outcome for c in checks}
    levels = {c.id: c.level for c in checks}
    return level_achieved(outcomes, levels, requested)


def _as_model(cert: Mapping[str, Any] | Certificate) -> Certificate:
    return cert if isinstance(cert, Certificate) else parse_certificate(dict(cert))


def consistency_errors(cert: Mapping[str, Any] | Certificate) -> list[str]:
    """Where a (schema-valid) certificate's verdict or summary disagrees with its own checks.

    The digest proves a certificate was not edited after sealing; this proves the seal
    was put on a verdict the recorded results support.
    """
    model = _as_model(cert)
    requested = model.run.requested_level
    achieved = _verdict(
        model.checks, requested, failed_run=bool(model.run.load_error or model.waiver_problems)
    )
    problems: list[str] = []
    recorded = model.level_achieved.value if model.level_achieved else None
    if recorded != (achieved.value if achieved else None):
        problems.append(
            f"level_achieved: recorded {recorded} but the recorded checks support "
            f"{achieved.value if achieved else None}"
        )
    certified = achieved is not None and achieved.includes(requested)
    if model.certified != certified:
        problems.append(f"certified: recorded {model.certified} but the checks say {certified}")
    if model.summary != _summary(model.checks):
        problems.append("summary: the counts do not match the recorded checks")
    for c in model.checks:
        if (c.outcome is Outcome.WAIVED) != (c.waiver is not None):
            problems.append(
                f"checks/{c.id}: outcome {c.outcome.value} with waiver "
                f"{'present' if c.waiver else 'absent'}"
            )
    return problems


def catalogue_errors(
    cert: Mapping[str, Any] | Certificate, catalogue: Sequence[RegisteredCheck]
) -> list[str]:
    """Where the recorded checks are not the catalogue's: what a resealed forgery breaks.

    The certificate must name this catalogue (an unknown catalogue version cannot be
    judged), and hold every check of its requested level exactly once, as the catalogue
    states it (level, wording, method, requirements, capability). An "unsupported"
    outcome is only possible for a check that needs a capability the plugin does not claim,
    and such a check can only be "unsupported".
    """
    model = _as_model(cert)
    own = catalogue_version(catalogue)
    if model.kit.catalogue_version != own or model.kit.catalogue_size != len(catalogue):
        return [
            f"kit.catalogue_version: {model.kit.catalogue_version} "
            f"({model.kit.catalogue_size} checks) is not this kit's catalogue ({own}, "
            f"{len(catalogue)} checks); verify it with the kit version that issued it "
            f"(floe-compute-kit {model.kit.version})"
        ]
    specs = {reg.spec.id: reg.spec for reg in catalogue}
    problems: list[str] = []
    seen: dict[str, int] = {}
    claimed = set(model.plugin.capabilities)
    for record in model.checks:
        seen[record.id] = seen.get(record.id, 0) + 1
        spec = specs.get(record.id)
        if spec is None:
            problems.append(f"checks/{record.id}: no such check in the catalogue")
            continue
        stated = spec_json(spec)
        for field in ("level", "method", "wording", "requirements", "capability"):
            value = getattr(record, field)
            value = value.value if isinstance(value, Level) else value
            if value != stated[field]:
                problems.append(
                    f"checks/{record.id}/{field}: recorded {value!r}, but the catalogue "
                    f"says {stated[field]!r}"
                )
        needs = spec.capability
        if (
            record.underlying_outcome is Outcome.UNSUPPORTED
            and needs is None
            and spec.not_applicable_when is None
        ):
            problems.append(f"checks/{record.id}: recorded unsupported, but it needs no capability")
        if needs is not None and needs not in claimed and record.outcome is not Outcome.UNSUPPORTED:
            problems.append(
                f"checks/{record.id}: recorded {record.outcome.value}, but the plugin does not "
                f"claim {needs!r}, so it can only be unsupported"
            )
    problems += _waiver_errors(model, specs)
    problems += [
        f"checks/{cid}: recorded {count} times; each check appears once"
        for cid, count in seen.items()
        if count > 1
    ]
    if model.run.load_error is None:
        requested = model.run.requested_level
        missing = [
            reg.spec.id
            for reg in catalogue
            if requested.includes(reg.spec.level) and reg.spec.id not in seen
        ]
        if missing:
            problems.append(
                f"checks: {len(missing)} check(s) of the {requested.value} level are missing "
                f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); a "
                "certificate holds every check of its level"
            )
        extra = [
            record.id
            for record in model.checks
            if record.id in specs and not requested.includes(specs[record.id].level)
        ]
        if extra:
            problems.append(
                f"checks: {', '.join(extra[:5])} are above the requested level {requested.value}"
            )
    return problems


def _waiver_errors(model: Certificate, specs: Mapping[str, CheckSpec]) -> list[str]:
    """Waivers the record cannot have: applied where nothing was waived, or problems
    (unknown check, expired before the run) that the record leaves out."""
    given = {(w.check, w.reason, w.expires, w.link): w.applied for w in model.waivers}
    problems = [
        f"checks/{c.id}: waived by a waiver the certificate does not list as applied"
        for c in model.checks
        if c.waiver is not None
        and not given.get((c.waiver.check, c.waiver.reason, c.waiver.expires, c.waiver.link))
    ]
    waived = {c.id for c in model.checks if c.waiver is not None}
    problems += [
        f"waivers/{w.check}: recorded as applied, but no check is waived by it"
        for w in model.waivers
        if w.applied and w.check not in waived
    ]
    run_day = dt.datetime.fromisoformat(model.created_at).date()
    waivers = [
        Waiver(w.check, w.reason, dt.date.fromisoformat(w.expires), w.link) for w in model.waivers
    ]
    if _waivers.waiver_problems(waivers, specs, run_day) and not model.waiver_problems:
        problems.append(
            "waiver_problems: recorded none, but a waiver names an unknown check or had "
            f"expired by the run's date ({run_day.isoformat()})"
        )
    return problems


def _summary(checks: Sequence[CheckRecord]) -> Summary:
    counts = {o.value: 0 for o in Outcome}
    by_method: dict[str, dict[str, int]] = {}
    by_requirement: dict[str, tuple[list[str], str]] = {}
    for c in checks:
        outcome = c.outcome.value
        counts[outcome] += 1
        row = by_method.setdefault(c.method, {o.value: 0 for o in Outcome})
        row[outcome] += 1
        for req in c.requirements:
            ids, status = by_requirement.get(req, ([], outcome))
            by_requirement[req] = ([*ids, c.id], _worse(status, outcome))
    return Summary(
        total=len(checks),
        counts=Counts(**counts),
        by_method={m: Counts(**row) for m, row in sorted(by_method.items())},
        by_requirement={
            req: RequirementStatus(checks=ids, status=Outcome(status))
            for req, (ids, status) in sorted(by_requirement.items())
        },
    )


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


def _texts(results: Sequence[CheckResult], load_error: str | None) -> list[str]:
    """Every text a plugin could have written into the results, to learn secrets from."""
    texts = [load_error or ""]
    for r in results:
        texts += [r.message, r.traceback or ""]
        texts += _strings(_json_safe(r.example)) + _strings(_json_safe(r.details))
    return texts


def _strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in [k, *_strings(v)]]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return []


def _record(
    spec: CheckSpec, result: CheckResult, waiver: dict[str, Any] | None, scrub: Scrubber
) -> CheckRecord:
    return CheckRecord.model_validate(
        {
            **spec_json(spec),
            "outcome": result.outcome.value,
            "duration_s": round(float(result.duration_s), 4),
            "message": scrub.text(result.message),
            "traceback": None if result.traceback is None else scrub.text(result.traceback),
            "example": scrub.data(_json_safe(result.example)),
            "seed": result.seed,
            "details": scrub.data(_json_safe(result.details)),
            "waiver": _json_safe(waiver),
        }
    )


#: capabilities every plugin is checked for at the integration level, claimed or not
ALWAYS_CHECKED: Final = frozenset({"dbt_build", "query_timeout"})


def _unclaimed(plugin: Mapping[str, Any], checks: Sequence[CheckRecord]) -> list[dict[str, Any]]:
    """Each optional capability the plugin does not claim, with the checks of this run that
    were not applicable (wholly or in part) because of it."""
    from floe_compute_kit.compute import Capability  # noqa: PLC0415 - the contract, lazily
    from floe_compute_kit.conformance._check import PARTLY_NEEDS  # noqa: PLC0415

    claimed = {str(c) for c in plugin.get("capabilities") or ()}
    ran = [c.id for c in checks]
    return [
        {
            "capability": cap.value,
            "checks": [
                cid
                for cid in ran
                if cid in PARTLY_NEEDS.get(cap.value, set())
                or next((c.capability for c in checks if c.id == cid), None) == cap.value
            ],
        }
        for cap in Capability
        if cap.value not in claimed
        and cap.value not in ALWAYS_CHECKED
        # implied by the base class, never claimed: the upstream.* checks say so themselves
        and cap is not Capability.FLOE_CORE_INTERFACE
    ]


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
    secrets: Iterable[str] = (),
) -> dict[str, Any]:
    """The sealed certificate for one run (results already in catalogue order), as JSON.

    Every text a plugin could have written (messages, tracebacks, examples, details, the
    load error) is scrubbed of ``secrets`` (values the runner knows are secret) and of
    credential-shaped text before anything is stored. Raises ValidationError (a kit bug)
    when the parts do not make a valid :class:`Certificate`.
    """
    scrub = Scrubber.learning_from(_texts(results, load_error), secrets)
    waived_results, applied = apply_waivers(results, waivers)
    specs = {c.spec.id: c.spec for c in catalogue}
    checks = [
        _record(
            specs.get(r.check_id)
            or CheckSpec(r.check_id, "plugin", (), "The plugin MUST load.", Level.CORE, None),
            r,
            applied.get(r.check_id),
            scrub,
        )
        for r in waived_results
    ]
    achieved = _verdict(checks, requested, failed_run=bool(load_error or waiver_problems))
    unsealed = Certificate(
        kind=CERTIFICATE_KIND,
        schema_version=SCHEMA_VERSION,
        created_at=(created_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        kit=KitInfo(
            name="floe-compute-kit",
            version=kit_version,
            catalogue_version=catalogue_version(catalogue),
            catalogue_size=len(catalogue),
        ),
        plugin=PluginInfo.model_validate(
            _json_safe({**plugin, "unclaimed_capabilities": _unclaimed(plugin, checks)})
        ),
        distribution=None
        if distribution is None
        else Distribution.model_validate(_json_safe(dict(distribution))),
        environment=Environment.model_validate(_json_safe(dict(environment))),
        run=RunInfo.model_validate(
            _json_safe(
                {
                    **run,
                    "requested_level": requested.value,
                    "load_error": None if load_error is None else scrub.text(load_error),
                }
            )
        ),
        waivers=[
            WaiverRecord.model_validate({**w.to_json(), "applied": w.check in applied})
            for w in waivers
        ],
        waiver_problems=[scrub.text(p) for p in waiver_problems],
        checks=checks,
        summary=_summary(checks),
        level_achieved=achieved,
        certified=achieved is not None and achieved.includes(requested),
        digest="sha256:" + "0" * 64,
    )
    body = unsealed.to_json()
    body["digest"] = certificate_digest(body)
    return body


def load_schema() -> dict[str, Any]:
    """The JSON Schema shipped beside this module (generated from the model)."""
    text = (
        resources.files("floe_compute_kit.conformance")
        .joinpath("certificate.schema.json")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_errors(cert: object) -> list[str]:
    """Every way ``cert`` breaks the certificate model (and so the shipped schema), as
    ``path: message`` lines."""
    if not isinstance(cert, Mapping):
        return [f"(root): a certificate is a JSON object, not {type(cert).__name__}"]
    try:
        parse_certificate(dict(cert))
    except ValidationError as exc:
        return validation_lines(exc)
    return []


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
