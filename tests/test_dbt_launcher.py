"""The prewarmed dbt launcher, with real dbt and real DuckDB.

A dbt child of the launcher must be indistinguishable from a fresh ``dbt`` process where
the kit looks (exit code, env, cwd, output lines as they come), a deadline must kill its
whole process group, a dead launcher must cost the run nothing but speed, and nothing it
started may outlive the run.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from floe_compute_kit.conformance._check import CheckContext
from floe_compute_kit.conformance._dbt_launcher import (
    BASE_ENV,
    ENV_SWITCH,
    DbtLauncher,
    Launched,
    launcher_enabled,
    launcher_for,
)
from floe_compute_kit.conformance.checks._dbt import StopWhen, _follow, dbt_command, dbt_process
from floe_compute_kit.conformance.checks._support import PROFILE_TYPE_KEY
from floe_compute_kit.conformance.engines import engine_for

pytestmark = [pytest.mark.requirement("KIT-260"), pytest.mark.slow]

_MACROS = """\
{% macro floe_probe() %}
  {% do print('FLOE_PROBE ' ~ env_var('FLOE_LAUNCHER_PROBE', 'unset')) %}
{% endmacro %}
{% macro floe_fail() %}
  {% do exceptions.raise_compiler_error('floe planted failure') %}
{% endmacro %}
{% macro floe_hang() %}
  {% do print('FLOE_HANGING') %}
  {% do run_query(%(slow)r) %}
{% endmacro %}
"""


def _project(root: Path) -> Path:
    """A one-macro-file project on a DuckDB file, its profiles.yml beside it."""
    project = root / "project"
    (project / "macros").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {"name": "floe_probe", "version": "1.0.0", "config-version": 2, "profile": "p"}
        ),
        encoding="utf-8",
    )
    slow = engine_for("duckdb").slow_query(120.0)
    (project / "macros" / "probe.sql").write_text(
        _MACROS.replace("%(slow)r", repr(slow)), encoding="utf-8"
    )
    profile = {"type": "duckdb", "path": str(root / "probe.duckdb"), "threads": 1}
    (project / "profiles.yml").write_text(
        yaml.safe_dump({"p": {"target": "t", "outputs": {"t": profile}}}), encoding="utf-8"
    )
    return project


def _args(project: Path, macro: str) -> list[str]:
    # no --project-dir: dbt finds the project in its cwd, which proves the cwd
    return ["run-operation", macro, "--profiles-dir", str(project)]


def _launch(launcher: DbtLauncher, project: Path, macro: str) -> Launched | None:
    """``dbt run-operation MACRO`` asked of ``launcher`` as the kit asks it (its child, or None)."""
    return launcher.launch(
        [dbt_command()[0], *_args(project, macro)], cwd=project, env={**os.environ, **BASE_ENV}
    )


def _run(
    ctx: CheckContext | None,
    project: Path,
    macro: str,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    watchdog: Callable[[], StopWhen] | None = None,
) -> tuple[int | None, str, str | None]:
    """``dbt run-operation MACRO`` the kit's way (through the run's launcher for a ctx)."""
    return dbt_process(
        ctx,
        _args(project, macro),
        cwd=project if cwd is None else cwd,
        env=env or {},
        deadline_s=120,
        watchdog=watchdog,
    )


def _gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (a zombie waiting for init counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True
    return state in {"Z", "X"}


def _group_gone(pgid: int) -> bool:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in {"Z", "X"}:
            members.append(stat.parent.name)
    return not members


def _run_context(workdir: Path) -> CheckContext:
    context = CheckContext(plugin=None, plugin_spec="probe", config_model=dict, workdir=workdir)
    context.extra[PROFILE_TYPE_KEY] = "duckdb"  # the server warms dbt-duckdb, as in a run
    return context


@pytest.fixture
def ctx(tmp_path: Path) -> CheckContext:
    context = _run_context(tmp_path)
    yield context
    context.close()


@pytest.fixture(scope="module")
def shared_ctx(tmp_path_factory: pytest.TempPathFactory) -> CheckContext:
    """One run's context for the tests that only ask its launcher to run dbt (none kills
    or replaces it): a server's start is seconds of CPU, paid once for them."""
    context = _run_context(tmp_path_factory.mktemp("shared-run"))
    yield context
    context.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _project(tmp_path / "dbt")


