"""Hostile plugins: each crashes, exits, hangs, cheats or returns garbage one way.

Each is the real DuckDB plugin with one hostile act. tests/test_conformance_host.py
runs each in the plugin host and proves it ends as a failed check that names what it
did: never a crash of the kit, a hang, exit 0 or a certificate.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any
from unittest import mock

from floe_compute_duckdb import DuckDBComputePlugin
from floe_compute_kit import ComputeConfig, ConnectionResult, ResourceSpec

#: Command-line marker of the child process LeavesChild starts, to find strays.
CHILD_MARKER = "61.123"


class ExitsInProfile(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        os._exit(3)


class SegfaultInResources(DuckDBComputePlugin):
    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        ctypes.string_at(0)  # reads address 0: SIGSEGV
        return super().get_resource_requirements(workload_size)


class InterruptsInInit(DuckDBComputePlugin):
    def __init__(self) -> None:
        raise KeyboardInterrupt


class InterruptsInPackages(DuckDBComputePlugin):
    def get_required_dbt_packages(self) -> list[str]:
        raise KeyboardInterrupt


class ExitsInValidate(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        sys.exit(0)


class ClosesStdout(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        with contextlib.suppress(OSError):
            os.close(1)
        return super().generate_dbt_profile(config)


class _ExplodingList(list[str]):
    def __iter__(self) -> Any:
        raise RuntimeError("iterating this list is not allowed")


class RaisingIterable(DuckDBComputePlugin):
    def get_required_dbt_packages(self) -> list[str]:
        return _ExplodingList(["dbt-duckdb"])


class ExitsZeroOnName(DuckDBComputePlugin):
    @property  # type: ignore[override]
    def name(self) -> str:
        sys.exit(0)


class MockResult(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        return mock.MagicMock()  # type: ignore[no-any-return]


class _OddValue(DuckDBComputePlugin):
    odd: Any = None

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        profile["module_paths"] = self.odd
        return profile


class SetInProfile(_OddValue):
    odd = {"models"}


class BytesInProfile(_OddValue):
    odd = b"models"


class DatetimeInProfile(_OddValue):
    odd = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class IntKeyInProfile(_OddValue):
    odd = {1: "models"}


class LeavesChild(DuckDBComputePlugin):
    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        subprocess.Popen(["sleep", CHILD_MARKER])
        return super().validate_connection(config)


class ChdirRoot(DuckDBComputePlugin):
    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        os.chdir("/")
        return super().generate_dbt_profile(config)


class ChangesEnviron(DuckDBComputePlugin):
    def get_required_dbt_packages(self) -> list[str]:
        os.environ["FLOE_ZOO_PLANTED"] = "1"
        return super().get_required_dbt_packages()


class ReplacesSignal(DuckDBComputePlugin):
    def get_required_dbt_packages(self) -> list[str]:
        signal.signal(signal.SIGTERM, lambda *_: None)
        return super().get_required_dbt_packages()


class NonDaemonThread(DuckDBComputePlugin):
    def __init__(self) -> None:
        super().__init__()
        threading.Thread(target=time.sleep, args=(600,), name="zoo-sleeper").start()


class RegexHang(DuckDBComputePlugin):
    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        # Catastrophic backtracking: the C regex engine holds the GIL throughout.
        re.match(r"(a+)+$", "a" * 64 + "b")
        return super().get_resource_requirements(workload_size)


class SleepsInResources(DuckDBComputePlugin):
    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        time.sleep(600)
        return super().get_resource_requirements(workload_size)


class CopiedSpecAboveLimit(DuckDBComputePlugin):
    def get_resource_requirements(self, workload_size: str) -> ResourceSpec:
        spec = super().get_resource_requirements(workload_size)
        if workload_size == "large":
            return spec.model_copy(update={"cpu_request": "9000m"})  # skips validation
        return spec


class PrintsTwentyMegabytes(DuckDBComputePlugin):
    """Correct, only noisy: it must still be certified."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        sys.stdout.write("x" * (20 * 1024 * 1024))
        sys.stdout.flush()
        return super().validate_connection(config)


class SlowHealth(DuckDBComputePlugin):
    """Correct, only slow: a 1 s health check must still be certified."""

    def validate_connection(self, config: ComputeConfig) -> ConnectionResult:
        time.sleep(1.0)
        return super().validate_connection(config)


class StructuralApiInInit:
    """A structural plugin whose metadata is set per instance: it must load."""

    def __init__(self) -> None:
        self._inner = DuckDBComputePlugin()
        self.name = "structural_init"
        self.version = "0.1.0"
        self.floe_api_version = "1.0"
        self.config_model = type(self._inner).config_model

    def example_configs(self) -> Any:
        return self._inner.example_configs()

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        return self._inner.generate_dbt_profile(config)

    def get_required_dbt_packages(self) -> list[str]:
        return self._inner.get_required_dbt_packages()

    def validate_connection(self, config: ComputeConfig) -> Any:
        return self._inner.validate_connection(config).model_dump(mode="json")

    def get_resource_requirements(self, workload_size: str) -> Any:
        return self._inner.get_resource_requirements(workload_size).model_dump()

    def get_catalog_attachment_sql(self, catalog_config: Any) -> list[str] | None:
        return None
