"""The local Iceberg REST catalog: routes, auth, spec errors and commits, over real HTTP."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from floe_compute_kit.conformance._iceberg_rest import DEFAULT_PREFIX, RestError, split_route
from floe_compute_kit.conformance.iceberg import CATALOG_NICENESS, IcebergCatalogEndpoint, _local

pytestmark = pytest.mark.requirement("KIT-015")

SCHEMA = Schema(
    NestedField(1, "id", LongType(), required=False),
    NestedField(2, "name", StringType(), required=False),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IcebergCatalogEndpoint]:
    with _local(tmp_path_factory.mktemp("rest")) as endpoint:
        yield endpoint


def _call(
    endpoint: IcebergCatalogEndpoint,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = "<endpoint>",  # noqa: S107 - a marker meaning "the endpoint's token"
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(  # noqa: S310 - the test's own loopback http server
        endpoint.uri + path, data=data, method=method
    )
    bearer = endpoint.token if token == "<endpoint>" else token
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - as above
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        return exc.code, json.loads(payload) if payload else None


def test_routes_accept_the_prefix_and_decode_namespaces() -> None:
    assert split_route("/v1/floe/namespaces/a%1Fb/tables/t%20x", "floe") == (
        "namespaces",
        "a\x1fb",
        "tables",
        "t x",
    )
    assert split_route("/v1/namespaces?parent=x", "floe") == ("namespaces",)
    assert split_route("/v1/config?warehouse=floe", "floe") == ("config",)
    with pytest.raises(RestError, match="unknown catalog prefix 'other'") as info:
        split_route("/v1/other/namespaces", "floe")
    assert info.value.status == 404
    with pytest.raises(RestError, match="no such endpoint"):
        split_route("/v2/config", "floe")


def test_config_returns_the_prefix_override_duckdb_needs(server: IcebergCatalogEndpoint) -> None:
    status, body = _call(server, "GET", "/v1/config?warehouse=floe")
    assert status == 200
    assert body["overrides"]["prefix"] == DEFAULT_PREFIX == server.prefix
    assert "POST /v1/{prefix}/transactions/commit" in body["endpoints"]


def test_requests_without_the_right_bearer_token_are_refused(
    server: IcebergCatalogEndpoint,
) -> None:
    for token in (None, "wrong"):
        status, body = _call(server, "GET", "/v1/floe/namespaces", token=token)
        assert status == 401
        assert body["error"]["type"] == "NotAuthorizedException"


def test_client_credentials_buy_the_token_in_the_form_or_with_basic_auth(
    server: IcebergCatalogEndpoint,
) -> None:
    assert server.credential is not None
    client_id, _, client_secret = server.credential.partition(":")
    form = {"grant_type": "client_credentials", "client_id": client_id}
    ok = urllib.parse.urlencode({**form, "client_secret": client_secret}).encode()
    status, body = _call(server, "POST", "/v1/oauth/tokens", raw=ok, token=None)
    assert (status, body["access_token"]) == (200, server.token)

    basic = base64.b64encode(server.credential.encode()).decode()
    grant = urllib.parse.urlencode({"grant_type": "client_credentials"}).encode()
    status, body = _call(
        server,
        "POST",
        "/v1/oauth/tokens",
        raw=grant,
        token=None,
        headers={"Authorization": f"Basic {basic}"},
    )
    assert (status, body["access_token"]) == (200, server.token)

    wrong = urllib.parse.urlencode({**form, "client_secret": "nope"}).encode()
    status, body = _call(server, "POST", "/v1/oauth/tokens", raw=wrong, token=None)
    assert (status, body["error"]) == (401, "invalid_client")
    other = urllib.parse.urlencode({"grant_type": "password"}).encode()
    status, body = _call(server, "POST", "/v1/oauth/tokens", raw=other, token=None)
    assert (status, body["error"]) == (400, "unsupported_grant_type")


def test_namespace_lifecycle_over_http(server: IcebergCatalogEndpoint) -> None:
    status, body = _call(
        server, "POST", "/v1/floe/namespaces", {"namespace": ["life"], "properties": {"a": "1"}}
    )
    assert (status, body["namespace"]) == (200, ["life"])
    assert _call(server, "HEAD", "/v1/floe/namespaces/life")[0] == 204
    # Prefixed and unprefixed paths reach the same catalog.
    assert ["life"] in _call(server, "GET", "/v1/namespaces")[1]["namespaces"]
    status, body = _call(server, "GET", "/v1/floe/namespaces/life")
    assert body["properties"]["a"] == "1"
    status, body = _call(
        server,
        "POST",
        "/v1/floe/namespaces/life/properties",
        {"updates": {"b": "2"}, "removals": ["a", "zz"]},
    )
    assert (status, body["updated"], body["removed"], body["missing"]) == (
        200,
        ["b"],
        ["a"],
        ["zz"],
    )
    assert _call(server, "DELETE", "/v1/floe/namespaces/life")[0] == 204
    status, body = _call(server, "HEAD", "/v1/floe/namespaces/life")
    assert status == 404


def test_errors_follow_the_rest_spec_shape(server: IcebergCatalogEndpoint) -> None:
    _call(server, "POST", "/v1/floe/namespaces", {"namespace": ["errs"]})
    status, body = _call(server, "POST", "/v1/floe/namespaces", {"namespace": ["errs"]})
    assert (status, body["error"]["type"], body["error"]["code"]) == (
        409,
        "AlreadyExistsException",
        409,
    )
    status, body = _call(server, "GET", "/v1/floe/namespaces/errs/tables/missing")
    assert (status, body["error"]["type"]) == (404, "NoSuchTableException")
    status, body = _call(server, "GET", "/v1/floe/namespaces/nowhere/tables")
    assert (status, body["error"]["type"]) == (404, "NoSuchNamespaceException")
    status, body = _call(server, "POST", "/v1/floe/namespaces", raw=b"{not json")
    assert (status, body["error"]["type"]) == (400, "BadRequestException")
    status, body = _call(server, "POST", "/v1/floe/namespaces/errs/tables", {"name": "t"})
    assert (status, body["error"]["type"]) == (400, "BadRequestException")
    status, body = _call(server, "GET", "/v1/floe/nothing-here")
    assert (status, body["error"]["type"]) == (404, "NoSuchEndpointException")


def test_a_stale_commit_is_refused_with_409(server: IcebergCatalogEndpoint) -> None:
    client = server.pyiceberg_catalog("stale")
    client.create_namespace("stale")
    table = client.create_table(("stale", "t"), schema=SCHEMA)
    table.append(pa.table({"id": pa.array([1], pa.int64()), "name": pa.array(["a"])}))
    current = client.load_table(("stale", "t")).metadata.current_snapshot_id
    stale = {
        "requirements": [
            {"type": "assert-ref-snapshot-id", "ref": "main", "snapshot-id": current + 1}
        ],
        "updates": [{"action": "set-properties", "updates": {"k": "v"}}],
    }
    status, body = _call(server, "POST", "/v1/floe/namespaces/stale/tables/t", stale)
    assert (status, body["error"]["type"]) == (409, "CommitFailedException")
    assert "k" not in client.load_table(("stale", "t")).properties
    fresh = {**stale, "requirements": [{**stale["requirements"][0], "snapshot-id": current}]}
    status, body = _call(server, "POST", "/v1/floe/namespaces/stale/tables/t", fresh)
    assert (status, body["metadata"]["properties"]["k"]) == (200, "v")


def test_concurrent_appends_both_land(server: IcebergCatalogEndpoint) -> None:
    """The loser of a race gets 409, and pyiceberg's retry on top of it then succeeds."""
    client = server.pyiceberg_catalog("race")
    client.create_namespace("race")
    client.create_table(("race", "t"), schema=SCHEMA)
    first = client.load_table(("race", "t"))
    second = client.load_table(("race", "t"))
    first.append(pa.table({"id": pa.array([1], pa.int64()), "name": pa.array(["a"])}))
    second.append(pa.table({"id": pa.array([2], pa.int64()), "name": pa.array(["b"])}))
    rows = client.load_table(("race", "t")).scan().to_arrow().to_pylist()
    assert sorted(r["id"] for r in rows) == [1, 2]


