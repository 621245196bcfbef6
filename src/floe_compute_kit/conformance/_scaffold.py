"""``floe-conformance init``: a new plugin package whose own tests say what is left to write.

The skeleton is complete enough to install and load (metadata, config model, entry
point), and every method an author must write raises NotImplementedError naming the
method and what the contract asks of it; the generated tests subclass the contract
suite, so the first ``pytest`` run lists each of those messages.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from string import Template
from typing import Final

from floe_compute_kit._atomic import AtomicWriteError, make_folder, write_atomic
from floe_compute_kit.errors import ComputeConfigurationError

__all__ = ["NAME_PATTERN", "TODO_METHODS", "names_for", "scaffold"]

NAME_PATTERN: Final = r"^[a-z][a-z0-9_]*$"

#: method -> what the NotImplementedError tells the author to write.
TODO_METHODS: Final = {
    "generate_dbt_profile": (
        "return the dbt target for config as a plain dict: 'type' (your dbt adapter), "
        "'threads' equal to config.threads, connection settings from config, secrets only as "
        "{{ env_var('NAME') }} references, and a setting that enforces config.timeout_seconds"
    ),
    "get_required_dbt_packages": (
        "return the PEP 508 requirements dbt needs, your dbt adapter first "
        "(e.g. ['dbt-postgres>=1.9,<2'])"
    ),
    "validate_connection": (
        "connect to the target without changing it and return a ConnectionResult with a "
        "measured latency_ms; return UNHEALTHY with an actionable message instead of raising"
    ),
    "get_resource_requirements": (
        "return the ResourceSpec for 'small', 'medium' or 'large' "
        "(resource_preset(workload_size, plugin_name=self.name) gives the standard sizes) and "
        "raise a ValueError listing the valid sizes for anything else"
    ),
    "get_catalog_attachment_sql": (
        "return None if your engine cannot attach an Iceberg catalog; otherwise a list of "
        "single SQL statements with names and URIs quoted and secrets only in a "
        "secret-creation statement"
    ),
}


def names_for(name: str) -> dict[str, str]:
    """Every identifier the templates need, derived from the plugin name."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise ComputeConfigurationError(
            f"NAME: {name!r} is not allowed; allowed: a lowercase identifier matching "
            f"{NAME_PATTERN} (e.g. 'postgres', 'my_engine')",
            field="NAME",
            value=name,
            allowed=NAME_PATTERN,
        )
    camel = "".join(part.capitalize() for part in name.split("_") if part)
    return {
        "name": name,
        "dist": f"floe-compute-{name.replace('_', '-')}",
        "package": f"floe_compute_{name}",
        "plugin_class": f"{camel}ComputePlugin",
        "config_class": f"{camel}Config",
        "camel": camel,
    }


