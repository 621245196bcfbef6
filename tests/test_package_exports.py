"""Every package says what it exports in ``__all__``, and lazy packages resolve exactly that.

STYLE.md asks for explicit import lists with ``__all__``. Two packages keep a PEP 562
lazy map instead, because the pytest11 plugin imports them in every pytest run: there a
public name is written three times (the TYPE_CHECKING import mypy reads, the ``_LAZY``
map the runtime reads, ``__all__``), and this test is what keeps the three in step.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.requirement("KIT-252")

SRC = Path(__file__).parent.parent / "src"
INITS = sorted(SRC.rglob("__init__.py"))
#: the packages whose import must stay cheap (see their docstrings)
LAZY = ("floe_compute_kit", "floe_compute_kit.conformance", "floe_compute_kit.conformance.host")


def package_of(init: Path) -> str:
    return ".".join(init.parent.relative_to(SRC).parts)


def literal_all(tree: ast.Module) -> list[str]:
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            assert node.value is not None
            value = ast.literal_eval(node.value)
            assert isinstance(value, list), "__all__ must be a literal list, for mypy"
            return value
    raise AssertionError("no __all__")


def type_checking_imports(tree: ast.Module) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom)
                assert imp.module is not None
                names.update({a.asname or a.name: imp.module for a in imp.names})
    return names


def top_level(tree: ast.Module, package: str) -> tuple[set[str], set[str]]:
    """(names bound here, names that must be exported: defined here or from own submodules)."""
    bound: set[str] = set()
    required: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            names = {a.asname or a.name for a in node.names}
            bound |= names
            if (node.module or "").startswith(f"{package}."):
                required |= names
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
            required.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            bound |= names
            required |= names
    return bound, {n for n in required if not n.startswith("_") or n == "__version__"}


@pytest.mark.parametrize("init", INITS, ids=package_of)
def test_all_lists_every_public_name(init: Path) -> None:
    package = package_of(init)
    tree = ast.parse(init.read_text())
    exported = literal_all(tree)
    assert len(exported) == len(set(exported)), "a name is listed twice in __all__"
    lazy = set(type_checking_imports(tree))
    bound, required = top_level(tree, package)
    assert required | lazy <= set(exported), "public names missing from __all__"
    assert set(exported) <= bound | lazy, "__all__ lists names the package does not bind"
    module = importlib.import_module(package)
    for name in exported:
        assert getattr(module, name) is not None or name in vars(module), name


@pytest.mark.parametrize("package", LAZY)
def test_a_lazy_map_resolves_exactly_what_mypy_sees(package: str) -> None:
    init = SRC.joinpath(*package.split("."), "__init__.py")
    seen_by_mypy = type_checking_imports(ast.parse(init.read_text()))
    module = importlib.import_module(package)
    assert seen_by_mypy == module._LAZY  # same names, each from the same module
    for name, source in seen_by_mypy.items():
        assert getattr(module, name) is getattr(importlib.import_module(source), name)
    assert set(dir(module)) == set(module.__all__)
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018 - the lookup is the test


def test_the_lazy_packages_import_nothing_heavy() -> None:
    code = (
        "import sys, floe_compute_kit, floe_compute_kit.conformance\n"
        "print(sorted(m for m in ('pydantic', 'hypothesis', 'duckdb', 'dbt', 'opentelemetry')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
