"""Shared test setup: the requirement marker, dbt quietness, hypothesis profiles, servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from floe_compute_kit.conformance.services import PostgresServer

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


@pytest.fixture(scope="session")
def floe_postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server on loopback per test session (per xdist worker).

    Shared: a test that stops it must start its own with ``postgres_server()``.
    """
    from floe_compute_kit.conformance.services import postgres_server

    with postgres_server() as server:
        yield server
