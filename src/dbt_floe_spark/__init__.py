"""dbt-core plugin module: loads floe's query timeouts into dbt-spark session runs.

dbt-core's plugin manager imports every top-level module named ``dbt_*`` and starts the
``dbtPlugin`` classes in its ``plugins`` list. This one installs
:func:`floe_compute_spark.dbt_hook.install`; the hook acts only on dbt-spark cursors
whose profile carries ``floe.timeout_seconds``, so other adapters' runs are untouched.
"""

from __future__ import annotations

from dbt.plugins.manager import dbtPlugin

from floe_compute_spark.dbt_hook import install

__all__ = ["FloeSparkTimeouts", "plugins"]


class FloeSparkTimeouts(dbtPlugin):  # type: ignore[misc,unused-ignore]  # dbt-core is untyped
    """Cancels dbt-spark session statements that run past floe's timeout."""

    def initialize(self) -> None:
        install()


plugins = [FloeSparkTimeouts]
