"""The plugin host: the plugin under test runs in a child process the kit can kill.

Data flow: plugin host -> checks -> runner -> suites / report -> certificate. The
certifying process never imports the plugin; it judges the plain data the host
returns (:mod:`._wire`), generates configs from a stand-in of the plugin's model
(:mod:`._mirror`), and survives whatever the plugin does to its own process.
"""

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
