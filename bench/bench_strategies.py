"""Config strategies: validity rate, field coverage and generation speed (KIT-007, KIT-019).

Run: ``python bench/bench_strategies.py [N]``. Baselines, in the same process:

- ``st.builds(Model)``: hypothesis' own model support; it varies required fields only.
- type-only: ``st.from_type`` for every field's annotation; ignores ge/le/pattern/validators.

Goal: validity rate >= 0.95 on DuckDBConfig.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

from _goals import baseline, figure, verdict
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pydantic import BaseModel, ValidationError

from floe_compute_duckdb.config import DuckDBConfig
from floe_compute_kit.conformance.strategies import (
    config_dicts,
    configs,
    invalid_config_mutations,
    validity_rate,
)
from floe_compute_kit.models import CatalogConfig, ComputeConfig

MODELS: list[type[BaseModel]] = [ComputeConfig, CatalogConfig, DuckDBConfig]


def draw(strategy: SearchStrategy[Any], n: int) -> tuple[list[Any], float]:
    """n examples through hypothesis' engine, and the seconds it took."""
    found: list[Any] = []

    @seed(0)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    start = time.perf_counter()
    collect()
    return found, time.perf_counter() - start


def type_only(model: type[BaseModel]) -> SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {name: st.from_type(info.annotation) for name, info in model.model_fields.items()}  # type: ignore[arg-type]
    )


def builds_dicts(model: type[BaseModel]) -> SearchStrategy[dict[str, Any]]:
    def dump(instance: BaseModel) -> dict[str, Any]:
        return dict(instance)

    return st.builds(model).map(dump)


def accepted(model: type[BaseModel], data: Any) -> bool:
    try:
        model.model_validate(data)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


def fixed_fields(model: type[BaseModel], dicts: list[dict[str, Any]]) -> list[str]:
    """Fields that took fewer than two distinct values."""
    values: dict[str, set[str]] = defaultdict(set)
    for data in dicts:
        for key, value in data.items():
            values[key].add(repr(value))
    return [name for name in model.model_fields if len(values[name]) < 2]


def single_valued(model: type[BaseModel], name: str) -> bool:
    """A field that admits one value (``Literal["duckdb"]``) cannot vary."""
    annotation = model.model_fields[name].annotation
    return get_origin(annotation) is Literal and len(get_args(annotation)) == 1


def safely(fn: Callable[[], tuple[list[Any], float]]) -> tuple[list[Any], float] | str:
    try:
        return fn()
    except Exception as exc:  # a baseline that cannot even generate is a result too
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:60]}"


VALIDITY_GOAL = 0.95


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print(f"examples per measurement: {n}")
    print("table: config_dicts beside two baselines (hypothesis' own), no goals of its own\n")
    not_varied: dict[str, int] = {}
    header = f"{'model':<14} {'strategy':<16} {'valid':>7} {'fields varied':>14} {'ex/s':>8}"
    print(header)
    print("-" * len(header))
    for model in MODELS:
        rows: list[tuple[str, SearchStrategy[Any]]] = [
            ("config_dicts", config_dicts(model)),
            ("st.builds", builds_dicts(model)),
            ("type-only", type_only(model)),
        ]
        speeds: dict[str, float] = {}
        for label, strategy in rows:
            outcome = safely(lambda s=strategy: draw(s, n))  # type: ignore[misc]
            if isinstance(outcome, str):
                print(f"{model.__name__:<14} {label:<16} {outcome}")
                continue
            found, seconds = outcome
            rate = sum(accepted(model, d) for d in found) / len(found)
            speeds[label] = len(found) / seconds
            fixed = fixed_fields(model, found)
            total = len(model.model_fields)
            if label == "config_dicts":
                not_varied[model.__name__] = len([f for f in fixed if not single_valued(model, f)])
            print(
                f"{model.__name__:<14} {label:<16} {rate:>7.1%} "
                f"{total - len(fixed):>6}/{total:<7} {speeds[label]:>8.0f}"
                + (f"   fixed: {', '.join(fixed)}" if fixed and len(fixed) <= 3 else "")
            )
        if "type-only" in speeds:
            ratio = speeds["config_dicts"] / speeds["type-only"]
            print(f"{'':<14} speed of config_dicts vs type-only: {ratio:.2f}x")
        print()

    for name, count in not_varied.items():
        figure(f"{name}: fields config_dicts never varies (of those that can)", count, "", 0)
    rates = [validity_rate(DuckDBConfig, n=200, seed=s) for s in range(5)]
    print(
        "validity_rate(DuckDBConfig, n=200) for seeds 0..4: " + "  ".join(f"{r:.3f}" for r in rates)
    )
    figure(
        "validity rate of DuckDBConfig, lowest seed", min(rates), "", VALIDITY_GOAL, at_least=True
    )

    for label, strategy in [
        ("configs(DuckDBConfig)", configs(DuckDBConfig)),
        ("invalid_config_mutations(DuckDBConfig)", invalid_config_mutations(DuckDBConfig)),
    ]:
        found, seconds = draw(strategy, n)
        baseline(f"{label} examples/s", len(found) / seconds, "/s", "speed, no goal")
    return verdict()


if __name__ == "__main__":
    raise SystemExit(main())
