"""SparkConfig: what a floe transform may ask of Spark, run by dbt-spark 1.11.

Two ways to reach Spark, one model:

- ``method: session`` (the default): dbt starts a local SparkSession in its own process
  (pyspark and the machine's Java 17). Nothing to set up; the warehouse and the Hive
  metastore live under ``home``, an absolute folder, never the current directory.
- ``method: connect``: dbt talks to a Spark Connect server (``sc://host:port``), a
  cluster's driver started with ``start-connect-server.sh``. dbt-spark 1.11 has no
  method of its own for it; its ``session`` method builds the session with pyspark's
  builder, which speaks Spark Connect when ``spark.remote`` is set.

Every string ends up in profiles.yml, which dbt renders as a Jinja template, so text may
not carry Jinja delimiters or NUL characters.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Final, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from floe_compute_kit.models import ComputeConfig

__all__ = ["DEFAULT_HOME", "OWNED_SETTINGS", "SparkConfig", "parse_connect_url"]

#: Where session mode keeps its warehouse and metastore unless ``home`` says otherwise.
DEFAULT_HOME: Final = "~/.floe/spark"
#: Spark settings the plugin sets itself, each from a field or for loopback-only operation.
OWNED_SETTINGS: Final = {
    "spark.remote": "connect_url",
    "spark.master": "master",
    "spark.sql.warehouse.dir": "home",
    "spark.driver.host": "(always 127.0.0.1 in session mode)",
    "spark.driver.bindAddress": "(always 127.0.0.1 in session mode)",
    "spark.ui.enabled": "(always false: no web UI port is opened)",
    "spark.driver.extraJavaOptions": "home (the Derby metastore's folder)",
    "spark.hadoop.javax.jdo.option.ConnectionURL": "home (the Derby metastore)",
    "spark.sql.catalogImplementation": "(hive: dbt-spark requires it)",
}
#: Settings that would make Spark download jars or reach another host.
_NETWORK_SETTINGS: Final = re.compile(
    r"^spark\.(jars\.(packages|repositories|ivy|ivySettings)|jars|files|archives|"
    r"pyFiles|submit\.pyFiles|yarn\..*|kubernetes\..*)$"
)
_SETTING_KEY: Final = r"^spark\.[A-Za-z0-9_][A-Za-z0-9_.\-]*$"
_JINJA = re.compile(r"\{[{%#]")
_MASTER: Final = r"^local(\[(\*|[1-9][0-9]{0,2})\])?$"


def _plain_text(value: str) -> str:
    if _JINJA.search(value):
        raise ValueError(
            "must not contain '{{', '{%' or '{#': dbt renders profiles.yml as a Jinja template"
        )
    if any(ord(c) < 32 for c in value):
        raise ValueError("must not contain control characters (NUL, newline, escape ...)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 text (no lone surrogates)") from None
    return value


PlainText = Annotated[str, AfterValidator(_plain_text), Field(max_length=4096)]
SettingValue = bool | int | Annotated[float, Field(allow_inf_nan=False)] | PlainText


def parse_connect_url(url: str) -> tuple[str, int]:
    """``(host, port)`` of a Spark Connect URL ``sc://host[:port]`` (port 15002 by default).

    Raises ValueError naming what is wrong.
    """
    parts = urlsplit(url)
    if parts.scheme != "sc":
        raise ValueError(f"connect_url {url!r} must start with sc:// (e.g. sc://127.0.0.1:15002)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(
            f"connect_url {url!r} must be just sc://host:port; connection parameters "
            "(;token=..., ;user_id=...) are not supported, tokens would land in profiles.yml"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"connect_url {url!r} has a port outside 1-65535") from None
    host = parts.hostname
    if not host:
        raise ValueError(f"connect_url {url!r} names no host (e.g. sc://127.0.0.1:15002)")
    if port == 0:
        raise ValueError(f"connect_url {url!r} has a port outside 1-65535")
    return host, port or 15002


class SparkConfig(ComputeConfig):
    """A Spark compute: a local session (default) or a Spark Connect server.

    >>> SparkConfig().method
    'session'
    >>> SparkConfig(method="connect", connect_url="sc://127.0.0.1:15002").connect_url
    'sc://127.0.0.1:15002'
    """

    model_config = ConfigDict(extra="forbid", validate_default=True)

    plugin: Literal["spark"] = "spark"
    method: Literal["session", "connect"] = Field(
        default="session",
        description="session: a local SparkSession inside dbt (zero setup); "
        "connect: a Spark Connect server at connect_url",
    )
    connect_url: PlainText | None = Field(
        default=None, description="method connect only: sc://host:port of the Connect server"
    )
    master: str = Field(
        default="local[2]",
        pattern=_MASTER,
        description="method session only: local, local[N] or local[*] (for a cluster use "
        "method connect)",
    )
    home: PlainText = Field(
        default=DEFAULT_HOME,
        min_length=1,
        description="method session only: absolute folder (or ~/...) holding warehouse/ "
        "and the Derby metastore; never relative, so nothing lands in the current directory",
    )
    schema_name: str = Field(
        default="floe",
        pattern=r"^[a-z_][a-z0-9_]*$",
        max_length=63,
        description="the Spark database dbt builds into (dbt-spark's schema)",
    )
    settings: dict[Annotated[str, Field(pattern=_SETTING_KEY, max_length=200)], SettingValue] = (
        Field(
            default_factory=dict,
            description="extra Spark settings (server_side_parameters), e.g. "
            "spark.sql.shuffle.partitions",
        )
    )
    connect_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        le=5,
        allow_inf_nan=False,
        description="method connect: how long validate_connection waits for the server",
    )

    @field_validator("home")
    @classmethod
    def _check_home(cls, home: str) -> str:
        """A field validator, so the error is located at ``home``."""
        if not (home.startswith("~/") or home == "~" or os.path.isabs(home)):
            raise ValueError(
                f"home {home!r} is relative, so the warehouse would land wherever dbt "
                f"happens to run; give an absolute path or one under ~ (default {DEFAULT_HOME})"
            )
        return home

    @model_validator(mode="after")
    def _check(self) -> SparkConfig:
        if self.method == "connect":
            if self.connect_url is None:
                raise ValueError(
                    "method 'connect' needs connect_url, e.g. sc://127.0.0.1:15002 (the "
                    "Spark Connect server's host and port)"
                )
            parse_connect_url(self.connect_url)
        elif self.connect_url is not None:
            raise ValueError(
                "connect_url is set but method is 'session'; set method: connect to use "
                "the Spark Connect server, or remove connect_url"
            )
        if self.credentials:
            raise ValueError(
                "credentials are not supported: a local session needs none, and Spark "
                "Connect has no authentication of its own (put it behind an authenticating "
                f"proxy); remove {sorted(self.credentials)}"
            )
        if self.connection:
            raise ValueError(
                "connection is not used by the Spark plugin; put Spark settings in "
                f"`settings` (e.g. spark.sql.shuffle.partitions); remove {sorted(self.connection)}"
            )
        for key in self.settings:
            if key in OWNED_SETTINGS:
                raise ValueError(
                    f"settings.{key}: set by the plugin from {OWNED_SETTINGS[key]}; remove it"
                )
            if _NETWORK_SETTINGS.match(key):
                raise ValueError(
                    f"settings.{key}: not allowed; it would make Spark download jars or "
                    "reach another host (Maven/Ivy, YARN, Kubernetes)"
                )
        return self