@pytest.mark.requirement("KIT-260")
def test_exit_codes_and_output_match_a_fresh_dbt(shared_ctx: CheckContext, project: Path) -> None:
    launcher = launcher_for(shared_ctx)
    assert launcher is not None
    assert launcher.alive()
    for macro, code in (("floe_probe", 0), ("floe_fail", 1), ("floe_no_such_macro", 2)):
        through = _run(shared_ctx, project, macro)
        fresh = _run(None, project, macro)
        assert through[0] == fresh[0] == code, (macro, through[1], fresh[1])
        assert ("floe planted failure" in through[1]) == (macro == "floe_fail")
    assert launcher.starts == 1
    assert launcher.alive()


@pytest.mark.requirement("KIT-260")
def test_env_is_exactly_what_each_run_asked_for(shared_ctx: CheckContext, project: Path) -> None:
    first = _run(shared_ctx, project, "floe_probe", env={"FLOE_LAUNCHER_PROBE": "first-run"})
    second = _run(shared_ctx, project, "floe_probe")
    assert (first[0], second[0]) == (0, 0)
    assert "FLOE_PROBE first-run" in first[1], first[1]
    assert "FLOE_PROBE unset" in second[1], second[1]
    assert "FLOE_LAUNCHER_PROBE" not in os.environ


