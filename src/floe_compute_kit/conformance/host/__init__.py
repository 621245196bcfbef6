"""The plugin host: the plugin under test runs in a child process the kit can kill.

Data flow: plugin host -> checks -> runner -> suites / report -> certificate. The
certifying process never imports the plugin; it judges the plain data the host
returns (:mod:`._wire`), generates configs from a stand-in of the plugin's model
(:mod:`._mirror`), and survives whatever the plugin does to its own process.

Names are imported on first use (PEP 562): the host process itself starts by
importing this package, and the kit's side (the client, the mirror models) is not
what it runs, so it should not pay for it on every start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from floe_compute_kit.conformance.host._client import (
        HostPlugin,
        HostSettings,
        PluginDiedError,
        PluginHost,
        PluginHungError,
        RemotePluginError,
        call_deadline,
        load_in_host,
    )

#: public name -> the module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    "HostPlugin": "floe_compute_kit.conformance.host._client",
    "HostSettings": "floe_compute_kit.conformance.host._client",
    "PluginDiedError": "floe_compute_kit.conformance.host._client",
    "PluginHost": "floe_compute_kit.conformance.host._client",
    "PluginHungError": "floe_compute_kit.conformance.host._client",
    "RemotePluginError": "floe_compute_kit.conformance.host._client",
    "call_deadline": "floe_compute_kit.conformance.host._client",
    "load_in_host": "floe_compute_kit.conformance.host._client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(
            f"module 'floe_compute_kit.conformance.host' has no attribute {name!r}"
        )
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "HostPlugin",
    "HostSettings",
    "PluginDiedError",
    "PluginHost",
    "PluginHungError",
    "RemotePluginError",
    "call_deadline",
    "load_in_host",
]
