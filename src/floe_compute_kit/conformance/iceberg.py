"""A running Iceberg REST catalog for tests: the kit's fixture for adapter authors (KIT-015).

:func:`iceberg_rest_catalog` picks the first source that works, in this order:

1. ``uri`` (the ``--floe-iceberg-uri`` option): an external catalog, checked to answer;
2. testcontainers with the ``apache/iceberg-rest-fixture`` image, when a Docker engine
   answers;
3. otherwise a local catalog process on 127.0.0.1
   (:mod:`floe_compute_kit.conformance._iceberg_rest`) that is started and stopped here.

The pytest fixture ``floe_iceberg_catalog`` lives in the light module
:mod:`floe_compute_kit.conformance._iceberg_fixtures`, which the kit's pytest plugin
registers in every run and which imports this one only when the fixture is used;
``from floe_compute_kit.conformance.iceberg import floe_iceberg_catalog`` works too.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from floe_compute_kit._extras import ICEBERG_NEEDS, require_extra
from floe_compute_kit._lazy import lazy_getattr as _lazy_getattr
from floe_compute_kit.conformance._logs import keep_log, log_reference
from floe_compute_kit.errors import ComputeConfigurationError, ComputeConnectionError, log_error
from floe_compute_kit.models import CatalogConfig

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from floe_compute_kit.conformance._iceberg_fixtures import floe_iceberg_catalog

__all__ = [
    "ENV_CREDENTIAL",
    "ENV_IMAGE",
    "ENV_SOURCE",
    "ENV_TOKEN",
    "ENV_WAREHOUSE",
    "REST_FIXTURE_IMAGE",
    "IcebergCatalogEndpoint",
    "floe_iceberg_catalog",
    "iceberg_rest_catalog",
]

Source = Literal["option", "testcontainers", "local"]

# The fixture's module imports pytest (~0.15 s): a suite run outside pytest never asks.
__getattr__ = _lazy_getattr(
    __name__, {"floe_iceberg_catalog": "floe_compute_kit.conformance._iceberg_fixtures"}, globals()
)

#: The image started when a Docker engine answers (``FLOE_ICEBERG_IMAGE`` overrides it).
REST_FIXTURE_IMAGE = "apache/iceberg-rest-fixture:1.8.1"
ENV_IMAGE = "FLOE_ICEBERG_IMAGE"
#: For an external catalog (``--floe-iceberg-uri``): its warehouse, bearer token and
#: OAuth2 client credential (``client_id:client_secret``).
ENV_WAREHOUSE = "FLOE_ICEBERG_WAREHOUSE"
ENV_TOKEN = "FLOE_ICEBERG_TOKEN"  # noqa: S105 - the variable's name, not a secret
ENV_CREDENTIAL = "FLOE_ICEBERG_CREDENTIAL"
#: ``local`` skips the Docker probe; ``testcontainers`` fails instead of falling back.
ENV_SOURCE = "FLOE_ICEBERG_SOURCE"

#: Catalogs this process is running, by URI: a check handed only the URI of a catalog
#: the fixture started (``CheckContext.iceberg_uri``) still gets its credentials.
_RUNNING: dict[str, IcebergCatalogEndpoint] = {}

_LOCAL_PREFIX = "floe"
_LOCAL_CLIENT_ID = "floe-conformance"
_START_TIMEOUT_S = 60.0
_LOG_NAME = "iceberg-catalog.log"
_NO_PYICEBERG_INSTEAD = (
    "point the kit at a running Iceberg REST catalog (`--iceberg-uri URI`, "
    "`pytest --floe-iceberg-uri URI`)"
)
_PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class IcebergCatalogEndpoint:
    """How to reach a running Iceberg REST catalog.

    ``warehouse`` is what a client passes as its warehouse (DuckDB: the ATTACH path).
    ``token`` is a bearer token; ``credential`` an OAuth2 ``client_id:client_secret``
    that the catalog's ``/v1/oauth/tokens`` exchanges for one. Either may be None.
    """

    uri: str
    warehouse: str
    source: Source
    token: str | None = None
    credential: str | None = None
    prefix: str | None = None
    log_path: Path | None = None  # the local catalog's log, for diagnosing failures

    def secret_values(self) -> tuple[str, ...]:
        """Every secret this endpoint holds, for masking them out of messages."""
        values = [self.token or "", self.credential or ""]
        if self.credential:
            values.append(self.credential.partition(":")[2])
        return tuple(v for v in values if v)

    @property
    def oauth2_server_uri(self) -> str:
        return f"{self.uri.rstrip('/')}/v1/oauth/tokens"

    def catalog_config(
        self,
        catalog_name: str = "floe_iceberg",
        *,
        auth: Literal["token", "client_credentials"] = "token",
    ) -> CatalogConfig:
        """The contract's CatalogConfig for this catalog, as plugins receive it.

        ``auth`` picks which secret goes in when the catalog offers both (clients
        treat a token and client credentials as mutually exclusive).
        """
        credentials: dict[str, Any] = {}
        use_token = self.token is not None and (auth == "token" or self.credential is None)
        if use_token:
            credentials["token"] = self.token
        elif self.credential is not None:
            client_id, _, client_secret = self.credential.partition(":")
            credentials.update(
                client_id=client_id,
                client_secret=client_secret,
                oauth2_server_uri=self.oauth2_server_uri,
            )
        return CatalogConfig(
            catalog_type="rest",
            catalog_uri=self.uri,
            catalog_name=catalog_name,
            warehouse=self.warehouse,
            credentials=credentials,
        )

    def pyiceberg_properties(self) -> dict[str, str]:
        """Properties for ``pyiceberg.catalog.load_catalog(name, **props)``."""
        props = {"type": "rest", "uri": self.uri, "warehouse": self.warehouse}
        if self.token is not None:
            props["token"] = self.token
        elif self.credential is not None:
            props["credential"] = self.credential
            props["oauth2-server-uri"] = self.oauth2_server_uri
        return props

    def pyiceberg_catalog(self, name: str = "floe") -> Catalog:
        """A pyiceberg client of this catalog (needs the ``iceberg`` extra)."""
        require_extra("the Iceberg checks' pyiceberg client", "iceberg", {"pyiceberg": "pyiceberg"})
        from pyiceberg.catalog import load_catalog  # noqa: PLC0415 - lazy: the pytest plugin imports this module in every run

        return load_catalog(name, **self.pyiceberg_properties())

    def __repr__(self) -> str:  # never print the secrets
        return (
            f"IcebergCatalogEndpoint(uri={self.uri!r}, warehouse={self.warehouse!r}, "
            f"source={self.source!r}, prefix={self.prefix!r}, "
            f"token={'***' if self.token else None}, "
            f"credential={'***' if self.credential else None})"
        )


def _error(message: str, target: str) -> ComputeConnectionError:
    return ComputeConnectionError(message, target=target)


def _get_config(
    uri: str, warehouse: str | None, token: str | None, timeout: float
) -> dict[str, Any]:
    """GET /v1/config; raises OSError (URLError/HTTPError) when it does not answer 200."""
    url = f"{uri.rstrip('/')}/v1/config"
    if warehouse:
        url += "?" + urllib.parse.urlencode({"warehouse": warehouse})
    request = urllib.request.Request(url)  # noqa: S310 - http(s) catalog URIs only, checked by caller
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - as above
        data: dict[str, Any] = json.loads(response.read() or b"{}")
    return data


def _token_for(uri: str, credential: str, timeout: float) -> str:
    client_id, _, client_secret = credential.partition(":")
    body = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked by caller
        f"{uri.rstrip('/')}/v1/oauth/tokens", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - as above
        return str(json.loads(response.read())["access_token"])


def _external(uri: str) -> IcebergCatalogEndpoint:
    if not uri.startswith(("http://", "https://")):
        raise log_error(
            _error(
                f"--floe-iceberg-uri: {uri!r} is not an Iceberg REST catalog URI; "
                "allowed: an http:// or https:// URL such as http://127.0.0.1:8181",
                uri,
            )
        )
    warehouse = os.environ.get(ENV_WAREHOUSE, "")
    token = os.environ.get(ENV_TOKEN) or None
    credential = os.environ.get(ENV_CREDENTIAL) or None
    try:
        bearer = token or (_token_for(uri, credential, _PROBE_TIMEOUT_S) if credential else None)
        config = _get_config(uri, warehouse or None, bearer, _PROBE_TIMEOUT_S)
    except (OSError, ValueError, KeyError) as exc:
        raise log_error(
            _error(
                f"the Iceberg REST catalog at {uri} (--floe-iceberg-uri) does not answer "
                f"GET /v1/config: {exc}; check the URI, and {ENV_TOKEN} / {ENV_CREDENTIAL} / "
                f"{ENV_WAREHOUSE} if it needs them",
                uri,
            )
        ) from exc
    prefix = (config.get("overrides") or {}).get("prefix")
    return IcebergCatalogEndpoint(
        uri=uri.rstrip("/"),
        warehouse=warehouse,
        source="option",
        token=token,
        credential=credential,
        prefix=prefix,
    )


def _wait_answering(uri: str, warehouse: str, token: str | None, deadline: float) -> None:
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            _get_config(uri, warehouse, token, _PROBE_TIMEOUT_S)
            return
        except (OSError, ValueError) as exc:
            last = exc
            time.sleep(0.1)
    raise log_error(
        _error(f"the Iceberg REST catalog at {uri} did not answer in time: {last}", uri)
    )


#: where docker-py and testcontainers look for an engine besides the default socket
_DOCKER_HINT_VARS = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "TC_HOST")
_DOCKER_SOCKET = Path("/var/run/docker.sock")


def _docker_may_answer(environ: Mapping[str, str] | None = None, home: Path | None = None) -> bool:
    """False only when nothing could point docker-py or testcontainers at an engine: no
    variable naming one, no testcontainers or docker client settings, no default socket.

    Importing them and asking costs about 0.4 s of CPU, where most machines have no Docker.
    """
    env = os.environ if environ is None else environ
    if any(env.get(name) for name in _DOCKER_HINT_VARS):
        return True
    try:
        home = Path.home() if home is None else home
    except (KeyError, RuntimeError):  # no home directory: nothing there to read
        home = None
    if home is not None and any(
        (home / name).exists() for name in (".testcontainers.properties", ".docker")
    ):
        return True
    return _DOCKER_SOCKET.exists()


@contextlib.contextmanager
def _testcontainers() -> Iterator[IcebergCatalogEndpoint | None]:
    """The apache/iceberg-rest-fixture container, or None at once when Docker is absent.

    The warehouse is a host directory mounted at the same path in the container, so the
    table files the container's catalog and the host's engine write are the same files.
    """
    if not _docker_may_answer():
        yield None
        return
    try:
        from docker.errors import DockerException  # noqa: PLC0415 - lazy: the pytest plugin imports this module in every run
        from testcontainers.core.container import DockerContainer  # noqa: PLC0415 - lazy: the pytest plugin imports this module in every run
    except ImportError:
        yield None
        return
    try:
        image = os.environ.get(ENV_IMAGE) or REST_FIXTURE_IMAGE
        container = DockerContainer(image)
    except DockerException:  # no engine answers: the constructor fails at once
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="floe-iceberg-") as tmp:
        warehouse_dir = Path(tmp) / "warehouse"
        warehouse_dir.mkdir()
        warehouse_dir.chmod(0o777)  # the container user writes here
        container.with_exposed_ports(8181)
        container.with_env("CATALOG_WAREHOUSE", warehouse_dir.as_uri())
        container.with_volume_mapping(str(warehouse_dir), str(warehouse_dir), "rw")
        try:
            container.start()
        except Exception as exc:  # e.g. an image that cannot be pulled offline
            with contextlib.suppress(Exception):
                container.stop()
            warnings.warn(
                f"Docker answers but the {image} container did not start "
                f"({type(exc).__name__}: {exc}); using the local catalog process instead",
                RuntimeWarning,
                stacklevel=3,
            )
            yield None
            return
        try:
            uri = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8181)}"
            _wait_answering(uri, "", None, time.monotonic() + _START_TIMEOUT_S)
            config = _get_config(uri, None, None, _PROBE_TIMEOUT_S)
            with _running(
                IcebergCatalogEndpoint(
                    uri=uri,
                    warehouse=warehouse_dir.as_uri(),
                    source="testcontainers",
                    prefix=(config.get("overrides") or {}).get("prefix"),
                )
            ) as endpoint:
                yield endpoint
        finally:
            container.stop()


def _read_ready_line(
    proc: subprocess.Popen[str], deadline: float, log_path: Path, secrets: tuple[str, ...]
) -> str:
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if line.startswith("READY "):
                return line.split(None, 1)[1].strip()
            if not line and proc.poll() is not None:
                break
        elif proc.poll() is not None:
            break
    code = proc.poll()
    how = "did not start in time" if code is None else f"did not start (exit code {code})"
    raise log_error(
        _error(
            f"the local Iceberg REST catalog {how}; "
            + log_reference(log_path, _LOG_NAME, secrets=secrets),
            "local",
        )
    )


#: how much lower the local catalog's scheduling priority is than the kit's
CATALOG_NICENESS = 10


def _lower_priority() -> list[str]:
    """``nice -n 10`` before the catalog's command, where there is a ``nice``.

    The catalog starts with the run and imports pyiceberg while dbt's process imports dbt
    for the run's longest chain (the timeout models) on the same two cores; the Iceberg
    checks that wait on it end seconds before that chain. At a lower priority it takes
    the CPU that chain leaves (an integration run: median 11.47 -> 10.95 s, and
    13.4 -> 12.1 s, 5 pairs each). ``nice`` execs the command: the pid is the catalog's.
    """
    found = shutil.which("nice")
    return [found, "-n", str(CATALOG_NICENESS)] if found else []


@contextlib.contextmanager
def _local(workdir: Path | None) -> Iterator[IcebergCatalogEndpoint]:
    """Start the pyiceberg-backed catalog process on a free loopback port; stop it after.

    Its log is kept beside the run's other logs when the run keeps them (``_logs.py``).
    """
    # Without pyiceberg the process dies at import; say so here, not with an exit code.
    require_extra(
        "the local Iceberg REST catalog (the Iceberg checks' default catalog)",
        "iceberg",
        ICEBERG_NEEDS,
        alternative=_NO_PYICEBERG_INSTEAD,
    )
    with tempfile.TemporaryDirectory(prefix="floe-iceberg-", dir=workdir) as tmp:
        root = Path(tmp)
        log_path = root / "catalog.log"
        token = secrets.token_urlsafe(24)
        client_secret = secrets.token_urlsafe(24)
        env = dict(os.environ)
        env["FLOE_ICEBERG_REST_TOKEN"] = token
        env["FLOE_ICEBERG_REST_CLIENT_SECRET"] = client_secret
        command = [
            *_lower_priority(),
            sys.executable,
            "-m",
            "floe_compute_kit.conformance._iceberg_rest",
            "--warehouse",
            str(root / "state"),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--prefix",
            _LOCAL_PREFIX,
            "--client-id",
            _LOCAL_CLIENT_ID,
            "--verbose",
        ]
        with log_path.open("w") as log:
            # cwd: the catalog's own folder, so nothing it does lands in the caller's tree
            proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                command, stdout=subprocess.PIPE, stderr=log, env=env, text=True, cwd=root
            )
        started = False  # a failed start keeps its log for its own message
        try:
            deadline = time.monotonic() + _START_TIMEOUT_S
            uri = _read_ready_line(proc, deadline, log_path, (token, client_secret))
            started = True
            _wait_answering(uri, _LOCAL_PREFIX, token, deadline)
            with _running(
                IcebergCatalogEndpoint(
                    uri=uri,
                    warehouse=_LOCAL_PREFIX,
                    source="local",
                    token=token,
                    credential=f"{_LOCAL_CLIENT_ID}:{client_secret}",
                    prefix=_LOCAL_PREFIX,
                    log_path=log_path,
                )
            ) as endpoint:
                yield endpoint
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
            if started:
                keep_log(log_path, _LOG_NAME, secrets=(token, client_secret))


@contextlib.contextmanager
def iceberg_rest_catalog(
    uri: str | None = None, *, workdir: Path | None = None
) -> Iterator[IcebergCatalogEndpoint]:
    """A running Iceberg REST catalog for the duration of the ``with`` block.

    ``uri`` (``--floe-iceberg-uri``) wins; else a Docker engine runs the
    apache/iceberg-rest-fixture image; else a local process serves one on 127.0.0.1.
    ``FLOE_ICEBERG_SOURCE=local`` skips the Docker probe. Failures raise
    ComputeConnectionError saying what to check; nothing is skipped.
    """
    if uri:
        yield _RUNNING.get(uri.rstrip("/")) or _external(uri)
        return
    wanted = os.environ.get(ENV_SOURCE, "auto").strip().lower() or "auto"
    allowed = ("auto", "testcontainers", "local")
    if wanted not in allowed:
        raise log_error(ComputeConfigurationError.invalid_choice(ENV_SOURCE, wanted, allowed))
    if wanted != "local":
        with _testcontainers() as endpoint:
            if endpoint is not None:
                yield endpoint
                return
        if wanted == "testcontainers":
            raise log_error(
                _error(
                    f"{ENV_SOURCE}=testcontainers but no Docker engine answers; start Docker "
                    f"or unset {ENV_SOURCE} to use the local catalog",
                    "docker",
                )
            )
    with _local(workdir) as endpoint:
        yield endpoint


@contextlib.contextmanager
def _running(endpoint: IcebergCatalogEndpoint) -> Iterator[IcebergCatalogEndpoint]:
    _RUNNING[endpoint.uri] = endpoint
    try:
        yield endpoint
    finally:
        _RUNNING.pop(endpoint.uri, None)