_PYPROJECT = Template(
    """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "floe compute plugin for $name"
requires-python = ">=3.11"
dependencies = [
    "floe-compute-kit",
    # TODO: add your dbt adapter here too, e.g. "dbt-$name>=1.9,<2"
]

[project.entry-points."floe.computes"]
$name = "$package.plugin:$plugin_class"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""
)

_INIT = Template(
    '''\
"""$package: the floe compute plugin for $name."""

from $package.config import $config_class
from $package.plugin import $plugin_class

__all__ = ["$config_class", "$plugin_class"]
'''
)

_CONFIG = Template(
    '''\
"""The config of the $name compute: ComputeConfig plus what $name needs to connect."""

from __future__ import annotations

from pydantic import Field

from floe_compute_kit import ComputeConfig


class $config_class(ComputeConfig):
    """Settings for $name. The conformance kit generates configs from these fields."""

    # TODO: keep, change or add the fields $name needs, each with its constraints: the kit
    # generates configs from them, and points host/port at a closed port to check that
    # validate_connection reports an unreachable target (or define
    # conformance_unreachable_config() on the plugin to choose that config yourself).
    host: str = Field(default="localhost", min_length=1, description="server to connect to")
    port: int = Field(default=5432, ge=1, le=65535, description="server port")
    database: str = Field(default="analytics", min_length=1, description="database to use")
'''
)

_METHOD = Template(
    """\
    def $method(self, $arg: $arg_type) -> $returns:
        raise NotImplementedError(
            "$plugin_class.$method is not written yet: "
$todo
        )
"""
)

_PLUGIN_HEAD = Template(
    '''\
"""The $name compute plugin. Run `pytest` to see which parts are left to write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from floe_compute_kit import (
    FLOE_API_VERSION,
    CatalogConfig,
    ComputeConfig,
    ComputePlugin,
    ConnectionResult,
    ResourceSpec,
)

from $package.config import $config_class


class $plugin_class(ComputePlugin):
    """$camel: a floe compute plugin."""

    name = "$name"
    version = "0.1.0"
    floe_api_version = FLOE_API_VERSION
    config_model = $config_class
    # Claim the optional features you support, e.g. frozenset({Capability.CATALOG_ATTACHMENT}):
    # their checks run, unclaimed ones are "unsupported". A real `dbt build` and a timeout
    # that cancels a query are checked at the integration level for every plugin.
    capabilities = frozenset()
'''
)

_LIVE_TARGET = """\
    def conformance_live_target(self, workdir: Path) -> dict[str, Any] | None:
        # The live target of the kit's extended and integration checks (a real dbt build,
        # a timeout that must cancel a query). Return this plugin's config pointed at a
        # server on this machine (127.0.0.1), or pass `--floe-target FILE` to
        # `floe-conformance report`. None: the kit starts one itself where it knows the
        # engine (a DuckDB file, a loopback PostgreSQL); for any other networked engine
        # the checks that need a target fail until you return one here.
        return None
"""

_SIGNATURES: Final = {
    "generate_dbt_profile": ("config", "ComputeConfig", "dict[str, Any]"),
    "get_required_dbt_packages": ("", "", "list[str]"),
    "validate_connection": ("config", "ComputeConfig", "ConnectionResult"),
    "get_resource_requirements": ("workload_size", "str", "ResourceSpec"),
    "get_catalog_attachment_sql": ("catalog_config", "CatalogConfig", "list[str] | None"),
}

_TESTS = Template(
    '''\
"""The floe contract suite, run against this plugin: every failure names what to fix."""

from floe_compute_kit.conformance.suites import ComputePluginContract

from $package.plugin import $plugin_class


class Test${camel}Contract(ComputePluginContract):
    plugin = $plugin_class
'''
)

_README = Template(
    """\
# $dist

The floe compute plugin for $name, scaffolded by `floe-conformance init $name`.

1. `pip install -e .` (add your dbt adapter to `dependencies` in pyproject.toml).
2. `pytest`: each failure names a method left to write and what the contract asks of it.
3. Write them in `src/$package/plugin.py` until `pytest` passes.
4. `floe-conformance report --plugin $name --level integration` writes your certificate.
"""
)


def _plugin_source(names: dict[str, str]) -> str:
    parts = [_PLUGIN_HEAD.substitute(names)]
    for method, todo in TODO_METHODS.items():
        arg, arg_type, returns = _SIGNATURES[method]
        lines = textwrap.wrap(todo, 72, drop_whitespace=False)
        literal = "\n".join(f"            {line!r}" for line in lines)
        text = _METHOD.substitute(
            names, method=method, arg=arg, arg_type=arg_type, returns=returns, todo=literal
        )
        if not arg:
            text = text.replace("(self, : )", "(self)")
        parts.append(text)
    parts.append(_LIVE_TARGET)
    return "\n".join(parts)


def scaffold(name: str, target: Path, *, force: bool = False) -> list[Path]:
    """Write the plugin package for ``name`` into ``target``; returns the files written.

    Refuses (FileExistsError) to write into a non-empty directory unless ``force``; a
    target that is not a folder, or a file that cannot be written, raises
    AtomicWriteError naming it. Each file is written atomically.
    """
    names = names_for(name)
    if target.exists() and not target.is_dir():
        raise AtomicWriteError(target, "exists and is not a folder", fix="choose another --dir")
    if target.exists() and any(target.iterdir()) and not force:
        raise FileExistsError(
            f"{target} exists and is not empty; choose another --dir or pass --force"
        )
    package = Path("src") / names["package"]
    files = {
        Path("pyproject.toml"): _PYPROJECT.substitute(names),
        Path("README.md"): _README.substitute(names),
        package / "__init__.py": _INIT.substitute(names),
        package / "config.py": _CONFIG.substitute(names),
        package / "plugin.py": _plugin_source(names),
        package / "py.typed": "",
        Path("tests") / "test_contract.py": _TESTS.substitute(names),
    }
    written: list[Path] = []
    for rel, text in files.items():
        path = target / rel
        make_folder(path.parent, fix="choose another --dir")
        write_atomic(path, text, lock=False)  # no lock file left in the package
        written.append(path)
    return written
