"""Plugins that answer a config well the first time and differently afterwards.

The read-only profile checks keep the first answer for each config (KIT-270), so
these plugins would dodge them if profile.deterministic did not compare fresh calls
with that first answer. ``CASES`` names the one check each must fail.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from pydantic import field_validator

from floe_compute_duckdb import DuckDBComputePlugin, DuckDBConfig
from floe_compute_kit import ComputeConfig
from zoo.plugins import ZooCase


class _FirstAnswerGood(DuckDBComputePlugin):
    """Answers each config correctly once; every later call for it is ``later``'s."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        seen: set[str] = self.__dict__.setdefault("_seen", set())  # one instance per run
        key = repr(config.model_dump())
        if key not in seen:
            seen.add(key)
            return profile
        return self.later(profile)

    def later(self, profile: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class LaterCallsDiffer(_FirstAnswerGood):
    """A second call for the same config adds a key the first answer lacked."""

    def later(self, profile: dict[str, Any]) -> dict[str, Any]:
        return {**profile, "retries": 3}


class LaterCallsUnplain(_FirstAnswerGood):
    """Later calls hold a set, which profile.plain_types would fail if it saw one."""

    def later(self, profile: dict[str, Any]) -> dict[str, Any]:
        return {**profile, "settings": {"order"}}


class ThirdCallDiffers(DuckDBComputePlugin):
    """Answers a config the same twice, then differently: passes any one fresh call."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        profile = super().generate_dbt_profile(config)
        calls: dict[str, int] = self.__dict__.setdefault("_calls", {})  # one instance per run
        key = repr(config.model_dump())
        calls[key] = calls.get(key, 0) + 1
        return {**profile, "retries": 3} if calls[key] >= 3 else profile


class CountsProfiles(DuckDBComputePlugin):
    """The reference plugin, counting its generate_dbt_profile calls (in-process runs)."""

    calls: ClassVar[int] = 0

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        type(self).calls += 1
        return super().generate_dbt_profile(config)


class _SlowToValidate(DuckDBConfig):
    @field_validator("threads")
    @classmethod
    def _think(cls, threads: int) -> int:
        time.sleep(0.4)  # a validator that asks something slow (a schema registry, say)
        return threads


class SlowValidator(DuckDBComputePlugin):
    """The reference plugin with a config validator that takes 0.4 s per config."""

    config_model = _SlowToValidate


class ExitsOnThreeThreads(DuckDBComputePlugin):
    """Ends its process in generate_dbt_profile for a config with threads=3 only."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        if config.threads == 3:
            import os

            os._exit(7)
        return super().generate_dbt_profile(config)


class HangsOnThreeThreads(DuckDBComputePlugin):
    """Never returns from generate_dbt_profile for a config with threads=3 only."""

    def generate_dbt_profile(self, config: ComputeConfig) -> dict[str, Any]:
        if config.threads == 3:
            time.sleep(3600)
        return super().generate_dbt_profile(config)


_Z = "zoo.hostcost:"
CASES: tuple[ZooCase, ...] = (
    ZooCase(_Z + "LaterCallsDiffer", "profile.deterministic"),
    ZooCase(_Z + "LaterCallsUnplain", "profile.deterministic"),
    ZooCase(_Z + "ThirdCallDiffers", "profile.deterministic"),
)
