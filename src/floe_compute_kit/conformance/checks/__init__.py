"""The checks catalogue: one module per contract area, each registering its checks."""

from __future__ import annotations

import importlib

from floe_compute_kit.conformance._check import REGISTERED, RegisteredCheck

__all__ = ["CHECK_MODULES", "load_catalogue"]

#: Imported in this order; the catalogue is their union.
CHECK_MODULES = (
    "robustness",
    "metadata",
    "config",
    "profile",
    "packages",
    "connection",
    "live_health",
    "resources",
    "catalog",
    "secrets",
    "integration",
    "timeout",
    "iceberg",
    "upstream",
    "isolation",  # last: it reports what every earlier call did to the plugin's process
)


def load_catalogue() -> list[RegisteredCheck]:
    """Every registered check, in catalogue order (by module, then definition).

    Sorted rather than taken in registration order, because a test or a plugin may
    import one check module before the others.
    """
    for name in CHECK_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    rank = {f"{__name__}.{name}": i for i, name in enumerate(CHECK_MODULES)}
    registered = list(REGISTERED.values())
    # sorted() is stable, so checks keep their definition order within a module.
    return sorted(registered, key=lambda reg: rank.get(reg.fn.__module__, len(rank)))
