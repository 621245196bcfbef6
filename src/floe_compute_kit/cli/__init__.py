"""Command-line entry points: ``floe-compute`` and ``floe-conformance``."""

__all__: list[str] = []
