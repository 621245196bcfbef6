"""The plugin host: whatever a plugin does to its process ends as a failed check.

Each hostile plugin in tests/zoo/hostile.py runs in the host; the suite finishes,
the failure names what the plugin did, no process is left behind, and nothing the
plugin does reaches the kit's own process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from floe_compute_kit.conformance._results import Level, Outcome, SuiteResult
from floe_compute_kit.conformance.host import HostSettings, PluginDiedError, PluginHungError
from floe_compute_kit.conformance.runner import run_suite
from zoo.hostile import CHILD_MARKER

pytestmark = pytest.mark.requirement("FR-003")

_H = "zoo.hostile:"
#: plugin -> (a check that must fail, a phrase its message must contain)
HOSTILE = {
    "ExitsInProfile": (
        "profile.type",
        "ended its process with exit code 3 inside generate_dbt_profile",
    ),
    "SegfaultInResources": (
        "resources.presets",
        "killed by SIGSEGV inside get_resource_requirements",
    ),
    "InterruptsInPackages": ("packages.pep508", "KeyboardInterrupt"),
    "ExitsInValidate": ("connection.never_raises", "SystemExit"),
    "ClosesStdout": ("plugin.side_effects", "closed file descriptor 1"),
    "RaisingIterable": ("packages.pep508", "list of strings"),
    "ExitsZeroOnName": ("metadata.name", "SystemExit"),
    "MockResult": ("connection.result_type", "MagicMock"),
    "SetInProfile": ("profile.plain_types", "set"),
    "BytesInProfile": ("profile.plain_types", "bytes"),
    "DatetimeInProfile": ("profile.plain_types", "datetime"),
    "IntKeyInProfile": ("profile.plain_types", "int key"),
    "LeavesChild": ("plugin.side_effects", "child process"),
    "ChdirRoot": ("plugin.side_effects", "working directory"),
    "ChangesEnviron": ("plugin.side_effects", "FLOE_ZOO_PLANTED"),
    "ReplacesSignal": ("plugin.side_effects", "SIGTERM"),
    "NonDaemonThread": ("plugin.side_effects", "zoo-sleeper"),
    "RegexHang": ("resources.presets", "did not return within 3 s"),
    "SleepsInResources": ("resources.presets", "did not return within 3 s"),
    "CopiedSpecAboveLimit": ("resources.presets", "cpu_request"),
}
_FAST = HostSettings(call_deadline_s=3.0, load_deadline_s=20.0)


def _stray(marker: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(cmdline.decode(errors="replace"))
    return found


def _run(target: str, **kwargs: object) -> SuiteResult:
    return run_suite(target, max_examples=5, host_settings=_FAST, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("plugin", "expected"), HOSTILE.items(), ids=list(HOSTILE))
def test_hostile_plugin_fails_a_check_that_names_it(plugin: str, expected: tuple[str, str]) -> None:
    cwd, env = os.getcwd(), dict(os.environ)
    suite = _run(_H + plugin)
    check_id, phrase = expected
    results = suite.by_id()
    assert suite.isolation == "host"
    assert not suite.passed
    assert check_id in results, sorted(results)
    assert results[check_id].outcome is Outcome.FAILED, results[check_id]
    assert phrase in results[check_id].message, results[check_id].message
    assert os.getcwd() == cwd
    assert dict(os.environ) == env
    if plugin == "LeavesChild":  # the only plugin that starts one: none outlives its run
        assert _stray(CHILD_MARKER) == []


def test_a_hung_method_is_not_waited_for_twice() -> None:
    suite = _run(_H + "SleepsInResources")
    messages = [r.message for r in suite.results if "get_resource_requirements" in r.message]
    assert any("did not return within 3 s" in m for m in messages)
    assert any("hung earlier" in m for m in messages), messages


def test_an_interrupt_in_init_fails_loading() -> None:
    suite = _run(_H + "InterruptsInInit")
    assert suite.load_error is not None
    assert "KeyboardInterrupt" in suite.load_error


def test_an_import_that_never_finishes_fails_loading() -> None:
    suite = run_suite("zoo.sleepy_import:Plugin", host_settings=HostSettings(load_deadline_s=3.0))
    assert suite.load_error is not None
    assert "loading the plugin did not return within 3 s" in suite.load_error


def test_a_plugin_that_patches_the_kit_cannot_certify() -> None:
    suite = _run("zoo.patches_kit:PatchesTheKit")
    assert "zoo.patches_kit" not in sys.modules
    failed = {r.check_id for r in suite.results if r.outcome is Outcome.FAILED}
    assert "profile.timeout" in failed


@pytest.mark.parametrize("plugin", ["PrintsTwentyMegabytes", "StructuralApiInInit"])
def test_correct_plugins_that_are_noisy_or_structural_pass(plugin: str) -> None:
    suite = _run(_H + plugin)
    assert {r.check_id: r.message for r in suite.results if r.outcome is Outcome.FAILED} == {}
    assert suite.load_error is None


def test_host_and_in_process_agree_on_the_reference_plugin() -> None:
    host = run_suite("duckdb", max_examples=10, isolation="host")
    local = run_suite("duckdb", max_examples=10, isolation="in-process")
    assert host.passed, [r for r in host.results if r.outcome is not Outcome.PASSED]
    side = {"plugin.side_effects", "secrets.telemetry"}  # seen only in a host
    assert {r.check_id: r.outcome for r in host.results if r.check_id not in side} == {
        r.check_id: r.outcome for r in local.results if r.check_id not in side
    }
    assert local.by_id()["plugin.side_effects"].outcome is Outcome.UNSUPPORTED
    assert local.by_id()["secrets.telemetry"].outcome is Outcome.UNSUPPORTED


def _report_cli(tmp_path: Path, plugin: str) -> subprocess.CompletedProcess[str]:
    """``floe-conformance report`` as a user runs it, in ``tmp_path``, writing ``cert/``."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "floe_compute_kit.cli.conformance",
            "report",
            "--plugin",
            _H + plugin,
            "--out",
            "cert",
            "--max-examples",
            "5",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def test_report_cli_gives_exit_1_and_a_certificate_for_a_plugin_that_exits_zero(
    tmp_path: Path,
) -> None:
    out = tmp_path / "cert"
    done = _report_cli(tmp_path, "ExitsZeroOnName")
    assert done.returncode == 1, done.stdout + done.stderr
    text = (out / "certificate.json").read_text(encoding="utf-8")
    assert '"certified": false' in text
    assert "SystemExit" in text


