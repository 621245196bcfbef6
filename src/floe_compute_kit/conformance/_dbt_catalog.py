"""The live target's schemas and relations, as dbt's own adapter lists them.

The read-only check compares this listing before and after ``validate_connection``:
dbt's adapter (its ``list_schemas`` and ``list_relations_without_caching`` macros, run by
``dbt run-operation`` on a one-macro project) knows how to list any engine it
supports, so the kit needs no SQL of its own per engine. The run also opens the target
the way a ``dbt build`` would, which proves dbt can still take it afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

__all__ = ["Catalog", "RunDbt", "list_catalog"]

_TARGET: Final = "conformance"
_MARK: Final = "FLOE_CATALOG "
#: schemas the engine owns: listed, but their relations are not (they are many, and
#: a health check cannot create them)
_SYSTEM_SCHEMAS: Final = ("information_schema", "pg_catalog", "pg_toast")
_MACRO: Final = """\
{% macro floe_catalog() %}
  {% set found = {} %}
  {% set schemas = [] %}
  {% for row in list_schemas(target.database) %}{% do schemas.append(row[0]) %}{% endfor %}
  {% for schema in schemas | sort %}
    {% if schema | lower in %(system)s or (schema | lower).startswith('pg_temp')
          or (schema | lower).startswith('pg_toast_temp') %}
      {% do found.update({schema: none}) %}
    {% else %}
      {% set names = [] %}
      {% set where = api.Relation.create(database=target.database, schema=schema) %}
      {% for row in list_relations_without_caching(where) %}
        {% do names.append(row['name'] ~ ':' ~ row['type']) %}
      {% endfor %}
      {% do found.update({schema: names | sort}) %}
    {% endif %}
  {% endfor %}
  {% do print('%(mark)s' ~ tojson(found)) %}
{% endmacro %}
"""


@dataclass(frozen=True)
class Catalog:
    """schema -> sorted ``name:type`` of its relations (None for engine-owned schemas)."""

    schemas: dict[str, list[str] | None]

    def differences(self, after: Catalog) -> list[str]:
        """What ``after`` has that this listing had not, and the reverse, in words."""
        out: list[str] = []
        for schema in sorted(after.schemas.keys() - self.schemas.keys()):
            out.append(f"schema {schema!r} was created")
        for schema in sorted(self.schemas.keys() - after.schemas.keys()):
            out.append(f"schema {schema!r} was dropped")
        for schema in sorted(self.schemas.keys() & after.schemas.keys()):
            was, now = set(self.schemas[schema] or ()), set(after.schemas[schema] or ())
            out += [f"relation {schema}.{r} was created" for r in sorted(now - was)]
            out += [f"relation {schema}.{r} was dropped" for r in sorted(was - now)]
        return out


def _write_project(root: Path, profile: dict[str, Any]) -> Path:
    project = root / "catalog_project"
    (project / "macros").mkdir(parents=True, exist_ok=True)
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {
                "name": "floe_catalog",
                "version": "1.0.0",
                "config-version": 2,
                "profile": "floe_catalog",
                "macro-paths": ["macros"],
            }
        ),
        encoding="utf-8",
    )
    system = "[" + ", ".join(repr(s) for s in _SYSTEM_SCHEMAS) + "]"
    (project / "macros" / "floe_catalog.sql").write_text(
        _MACRO.replace("%(system)s", system).replace("%(mark)s", _MARK), encoding="utf-8"
    )
    (root / "profiles.yml").write_text(
        yaml.safe_dump({"floe_catalog": {"target": _TARGET, "outputs": {_TARGET: profile}}}),
        encoding="utf-8",
    )
    return project


#: runs ``dbt <args>`` in ``cwd`` with ``env`` added, within ``timeout_s``: (exit code or
#: None when stopped, output, why it was stopped)
RunDbt = Callable[[list[str], Path, dict[str, str], float], tuple[int | None, str, str | None]]


def list_catalog(
    run: RunDbt,
    profile: dict[str, Any],
    env: dict[str, str],
    root: Path,
    *,
    timeout_s: float,
) -> tuple[Catalog | None, str]:
    """The listing (None when dbt could not produce it) and dbt's output.

    ``run`` runs dbt (the kit's ``dbt_process``); ``env`` is added to the environment
    (the credentials the profile reads through ``env_var``).
    """
    project = _write_project(root, profile)
    args = [
        "run-operation",
        "floe_catalog",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(root),
        "--target",
        _TARGET,
    ]
    code, output, stopped = run(args, project, env, timeout_s)
    if stopped is not None:
        return None, f"`dbt run-operation` was stopped: {stopped}\n{output}"
    for line in output.splitlines():
        if line.startswith(_MARK) and code == 0:
            try:
                data = json.loads(line[len(_MARK) :])
            except ValueError:
                break
            if isinstance(data, dict):
                return Catalog({str(k): v for k, v in data.items()}), output
    return None, output
