"""The no-I/O sandbox catches real sockets, processes, writes and database connections."""

from __future__ import annotations

import doctest
import importlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from floe_compute_kit.conformance.sandbox import (
    EXEMPT_METHODS,
    Violation,
    call_sandboxed,
    forbid_io,
)
from floe_compute_kit.errors import IOViolationError

pytestmark = pytest.mark.requirement("FR-004a")


@pytest.fixture
def tcp_server() -> Iterator[tuple[socket.socket, int]]:
    """A real listening socket on loopback; the test checks whether anyone connected."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    yield server, server.getsockname()[1]
    server.close()


def _accepted(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except TimeoutError:
        return False
    conn.close()
    return True


def plugin_connects(port: int) -> None:
    """Stands in for a plugin method that opens a socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(("127.0.0.1", port))


def test_socket_connect_is_blocked_and_named(tcp_server: tuple[socket.socket, int]) -> None:
    server, port = tcp_server
    with pytest.raises(IOViolationError) as caught, forbid_io(method="generate_dbt_profile") as rec:
        plugin_connects(port)
    assert caught.value.kind == "socket"
    assert caught.value.method == "generate_dbt_profile"
    assert caught.value.detail == f"socket.connect(('127.0.0.1', {port}))"
    assert isinstance(caught.value, PermissionError)
    assert [v.kind for v in rec.violations] == ["socket"]
    assert not _accepted(server), "the blocked connect must never reach the server"


def test_socket_connect_recorded_without_blocking(tcp_server: tuple[socket.socket, int]) -> None:
    server, port = tcp_server
    with forbid_io(method="generate_dbt_profile", block=False) as rec:
        plugin_connects(port)
    assert _accepted(server), "with block=False the connection really happens"
    assert [v.detail for v in rec.violations] == [f"socket.connect(('127.0.0.1', {port}))"]
    assert "plugin_connects" in rec.violations[0].stack


def test_create_connection_is_stopped_at_name_resolution(
    tcp_server: tuple[socket.socket, int],
) -> None:
    server, port = tcp_server
    with pytest.raises(IOViolationError) as caught, forbid_io(method="generate_dbt_profile"):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert caught.value.detail == f"socket.getaddrinfo('127.0.0.1', {port})"
    assert not _accepted(server)


def test_name_resolution_is_a_socket_violation() -> None:
    with forbid_io(method="get_required_dbt_packages", block=False) as rec:
        socket.getaddrinfo("localhost", 5432)
    assert [(v.kind, v.detail) for v in rec.violations] == [
        ("socket", "socket.getaddrinfo('localhost', 5432)")
    ]


def test_subprocess_is_blocked_before_it_starts(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]
    with pytest.raises(IOViolationError) as caught, forbid_io(method="get_resource_requirements"):
        subprocess.run(command, check=True)
    assert caught.value.kind == "subprocess"
    assert caught.value.detail == f"subprocess.Popen({command!r})"
    assert not marker.exists()


def test_subprocess_recorded_without_blocking(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]
    with forbid_io(method="get_resource_requirements", block=False) as rec:
        subprocess.run(command, check=True)
    assert marker.exists()
    assert [v.kind for v in rec.violations] == ["subprocess"]


