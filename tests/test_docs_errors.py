"""The snippets of docs/errors.md run, and its table names every error errors.py exports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from floe_compute_kit import errors

DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
TEXT = DOC.read_text(encoding="utf-8")
SNIPPETS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.DOTALL)


@pytest.mark.requirement("KIT-250")
@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_each_snippet_runs(code: str) -> None:
    exec(compile(code, str(DOC), "exec"), {"__name__": "docs_errors"})  # noqa: S102 - our own doc


@pytest.mark.requirement("KIT-250")
def test_the_table_names_every_error_with_its_fields() -> None:
    assert len(SNIPPETS) == 3
    for name in errors.__all__:
        cls = getattr(errors, name)
        if not (isinstance(cls, type) and issubclass(cls, errors.ComputeError)):
            continue
        if cls is errors.ComputeError:
            continue
        (row,) = [line for line in TEXT.splitlines() if line.startswith(f"| `{name}` |")]
        own = [f for f in cls._fields if f not in ("plugin_name", "correlation_id")]
        for field in own:
            assert f"`{field}`" in row or "as above" in row, (name, field)
