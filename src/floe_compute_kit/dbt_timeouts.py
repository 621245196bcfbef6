"""Per-model timeouts and the timeout log line, shared by every engine's dbt hook.

A dbt model may ask for its own timeout with ``{{ config(floe_timeout_seconds=N) }}``
(US7-AS2). An engine's hook learns which node a statement belongs to from dbt's own
``node_info`` context (set for each node dbt runs) or, failing that, from dbt's leading
query comment; the node's config comes from the ``manifest.json`` dbt writes before it
runs any node. When a statement is cancelled, :func:`report_timeout` writes one line in
dbt's console and log file with the query id, the node, the duration and the timeout
that applied (US7-AS3), in the same format for every engine::

    floe.compute.timeout query_id=... node_id=... duration_s=2.013 timeout_s=2 action=...

Imports dbt only inside a dbt run, so the module is cheap to import anywhere.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import uuid
from pathlib import Path
from typing import Any, Final

from floe_compute_kit.errors import ComputeConfigurationError, ComputeTimeoutError, log_error

__all__ = [
    "MODEL_TIMEOUT_KEY",
    "TIMEOUT_RANGE",
    "ManifestTimeouts",
    "checked_timeout",
    "model_timeouts",
    "new_query_id",
    "node_id_from_sql",
    "report_timeout",
    "running_node",
    "timeout_error",
]

#: The dbt model config that overrides the profile's timeout for one model.
MODEL_TIMEOUT_KEY: Final = "floe_timeout_seconds"
#: The seconds a model's override may ask for (the contract's timeout_seconds range).
TIMEOUT_RANGE: Final = (1, 86400)
NO_NODE: Final = "<no dbt node>"

_log = logging.getLogger("floe.compute")
_COMMENT = re.compile(r"^\s*/\*\s*(\{.*?\})\s*\*/", re.DOTALL)


def node_id_from_sql(sql: str) -> str | None:
    """The dbt node id in dbt's query comment (``/* {"node_id": ...} */``), if any."""
    match = _COMMENT.match(sql)
    if match is None:
        return None
    try:
        comment = json.loads(match.group(1))
    except ValueError:
        return None
    node = comment.get("node_id") if isinstance(comment, dict) else None
    return str(node) if node else None


def running_node(sql: str = "") -> str | None:
    """The node dbt is running on this thread: dbt's node_info context, else the SQL comment.

    The context holds even when a project turns dbt's query comment off.
    """
    try:
        from dbt_common.events.contextvars import get_node_info  # noqa: PLC0415 - dbt only
    except ImportError:
        info: Any = None
    else:
        info = get_node_info()
    node = info.get("unique_id") if isinstance(info, dict) else None
    return str(node) if node else node_id_from_sql(sql)


def model_timeouts(manifest: dict[str, Any]) -> dict[str, Any]:
    """node id -> its ``floe_timeout_seconds`` config, for the nodes of a manifest that set one."""
    nodes = manifest.get("nodes") if isinstance(manifest, dict) else None
    found: dict[str, Any] = {}
    for uid, node in (nodes or {}).items():
        config = node.get("config") if isinstance(node, dict) else None
        if isinstance(config, dict) and config.get(MODEL_TIMEOUT_KEY) is not None:
            found[uid] = config[MODEL_TIMEOUT_KEY]
    return found


def checked_timeout(plugin_name: str, node: str, value: Any) -> float:
    """A model's override, or one clear error naming the model, the value and the range."""
    low, high = TIMEOUT_RANGE
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    ):
        return float(value)
    raise log_error(
        ComputeConfigurationError(
            f"{node}: config {MODEL_TIMEOUT_KEY}={value!r} is not a number of seconds from "
            f"{low} to {high}; fix the model's config() or dbt_project.yml",
            plugin_name=plugin_name,
            field=MODEL_TIMEOUT_KEY,
            value=repr(value)[:80],
            allowed=f"{low}..{high}",
        )
    )


class ManifestTimeouts:
    """Per-model timeouts read from the manifest.json of the running dbt invocation.

    Re-read only when the file changes (dbt writes it once per invocation, before it runs
    any node); outside dbt, or before the manifest exists, every lookup finds nothing.
    """

    def __init__(self, plugin_name: str) -> None:
        self.plugin_name = plugin_name
        self._lock = threading.Lock()
        self._key: tuple[str, int] | None = None
        self._timeouts: dict[str, Any] = {}

    @staticmethod
    def _path() -> Path | None:
        try:
            from dbt.flags import get_flags  # noqa: PLC0415 - only inside a dbt run
        except ImportError:
            return None
        flags = get_flags()  # type: ignore[no-untyped-call]  # dbt-core is untyped
        target = getattr(flags, "TARGET_PATH", None) or "target"
        project = getattr(flags, "PROJECT_DIR", None) or "."
        path = Path(target)
        return (path if path.is_absolute() else Path(project) / path) / "manifest.json"

    def lookup(self, node: str) -> Any:
        """The raw ``floe_timeout_seconds`` of ``node``, or None."""
        path = self._path()
        if path is None:
            return None
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:  # no manifest yet (or outside dbt): the profile's timeout holds
            return None
        with self._lock:
            if self._key != (str(path), mtime):
                try:
                    loaded = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    loaded = {}
                self._timeouts = model_timeouts(loaded)
                self._key = (str(path), mtime)
            return self._timeouts.get(node)

    def timeout_for(self, sql: str, default: float | None) -> tuple[str | None, float | None]:
        """The running node and its timeout: its own override, else ``default``.

        Raises ComputeConfigurationError for an override that is not a valid timeout.
        """
        node = running_node(sql)
        if node is not None:
            override = self.lookup(node)
            if override is not None:
                return node, checked_timeout(self.plugin_name, node, override)
        return node, default


def new_query_id() -> str:
    """A short id that ties the log line to the error dbt shows for the node."""
    return uuid.uuid4().hex[:16]


def report_timeout(
    query_id: str, node: str | None, elapsed: float, timeout: float, action: str
) -> str:
    """Write the US7-AS3 line in dbt's console and log file (Python logging outside dbt)."""
    line = (
        f"floe.compute.timeout query_id={query_id} node_id={node or NO_NODE} "
        f"duration_s={elapsed:.3f} timeout_s={timeout:g} action={action}"
    )
    try:
        from dbt.adapters.events.logging import AdapterLogger  # noqa: PLC0415 - dbt only

        AdapterLogger("floe").error(line)
    except Exception:  # logging must never mask the timeout error itself
        _log.error(line)
    else:
        _log.debug(line)
    return line


def timeout_error(
    plugin_name: str, node: str | None, elapsed: float, timeout: float, action: str
) -> ComputeTimeoutError:
    """Report the timeout line and build the error dbt shows for the node."""
    query_id = new_query_id()
    report_timeout(query_id, node, elapsed, timeout, action)
    shown = f"{timeout:g}"
    return ComputeTimeoutError(
        f"{node or NO_NODE} was cancelled after {elapsed:.2f} s: it ran past the configured "
        f"timeout_seconds={shown} (query_id={query_id}); raise timeout_seconds in the "
        f"compute config or the model's {MODEL_TIMEOUT_KEY} config, or make the model cheaper",
        plugin_name=plugin_name,
        timeout_seconds=timeout,
        elapsed_seconds=elapsed,
        query_id=query_id,
    )
