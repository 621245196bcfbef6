"""What the installed dbt adapter makes of a profile, judged where dbt is already imported.

Importing a dbt adapter costs a second of CPU (dbt-core comes with it), and the kit
never needs dbt in its own process otherwise. So ``profile.dbt_schema`` sends the
profiles it drew to a child of the run's dbt launcher, which has the adapter imported
already, as ``python -m floe_compute_kit.conformance._adapter_judge IN OUT``; the kit
judges in its own process only when there is no launcher, or to report a failure. Only
the standard library is imported here, at the top: the child must stay cheap.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import sys
from collections.abc import Sequence
from typing import Any, Final

__all__ = ["ADAPTER_TYPE", "credentials_for", "declared_keys", "judge", "main"]

#: a profile type that can name a dbt adapter module (``dbt.adapters.TYPE``)
ADAPTER_TYPE: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: how much of the adapter's complaint a verdict keeps
_MESSAGE_LIMIT: Final = 500


def credentials_for(kind: str) -> Any:
    """The installed adapter's Credentials class for profile type ``kind``; LookupError
    (saying what to install) when there is none."""
    if not ADAPTER_TYPE.fullmatch(kind):
        raise LookupError(f"profile type {kind!r} cannot name a dbt adapter module")
    try:
        module = importlib.import_module(f"dbt.adapters.{kind}")
    except ImportError as exc:
        raise LookupError(
            f"no installed dbt adapter handles profile type {kind!r} "
            f"(import dbt.adapters.{kind} failed: {exc}); install dbt-{kind}"
        ) from None
    credentials = getattr(getattr(module, "Plugin", None), "credentials", None)
    if credentials is None:
        raise LookupError(f"dbt.adapters.{kind} has no Plugin.credentials")
    return credentials


def declared_keys(credentials: Any) -> set[str]:
    """Profile keys the adapter or dbt-core reads; any other key is silently ignored."""
    keys = {f.name for f in dataclasses.fields(credentials)}
    keys |= set(getattr(credentials, "_ALIASES", {}) or {})
    keys |= {"type", "threads"}  # read by dbt-core itself
    return keys


def rejection(kind: str, credentials: Any, data: dict[str, Any]) -> str | None:
    """Why the adapter rejects credentials ``data`` (``type`` and ``threads`` left out),
    or None when it takes them."""
    try:
        data = credentials.translate_aliases(data)
        credentials.validate(data)
        credentials.from_dict(data)
    except Exception as exc:  # every rejection is a verdict
        return (
            f"dbt-{kind}'s {credentials.__name__} rejects the profile: "
            f"{type(exc).__name__}: {str(exc)[:_MESSAGE_LIMIT]}"
        )
    return None


def judge(kind: str, profiles: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The declared keys and, per profile, the adapter's rejection (None: accepted); or
    ``{"fatal": why}`` when no adapter handles ``kind``."""
    try:
        credentials = credentials_for(kind)
    except LookupError as exc:
        return {"fatal": str(exc)}
    return {
        "declared": sorted(declared_keys(credentials)),
        "rejections": [rejection(kind, credentials, dict(p)) for p in profiles],
    }


def main(argv: Sequence[str]) -> int:
    """``IN`` holds ``{"kind": ..., "profiles": [...]}``; the verdict goes to ``OUT``."""
    _, source, target = argv
    with open(source, encoding="utf-8") as handle:
        request = json.load(handle)
    verdict = judge(str(request["kind"]), list(request["profiles"]))
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(verdict, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
