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

from typing import TYPE_CHECKING

from floe_compute_kit._lazy import lazy_getattr as _lazy_getattr

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

#: public name -> the module that defines it (imported on first access): all are the client's
_LAZY: dict[str, str] = dict.fromkeys(__all__, "floe_compute_kit.conformance.host._client")


__getattr__ = _lazy_getattr(__name__, _LAZY, globals())
