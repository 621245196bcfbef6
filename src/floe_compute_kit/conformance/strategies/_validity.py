"""How often generated configs are valid for a model: the measure of the builder."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from pydantic import BaseModel

from floe_compute_kit.conformance.strategies._build import _validates, config_dicts

__all__ = ["validity_rate"]


def validity_rate(model: type[BaseModel], *, n: int = 200, seed: int = 0) -> float:
    """The share of :func:`config_dicts` output that ``model`` accepts (goal: 0.95 or more)."""
    outcomes = _generated_outcomes(model, n=n, seed_value=seed)
    return sum(outcomes) / len(outcomes) if outcomes else 0.0


def _generated_outcomes(model: type[BaseModel], *, n: int, seed_value: int) -> list[bool]:
    outcomes: list[bool] = []

    @seed(seed_value)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(config_dicts(model))
    def record(data: dict[str, Any]) -> None:
        outcomes.append(_validates(model, data))

    record()
    return outcomes
