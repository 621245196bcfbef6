"""What the plugin host costs, and the savings that must not weaken a verdict.

The profile checks ask once per config (KIT-270); a plugin that answers differently
on later calls is still caught, in the host and in-process.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from floe_compute_kit.conformance._provenance import providers
from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance.checks import load_catalogue
from floe_compute_kit.conformance.host import HostSettings, PluginHost, _server
from floe_compute_kit.conformance.runner import run_suite
from zoo.hostcost import CASES, CountsProfiles, ZooCase

_PROFILE_IDS = [r.spec.id for r in load_catalogue() if r.spec.id.startswith("profile.")]
_READ_ONLY = ["profile.yaml_round_trip", "profile.plain_types", "profile.type", "profile.threads"]


def _failed(target: str, isolation: str, check_ids: list[str]) -> dict[str, str]:
    suite = run_suite(
        target, level=Level.CORE, max_examples=10, check_ids=check_ids, isolation=isolation
    )
    assert suite.load_error is None
    return {
        r.check_id: r.message for r in suite.results if r.outcome in (Outcome.FAILED, Outcome.ERROR)
    }


@pytest.mark.requirement("KIT-270")
@pytest.mark.parametrize("isolation", ["host", "in-process"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.target.split(":")[1])
def test_later_answers_are_caught_by_deterministic(case: ZooCase, isolation: str) -> None:
    failed = _failed(case.target, isolation, _PROFILE_IDS)
    assert set(failed) == {case.check_id}, failed
    assert "different profiles" in failed[case.check_id]


@pytest.mark.requirement("KIT-270")
def test_read_only_profile_checks_ask_once_per_config() -> None:
    CountsProfiles.calls = 0
    assert _failed("zoo.hostcost:CountsProfiles", "in-process", _READ_ONLY[:1]) == {}
    one_check = CountsProfiles.calls
    CountsProfiles.calls = 0
    assert _failed("zoo.hostcost:CountsProfiles", "in-process", _READ_ONLY) == {}
    assert one_check > 0
    # four checks over the same configs cost what one costs (the profile type read aside)
    assert CountsProfiles.calls <= one_check + 1, (CountsProfiles.calls, one_check)


@pytest.mark.requirement("KIT-274")
def test_providers_agree_with_packages_distributions() -> None:
    expected = md.packages_distributions()
    assert "floe_compute_duckdb" in expected
    assert {top: list(providers(top)) for top in expected} == {
        top: list(names) for top, names in expected.items()
    }
    assert list(providers("floe_no_such_package")) == []


@pytest.mark.requirement("KIT-273")
@pytest.mark.parametrize(
    ("spec", "settings", "expect"),
    [
        ("duckdb", HostSettings(), "config_model"),
        ("zoo.broken_import:BrokenImportPlugin", HostSettings(), "floe_no_such_engine_driver"),
        ("zoo.sleepy_import:Plugin", HostSettings(load_deadline_s=2.0), "did not return within 2"),
    ],
    ids=["loads", "import-fails", "import-hangs"],
)
def test_begin_then_finish_answers_as_start(
    spec: str, settings: HostSettings, expect: str, tmp_path: Path
) -> None:
    host = PluginHost(spec, tmp_path, settings)
    try:
        host.begin()
        assert host.alive()  # spawned, and loading while the kit does its own start-up
        load_catalogue()
        reply = host.finish()
        assert expect in json.dumps(reply)
        assert ("failure" in reply) is (spec != "duckdb")
        if spec == "duckdb":
            assert host.request({"op": "get", "name": "name"}, "name")["value"] == "duckdb"
    finally:
        host.close()
    assert not host.alive()


def _spawn_from_thread() -> subprocess.Popen[bytes]:
    made: list[subprocess.Popen[bytes]] = []
    worker = threading.Thread(target=lambda: made.append(subprocess.Popen(["sleep", "30"])))
    worker.start()
    worker.join()  # the thread that made the child has ended
    return made[0]


@pytest.mark.requirement("KIT-271")
def test_child_scan_reads_the_task_lists_and_misses_nothing() -> None:
    child = _spawn_from_thread()
    try:
        listed = _server._listed_children()
        assert listed is not None  # this kernel offers /proc/self/task/*/children
        assert child.pid in listed
        assert child.pid in _server._children()
        for pid in listed:  # each one listed is a child of this process
            stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            assert stat[1] == str(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert child.pid not in _server._children()  # reaped: gone from both


@pytest.mark.requirement("KIT-271")
def test_effects_still_see_env_cwd_thread_and_child(tmp_path: Path) -> None:
    effects = _server._Effects()
    assert effects.collect("quiet") == []
    os.environ["FLOE_HOSTCOST_PROBE"] = "1"
    os.chdir(tmp_path)
    stop = threading.Event()
    stray = threading.Thread(target=stop.wait, name="floe-stray", daemon=True)
    stray.start()
    child = _spawn_from_thread()
    try:
        found = "\n".join(effects.collect("meddles"))
    finally:
        stop.set()
        child.wait()
    assert "changed the environment: FLOE_HOSTCOST_PROBE" in found
    assert "changed the working directory" in found
    assert "floe-stray" in found
    assert f"pids {child.pid}" in found
    assert "FLOE_HOSTCOST_PROBE" not in os.environ  # undone
    assert Path.cwd() != tmp_path
