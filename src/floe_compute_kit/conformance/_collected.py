"""The module ``pytest --floe-plugin=...`` collects: the whole suite, plugin from the option."""

from __future__ import annotations

from floe_compute_kit.conformance.suites import ComputePluginContract

__all__ = ["TestConformance"]


class TestConformance(ComputePluginContract):
    """Every contract check against the plugin named by --floe-plugin."""
