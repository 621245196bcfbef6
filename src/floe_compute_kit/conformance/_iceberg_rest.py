"""A small Iceberg REST catalog over pyiceberg's SqlCatalog (sqlite + a local file warehouse).

Why it exists: the catalog fixture needs a real REST catalog on machines that have
no Docker engine. This is a thin HTTP front end (stdlib ``ThreadingHTTPServer``, no web
framework) whose catalog logic -- requirement checks, metadata updates, file layout --
is pyiceberg's own, so DuckDB's iceberg extension and pyiceberg talk to real Iceberg
metadata. It implements what those two clients use: ``/v1/config`` (with a prefix
override, which DuckDB needs), an OAuth2 client-credentials token endpoint, namespaces,
tables (including staged creates), table commits and multi-table transaction commits.

Run it as ``python -m floe_compute_kit.conformance._iceberg_rest --warehouse DIR``;
it prints ``READY <uri>`` on stdout once it listens, and stops when its parent dies.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, unquote, unquote_plus, urlsplit

# This module runs as its own process (the fixture starts it), so pyiceberg is
# imported here and never by the kit's pytest plugin.
from pyiceberg import exceptions as exc
from pyiceberg.catalog.rest import CreateTableRequest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.io import PY_IO_IMPL
from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC
from pyiceberg.table import CommitTableRequest, Table
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER

__all__ = ["DEFAULT_PREFIX", "CatalogServer", "RestError", "main", "split_route"]

DEFAULT_PREFIX = "floe"
_NAMESPACE_SEPARATOR = "\x1f"
_UNPREFIXED_ROOTS = frozenset({"namespaces", "tables", "transactions"})
_ENDPOINTS = (
    "GET /v1/{prefix}/namespaces",
    "POST /v1/{prefix}/namespaces",
    "GET /v1/{prefix}/namespaces/{namespace}",
    "HEAD /v1/{prefix}/namespaces/{namespace}",
    "DELETE /v1/{prefix}/namespaces/{namespace}",
    "POST /v1/{prefix}/namespaces/{namespace}/properties",
    "GET /v1/{prefix}/namespaces/{namespace}/tables",
    "POST /v1/{prefix}/namespaces/{namespace}/tables",
    "POST /v1/{prefix}/namespaces/{namespace}/register",
    "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
    "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics",
    "POST /v1/{prefix}/tables/rename",
    "POST /v1/{prefix}/transactions/commit",
)


class RestError(Exception):
    """An error answer in the REST spec's ``{"error": {...}}`` shape."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "code": self.status}}


def split_route(path: str, prefix: str) -> tuple[str, ...]:
    """The route segments after ``/v1/`` and the optional prefix, percent-decoded.

    ``/v1/floe/namespaces/a%1Fb`` -> ``("namespaces", "a\\x1fb")``. Both prefixed and
    unprefixed forms are accepted: DuckDB uses the prefix from ``/v1/config``, some
    clients ignore it.
    """
    raw = [p for p in urlsplit(path).path.split("/") if p]
    if not raw or raw[0] != "v1":
        raise RestError(404, "NoSuchEndpointException", f"no such endpoint: {path}")
    segments = [unquote(p) for p in raw[1:]]
    if segments and segments[0] not in _UNPREFIXED_ROOTS | {"config", "oauth"}:
        if segments[0] != prefix:
            raise RestError(
                404,
                "NoSuchEndpointException",
                f"unknown catalog prefix {segments[0]!r}; this catalog serves {prefix!r}",
            )
        segments = segments[1:]
    return tuple(segments)


def _namespace(text: str) -> tuple[str, ...]:
    parts = tuple(text.split(_NAMESPACE_SEPARATOR))
    if not all(parts):
        raise RestError(400, "BadRequestException", f"invalid namespace {text!r}")
    return parts


class _Named:
    """Stands in for a Table where SqlCatalog.commit_table only asks for ``name()``."""

    def __init__(self, identifier: tuple[str, ...]) -> None:
        self._identifier = identifier

    def name(self) -> tuple[str, ...]:
        return self._identifier


