"""Which optional extra a CLI needs, and one clear line when it is not installed.

``pip install floe-compute-kit`` is the contract only (pyproject.toml). The CLIs need
more; without it they would die in an ImportError traceback, or, worse, argparse would
quietly lose the subcommands whose modules failed to import. Each CLI calls
:func:`missing_extra` first and exits 2 with its message.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Final

__all__ = [
    "COMPUTE_NEEDS",
    "CONFORMANCE_NEEDS",
    "EXIT_MISSING",
    "KIT_NEEDS",
    "install_hint",
    "missing_extra",
]

EXIT_MISSING: Final = 2
DISTRIBUTION: Final = "floe-compute-kit"

#: import name -> distribution, for what ``floe-compute`` needs beyond the contract
COMPUTE_NEEDS: Final[Mapping[str, str]] = {"rich": "rich"}
#: ... what the checks import (``pytest --floe-plugin`` and the report alike)
KIT_NEEDS: Final[Mapping[str, str]] = {
    "pytest": "pytest",
    "hypothesis": "hypothesis",
    "jsonschema": "jsonschema",
    "sqlglot": "sqlglot",
}
#: ... and ``floe-conformance``, which prints with rich as well
CONFORMANCE_NEEDS: Final[Mapping[str, str]] = {**KIT_NEEDS, "rich": "rich"}


def install_hint(extra: str) -> str:
    """The one command that installs ``extra`` (quoted for shells that glob brackets)."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:  # a parent package of a dotted name is missing
        return True


def missing_extra(command: str, extra: str, needs: Mapping[str, str]) -> str | None:
    """None when everything ``command`` needs imports; else the error line to print."""
    missing = sorted({dist for module, dist in needs.items() if _absent(module)})
    if not missing:
        return None
    return (
        f"error: {command} needs the {extra!r} extra of {DISTRIBUTION}, which is not "
        f"installed (missing: {', '.join(missing)}); install it with: {install_hint(extra)}"
    )
