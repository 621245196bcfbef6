"""floe_compute_kit.dbt_timeouts: one override rule and one timeout line for every engine."""

from __future__ import annotations

import json
import logging

import pytest

from _obs_helpers import TIMEOUT_LINE
from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit import Capability, ComputeConfigurationError, ComputeTimeoutError
from floe_compute_kit.dbt_timeouts import (
    checked_timeout,
    model_timeouts,
    report_timeout,
    running_node,
    timeout_error,
)
from floe_compute_postgres import PostgresComputePlugin
from floe_compute_spark import SparkComputePlugin

pytestmark = pytest.mark.requirement("US7-AS2", "US7")


@pytest.mark.parametrize("plugin", [DuckDBComputePlugin, PostgresComputePlugin, SparkComputePlugin])
def test_every_reference_plugin_claims_the_per_model_override(plugin: type) -> None:
    assert Capability.PER_MODEL_TIMEOUT in plugin.capabilities


@pytest.mark.parametrize("value", [0, 86401, "soon", True, float("nan"), None, [5]])
def test_a_bad_override_names_the_model_the_value_and_the_range(value: object) -> None:
    with pytest.raises(ComputeConfigurationError) as info:
        checked_timeout("postgres", "model.p.m", value)
    assert str(info.value).startswith(f"model.p.m: config floe_timeout_seconds={value!r} ")
    assert "from 1 to 86400" in str(info.value)
    assert info.value.field == "floe_timeout_seconds"


def test_overrides_are_read_from_the_manifest_nodes() -> None:
    manifest = {
        "nodes": {
            "model.p.a": {"config": {"floe_timeout_seconds": 5}},
            "model.p.b": {"config": {}},
            "model.p.c": "not a node",
        }
    }
    assert model_timeouts(manifest) == {"model.p.a": 5}
    assert checked_timeout("spark", "model.p.a", 5) == 5.0


def test_outside_a_dbt_node_the_query_comment_names_it() -> None:
    comment = json.dumps({"app": "dbt", "node_id": "model.p.m"})
    assert running_node(f"/* {comment} */ select 1") == "model.p.m"
    assert running_node("select 1") is None


@pytest.mark.requirement("US7-AS3")
def test_the_line_and_the_error_carry_the_same_query_id(caplog: pytest.LogCaptureFixture) -> None:
    line = report_timeout("abc123", "model.p.m", 2.0123, 2.0, "cancelled")
    match = TIMEOUT_LINE.fullmatch(line)
    assert match is not None
    assert (match["node"], match["duration"], match["timeout"]) == ("model.p.m", "2.012", "2")
    with caplog.at_level(logging.DEBUG):
        error = timeout_error("spark", None, 3.5, 3.0, "cancelled")
    assert isinstance(error, ComputeTimeoutError)
    assert error.timeout_seconds == 3.0
    assert f"query_id={error.query_id}" in str(error)
    assert f"query_id={error.query_id} node_id=<no dbt node> duration_s=3.500" in caplog.text
