"""SparkConfig -> one dbt-spark target of profiles.yml.

Pure: no I/O, no pyspark import. The timeout travels as ``floe.timeout_seconds`` in
``server_side_parameters``; :mod:`floe_compute_spark.dbt_hook` (loaded by dbt-core's plugin
manager through the ``dbt_floe_spark`` module) reads it there, removes it before Spark sees
the parameters, and cancels the statement's Spark jobs once it runs past it.
"""

from __future__ import annotations

import os
from typing import Any, Final

from floe_compute_spark.config import SparkConfig

__all__ = ["TIMEOUT_KEY", "build_profile", "derby_url", "session_dirs"]

#: The server_side_parameters key the dbt hook reads the timeout from.
TIMEOUT_KEY: Final = "floe.timeout_seconds"
#: Spark's default of 200 shuffle partitions makes every small local model slow.
_SESSION_DEFAULTS: Final = {"spark.sql.shuffle.partitions": "4"}


def session_dirs(config: SparkConfig) -> dict[str, str]:
    """The absolute folders a session-mode build uses, all under ``config.home``."""
    home = os.path.normpath(os.path.expanduser(config.home))
    return {
        "home": home,
        "warehouse": os.path.join(home, "warehouse"),
        "metastore": os.path.join(home, "metastore_db"),
    }


def derby_url(metastore: str) -> str:
    """The JDBC URL of the embedded Derby metastore in folder ``metastore``."""
    return f"jdbc:derby:;databaseName={metastore};create=true"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_profile(config: SparkConfig) -> dict[str, Any]:
    """The dbt-spark target for ``config``: plain dicts and strings (Spark reads text)."""
    params: dict[str, str] = {}
    if config.method == "session":
        dirs = session_dirs(config)
        params.update(_SESSION_DEFAULTS)
        params.update(
            {
                "spark.master": config.master,
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.ui.enabled": "false",
                "spark.sql.warehouse.dir": dirs["warehouse"],
                "spark.hadoop.javax.jdo.option.ConnectionURL": derby_url(dirs["metastore"]),
                # derby.log and Derby's own files go to the home folder, not the cwd.
                "spark.driver.extraJavaOptions": f"-Dderby.system.home={dirs['home']}",
            }
        )
        host = "local"
    else:
        assert config.connect_url is not None  # the model requires it for connect
        params["spark.remote"] = config.connect_url
        host = config.connect_url
    params.update({key: _text(value) for key, value in sorted(config.settings.items())})
    params[TIMEOUT_KEY] = str(config.timeout_seconds)
    return {
        "type": "spark",
        "method": "session",
        "host": host,
        "schema": config.schema_name,
        "threads": config.threads,
        "server_side_parameters": dict(sorted(params.items())),
    }
