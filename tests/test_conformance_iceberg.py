"""The catalog fixture: how it picks its source, and that it starts, serves and stops one."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

# Imported here, not first inside an in-process pytester run: pytester drops the modules a
# run imported, and requests' cookie classes then no longer match (ValueError: You can only
# merge into CookieJar).
import pyiceberg.catalog.rest  # noqa: F401
import pytest

from floe_compute_kit import ComputeConfigurationError, ComputeConnectionError
from floe_compute_kit.conformance import iceberg
from floe_compute_kit.conformance.iceberg import (
    ENV_CREDENTIAL,
    ENV_SOURCE,
    ENV_TOKEN,
    ENV_WAREHOUSE,
    IcebergCatalogEndpoint,
    iceberg_rest_catalog,
)

pytestmark = pytest.mark.requirement("KIT-015")


def _docker_answers() -> bool:
    """Asked independently of the fixture: does a Docker engine answer here?"""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=3)
        client.ping()
    except DockerException:
        return False
    return True


def _answers(uri: str) -> bool:
    try:
        with urllib.request.urlopen(uri + "/v1/config", timeout=2):  # noqa: S310 - loopback http
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IcebergCatalogEndpoint]:
    """A local catalog that the "external URI" tests reach under another host name."""
    with iceberg._local(tmp_path_factory.mktemp("ext")) as endpoint:
        yield endpoint


def _as_external(endpoint: IcebergCatalogEndpoint) -> str:
    # Same server, a URI string this process did not start: the option path is taken.
    return endpoint.uri.replace("127.0.0.1", "localhost")


def test_without_a_uri_docker_is_tried_then_a_local_process_serves(tmp_path: Path) -> None:
    with iceberg_rest_catalog(workdir=tmp_path) as endpoint:
        assert endpoint.source == ("testcontainers" if _docker_answers() else "local")
        client = endpoint.pyiceberg_catalog("auto")
        client.create_namespace("probe")
        assert ("probe",) in client.list_namespaces()
        uri = endpoint.uri
    assert not _answers(uri), "the catalog must stop when the with-block ends"
    assert list(tmp_path.iterdir()) == [], "the catalog's files must be removed"


@pytest.mark.parametrize("variable", ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "TC_HOST"])
def test_docker_is_asked_when_a_variable_may_point_at_an_engine(
    variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(iceberg, "_DOCKER_SOCKET", tmp_path / "no.sock")
    assert not iceberg._docker_may_answer({}, tmp_path)
    assert iceberg._docker_may_answer({variable: "unix:///elsewhere.sock"}, tmp_path)


@pytest.mark.parametrize("name", [".docker", ".testcontainers.properties"])
def test_docker_is_asked_when_client_settings_exist(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(iceberg, "_DOCKER_SOCKET", tmp_path / "no.sock")
    (tmp_path / name).mkdir()
    assert iceberg._docker_may_answer({}, tmp_path)


def test_docker_is_asked_when_the_default_socket_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path = tmp_path / "docker.sock"
    monkeypatch.setattr(iceberg, "_DOCKER_SOCKET", socket_path)
    assert not iceberg._docker_may_answer({}, tmp_path)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(socket_path))
        assert iceberg._docker_may_answer({}, tmp_path)


def test_without_any_sign_of_docker_the_catalog_starts_without_importing_it(
    tmp_path: Path,
) -> None:
    """docker-py and testcontainers cost ~0.4 s of CPU to import and ask; not asked here."""
    if iceberg._docker_may_answer():
        pytest.fail("this test needs a machine without Docker (the CI machine has none)")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from floe_compute_kit.conformance.iceberg import iceberg_rest_catalog\n"
        "with iceberg_rest_catalog(workdir=Path(sys.argv[1])) as endpoint:\n"
        "    assert endpoint.source == 'local', endpoint.source\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'docker', 'testcontainers'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_the_local_source_serves_on_loopback_with_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_SOURCE, "local")
    with iceberg_rest_catalog(workdir=tmp_path) as endpoint:
        assert endpoint.source == "local"
        assert endpoint.uri.startswith("http://127.0.0.1:")
        assert endpoint.token
        assert endpoint.credential
        assert endpoint.prefix == "floe"
        assert endpoint.log_path is not None
        assert endpoint.log_path.is_file()


def test_an_unknown_source_names_the_variable_and_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_SOURCE, "kubernetes")
    with pytest.raises(ComputeConfigurationError) as info, iceberg_rest_catalog():
        pass
    assert info.value.field == ENV_SOURCE
    assert info.value.value == "kubernetes"
    assert info.value.allowed == ["auto", "testcontainers", "local"]


def test_demanding_testcontainers_without_docker_fails_instead_of_falling_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_SOURCE, "testcontainers")
    if _docker_answers():
        with iceberg_rest_catalog() as endpoint:
            assert endpoint.source == "testcontainers"
        return
    with (
        pytest.raises(ComputeConnectionError, match="no Docker engine answers"),
        iceberg_rest_catalog(),
    ):
        pass


def test_an_external_uri_is_used_with_the_token_from_the_environment(
    running: IcebergCatalogEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert running.token is not None
    monkeypatch.setenv(ENV_TOKEN, running.token)
    monkeypatch.setenv(ENV_WAREHOUSE, "floe")
    with iceberg_rest_catalog(_as_external(running)) as endpoint:
        assert endpoint.source == "option"
        assert endpoint.uri == _as_external(running)
        assert endpoint.prefix == "floe"  # read from the catalog's /v1/config
        client = endpoint.pyiceberg_catalog("external")
        client.create_namespace("via_option")
    assert ("via_option",) in running.pyiceberg_catalog("direct").list_namespaces()
    assert _answers(running.uri), "an external catalog is not stopped by the fixture"


def test_an_external_uri_with_client_credentials(
    running: IcebergCatalogEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert running.credential is not None
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    monkeypatch.setenv(ENV_CREDENTIAL, running.credential)
    monkeypatch.setenv(ENV_WAREHOUSE, "floe")
    with iceberg_rest_catalog(_as_external(running)) as endpoint:
        assert endpoint.token is None
        assert endpoint.credential == running.credential
        assert isinstance(endpoint.pyiceberg_catalog("cc").list_namespaces(), list)


def test_an_external_uri_that_refuses_us_says_what_to_check(
    running: IcebergCatalogEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (ENV_TOKEN, ENV_CREDENTIAL):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ComputeConnectionError) as info, iceberg_rest_catalog(_as_external(running)):
        pass
    message = str(info.value)
    assert "--floe-iceberg-uri" in message
    assert ENV_TOKEN in message
    assert "401" in message


def test_an_unreachable_uri_fails_at_once_naming_it() -> None:
    uri = f"http://127.0.0.1:{_free_port()}"
    with (
        pytest.raises(ComputeConnectionError, match="does not answer") as info,
        iceberg_rest_catalog(uri),
    ):
        pass
    assert info.value.target == uri


def test_a_uri_that_is_not_http_is_refused_naming_the_allowed_form() -> None:
    with (
        pytest.raises(ComputeConnectionError, match=r"allowed: an http:// or https:// URL"),
        iceberg_rest_catalog("thrift://metastore:9083"),
    ):
        pass


def test_the_uri_of_a_catalog_this_process_runs_keeps_its_credentials(
    running: IcebergCatalogEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check handed only ctx.iceberg_uri of the fixture's catalog can still log in."""
    monkeypatch.delenv(ENV_TOKEN, raising=False)
    with iceberg_rest_catalog(running.uri) as endpoint:
        assert endpoint is running


