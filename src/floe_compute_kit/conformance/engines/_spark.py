"""Spark: sqlglot's spark dialect splits statements; a huge range keeps a job busy."""

from __future__ import annotations

from floe_compute_kit.conformance.engines._base import Engine

__all__ = ["SparkEngine"]


class SparkEngine(Engine):
    profile_type = "spark"
    dialect = "spark"

    def slow_query(self, seconds: float) -> str | None:
        # One job that computes a hash per row of a trillion-row range: hours on any
        # machine, yet its tasks check for cancellation between rows, so a timeout that
        # really cancels the job ends it at once.
        return "select count(*) as n from range(0, 1000000000000) a where hash(a.id) = 0"
