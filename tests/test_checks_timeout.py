"""integration.query_timeout's verdicts on dbt's node results (the runs themselves are
proven in test_conformance_zoo_live.py and test_dbt_launcher_zoo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe_compute_kit.conformance.checks._dbt import DbtRun
from floe_compute_kit.conformance.checks.timeout import _judge_allowed_longer

pytestmark = pytest.mark.requirement("US7-AS2", "FR-020")


def _run(longer: tuple[str, float, str], fast: float = 0.2) -> DbtRun:
    status, took, message = longer
    return DbtRun(
        Path("/nonexistent"),
        1,
        "",
        results=[
            {"unique_id": "model.p.floe_fast", "status": "success", "execution_time": fast},
            {
                "unique_id": "model.p.floe_allowed_longer",
                "status": status,
                "execution_time": took,
                "message": message,
            },
        ],
    )


def test_the_longer_overrides_model_finishing_past_the_profiles_timeout_passes() -> None:
    assert _judge_allowed_longer(_run(("success", 3.1, "OK"))) is None


def test_a_longer_overrides_model_finishing_before_the_profiles_timeout_proves_nothing() -> None:
    said = _judge_allowed_longer(_run(("success", 1.2, "OK")))
    assert said is not None
    assert "proves nothing" in said
    assert "conformance_slow_query" in said


def test_finishing_is_judged_after_the_time_a_trivial_model_takes() -> None:
    """2.6 s, of which a trivial model takes 0.5: 2.1 s of query, not past 2.5 s."""
    assert _judge_allowed_longer(_run(("success", 2.6, "OK"), fast=0.5)) is not None
    assert _judge_allowed_longer(_run(("success", 2.6, "OK"), fast=0.0)) is None


def test_a_model_cut_at_the_overrides_own_timeout_passes() -> None:
    assert _judge_allowed_longer(_run(("error", 4.2, "Query timed out after 4 s"))) is None


def test_a_model_cut_at_the_profiles_timeout_is_refused() -> None:
    said = _judge_allowed_longer(_run(("error", 2.1, "Query timed out after 2 s")))
    assert said is not None
    assert "before its timeout_seconds=4" in said


def test_a_longer_overrides_model_without_a_result_is_refused() -> None:
    run = _run(("success", 3.0, "OK"))
    run.results = run.results[:1]
    said = _judge_allowed_longer(run)
    assert said is not None
    assert "no result" in said
