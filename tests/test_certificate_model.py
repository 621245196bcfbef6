"""The certificate model: it generates the shipped schema, and reads what the kit wrote."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from _cert_data import build, results
from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance.certificate import (
    SCHEMA_ID,
    Certificate,
    json_schema,
    parse_certificate,
)
from floe_compute_kit.conformance.certificate.__main__ import SCHEMA_FILE, schema_text

pytestmark = pytest.mark.requirement("KIT-010")

COMMITTED = Path(__file__).resolve().parents[1] / "conformance" / "certificate.json"


def test_the_shipped_schema_is_generated_from_the_model() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "certificate.schema.json is stale; run: scripts/regenerate-schema"
    )
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$id"] == SCHEMA_ID
    assert schema["additionalProperties"] is False
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_regenerate_command_reports_a_stale_schema(tmp_path: Path) -> None:
    from floe_compute_kit.conformance.certificate import __main__ as regen

    assert regen.main(["--check"]) == 0
    stale = tmp_path / "certificate.schema.json"
    stale.write_text("{}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(regen, "SCHEMA_FILE", stale)
        assert regen.main(["--check"]) == 1
        assert regen.main([]) == 0
    assert stale.read_text(encoding="utf-8") == schema_text()


def test_the_committed_certificate_reads_as_the_model_and_back_unchanged() -> None:
    data = json.loads(COMMITTED.read_text(encoding="utf-8"))
    cert = parse_certificate(data)
    assert cert.to_json() == data  # same JSON, so the same digest
    assert cert.plugin.class_ == "floe_compute_duckdb.plugin:DuckDBComputePlugin"
    assert cert.run.requested_level is Level.INTEGRATION
    assert cert.check("plugin.loads").outcome is Outcome.PASSED


def test_jsonschema_and_the_model_agree_on_a_built_certificate() -> None:
    cert = build(results=results(profile_threads=Outcome.FAILED))
    validator = jsonschema.Draft202012Validator(json_schema())
    assert list(validator.iter_errors(cert)) == []
    broken = copy.deepcopy(cert)
    broken["checks"][0]["id"] = 5
    assert list(validator.iter_errors(broken))
    with pytest.raises(ValidationError):
        Certificate.model_validate(broken)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("checks", 0, "id"), 5),
        (("run", "seed"), True),
        (("run", "seed"), 1.5),
        (("run", "budget_s"), float("nan")),
        (("certified",), "yes"),
        (("checks", 0, "level"), "gold"),
        (("kit", "catalogue_size"), -1),
        (("schema_version",), "2.0"),
        (("created_at",), "yesterday"),
        (("waivers",), [{"check": "x", "reason": "r", "expires": "2026-13-40", "link": "l"}]),
    ],
)
def test_wrong_types_and_values_are_refused(path: tuple[str | int, ...], value: object) -> None:
    cert = copy.deepcopy(build())
    target = cert
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError):
        parse_certificate(cert)


def test_a_field_the_kit_never_writes_is_refused() -> None:
    cert = build()
    cert["run"]["certified_by"] = "me"
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        parse_certificate(cert)
