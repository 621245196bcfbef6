"""Plugins whose defect shows only in a sibling plugin host (see host/_pool.py).

The first process to load the plugin in a run's host folder claims it (an exclusive
marker file); every later process, i.e. a sibling, misbehaves. Each call records its
pid and interval, so tests can prove the calls overlapped and no process outlived a run.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit import ComputeConfig, ConnectionResult

CALLS = "floe_health_calls.txt"


def _sibling() -> bool:
    try:
        os.close(os.open("floe_primary_marker", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return True
    return False


# Only in a plugin host (its cwd is <workdir>/host), never where the tests import CALLS.
_IS_SIBLING = Path.cwd().name == "host" and _sibling()


class _Recording(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        start = time.time()
        time.sleep(0.2)
        if _IS_SIBLING:
            self.sibling_defect(config)
        with Path(CALLS).open("a") as handle:
            handle.write(f"{os.getpid()} {start} {time.time()}\n")
        return super().validate_connection(config)

    def sibling_defect(self, config: ComputeConfig) -> None:
        """Nothing: the well-behaved plugin."""


class Overlaps(_Recording):
    pass


class SiblingThread(_Recording):
    def sibling_defect(self, config: ComputeConfig) -> None:
        threading.Thread(target=time.sleep, args=(600,), daemon=True).start()


class SiblingEnviron(_Recording):
    def sibling_defect(self, config: ComputeConfig) -> None:
        os.environ["FLOE_SIBLING_WAS_HERE"] = "1"


class SiblingLogsSecret(_Recording):
    def sibling_defect(self, config: ComputeConfig) -> None:
        for value in (config.credentials or {}).values():
            logging.getLogger("zoo.health").warning("connecting with %s", value.get_secret_value())


class SiblingHangs(_Recording):
    def sibling_defect(self, config: ComputeConfig) -> None:
        time.sleep(600)


class SiblingExits(_Recording):
    def sibling_defect(self, config: ComputeConfig) -> None:
        os._exit(3)


class SlowFirstCall(DuckDBComputePlugin):
    """Well-behaved: its first health check in a process pays a 0.3 s warm-up, as
    DuckDB's does when it loads the Iceberg extension; a sibling would pay it again."""

    _warm = False

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        if not SlowFirstCall._warm:
            SlowFirstCall._warm = True
            time.sleep(0.3)
        return super().validate_connection(config)
