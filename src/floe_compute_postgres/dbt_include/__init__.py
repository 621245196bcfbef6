"""The floe_postgres adapter's dbt include path (a dbt project of its own, no macros:
every macro comes from dbt-postgres, which this adapter depends on)."""

import os

PACKAGE_PATH = os.path.dirname(__file__)

__all__ = ["PACKAGE_PATH"]
