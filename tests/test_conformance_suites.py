"""The suite classes: which checks each runs, and what a failure prints."""

from __future__ import annotations

import pytest

from floe_compute_kit.conformance._results import CheckResult, Outcome
from floe_compute_kit.conformance.checks import load_catalogue
from floe_compute_kit.conformance.suites import (
    BaseCatalogContract,
    BaseConnectionContract,
    BaseMetadataContract,
    BasePackagesContract,
    BaseProfileContract,
    BaseResourcesContract,
    BaseSecretsContract,
    ComputePluginContract,
    format_failure,
)

pytestmark = pytest.mark.requirement("KIT-017")

BASES = (
    BaseMetadataContract,
    BaseProfileContract,
    BasePackagesContract,
    BaseConnectionContract,
    BaseResourcesContract,
    BaseCatalogContract,
    BaseSecretsContract,
)


def test_base_classes_are_not_collected_and_cover_the_own_catalogue() -> None:
    areas: set[str] = set()
    for base in BASES:
        assert not base.__name__.startswith("Test")
        declared = base.__dict__["floe_areas"]
        assert declared
        assert not areas & set(declared)  # no check runs twice in ComputePluginContract
        areas |= set(declared)
    own = {r.spec.id.split(".")[0] for r in load_catalogue()} - {"integration", "iceberg"}
    assert own == areas
    assert ComputePluginContract.floe_areas is None  # every area, integration included
    assert set(BASES) <= set(ComputePluginContract.__mro__)


def test_a_failure_shows_clause_reason_config_seed_and_traceback() -> None:
    spec = next(r.spec for r in load_catalogue() if r.spec.id == "profile.threads")
    result = CheckResult(
        "profile.threads",
        Outcome.FAILED,
        message="the profile's threads MUST equal config.threads (9); got 8",
        example={"threads": 9, "credentials": {"token": "**********"}},
        seed=11,
        traceback="Traceback (most recent call last):\n  ...\nKeyError: 'x'\n",
    )
    text = format_failure(result, spec)
    assert text.startswith("profile.threads [KIT-001]: The profile's `threads` MUST equal")
    assert "Falsifying config (secrets masked):" in text
    assert "threads: 9" in text
    assert "Reproduce with: --floe-seed=11 -k 'profile.threads'" in text
    assert text.rstrip().endswith("KeyError: 'x'")


def test_an_example_config_failure_has_no_seed_line() -> None:
    spec = next(r.spec for r in load_catalogue() if r.spec.id == "profile.type")
    result = CheckResult("profile.type", Outcome.FAILED, message="no type", example={"a": 1})
    assert "Reproduce with" not in format_failure(result, spec)
