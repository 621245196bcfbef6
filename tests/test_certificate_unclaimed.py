"""The certificate names the optional capabilities not claimed and what they made moot."""

from __future__ import annotations

import pytest

from _cert_data import build_real, real_results
from floe_compute_kit.conformance._certificate import consistency_errors
from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance.certificate import Certificate
from floe_compute_kit.conformance.checks import load_catalogue
from floe_compute_kit.conformance.checks.timeout import TIMEOUT_ID

pytestmark = pytest.mark.requirement("KIT-201", "KIT-010")


def _plugin(capabilities: list[str]) -> dict[str, object]:
    return {
        "spec": "demo_plugin:Demo",
        "name": "demo",
        "version": "1.2.3",
        "floe_api_version": "1.0",
        "class": "demo_plugin:Demo",
        "capabilities": capabilities,
    }


def test_unclaimed_optional_capabilities_name_their_checks() -> None:
    catalog_ids = [r.spec.id for r in load_catalogue() if r.spec.capability == "catalog_attachment"]
    results = real_results(Level.INTEGRATION, **dict.fromkeys(catalog_ids, Outcome.UNSUPPORTED))
    cert = build_real(plugin=_plugin([]), results=results)
    unclaimed = {u["capability"]: u["checks"] for u in cert["plugin"]["unclaimed_capabilities"]}
    # dbt_build and query_timeout are checked for every plugin: never "unclaimed"
    assert set(unclaimed) == {"catalog_attachment", "per_model_timeout"}
    assert unclaimed["catalog_attachment"] == catalog_ids
    assert unclaimed["per_model_timeout"] == [TIMEOUT_ID]
    assert consistency_errors(cert) == []


def test_a_plugin_claiming_everything_has_nothing_unclaimed() -> None:
    claims = ["catalog_attachment", "dbt_build", "per_model_timeout", "query_timeout"]
    cert = build_real(plugin=_plugin(claims))
    assert cert["plugin"]["unclaimed_capabilities"] == []


def test_a_certificate_without_the_field_still_reads_and_dumps_unchanged() -> None:
    cert = build_real()
    cert["plugin"].pop("unclaimed_capabilities")
    model = Certificate.model_validate(cert)
    assert model.plugin.unclaimed_capabilities is None
    assert "unclaimed_capabilities" not in model.to_json()["plugin"]


@pytest.mark.requirement("KIT-013")
def test_an_engine_that_cannot_cancel_waives_the_timeout_check_and_is_capped() -> None:
    import datetime as dt

    from floe_compute_kit.conformance._waivers import Waiver

    waiver = Waiver(TIMEOUT_ID, "the engine has no cancel", dt.date(2099, 1, 1), "https://x/9")
    results = real_results(Level.INTEGRATION, **{TIMEOUT_ID: Outcome.FAILED})
    cert = build_real(results=results, waivers=[waiver])
    record = next(c for c in cert["checks"] if c["id"] == TIMEOUT_ID)
    assert record["outcome"] == "waived"
    assert record["waiver"]["reason"] == "the engine has no cancel"
    assert cert["level_achieved"] == "extended"
    assert cert["certified"] is False