def test_report_cli_writes_where_asked_when_the_plugin_changes_directory(tmp_path: Path) -> None:
    done = _report_cli(tmp_path, "ChdirRoot")
    assert done.returncode == 1, done.stdout + done.stderr
    assert (tmp_path / "cert" / "certificate.json").is_file()
    assert not (tmp_path / ".hypothesis").exists()


@pytest.mark.parametrize("level", [Level.CORE])
def test_slow_health_plugin_is_still_certified(level: Level) -> None:
    suite = run_suite(_H + "SlowHealth", level=level, max_examples=5)
    assert {r.check_id: r.message for r in suite.results if r.outcome is Outcome.FAILED} == {}


@pytest.mark.requirement("FR-002")
def test_the_mirror_of_a_config_with_a_schema_field_builds_without_a_warning() -> None:
    """The kit's stand-in for a database config (PostgreSQL's has ``schema``) is built in
    every hosted run: it must not warn "shadows an attribute in parent" either."""
    import warnings

    from floe_compute_kit.conformance.host._mirror import mirror_model
    from floe_compute_postgres.config import PostgresConfig

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mirror = mirror_model("PostgresConfig", PostgresConfig.model_json_schema())
    assert "schema" in mirror.model_fields
    assert mirror.model_fields["schema"].default == PostgresConfig.model_fields["schema"].default


def _counting(host: Any) -> list[str]:
    """The ops of every request the kit sends ``host`` from now on."""
    sent: list[str] = []
    original = host.request

    def request(message: dict[str, Any], method: str) -> dict[str, Any]:
        sent.append(str(message.get("op")))
        return original(message, method)  # type: ignore[no-any-return]

    host.request = request
    return sent


def _verdicts(model: Any, items: list[dict[str, Any]]) -> list[Any]:
    from pydantic import ValidationError

    out: list[Any] = []
    for data in items:
        try:
            out.append(model.model_validate(data).model_dump())
        except ValidationError as exc:
            out.append(sorted(".".join(map(str, e["loc"])) for e in exc.errors()))
    return out


_ITEMS = [
    {"threads": 2},
    {"threads": 0},
    {"attach": [{"path": "wh", "alias": "select"}]},
    {"settings": {"by": 1}},
    {"path": ":memory:", "extensions": ["json"]},
]


