"""Which optional extra a piece of the kit needs, and one clear line when it is missing.

``pip install floe-compute-kit`` is the contract only (pyproject.toml). The CLIs, the
Iceberg catalog and the checks need more; without it they would die in an ImportError
traceback (or, in a child process, with nothing but an exit code), and argparse would
quietly lose the subcommands whose modules failed to import. Each CLI calls
:func:`missing_extra` first and exits 2 with its message; library code calls
:func:`require_extra`, which raises :class:`MissingExtraError` with the same text.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from typing import Final

__all__ = [
    "COMPUTE_NEEDS",
    "CONFORMANCE_NEEDS",
    "EXIT_MISSING",
    "ICEBERG_NEEDS",
    "KIT_NEEDS",
    "MissingExtraError",
    "install_hint",
    "missing_extra",
    "require_extra",
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
#: ... the local Iceberg REST catalog and the Iceberg checks' second client
ICEBERG_NEEDS: Final[Mapping[str, str]] = {
    "pyiceberg": "pyiceberg",
    "sqlalchemy": "sqlalchemy",
    "pyarrow": "pyarrow",
}


class MissingExtraError(ModuleNotFoundError):
    """A piece of the kit needs distributions of an extra that is not installed."""

    def __init__(self, what: str, extra: str, missing: Sequence[str], alternative: str = ""):
        self.what = what
        self.extra = extra
        self.missing = tuple(missing)
        self.install = install_hint(extra)
        self.alternative = alternative
        super().__init__(_message(what, extra, self.missing, alternative), name=self.missing[0])


def install_hint(extra: str) -> str:
    """The one command that installs ``extra`` (quoted for shells that glob brackets)."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:  # a parent package of a dotted name is missing
        return True
    except ValueError:  # a module blocked in sys.modules (set to None) has no spec
        return True


def _missing(needs: Mapping[str, str]) -> list[str]:
    return sorted({dist for module, dist in needs.items() if _absent(module)})


def _message(what: str, extra: str, missing: Sequence[str], alternative: str = "") -> str:
    return (
        f"{what} needs the {extra!r} extra of {DISTRIBUTION}, which is not installed "
        f"(missing: {', '.join(missing)}); install it with: {install_hint(extra)}"
        + (f", or {alternative}" if alternative else "")
    )


def missing_extra(command: str, extra: str, needs: Mapping[str, str]) -> str | None:
    """None when everything ``command`` needs imports; else the error line to print."""
    missing = _missing(needs)
    return None if not missing else f"error: {_message(command, extra, missing)}"


def require_extra(
    what: str, extra: str, needs: Mapping[str, str], *, alternative: str = ""
) -> None:
    """Raise :class:`MissingExtraError` unless everything ``what`` needs imports."""
    missing = _missing(needs)
    if missing:
        raise MissingExtraError(what, extra, missing, alternative)
