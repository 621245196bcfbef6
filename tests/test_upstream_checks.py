"""The upstream.* checks: each zoo plugin shaped like floe-core's fails exactly its check.

Real floe-core plugins are certified in tests/test_upstream_plugins.py; here the
checks themselves are proven on structural plugins that claim the interface.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance._upstream import CAPABILITY, free_connection
from floe_compute_kit.conformance.checks import load_catalogue
from floe_compute_kit.conformance.checks.profile import adapter_credentials
from floe_compute_kit.conformance.runner import run_suite
from floe_compute_kit.conformance.strategies import connection_dicts, credentials_fields
from zoo.upstream import CASES, GenericConfig

pytestmark = pytest.mark.requirement("KIT-243")


def _ids() -> list[str]:
    return [r.spec.id for r in load_catalogue() if r.spec.id.startswith("upstream.")]


def _outcomes(target: str) -> dict[str, tuple[Outcome, str]]:
    suite = run_suite(target, level=Level.CORE, max_examples=15, check_ids=_ids())
    assert suite.load_error is None
    return {r.check_id: (r.outcome, r.message) for r in suite.results}


@pytest.mark.requirement("KIT-240", "KIT-241", "KIT-242")
def test_a_good_upstream_shaped_plugin_passes_every_upstream_check() -> None:
    outcomes = _outcomes("zoo.upstream:UpstreamShaped")
    assert set(outcomes) == set(_ids())
    assert {k: v for k, v in outcomes.items() if v[0] is not Outcome.PASSED} == {}


@pytest.mark.requirement("KIT-240", "KIT-241", "KIT-242")
@pytest.mark.parametrize(("target", "check_id"), CASES, ids=lambda v: v.split(":")[-1])
def test_each_defect_fails_exactly_its_check(target: str, check_id: str) -> None:
    failed = {k: m for k, (o, m) in _outcomes(target).items() if o is not Outcome.PASSED}
    assert set(failed) == {check_id}, failed
    assert failed[check_id].strip()


@pytest.mark.requirement("KIT-240")
def test_the_reference_plugin_does_not_have_the_interface() -> None:
    outcomes = _outcomes("duckdb")
    assert {o for o, _ in outcomes.values()} == {Outcome.UNSUPPORTED}
    assert all(CAPABILITY in m for _, m in outcomes.values())


@pytest.mark.requirement("KIT-242")
def test_a_declared_settings_model_replaces_the_generated_connection_dicts() -> None:
    outcomes = _outcomes("zoo.upstream:SettingsSchema")
    assert outcomes["upstream.config_schema"][0] is Outcome.PASSED
    # its config_model still has a free connection dict: the adapter's keys are used
    assert outcomes["upstream.connection_profile"][0] is Outcome.PASSED


def test_free_connection_tells_a_free_dict_from_declared_settings() -> None:
    from floe_compute_duckdb.config import DuckDBConfig

    assert free_connection(GenericConfig)
    assert not free_connection(DuckDBConfig)


def test_connection_dicts_use_the_adapters_declared_keys() -> None:
    fields = credentials_fields(adapter_credentials("duckdb"))
    assert {"path", "attach", "extensions", "settings"} <= set(fields)
    paths: list[object] = []

    @settings(max_examples=200, database=None)
    @given(connection_dicts(fields), connection_dicts({"path": fields["path"]}))
    def collect(connection: dict[str, object], only_path: dict[str, object]) -> None:
        assert connection
        assert set(connection) <= set(fields)
        paths.append(only_path["path"])

    collect()
    assert any(isinstance(p, str) and ".." in p for p in paths)  # hostile
    assert any(not isinstance(p, str) for p in paths)  # the wrong type
    assert any(isinstance(p, str) and p.endswith(".db") for p in paths)  # well typed


@given(st.data())
@settings(max_examples=100, database=None)
def test_generated_hosts_stay_on_loopback(data: st.DataObject) -> None:
    fields = {"host": {"type": "string"}, "port": {"type": "integer"}}
    connection = data.draw(connection_dicts(fields))
    host = connection.get("host", "127.0.0.1")
    assert not isinstance(host, str) or host in ("127.0.0.1", "localhost", "::1")


@pytest.mark.requirement("KIT-242")
def test_a_bare_settings_model_validates_connection_and_leaves_it_a_dict() -> None:
    from pydantic import BaseModel, ValidationError

    from floe_compute_kit.conformance._upstream import (
        _connection_model,
        connection_keys,
        unreachable_connection,
    )

    class Settings(BaseModel):
        path: str = ":memory:"
        extensions: list[str] = []

    model = _connection_model(GenericConfig, Settings)
    config = model.model_validate({"plugin": "x", "connection": {"path": "a.db"}})
    assert config.connection == {"path": "a.db", "extensions": []}
    assert type(config.connection) is dict
    assert config.model_dump()["connection"] == {"path": "a.db", "extensions": []}
    with pytest.raises(ValidationError, match=r"connection\.path"):
        model.model_validate({"plugin": "x", "connection": {"path": 5}})
    assert connection_keys(model) == {"path", "extensions"}
    assert not free_connection(model)
    assert unreachable_connection(model, "/missing.db", 1) == {"path": "/missing.db"}
    assert unreachable_connection(GenericConfig, "/m.db", 9) == {
        "path": "/m.db",
        "host": "127.0.0.1",
        "port": 9,
    }


@pytest.mark.requirement("KIT-240")
def test_only_floe_cores_base_class_makes_a_plugin_upstream() -> None:
    from floe_compute_duckdb import DuckDBComputePlugin
    from floe_compute_kit.conformance._upstream import is_upstream
    from zoo.upstream import UpstreamShaped

    assert not is_upstream(DuckDBComputePlugin)
    assert not is_upstream(UpstreamShaped())  # the same members are not the base class