@pytest.mark.requirement("KIT-007")
def test_prefetched_verdicts_are_the_host_s_one_by_one_in_one_trip(tmp_path: Path) -> None:
    from floe_compute_kit.conformance.host._client import load_in_host
    from floe_compute_kit.conformance.host._mirror import prefetch_validations

    # one host at a time: hosts of one schema share its mirror, which asks the newest
    alone = load_in_host("duckdb", tmp_path / "a")
    try:
        expected = _verdicts(alone.config_model, _ITEMS)
    finally:
        alone.instance.floe_host.close()
    batched = load_in_host("duckdb", tmp_path / "b")
    try:
        sent = _counting(batched.instance.floe_host)
        prefetch_validations(batched.config_model, _ITEMS)
        assert _verdicts(batched.config_model, _ITEMS) == expected
        assert sent == ["validate_many"]  # the validations after it cost no trip
        assert sum(isinstance(v, list) for v in expected) == 3  # rejections are in it too
    finally:
        batched.instance.floe_host.close()


@pytest.mark.requirement("KIT-007")
def test_a_slow_validator_gets_a_short_batch_and_the_rest_one_by_one(tmp_path: Path) -> None:
    """The host stops a batch after about a second: each config left out is asked alone,
    within a deadline of its own, so a slow validator is never called hung by a batch."""
    from floe_compute_kit.conformance.host._client import load_in_host
    from floe_compute_kit.conformance.host._mirror import prefetch_validations

    loaded = load_in_host("zoo.hostcost:SlowValidator", tmp_path)
    try:
        sent = _counting(loaded.instance.floe_host)
        items = [{"threads": n} for n in (1, 2, 3, 4, 5)]
        prefetch_validations(loaded.config_model, items)
        assert [v["threads"] for v in _verdicts(loaded.config_model, items)] == [1, 2, 3, 4, 5]
        assert sent[0] == "validate_many"
        assert 1 <= sent.count("validate") <= 3  # 0.4 s each: the batch held 3 or so
        assert not loaded.instance.floe_host.hung
    finally:
        loaded.instance.floe_host.close()


def _threads(model: Any, *counts: int) -> list[Any]:
    return [model.model_validate({"threads": n}) for n in counts]


@pytest.mark.requirement("KIT-001")
def test_calls_made_ahead_answer_as_the_calls_one_by_one(tmp_path: Path) -> None:
    from floe_compute_kit.conformance.host._client import load_in_host

    loaded = load_in_host("duckdb", tmp_path)
    try:
        plugin = loaded.instance
        configs = _threads(loaded.config_model, 1, 2, 3, 2)
        one_by_one = [plugin.floe_call("generate_dbt_profile", c) for c in configs]
        sent = _counting(plugin.floe_host)
        plugin.floe_prefetch_calls("generate_dbt_profile", [[c] for c in configs])
        plugin.floe_prefetch_calls("generate_dbt_profile", [[c] for c in configs], sandboxed=True)
        ahead = [plugin.floe_call("generate_dbt_profile", c) for c in configs]
        sandboxed = []
        for config in configs:
            sandboxed.append(plugin.floe_call("generate_dbt_profile", config, sandboxed=True))
            assert plugin.last_violations == []
            assert plugin.last_args_after == [config]
        assert ahead == one_by_one == sandboxed
        calls = [op for op in sent if op.startswith("call")]  # (args_after is validated)
        assert calls == ["call_many", "call_many"]
        plugin.floe_call("generate_dbt_profile", configs[0])  # each reply is taken once
        assert sent[-1] == "call"
    finally:
        loaded.instance.floe_host.close()


@pytest.mark.requirement("FR-003")
@pytest.mark.parametrize(
    ("plugin", "error"),
    [("ExitsOnThreeThreads", PluginDiedError), ("HangsOnThreeThreads", PluginHungError)],
)
def test_a_call_that_ends_a_batch_is_met_by_its_own_call(
    tmp_path: Path, plugin: str, error: type[Exception]
) -> None:
    """The batch fails as a whole; the calls are then made one by one, so the failure is
    met (and reported) by the call with the config that causes it, not the first one."""
    from floe_compute_kit.conformance.host._client import load_in_host

    settings = HostSettings(call_deadline_s=2.0, load_deadline_s=20.0)
    loaded = load_in_host(f"zoo.hostcost:{plugin}", tmp_path, settings)
    try:
        remote = loaded.instance
        configs = _threads(loaded.config_model, 1, 2, 3, 4)
        remote.floe_prefetch_calls("generate_dbt_profile", [[c] for c in configs])
        assert not remote.floe_host.hung  # nobody is blamed for the batch
        for config in configs[:2]:
            assert remote.floe_call("generate_dbt_profile", config)["type"] == "duckdb"
        with pytest.raises(error):
            remote.floe_call("generate_dbt_profile", configs[2])
        sent = _counting(remote.floe_host)
        remote.floe_prefetch_calls("generate_dbt_profile", [[c] for c in configs])
        assert sent == []  # a method that ended a batch is called one at a time from then on
    finally:
        loaded.instance.floe_host.close()