class CatalogServer:
    """The REST routes over one SqlCatalog. Catalog calls are serialised by one lock."""

    def __init__(
        self,
        warehouse_dir: Path,
        *,
        prefix: str = DEFAULT_PREFIX,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> None:
        warehouse_dir.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.token = token
        self.client_id = client_id
        self.client_secret = client_secret
        self.catalog: SqlCatalog = SqlCatalog(
            prefix,
            uri=f"sqlite:///{warehouse_dir / 'catalog.sqlite'}",
            warehouse=(warehouse_dir / "warehouse").resolve().as_uri(),
            # The server only reads and writes metadata files: pyiceberg's fsspec FileIO
            # does that without importing pyarrow (the default FileIO for file:// paths),
            # which cost 0.8 s of CPU inside the first create-table request.
            **{PY_IO_IMPL: "pyiceberg.io.fsspec.FsspecFileIO"},
        )
        self._lock = threading.Lock()

    # -- auth -------------------------------------------------------------------

    def authorised(self, header: str | None) -> bool:
        if self.token is None:
            return True
        expected = f"Bearer {self.token}"
        return header is not None and hmac.compare_digest(header.strip(), expected)

    def issue_token(
        self, form: Mapping[str, str], authorization: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """OAuth2 client credentials: the configured id and secret buy the bearer token.

        The client authenticates in the form (pyiceberg) or with HTTP Basic (DuckDB),
        both allowed by RFC 6749 section 2.3.1.
        """
        form = dict(form)
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            basic_id, _, basic_secret = decoded.partition(":")
            form.setdefault("client_id", unquote_plus(basic_id))
            form.setdefault("client_secret", unquote_plus(basic_secret))
        if form.get("grant_type") != "client_credentials":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": "only grant_type=client_credentials is supported",
            }
        ok = (
            self.token is not None
            and self.client_id is not None
            and self.client_secret is not None
            and hmac.compare_digest(form.get("client_id", ""), self.client_id)
            and hmac.compare_digest(form.get("client_secret", ""), self.client_secret)
        )
        if not ok:
            return 401, {"error": "invalid_client", "error_description": "unknown client"}
        return 200, {
            "access_token": self.token,
            "token_type": "bearer",
            "expires_in": 86400,
            "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
        }

    # -- dispatch ---------------------------------------------------------------

    def handle(
        self, method: str, segments: Sequence[str], query: Mapping[str, str], body: Any
    ) -> tuple[int, dict[str, Any] | None]:
        route = self._route(method, segments)
        try:
            with self._lock:
                return route(segments, query, body)
        except RestError:
            raise
        except exc.NoSuchNamespaceError as e:
            raise RestError(404, "NoSuchNamespaceException", str(e)) from e
        except exc.NoSuchTableError as e:
            raise RestError(404, "NoSuchTableException", str(e)) from e
        except (exc.NamespaceAlreadyExistsError, exc.TableAlreadyExistsError) as e:
            raise RestError(409, "AlreadyExistsException", str(e)) from e
        except exc.NamespaceNotEmptyError as e:
            raise RestError(409, "NamespaceNotEmptyException", str(e)) from e
        except exc.CommitFailedException as e:
            raise RestError(409, "CommitFailedException", str(e)) from e
        except (ValueError, TypeError, KeyError, exc.ValidationError) as e:
            # pydantic's ValidationError is a ValueError: a malformed request body.
            raise RestError(400, "BadRequestException", f"{type(e).__name__}: {e}") from e

    Route = Callable[[Sequence[str], Mapping[str, str], Any], tuple[int, dict[str, Any] | None]]

    def _route(self, method: str, segments: Sequence[str]) -> Route:
        shape = tuple(s if i % 2 == 0 else "*" for i, s in enumerate(segments))
        routes: dict[tuple[str, tuple[str, ...]], CatalogServer.Route] = {
            ("GET", ("config",)): self._config,
            ("GET", ("namespaces",)): self._list_namespaces,
            ("POST", ("namespaces",)): self._create_namespace,
            ("GET", ("namespaces", "*")): self._load_namespace,
            ("HEAD", ("namespaces", "*")): self._namespace_exists,
            ("DELETE", ("namespaces", "*")): self._drop_namespace,
            ("POST", ("namespaces", "*", "properties")): self._update_namespace,
            ("GET", ("namespaces", "*", "tables")): self._list_tables,
            ("POST", ("namespaces", "*", "tables")): self._create_table,
            ("POST", ("namespaces", "*", "register")): self._register_table,
            ("GET", ("namespaces", "*", "views")): self._list_views,
            ("GET", ("namespaces", "*", "tables", "*")): self._load_table,
            ("HEAD", ("namespaces", "*", "tables", "*")): self._table_exists,
            ("POST", ("namespaces", "*", "tables", "*")): self._commit_table,
            ("DELETE", ("namespaces", "*", "tables", "*")): self._drop_table,
            ("POST", ("namespaces", "*", "tables", "*", "metrics")): self._metrics,
            ("POST", ("tables", "*")): self._tables_action,
            ("POST", ("transactions", "*")): self._transactions_action,
        }
        try:
            return routes[(method, shape)]
        except KeyError:
            raise RestError(
                404 if method in {"GET", "HEAD", "POST", "DELETE"} else 405,
                "NoSuchEndpointException",
                f"no such endpoint: {method} /v1/{'/'.join(segments)}",
            ) from None

    # -- routes -----------------------------------------------------------------

    def _config(self, _s: Sequence[str], _q: Mapping[str, str], _b: Any) -> tuple[int, Any]:
        return 200, {
            "defaults": {},
            "overrides": {"prefix": self.prefix},
            "endpoints": list(_ENDPOINTS),
        }

    def _list_namespaces(self, _s: Sequence[str], q: Mapping[str, str], _b: Any) -> tuple[int, Any]:
        parent = _namespace(q["parent"]) if q.get("parent") else ()
        names = self.catalog.list_namespaces(parent)
        return 200, {"namespaces": [list(n) for n in names]}

    def _create_namespace(
        self, _s: Sequence[str], _q: Mapping[str, str], b: Any
    ) -> tuple[int, Any]:
        namespace = tuple(b["namespace"])
        if not namespace or not all(isinstance(p, str) and p for p in namespace):
            raise RestError(400, "BadRequestException", f"invalid namespace {b['namespace']!r}")
        properties = {str(k): str(v) for k, v in (b.get("properties") or {}).items()}
        self.catalog.create_namespace(namespace, properties)
        return 200, {"namespace": list(namespace), "properties": properties}

    def _load_namespace(self, s: Sequence[str], _q: Mapping[str, str], _b: Any) -> tuple[int, Any]:
        namespace = _namespace(s[1])
        properties = self.catalog.load_namespace_properties(namespace)
        return 200, {"namespace": list(namespace), "properties": dict(properties)}

    def _namespace_exists(
        self, s: Sequence[str], _q: Mapping[str, str], _b: Any
    ) -> tuple[int, Any]:
        if not self.catalog.namespace_exists(_namespace(s[1])):
            raise RestError(404, "NoSuchNamespaceException", f"namespace {s[1]!r} does not exist")
        return 204, None

    def _drop_namespace(self, s: Sequence[str], _q: Mapping[str, str], _b: Any) -> tuple[int, Any]:
        self.catalog.drop_namespace(_namespace(s[1]))
        return 204, None

    def _update_namespace(self, s: Sequence[str], _q: Mapping[str, str], b: Any) -> tuple[int, Any]:
        summary = self.catalog.update_namespace_properties(
            _namespace(s[1]),
            removals=set(b.get("removals") or ()),
            updates={str(k): str(v) for k, v in (b.get("updates") or {}).items()},
        )
        return 200, {
            "updated": summary.updated,
            "removed": summary.removed,
            "missing": summary.missing,
        }

    def _list_tables(self, s: Sequence[str], _q: Mapping[str, str], _b: Any) -> tuple[int, Any]:
        names = self.catalog.list_tables(_namespace(s[1]))
        return 200, {
            "identifiers": [{"namespace": list(n[:-1]), "name": n[-1]} for n in names],
        }

    def _list_views(self, s: Sequence[str], _q: Mapping[str, str], _b: Any) -> tuple[int, Any]:
        if not self.catalog.namespace_exists(_namespace(s[1])):
            raise RestError(404, "NoSuchNamespaceException", f"namespace {s[1]!r} does not exist")
        return 200, {"identifiers": []}  # this catalog stores no views

    def _create_table(self, s: Sequence[str], _q: Mapping[str, str], b: Any) -> tuple[int, Any]:
        request = CreateTableRequest.model_validate(
            {"location": None, "partition-spec": None, "write-order": None, **b}
        )
        identifier = (*_namespace(s[1]), request.name)
        if not self.catalog.namespace_exists(identifier[:-1]):
            raise RestError(404, "NoSuchNamespaceException", f"namespace {s[1]!r} does not exist")
        arguments: dict[str, Any] = {
            "schema": request.table_schema,
            "location": request.location,
            "partition_spec": request.partition_spec or UNPARTITIONED_PARTITION_SPEC,
            "sort_order": request.write_order or UNSORTED_SORT_ORDER,
            "properties": request.properties,
        }
        if request.stage_create:
            if self.catalog.table_exists(identifier):
                raise RestError(409, "AlreadyExistsException", f"table {identifier} exists")
            staged = self.catalog._create_staged_table(
                identifier, **arguments
            )  # pyiceberg's own staging
            _make_local_dirs(staged.metadata.location)
            return 200, _table_result(None, staged.metadata.model_dump_json())
        table = self.catalog.create_table(identifier, **arguments)
        _make_local_dirs(table.metadata.location)
        return 200, _table_result(table.metadata_location, table.metadata.model_dump_json())

    def _register_table(self, s: Sequence[str], _q: Mapping[str, str], b: Any) -> tuple[int, Any]:
        identifier = (*_namespace(s[1]), str(b["name"]))
        if b.get("overwrite") and self.catalog.table_exists(identifier):
            self.catalog.drop_table(identifier)
        table = self.catalog.register_table(identifier, str(b["metadata-location"]))
        return 200, _table_result(table.metadata_location, table.metadata.model_dump_json())

    def _load_table(self, s: Sequence[str], _q: Mapping[str, str], _b: Any) -> tuple[int, Any]:
        table = self.catalog.load_table((*_namespace(s[1]), s[3]))
        return 200, _table_result(table.metadata_location, table.metadata.model_dump_json())

    def _table_exists(self, s: Sequence[str], _q: Mapping[str, str], _b: Any) -> tuple[int, Any]:
        if not self.catalog.table_exists((*_namespace(s[1]), s[3])):
            raise RestError(404, "NoSuchTableException", f"table {s[3]!r} does not exist")
        return 204, None

    def _commit_table(self, s: Sequence[str], _q: Mapping[str, str], b: Any) -> tuple[int, Any]:
        return 200, self._commit((*_namespace(s[1]), s[3]), b)

    def _commit(self, identifier: tuple[str, ...], change: Mapping[str, Any]) -> dict[str, Any]:
        request = CommitTableRequest.model_validate(
            {
                "identifier": {"namespace": list(identifier[:-1]), "name": identifier[-1]},
                "requirements": change.get("requirements") or [],
                "updates": change.get("updates") or [],
            }
        )
        if not self.catalog.namespace_exists(identifier[:-1]):
            raise RestError(404, "NoSuchNamespaceException", f"namespace {identifier[:-1]} missing")
        response = self.catalog.commit_table(
            cast(Table, _Named(identifier)), request.requirements, request.updates
        )
        return _table_result(response.metadata_location, response.metadata.model_dump_json())

    def _drop_table(self, s: Sequence[str], q: Mapping[str, str], _b: Any) -> tuple[int, Any]:
        identifier = (*_namespace(s[1]), s[3])
        if q.get("purgeRequested", "false").lower() == "true":
            self.catalog.purge_table(identifier)
        else:
            self.catalog.drop_table(identifier)
        return 204, None

    def _metrics(self, _s: Sequence[str], _q: Mapping[str, str], _b: Any) -> tuple[int, Any]:
        return 204, None

    def _tables_action(self, s: Sequence[str], _q: Mapping[str, str], b: Any) -> tuple[int, Any]:
        if s[1] != "rename":
            raise RestError(404, "NoSuchEndpointException", f"no such endpoint: tables/{s[1]}")
        source = (*b["source"]["namespace"], b["source"]["name"])
        destination = (*b["destination"]["namespace"], b["destination"]["name"])
        self.catalog.rename_table(source, destination)
        return 204, None

    def _transactions_action(
        self, s: Sequence[str], _q: Mapping[str, str], b: Any
    ) -> tuple[int, Any]:
        """Commit each table change in turn.

        Not atomic across tables (SqlCatalog has no multi-table transaction); every
        change is checked against its requirements first, so a stale change fails
        before anything is written.
        """
        if s[1] != "commit":
            raise RestError(
                404, "NoSuchEndpointException", f"no such endpoint: transactions/{s[1]}"
            )
        changes = b["table-changes"]
        for change in changes:
            ident = change["identifier"]
            self._commit((*ident["namespace"], ident["name"]), change)
        return 204, None


def _make_local_dirs(location: str) -> None:
    """Create a local table's metadata/ and data/ directories up front.

    Object stores need no directories, so clients such as DuckDB write manifests of a
    staged (not yet committed) table straight into ``metadata/``; on a local file
    warehouse that directory must exist first.
    """
    parts = urlsplit(location)
    if parts.scheme not in {"", "file"}:
        return
    root = Path(unquote(parts.path))
    if not root.is_absolute():  # not a location this warehouse handed out
        return
    for sub in ("metadata", "data"):
        (root / sub).mkdir(parents=True, exist_ok=True)


def _table_result(metadata_location: str | None, metadata_json: str) -> dict[str, Any]:
    result: dict[str, Any] = {"metadata": json.loads(metadata_json), "config": {}}
    if metadata_location is not None:
        result["metadata-location"] = metadata_location
    return result


def _make_handler(server: CatalogServer, verbose: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "floe-iceberg-rest/1"

        def log_message(self, format: str, *args: Any) -> None:
            if verbose:
                sys.stderr.write(f"{self.address_string()} {format % args}\n")

        def _send(self, status: int, body: dict[str, Any] | None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data and self.command != "HEAD":
                self.wfile.write(data)

        def _read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _serve(self) -> None:
            raw = self._read_body()
            try:
                segments = split_route(self.path, server.prefix)
                query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                if segments == ("oauth", "tokens") and self.command == "POST":
                    form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
                    self._send(*server.issue_token(form, self.headers.get("Authorization")))
                    return
                if not server.authorised(self.headers.get("Authorization")):
                    raise RestError(401, "NotAuthorizedException", "missing or wrong bearer token")
                try:
                    body = json.loads(raw) if raw else {}
                except json.JSONDecodeError as e:
                    raise RestError(400, "BadRequestException", f"body is not JSON: {e}") from e
                self._send(*server.handle(self.command, segments, query, body))
            except RestError as e:
                if verbose:
                    sys.stderr.write(f"{self.command} {self.path} -> {e.status} {e.message}\n")
                self._send(e.status, e.body())
            except Exception as e:  # a server answers 500, it does not die
                self._send(500, RestError(500, "ServerError", f"{type(e).__name__}: {e}").body())
                if verbose:
                    traceback.print_exc()

        do_GET = do_POST = do_DELETE = do_HEAD = _serve  # noqa: N815 - http.server's naming

    return Handler


def _watch_parent(parent_pid: int, httpd: ThreadingHTTPServer) -> None:
    """Stop when the process that started us is gone, so no server outlives its tests."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            httpd.shutdown()
            return


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--warehouse", required=True, type=Path, help="directory for all state")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--prefix", default=DEFAULT_PREFIX)
    parser.add_argument("--token", default=None, help="require this bearer token")
    parser.add_argument("--client-id", default=None)
    parser.add_argument("--client-secret", default=None)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    # Secrets may also come from the environment, so they stay out of `ps` output.
    token = args.token or os.environ.get("FLOE_ICEBERG_REST_TOKEN")
    client_secret = args.client_secret or os.environ.get("FLOE_ICEBERG_REST_CLIENT_SECRET")

    catalog = CatalogServer(
        args.warehouse,
        prefix=args.prefix,
        token=token,
        client_id=args.client_id,
        client_secret=client_secret,
    )
    httpd = ThreadingHTTPServer((args.host, args.port), _make_handler(catalog, args.verbose))
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    threading.Thread(
        target=_watch_parent, args=(os.getppid(), httpd), daemon=True, name="parent-watch"
    ).start()
    print(f"READY http://{host!s}:{port}", flush=True)  # the readiness handshake
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