def test_secrets_stay_out_of_repr_and_go_into_the_catalog_config(
    running: IcebergCatalogEndpoint,
) -> None:
    assert running.token is not None
    assert running.credential is not None
    assert running.token not in repr(running)
    assert running.credential.partition(":")[2] not in repr(running)

    by_token = running.catalog_config("lake")
    assert by_token.catalog_type == "rest"
    assert (by_token.catalog_uri, by_token.warehouse) == (running.uri, running.warehouse)
    assert by_token.credentials["token"].get_secret_value() == running.token
    assert "client_id" not in by_token.credentials

    by_client = running.catalog_config("lake", auth="client_credentials")
    client_id, _, client_secret = running.credential.partition(":")
    assert by_client.credentials["client_id"].get_secret_value() == client_id
    assert by_client.credentials["client_secret"].get_secret_value() == client_secret
    assert (
        by_client.credentials["oauth2_server_uri"].get_secret_value().endswith("/v1/oauth/tokens")
    )
    assert "token" not in by_client.credentials


def test_the_pytest_fixture_serves_one_catalog_per_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_uses_catalog="""
        def test_one(floe_iceberg_catalog):
            client = floe_iceberg_catalog.pyiceberg_catalog("a")
            client.create_namespace("shared")
            assert floe_iceberg_catalog.source in ("local", "testcontainers")

        def test_two(floe_iceberg_catalog):
            # the same session catalog: the namespace made by test_one is there
            client = floe_iceberg_catalog.pyiceberg_catalog("b")
            assert ("shared",) in client.list_namespaces()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_pytest_fixture_uses_the_floe_iceberg_uri_option(
    pytester: pytest.Pytester, running: IcebergCatalogEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert running.token is not None
    monkeypatch.setenv(ENV_TOKEN, running.token)
    monkeypatch.setenv(ENV_WAREHOUSE, "floe")
    pytester.makepyfile(
        test_uses_option="""
        def test_external(floe_iceberg_catalog):
            assert floe_iceberg_catalog.source == "option"
            assert floe_iceberg_catalog.prefix == "floe"
            floe_iceberg_catalog.pyiceberg_catalog("x").create_namespace("from_option")
        """
    )
    result = pytester.runpytest(f"--floe-iceberg-uri={_as_external(running)}")
    result.assert_outcomes(passed=1)
    assert ("from_option",) in running.pyiceberg_catalog("check").list_namespaces()


def test_the_fixture_works_where_the_option_is_not_registered(pytester: pytest.Pytester) -> None:
    """With the kit's pytest plugin disabled, a conftest import still gives the fixture."""
    pytester.makeconftest(
        "from floe_compute_kit.conformance.iceberg import floe_iceberg_catalog  # noqa: F401\n"
    )
    pytester.makepyfile(
        test_plain="""
        def test_plain(floe_iceberg_catalog):
            assert floe_iceberg_catalog.uri.startswith("http")
        """
    )
    result = pytester.runpytest("-p", "no:floe_conformance")
    result.assert_outcomes(passed=1)


def _doc_snippets() -> list[str]:
    text = (Path(__file__).parents[1] / "docs" / "iceberg.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_docs_snippets_run(pytester: pytest.Pytester) -> None:
    """docs/iceberg.md shows a test using the fixture and a with-block; both must work."""
    as_test, as_script = _doc_snippets()
    exec(compile(as_script, "docs/iceberg.md", "exec"), {})  # noqa: S102 - our own docs' snippet
    pytester.makepyfile(test_from_docs=as_test)
    # A subprocess, as a user runs it; it must also exit cleanly (no crash at exit).
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