def test_staged_create_is_invisible_until_committed(server: IcebergCatalogEndpoint) -> None:
    client = server.pyiceberg_catalog("staged")
    client.create_namespace("staged")
    transaction = client.create_table_transaction(("staged", "t"), schema=SCHEMA)
    transaction.append(pa.table({"id": pa.array([7], pa.int64()), "name": pa.array(["z"])}))
    with pytest.raises(NoSuchTableError):
        client.load_table(("staged", "t"))
    transaction.commit_transaction()
    rows = client.load_table(("staged", "t")).scan().to_arrow().to_pylist()
    assert rows == [{"id": 7, "name": "z"}]


def test_rename_and_purge(server: IcebergCatalogEndpoint) -> None:
    client = server.pyiceberg_catalog("ops")
    client.create_namespace("ops")
    table = client.create_table(("ops", "before"), schema=SCHEMA)
    table.append(pa.table({"id": pa.array([1], pa.int64()), "name": pa.array(["a"])}))
    client.rename_table(("ops", "before"), ("ops", "after"))
    assert client.list_tables("ops") == [("ops", "after")]
    location = client.load_table(("ops", "after")).metadata_location
    client.purge_table(("ops", "after"))
    assert client.list_tables("ops") == []
    assert not Path(urllib.parse.urlsplit(location).path).exists()