@pytest.mark.requirement("KIT-260")
def test_the_cwd_is_the_one_asked_for(
    shared_ctx: CheckContext, project: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ok = _run(shared_ctx, project, "floe_probe")
    lost = _run(shared_ctx, project, "floe_probe", cwd=elsewhere)
    assert ok[0] == 0
    assert lost[0] != 0
    assert "dbt_project.yml" in lost[1], lost[1]


@pytest.mark.requirement("KIT-260", "KIT-261")
def test_output_lines_arrive_while_dbt_runs(shared_ctx: CheckContext, project: Path) -> None:
    """stop_when sees the line printed before a query that never ends, and stops it."""
    seen: list[list[str]] = []

    def stop_when(lines: list[str], _elapsed: float) -> str | None:
        if any("FLOE_HANGING" in line for line in lines):
            seen.append(lines)
            return "the mark was seen"
        return None

    code, output, stopped = _run(shared_ctx, project, "floe_hang", watchdog=lambda: stop_when)
    assert stopped == "the mark was seen"
    assert code is None
    assert seen
    assert "FLOE_HANGING" in output


@pytest.mark.requirement("KIT-261")
def test_a_deadline_kills_the_whole_process_group(shared_ctx: CheckContext, project: Path) -> None:
    launcher = launcher_for(shared_ctx)
    assert launcher is not None
    child = _launch(launcher, project, "floe_hang")
    assert child is not None
    assert child.stdout is not None
    hanging = threading.Event()

    def read_to_the_mark() -> None:
        for line in iter(child.stdout.readline, ""):
            if "FLOE_HANGING" in line:
                hanging.set()
                return

    # the deadline is followed once dbt is in the query, which never ends
    reader = threading.Thread(target=read_to_the_mark, daemon=True)
    reader.start()
    reader.join(timeout=120)
    assert hanging.is_set(), "dbt never reached the slow query"
    code, _, stopped = _follow(child, deadline_s=1.0, stop_when=None)
    assert code is None
    assert stopped is not None
    assert "did not finish within" in stopped
    assert _group_gone(child.pid)
    assert child.returncode == -signal.SIGKILL  # the launcher reaped it and said so


def _children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in {"Z", "X"}:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.requirement("KIT-262")
def test_a_child_that_cannot_start_ends_and_the_server_serves_on(
    shared_ctx: CheckContext, project: Path, tmp_path: Path
) -> None:
    # Its cwd is gone: the child exits 1 instead of running the server's loop beside it.
    launcher = launcher_for(shared_ctx)
    assert launcher is not None
    child = launcher.launch(
        ["dbt", "--version"], cwd=tmp_path / "gone", env={**os.environ, **BASE_ENV}
    )
    assert child is not None
    assert child.stdout.read()  # the traceback, where dbt's output would be
    assert child.wait(60) == 1
    assert launcher.pid is not None
    assert _children_of(launcher.pid) == []
    after = _run(shared_ctx, project, "floe_probe")
    assert after[0] == 0
    assert launcher.starts == 1


@pytest.mark.requirement("KIT-262")
def test_a_killed_launcher_is_replaced_and_the_run_falls_back(
    ctx: CheckContext, project: Path
) -> None:
    launcher = launcher_for(ctx)
    assert launcher is not None
    assert launcher.pid is not None
    first_pid = launcher.pid
    os.kill(first_pid, signal.SIGKILL)
    fell_back = _run(ctx, project, "floe_probe")
    assert fell_back[0] == 0
    assert "FLOE_PROBE unset" in fell_back[1]
    assert launcher.alive()
    assert launcher.pid != first_pid
    again = _run(ctx, project, "floe_probe")
    assert again[0] == 0
    assert launcher.starts == 2


@pytest.mark.requirement("KIT-262")
def test_a_launcher_dying_mid_run_reruns_dbt_plainly(ctx: CheckContext, project: Path) -> None:
    launcher = launcher_for(ctx)
    assert launcher is not None
    assert launcher.pid is not None
    made: list[int] = []

    def watchdog() -> StopWhen:
        made.append(len(made))

        def stop_when(_lines: list[str], _elapsed: float) -> str | None:
            if len(made) == 1 and launcher.pid is not None:
                os.kill(launcher.pid, signal.SIGKILL)  # the first attempt loses its launcher
            return None

        return stop_when

    code, output, stopped = _run(ctx, project, "floe_probe", watchdog=watchdog)
    assert (stopped, code) == (None, 0)
    assert "FLOE_PROBE unset" in output, output
    assert made == [0, 1]  # a fresh watchdog for the plain rerun


@pytest.mark.requirement("KIT-261")
def test_nothing_is_left_running_after_the_run(ctx: CheckContext, project: Path) -> None:
    launcher = launcher_for(ctx)
    assert launcher is not None
    assert launcher.pid is not None
    server = launcher.pid
    child = _launch(launcher, project, "floe_hang")
    assert child is not None
    ctx.close()  # mid-query: the run ends
    assert _gone(server)
    assert _group_gone(child.pid)


@pytest.mark.requirement("KIT-262")
def test_the_switch_turns_it_off_and_a_bad_value_is_named(
    ctx: CheckContext, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_SWITCH, "0")
    assert launcher_for(ctx) is None
    done = _run(ctx, project, "floe_probe")
    assert done[0] == 0
    assert "FLOE_PROBE unset" in done[1]
    assert launcher_enabled({})
    assert launcher_enabled({ENV_SWITCH: "1"})
    with pytest.raises(ValueError, match=rf"{ENV_SWITCH}='maybe'.*set it to 0"):
        launcher_enabled({ENV_SWITCH: "maybe"})


@pytest.mark.requirement("KIT-262")
def test_the_docs_name_the_switch_and_what_falls_back() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "certification.md").read_text()
    section = doc[doc.index("### How the kit runs dbt") : doc.index("## Waivers")]
    assert f"`{ENV_SWITCH}=0`" in section
    assert launcher_enabled({ENV_SWITCH: "0"}) is False
    assert "plain `dbt` subprocess" in section


_LEAVE = """
import atexit, sys, threading, time
from floe_compute_kit.conformance import _dbt_server as server
out = sys.argv[1]
atexit.register(lambda: open(out + ".atexit", "w").write("ran"))
before = open(out + ".server", "w")  # opened by the server, before it froze its heap
server._freeze()
before.write("the server's file, written by the child")
kept = open(out + ".buffered", "w")
kept.write("never flushed by the code that wrote it")
def late():
    time.sleep(0.2)
    open(out + ".thread", "w").write("joined")
threading.Thread(target=late).start()
print("to stdout, buffered", end="")
arg = sys.argv[2]
server._leave(server._exit_code(int(arg) if arg.lstrip("-").isdigit() else arg))
"""


