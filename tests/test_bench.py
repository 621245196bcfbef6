"""Every bench runs from an installed package: nothing it imports comes from tests/.

Static (benches are not run here: their figures are timings, never asserts). Each bench's
imports are resolved with only the installed environment and bench/ on the path, as
``python bench/<name>.py`` has them; each also prints its figures through ``_goals``.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.requirement("KIT-170")

BENCH = Path(__file__).resolve().parents[1] / "bench"
TESTS = Path(__file__).resolve().parent
BENCHES = sorted(p.name for p in BENCH.glob("bench_*.py"))


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("name", BENCHES)
def test_a_bench_imports_nothing_from_tests(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    source = (BENCH / name).read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert "tests" not in {
        c.value.split("/")[0]
        for c in ast.walk(tree)
        if isinstance(c, ast.Constant) and c.value
        if isinstance(c.value, str)
    }, "a path into tests/"
    path = [p for p in sys.path if Path(p or ".").resolve() != TESTS]
    monkeypatch.setattr(sys, "path", [str(BENCH), *path])
    for module in sorted(_imported(tree)):
        spec = importlib.util.find_spec(module)
        assert spec is not None, f"{name} imports {module}, which is not installed"
        origin = Path(spec.origin or next(iter(spec.submodule_search_locations or []), ""))
        assert TESTS not in origin.resolve().parents, f"{name} imports {module} from tests/"


@pytest.mark.parametrize("name", BENCHES)
def test_a_bench_prints_its_figures_beside_goals(name: str) -> None:
    tree = ast.parse((BENCH / name).read_text(encoding="utf-8"))
    calls = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert "figure" in calls  # at least one figure judged against a goal
    assert "verdict" in calls
    bare_prints = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == "print"
        and any(isinstance(a, ast.JoinedStr) and " ms" in ast.unparse(a) for a in n.args)
    ]
    assert not bare_prints, f"timings printed without a goal at lines {bare_prints}"