def test_the_server_stops_when_its_parent_dies(tmp_path: Path) -> None:
    """A catalog must never outlive the test run that started it."""
    launcher = textwrap.dedent(
        f"""
        import subprocess, sys
        proc = subprocess.Popen(
            [sys.executable, "-m", "floe_compute_kit.conformance._iceberg_rest",
             "--warehouse", {str(tmp_path / "state")!r}],
            stdout=subprocess.PIPE, text=True,
        )
        print(proc.stdout.readline().split()[1], proc.pid, flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", launcher], capture_output=True, text=True, check=True, timeout=60
    )
    uri, pid = done.stdout.split()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _answers(uri):
        time.sleep(0.2)
    alive = _answers(uri)
    if alive:  # do not leave it running even when the test fails
        os.kill(int(pid), signal.SIGTERM)
    assert not alive, "the catalog kept serving after its parent exited"


def _answers(uri: str) -> bool:
    try:
        with urllib.request.urlopen(uri + "/v1/config", timeout=2):  # noqa: S310 - loopback http
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _server_pid(endpoint: IcebergCatalogEndpoint) -> int:
    """The catalog process: the one running this module with the endpoint's folder as cwd."""
    assert endpoint.log_path is not None
    root = endpoint.log_path.parent.resolve()
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
            if "_iceberg_rest" in command and (entry / "cwd").resolve() == root:
                return int(entry.name)
        except (OSError, ValueError):
            continue
    raise AssertionError(f"no catalog process runs in {root}")


def test_the_server_runs_light_and_below_the_kits_priority(tmp_path: Path) -> None:
    """pyiceberg's default FileIO for file:// paths is pyarrow's, whose import cost the
    first create-table request 0.8 s of CPU; the server needs fsspec's only. It also
    yields the CPU to the run's longest chain."""
    with _local(tmp_path) as endpoint:
        client = endpoint.pyiceberg_catalog("light")
        client.create_namespace("light")
        table = client.create_table(("light", "t"), schema=SCHEMA)
        table.append(pa.table({"id": pa.array([1], pa.int64()), "name": pa.array(["a"])}))
        assert client.load_table(("light", "t")).scan().to_arrow().num_rows == 1
        client.purge_table(("light", "t"))
        pid = _server_pid(endpoint)
        maps = Path(f"/proc/{pid}/maps").read_text(encoding="utf-8")
        niceness = os.getpriority(os.PRIO_PROCESS, pid)
    assert "_sqlite3" in maps  # the map of the process that served the catalog's sqlite
    assert "libarrow" not in maps
    # and it runs below the kit's priority: the run's longest chain (dbt's) goes first
    assert niceness == min(19, os.getpriority(os.PRIO_PROCESS, 0) + CATALOG_NICENESS)