@pytest.mark.requirement("KIT-260")
@pytest.mark.parametrize(("code", "status"), [("3", 3), ("-1", 255), ("a message", 1)])
def test_a_child_leaves_as_the_interpreter_would_without_its_teardown(
    tmp_path: Path, code: str, status: int
) -> None:
    # The child skips only the modules' teardown: atexit hooks, non-daemon threads, open
    # files and the exit status are as a normal exit leaves them.
    import subprocess
    import sys

    out = tmp_path / "left"
    done = subprocess.run(
        [sys.executable, "-c", _LEAVE, str(out), code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == status, done.stderr
    assert done.stdout == "to stdout, buffered"
    assert (tmp_path / "left.atexit").read_text() == "ran"
    assert (tmp_path / "left.thread").read_text() == "joined"
    assert (tmp_path / "left.buffered").read_text() == "never flushed by the code that wrote it"
    assert (tmp_path / "left.server").read_text() == "the server's file, written by the child"
    assert ("a message" in done.stderr) == (status == 1)


_WARM = """
import gc, importlib, json, sys, threading
from floe_compute_kit.conformance import _dbt_server as server
from dbt_common.dataclass_schema import dbtClassMixin
from dbt_common.clients import jinja
from dbt.clients import jinja_static
cache = dbtClassMixin.json_schema.__func__
before = cache.cache_info().currsize
server._warm(sys.argv[1] or None)
named = [(module, name) for module, names in server._SCHEMAS for name in names]
print(json.dumps({
    "before": before,
    "after": cache.cache_info().currsize,
    "named": len(named),
    "missing": [f"{m}.{n}" for m, n in named if not hasattr(importlib.import_module(m), n)],
    "threads": threading.active_count(),
    "parsed": sorted(jinja._TESTING_PARSE_CACHE),
    "calls": len(jinja_static._TESTING_MACRO_CACHE),
    "adapter": "dbt.adapters.duckdb" in sys.modules,
    "frozen": gc.get_freeze_count(),
    "left": len(gc.get_objects()),
}))
"""


def _script(script: str, *args: str, cwd: Path | None = None) -> dict[str, Any]:
    """``python -c SCRIPT ARGS`` in the env the kit gives dbt: the JSON of its last line."""
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        env={**os.environ, **BASE_ENV},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _warmed(adapter_type: str) -> dict[str, Any]:
    return _script(_WARM, adapter_type)


@pytest.fixture(scope="module")
def warmed_duckdb() -> dict[str, Any]:
    """What a server warmed for dbt-duckdb holds (one warm, seconds of CPU, for two tests)."""
    return _warmed("duckdb")


@pytest.mark.requirement("KIT-260")
def test_the_server_builds_dbts_schemas_once_for_every_child(
    warmed_duckdb: dict[str, Any],
) -> None:
    """Every class the server warms exists in the installed dbt (a renamed one would be
    skipped silently, and each child would build its schema again), each one's schema is
    then in dbt's own cache, and the server is still single-threaded (it forks)."""
    found = warmed_duckdb
    assert found["missing"] == []
    assert found["before"] == 0
    assert found["after"] >= found["named"] + 1  # nested classes, and DuckDBCredentials
    assert found["threads"] == 1


@pytest.mark.requirement("KIT-260")
def test_the_server_parses_the_internal_macros_once_for_every_child(
    warmed_duckdb: dict[str, Any],
) -> None:
    """Every macro block of dbt's global project and of the adapter's package is in dbt's
    parse caches, as dbt's macro parser and its dependency pass look them up (by their
    source), the adapter is imported, and the heap is frozen; an adapter type that is no
    module warms the global project alone."""
    from dbt.adapters.duckdb import Plugin
    from dbt.include.global_project import PACKAGE_PATH
    from dbt_common.clients.jinja import BlockTag, extract_toplevel_blocks
    from dbt_common.clients.system import load_file_contents

    def blocks(package: str) -> set[str]:
        found = set()
        for folder in ("macros", "tests/generic"):
            for path in (Path(package) / folder).rglob("*.sql"):
                for block in extract_toplevel_blocks(
                    load_file_contents(str(path)),  # as dbt reads it (stripped)
                    allowed_blocks={"macro", "materialization", "test", "data_test"},
                    collect_raw_data=False,
                ):
                    if isinstance(block, BlockTag):
                        found.add(block.full_block)
        return found

    internal, adapter = blocks(PACKAGE_PATH), blocks(Plugin.include_path)
    warmed = warmed_duckdb
    assert len(internal) > 300
    assert adapter
    assert internal | adapter <= set(warmed["parsed"])
    assert warmed["calls"] >= len(internal | adapter)
    assert warmed["adapter"]
    assert warmed["frozen"] > 100_000
    assert warmed["left"] < warmed["frozen"] / 10
    for bad in ("no_such_adapter", "../duckdb"):
        plain = _warmed(bad)
        assert not plain["adapter"]
        assert internal <= set(plain["parsed"])
        assert not adapter - internal <= set(plain["parsed"])


_PARSE_WARMED = """
import json, sys
from floe_compute_kit.conformance import _dbt_server as server
from dbt_common.clients import jinja
server._warm("duckdb")
seen = {"parsed": 0, "extracted": 0, "parse_misses": [], "extract_misses": 0}
parse, extract = jinja.parse, jinja.extract_toplevel_blocks
def counted_parse(string):
    seen["parsed"] += 1
    if str(string) not in jinja._TESTING_PARSE_CACHE:
        seen["parse_misses"].append(str(string)[:80])
    return parse(string)
def counted_extract(text, allowed_blocks=None, collect_raw_data=True, **kwargs):
    seen["extracted"] += 1
    key = jinja._get_blocks_hash(text, allowed_blocks, collect_raw_data)
    seen["extract_misses"] += key not in jinja._TESTING_BLOCKS_CACHE
    return extract(text, allowed_blocks, collect_raw_data, **kwargs)
jinja.parse, jinja.extract_toplevel_blocks = counted_parse, counted_extract
from dbt.cli.main import dbtRunner
done = dbtRunner().invoke(sys.argv[1:])
print(json.dumps({**seen, "success": done.success}))
"""


@pytest.mark.requirement("KIT-260")
def test_a_dbt_parse_after_the_warm_finds_every_internal_macro_parsed(tmp_path: Path) -> None:
    """What a child's parse looks up, it finds: dbt reads a macro file stripped and its
    generic tests from ``tests/generic``, so a warm that read the files otherwise would
    miss the last block of each file and every file's block extraction."""
    project = _project(tmp_path)
    (project / "macros" / "probe.sql").unlink()  # only dbt's own macros to parse
    args = ["parse", "--project-dir", str(project), "--profiles-dir", str(project)]
    seen = _script(_PARSE_WARMED, *args, cwd=project)
    assert seen["success"]
    assert seen["parsed"] > 300
    assert seen["extracted"] > 100
    assert seen["parse_misses"] == []
    assert seen["extract_misses"] == 0


def _launcher_log(launcher: DbtLauncher) -> str:
    return launcher.log_path.read_text(encoding="utf-8") if launcher.log_path.exists() else ""


@pytest.mark.requirement("KIT-260")
def test_a_server_started_before_the_plugin_loads_warms_the_adapter_it_is_told(
    tmp_path: Path, project: Path
) -> None:
    """start_early: dbt is imported while the plugin loads; the type told afterwards is
    the one warmed, and the run's dbt goes through that same server."""
    from floe_compute_kit.conformance._dbt_launcher import prewarm, start_early
    from floe_compute_kit.conformance._results import Level

    assert start_early(tmp_path / "core", Level.CORE) is None  # core runs no dbt
    early = start_early(tmp_path, Level.EXTENDED)
    assert early is not None
    assert early.alive()
    context = CheckContext(plugin=None, plugin_spec="probe", config_model=dict, workdir=tmp_path)
    context.extra[PROFILE_TYPE_KEY] = "duckdb"
    try:
        prewarm(context, Level.EXTENDED, early)
        assert launcher_for(context) is early
        assert early.adapter_type == "duckdb"
        code, output, _ = _run(context, project, "floe_probe")
        assert code == 0, output
        assert "warmed for duckdb" in _launcher_log(early)
        assert early.starts == 1
    finally:
        context.close()
    assert early.pid is None or _gone(early.pid)


@pytest.mark.requirement("KIT-260")
def test_a_server_never_told_its_adapter_warms_dbt_alone_and_serves(
    tmp_path: Path, project: Path
) -> None:
    launcher = DbtLauncher(tmp_path / "launcher", type_later=True)
    assert launcher.start()
    try:
        child = _launch(launcher, project, "floe_probe")
        assert child is not None, "the request itself tells the server to go on"
        assert "FLOE_PROBE" in child.stdout.read()
        assert child.wait(60) == 0
        assert "warmed for no adapter" in _launcher_log(launcher)
    finally:
        launcher.close()


@pytest.mark.requirement("KIT-261")
def test_a_server_waiting_for_its_adapter_ends_when_the_kit_goes(tmp_path: Path) -> None:
    launcher = DbtLauncher(tmp_path / "launcher", type_later=True)
    assert launcher.start()
    server = launcher._proc
    assert server is not None
    try:
        assert launcher._control is not None
        launcher._control.close()  # never told: the server sees the socket close
        assert server.wait(timeout=120) == 0, "it ends by itself, not killed"
    finally:
        launcher.close()
    assert "Traceback" not in _launcher_log(launcher)


@pytest.mark.requirement("KIT-260")
def test_a_told_type_that_is_not_an_adapter_module_is_not_sent(
    tmp_path: Path, project: Path
) -> None:
    launcher = DbtLauncher(tmp_path / "launcher", type_later=True)
    assert launcher.start()
    try:
        launcher.tell_adapter_type("duckdb\nr")  # a newline would end the line early
        assert launcher.adapter_type is None
        launcher.tell_adapter_type("duckdb")  # told once: later answers change nothing
        assert launcher.adapter_type is None
        child = _launch(launcher, project, "floe_probe")
        assert child is not None, "the server read one line, and then the request"
        assert "FLOE_PROBE" in child.stdout.read()
        assert child.wait(60) == 0
        assert "warmed for no adapter" in _launcher_log(launcher)
    finally:
        launcher.close()


@pytest.mark.requirement("KIT-260")
def test_an_urgent_request_is_forked_before_the_warm_ends_holding_no_other_pipe(
    tmp_path: Path,
) -> None:
    """The timeout models' run does not wait for the server's warm; a request that came
    before it and waits for the warm gets all of its output when its own dbt ends, not
    when the urgent one does (the urgent child closed the held request's pipe)."""
    import time

    quick, slow = _project(tmp_path / "quick"), _project(tmp_path / "slow")
    env = {**os.environ, **BASE_ENV}
    launcher = DbtLauncher(tmp_path / "launcher", type_later=True)
    assert launcher.start()
    children: dict[str, Any] = {}

    def launch(name: str, project: Path, macro: str, urgent: bool) -> None:
        children[name] = launcher.launch(
            [dbt_command()[0], *_args(project, macro)], cwd=project, env=env, urgent=urgent
        )

    try:
        launcher.tell_adapter_type("duckdb")
        held = threading.Thread(target=launch, args=("held", quick, "floe_probe", False))
        held.start()
        time.sleep(0.5)  # its request first; the server is still importing dbt
        launch("urgent", slow, "floe_hang", True)
        held.join(timeout=120)
        held_child, urgent_child = children["held"], children["urgent"]
        assert held_child is not None
        assert urgent_child is not None
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.append(held_child.stdout.read()))
        reader.start()
        reader.join(timeout=60)
        assert not reader.is_alive(), "the held request's output never ended"
        assert "FLOE_PROBE" in output[0]
        assert held_child.wait(60) == 0
        assert urgent_child.poll() is None, "the urgent one still runs its slow query"
        assert "1 urgent request(s) forked before" in _launcher_log(launcher)
    finally:
        launcher.close()


@pytest.mark.requirement("KIT-261")
def test_a_server_warming_forks_no_held_request_once_the_kit_is_gone(tmp_path: Path) -> None:
    import time

    project = _project(tmp_path / "p")
    launcher = DbtLauncher(tmp_path / "launcher", type_later=True)
    assert launcher.start()
    server = launcher._proc
    assert server is not None
    got: list[Any] = []
    try:
        launcher.tell_adapter_type("duckdb")
        waiting = threading.Thread(
            target=lambda: got.append(_launch(launcher, project, "floe_probe"))
        )
        waiting.start()
        time.sleep(0.5)  # the request is sent; the server is still importing dbt
        assert launcher._control is not None
        launcher._control.close()  # the kit goes while the request waits for the warm
        assert server.wait(timeout=120) == 0
        waiting.join(timeout=60)
        assert got == [None], "no child was forked for it"
    finally:
        launcher.close()
