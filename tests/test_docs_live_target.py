"""docs/certification.md's live-target hook: the snippet is a LiveTargetHook the kit uses."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from floe_compute_kit.conformance import LiveTargetHook, live_config
from floe_compute_kit.conformance._results import Level, Outcome
from floe_compute_kit.conformance._scaffold import _plugin_source, names_for
from floe_compute_kit.conformance.checks.integration import DBT_BUILD_ID
from floe_compute_kit.conformance.runner import run_suite

pytestmark = pytest.mark.requirement("KIT-200", "KIT-020")

DOC = Path(__file__).resolve().parents[1] / "docs" / "certification.md"


def _snippet() -> dict[str, object]:
    [block] = re.findall(r"```python live-target\n(.*?)```", DOC.read_text(), flags=re.S)
    namespace: dict[str, object] = {"__name__": "docs_live_target"}
    exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own docs' snippet
    return namespace


def test_the_documented_hook_is_the_protocol_and_the_kit_builds_against_it(
    tmp_path: Path,
) -> None:
    cls = _snippet()["MyPlugin"]
    assert isinstance(cls, type)
    assert isinstance(cls(), LiveTargetHook)
    suite = run_suite(cls, level=Level.INTEGRATION, check_ids=[DBT_BUILD_ID], workdir=tmp_path)
    [result] = suite.results
    assert result.outcome is Outcome.PASSED, result.message
    with duckdb.connect(str(tmp_path / "mine.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from customer_totals").fetchone() == (4,)
    assert callable(live_config)


def test_the_scaffold_carries_the_hook_and_says_what_networked_plugins_need() -> None:
    source = _plugin_source(names_for("mydb"))
    assert "def conformance_live_target(self, workdir: Path) -> dict[str, Any] | None:" in source
    assert "--floe-target FILE" in source
    assert "networked engine" in source


def test_pytest_and_the_report_cli_take_the_target_file(pytester: pytest.Pytester) -> None:
    from floe_compute_kit.cli.conformance import build_parser

    assert "--floe-target" in pytester.runpytest("--help").stdout.str()
    report = build_parser()._subparsers._group_actions[0].choices["report"]  # type: ignore[union-attr]
    with pytest.raises(SystemExit):
        report.parse_args(["--plugin", "duckdb", "--target", str(pytester.path / "missing.yaml")])
    target = pytester.path / "t.yaml"
    target.write_text("plugin: duckdb\n")
    assert report.parse_args(["--plugin", "duckdb", "--floe-target", str(target)]).target == target
