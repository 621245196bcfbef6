"""The Iceberg catalog fixture, registered by the kit's pytest plugin in every run.

Only pytest and the stdlib at module level: a run that never asks for the fixture
must not pay for pydantic or urllib (the plugin's start-up budget is 30 ms). The
machinery lives in :mod:`floe_compute_kit.conformance.iceberg`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from floe_compute_kit.conformance.iceberg import IcebergCatalogEndpoint

__all__ = ["floe_iceberg_catalog", "option_uri"]


def option_uri(config: pytest.Config) -> str | None:
    """``--floe-iceberg-uri``, or None when unset or not registered."""
    try:
        value = config.getoption("floe_iceberg_uri", default=None)
    except ValueError:  # pragma: no cover - getoption raises only without a default
        return None
    return str(value) if value else None


@pytest.fixture(scope="session")
def floe_iceberg_catalog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IcebergCatalogEndpoint]:
    """A running Iceberg REST catalog, shared by the whole session (one per xdist worker)."""
    from floe_compute_kit.conformance.iceberg import iceberg_rest_catalog  # noqa: PLC0415 - lazy: see module docstring

    workdir = tmp_path_factory.mktemp("floe-iceberg")
    with iceberg_rest_catalog(option_uri(request.config), workdir=workdir) as endpoint:
        yield endpoint
