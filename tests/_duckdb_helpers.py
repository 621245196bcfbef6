"""Shared by the DuckDB plugin's test modules: config strategies and a dbt runner.

The strategies are field-aware on purpose: ``st.builds`` never varies defaulted fields and
``st.from_type`` ignores patterns (DESIGN.md), so every field is drawn here, hostile text too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from hypothesis import assume
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from floe_compute_duckdb.config import (
    RESERVED_ALIASES,
    SETTING_KEYWORDS,
    AttachConfig,
    DuckDBConfig,
)
from floe_compute_duckdb.extensions import OFFLINE_EXTENSIONS

HOSTILE = ["'", '"', ";", "--", "/*", "*/", "\\", "\n", "é", "☃", "\U0001d518", " ", "$", "%", ")"]

identifiers = st.from_regex(r"\A[a-z_][a-z0-9_]{0,12}\Z")
aliases = identifiers.filter(lambda a: a not in RESERVED_ALIASES and a not in SETTING_KEYWORDS)


def _no_jinja(text: str) -> bool:
    return not any(mark in text for mark in ("{{", "{%", "{#"))


texts = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=24),
    st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=6).map("x".join),
).filter(_no_jinja)
nonempty_texts = texts.filter(bool)
scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**31), 2**31),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
known_settings = st.sampled_from(
    [
        ("preserve_insertion_order", False),
        ("threads", 2),
        ("default_null_order", "nulls_last"),
        ("enable_progress_bar", False),
    ]
)
paths = st.one_of(
    st.just(":memory:"),
    st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_ '-]{0,12}\.duckdb\Z"),
    st.tuples(st.sampled_from(["data", "a b", "x'y", "é"]), identifiers).map(
        lambda p: f"{p[0]}/{p[1]}.duckdb"
    ),
)


@st.composite
def attach_configs(draw: st.DrawFn) -> AttachConfig:
    return AttachConfig(
        path=draw(nonempty_texts),
        alias=draw(aliases),
        type=draw(st.sampled_from(["iceberg", "duckdb"])),
        read_only=draw(st.booleans()),
        options=draw(
            st.dictionaries(
                identifiers.filter(lambda k: k not in {"type", "read_only"}),
                st.one_of(st.booleans(), st.integers(0, 10**6), texts),
                max_size=3,
            )
        ),
    )


@st.composite
def duckdb_configs(draw: st.DrawFn, *, extensions: bool = True) -> DuckDBConfig:
    """Valid DuckDBConfigs exercising every field."""
    data: dict[str, Any] = {
        "plugin": "duckdb",
        "path": draw(paths),
        "threads": draw(st.integers(1, 64)),
        "timeout_seconds": draw(st.integers(1, 86400)),
        "memory_limit": draw(st.none() | st.from_regex(r"\A[1-9][0-9]{0,3}(GB|MB)\Z")),
        "extensions": draw(st.lists(st.sampled_from(OFFLINE_EXTENSIONS), max_size=3))
        if extensions
        else [],
        "extension_directory": draw(st.none() | nonempty_texts),
        "settings": dict(draw(st.lists(known_settings, max_size=2)))
        | draw(st.dictionaries(identifiers, scalars, max_size=2)),
        "connection": draw(st.dictionaries(identifiers, scalars, max_size=2)),
        "credentials": {
            # a marker keeps "is the value in the profile?" from matching ordinary words
            k: SecretStr(f"SECRET-{v}")
            for k, v in draw(st.dictionaries(identifiers, texts, max_size=3)).items()
        },
        "secret_type": draw(st.sampled_from(["iceberg", "s3", "http"])),
        "attach": draw(st.lists(attach_configs(), max_size=3, unique_by=lambda a: a.alias)),
    }
    try:
        return DuckDBConfig.model_validate(data)
    except ValidationError:
        assume(False)
        raise  # unreachable: assume(False) rejects the example


PROJECT = Path(__file__).parent / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


def run_dbt(
    args: list[str], profile: dict[str, Any], workdir: Path, *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run dbt on tests/dbt_project with ``profile`` as target, writing only under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    profiles = {"floe_test": {"target": "floe", "outputs": {"floe": profile}}}
    (workdir / "profiles.yml").write_text(yaml.safe_dump(profiles), encoding="utf-8")
    command = [
        str(DBT),
        *args,
        "--project-dir",
        str(PROJECT),
        "--profiles-dir",
        str(workdir),
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
    ]
    full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(env or {})}
    return subprocess.run(
        command, check=False, cwd=workdir, env=full_env, capture_output=True, text=True, timeout=300
    )
