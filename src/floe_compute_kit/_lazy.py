"""The PEP 562 ``__getattr__`` the packages share: public names imported on first use.

The kit's pytest plugin loads in every pytest run of every user, so the package
``__init__`` modules it passes through must not import the heavy modules they re-export.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(
    package: str, names: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` resolving ``names`` (public name -> defining module) once,
    then caching each value in the package's ``namespace``."""

    def resolve(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return resolve
