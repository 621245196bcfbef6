"""Command-line entry points: ``floe-compute`` and ``floe-conformance``."""
