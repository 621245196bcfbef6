from floe_compute_kit.conformance.suites import ComputePluginContract

from mydb_floe.plugin import MyDBPlugin


class TestMyDB(ComputePluginContract):
    plugin = MyDBPlugin
    level = "extended"
