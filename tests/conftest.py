"""Shared test setup: the requirement marker, dbt quietness, hypothesis profiles, servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from floe_compute_kit.conformance.services import PostgresServer

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
#: Every JVM the tests start (Spark sessions under dbt, Spark Connect servers, the Spark
#: certification) lives for seconds: the quick JIT alone and one GC thread halve its CPU
#: (a dbt build of the bundled project: 68 s of the JVM's CPU, 38 s so), which on two
#: cores shared with the other worker is most of a Spark test's time. spark-submit adds
#: SPARK_SUBMIT_OPTS to the JVM's options; a user's own setting is kept.
os.environ.setdefault("SPARK_SUBMIT_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")

pytest_plugins = ["pytester"]

settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


#: nodeid prefixes run as one xdist scope, on one worker (the tests that start a JVM): two
#: JVMs at once on two cores is not a user's machine, and the Spark certification's check
#: timeouts are a user's
SAME_WORKER = {
    "spark": (
        "tests/test_spark_dbt.py::",
        "tests/test_spark_dbt_obs.py::",
        "tests/test_conformance_zoo_live.py::test_reference_plugins_certify_at_integration[spark]",
        "tests/test_example_multi_compute.py::",
    ),
}


@pytest.hookimpl(optionalhook=True)  # xdist's hook: pytest without xdist must not refuse it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadscope`` (a module or class whole on one worker, its fixtures made once),
    with the :data:`SAME_WORKER` groups as scopes of their own.

    Not xdist's loadgroup: it tags node ids, which pytest 9.2 no longer lets a plugin
    change, so it spreads every test on its own (pytest-dev/pytest-xdist#1386).
    """
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModulesAndGroups(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            for group, prefixes in SAME_WORKER.items():
                if nodeid.startswith(prefixes):
                    return group
            return str(super()._split_scope(nodeid))

    return ModulesAndGroups(config, log)


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
