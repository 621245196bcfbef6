"""Shared test setup: the requirement marker, dbt quietness, hypothesis profiles."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

pytest_plugins = ["pytester"]

settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test names the requirement it proves; an unmarked test is an error, not a warning."""
    unmarked = [item.nodeid for item in items if item.get_closest_marker("requirement") is None]
    if unmarked:
        raise pytest.UsageError(
            "tests without @pytest.mark.requirement(...):\n  " + "\n  ".join(unmarked)
        )