def test_os_system_is_a_subprocess_violation(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(IOViolationError) as caught, forbid_io(method="generate_dbt_profile"):
        os.system(f"touch {marker}")  # noqa: S605 - the call under test; nothing runs
    assert caught.value.kind == "subprocess"
    assert caught.value.detail.startswith("os.system(")
    assert not marker.exists()


WRITES: dict[str, Callable[[Path], object]] = {
    "open_w": lambda p: open(p / "x.txt", "w"),  # noqa: SIM115 - blocked before it returns
    "open_append": lambda p: open(p / "x.txt", "a"),  # noqa: SIM115 - blocked before it returns
    "write_text": lambda p: (p / "x.txt").write_text("data"),
    "touch": lambda p: (p / "x.txt").touch(),
    "os_open_creat": lambda p: os.open(p / "x.txt", os.O_WRONLY | os.O_CREAT),
    "mkdir": lambda p: (p / "x.txt").mkdir(),
    "copyfile": lambda p: shutil.copyfile(p / "source", p / "x.txt"),
}


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_file_writes_are_blocked_and_nothing_is_written(write: str, tmp_path: Path) -> None:
    (tmp_path / "source").write_text("s")
    with pytest.raises(IOViolationError) as caught, forbid_io(method="generate_dbt_profile"):
        WRITES[write](tmp_path)
    assert caught.value.kind == "file_write"
    assert str(tmp_path / "x.txt") in caught.value.detail
    assert not (tmp_path / "x.txt").exists()


def test_open_for_write_is_named_like_the_call(tmp_path: Path) -> None:
    target = tmp_path / "profile.yml"
    with forbid_io(method="generate_dbt_profile", block=False) as rec, open(target, "w") as fh:
        fh.write("x")
    assert [v.detail for v in rec.violations] == [f"open({str(target)!r}, 'w')"]


def test_remove_and_rename_are_writes(tmp_path: Path) -> None:
    victim = tmp_path / "keep.txt"
    victim.write_text("precious")
    with pytest.raises(IOViolationError), forbid_io(method="get_catalog_attachment_sql"):
        victim.unlink()
    with pytest.raises(IOViolationError), forbid_io(method="get_catalog_attachment_sql"):
        victim.rename(tmp_path / "moved.txt")
    assert victim.read_text() == "precious"


def test_sqlite_connect_is_blocked(tmp_path: Path) -> None:
    database = tmp_path / "state.sqlite"
    with pytest.raises(IOViolationError) as caught, forbid_io(method="generate_dbt_profile"):
        sqlite3.connect(database)
    assert caught.value.kind == "db_connect"
    assert caught.value.detail.startswith("sqlite3.connect(")
    assert "state.sqlite" in caught.value.detail
    assert not database.exists()


def test_duckdb_connect_is_blocked_and_the_guard_removed_after(tmp_path: Path) -> None:
    original = duckdb.connect
    database = tmp_path / "w.duckdb"
    with pytest.raises(IOViolationError) as caught, forbid_io(method="generate_dbt_profile"):
        duckdb.connect(str(database))
    assert caught.value.kind == "db_connect"
    assert caught.value.detail == f"duckdb.connect({str(database)!r})"
    assert not database.exists()
    assert duckdb.connect is original, "the driver is unwrapped when the sandbox closes"
    duckdb.connect(":memory:").close()


def test_duckdb_default_connection_sql_is_recorded() -> None:
    with forbid_io(method="get_catalog_attachment_sql", block=False) as rec:
        duckdb.sql("SELECT 42").fetchall()
    assert [(v.kind, v.detail) for v in rec.violations] == [
        ("db_connect", "duckdb.sql('SELECT 42')")
    ]


def test_reads_and_imports_are_not_violations(tmp_path: Path) -> None:
    package = tmp_path / "pkg_for_sandbox_test"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 7\n")
    sys.path.insert(0, str(tmp_path))
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        with forbid_io(method="generate_dbt_profile") as rec:
            module = importlib.import_module("pkg_for_sandbox_test")
            text = Path(__file__).read_text()
            listing = os.listdir(tmp_path)
    finally:
        sys.path.remove(str(tmp_path))
        sys.dont_write_bytecode = dont_write
        sys.modules.pop("pkg_for_sandbox_test", None)
    assert rec.violations == []
    assert module.VALUE == 7
    assert "test_reads_and_imports" in text
    assert "pkg_for_sandbox_test" in listing
    # The import really wrote its bytecode cache: bookkeeping happened and was ignored.
    assert list((package / "__pycache__").glob("*.pyc"))


def test_no_effect_outside_the_sandbox(tmp_path: Path) -> None:
    with forbid_io(method="generate_dbt_profile") as rec:
        pass
    (tmp_path / "after.txt").write_text("ok")
    sqlite3.connect(tmp_path / "after.sqlite").close()
    assert rec.violations == []
    assert (tmp_path / "after.txt").read_text() == "ok"


def test_another_threads_io_is_not_attributed(tmp_path: Path) -> None:
    inside, written = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_thread() -> None:
        inside.wait(5)
        try:
            (tmp_path / "other.txt").write_text("from another thread")
        except BaseException as exc:  # recorded and asserted below
            errors.append(exc)
        written.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with forbid_io(method="generate_dbt_profile") as rec:
        inside.set()
        assert written.wait(5)
    worker.join()
    assert errors == []
    assert rec.violations == []
    assert (tmp_path / "other.txt").exists()


def test_call_sandboxed_in_a_worker_thread(tmp_path: Path) -> None:
    def plugin_method(name: str) -> str:
        try:
            (tmp_path / name).write_text("x")
        except OSError:
            return "swallowed"  # a careless plugin that hides the error
        return "wrote"

    with ThreadPoolExecutor(1) as pool:
        result, violations = pool.submit(
            call_sandboxed, plugin_method, "a.txt", method="generate_dbt_profile"
        ).result()
    assert result == "swallowed"
    assert [v.kind for v in violations] == ["file_write"]
    assert "plugin_method" in violations[0].stack
    assert not (tmp_path / "a.txt").exists()
    (tmp_path / "main.txt").write_text("the calling thread was never sandboxed")


def test_call_sandboxed_notes_violations_on_a_wrapped_error(tmp_path: Path) -> None:
    def plugin_method() -> None:
        try:
            (tmp_path / "x").write_text("x")
        except OSError as exc:
            raise RuntimeError("plugin failed") from exc

    with pytest.raises(RuntimeError) as caught:
        call_sandboxed(plugin_method, method="generate_dbt_profile")
    assert any("file_write" in note for note in caught.value.__notes__)


def test_location_points_at_the_plugin_frame(tmp_path: Path) -> None:
    def careless_plugin_method() -> None:
        (tmp_path / "y").write_text("y")

    with pytest.raises(IOViolationError) as caught:
        call_sandboxed(careless_plugin_method, method="generate_dbt_profile")
    assert caught.value.location.startswith(__file__)
    assert caught.value.location.endswith("in careless_plugin_method")
    assert "careless_plugin_method" in str(caught.value)


def test_nested_sandboxes_record_in_both_and_unwind(tmp_path: Path) -> None:
    with forbid_io(method="outer", block=False) as outer:
        with forbid_io(method="inner", block=False) as inner:
            (tmp_path / "one").write_text("1")
        (tmp_path / "two").write_text("2")
    (tmp_path / "three").write_text("3")
    assert len(inner.violations) == 1
    assert len(outer.violations) == 2
    assert all(isinstance(v, Violation) for v in outer.violations)


def test_concurrent_sandboxes_keep_their_own_violations(tmp_path: Path) -> None:
    barrier = threading.Barrier(2)

    def run(name: str) -> list[str]:
        def method() -> None:
            barrier.wait(5)
            (tmp_path / name).write_text(name)
            barrier.wait(5)

        _, violations = call_sandboxed(method, method=name, block=False)
        return [v.detail for v in violations]

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(run, ["first", "second"])
    assert first == [f"open({str(tmp_path / 'first')!r}, 'w')"]
    assert second == [f"open({str(tmp_path / 'second')!r}, 'w')"]


def test_validate_connection_is_the_only_exempt_method() -> None:
    assert frozenset({"validate_connection"}) == EXEMPT_METHODS


def test_docstring_examples_run() -> None:
    from floe_compute_kit.conformance import sandbox

    result = doctest.testmod(sandbox)
    assert result.attempted >= 3
    assert result.failed == 0


def test_a_lazy_driver_import_inside_the_method_is_still_guarded() -> None:
    code = (
        "import sys\n"
        "from floe_compute_kit.conformance.sandbox import forbid_io\n"
        "assert 'duckdb' not in sys.modules\n"
        "with forbid_io(method='generate_dbt_profile', block=False) as rec:\n"
        "    import duckdb\n"
        "    duckdb.connect(':memory:').close()\n"
        "print([v.detail for v in rec.violations])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[\"duckdb.connect(':memory:')\"]"
