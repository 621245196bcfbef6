"""Comparing a freshly made certificate with a committed one, as the README's refresh
commands make them: one report run in a subprocess, and a diff that ignores what changes
between runs of the same code (timestamps, durations, environment, digest)."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from floe_compute_kit.conformance._certificate import normalized
from floe_compute_kit.conformance.checks.integration import DBT_BUILD_ID
from floe_compute_kit.conformance.checks.timeout import TIMEOUT_ID
from floe_compute_kit.conformance.report import read_certificate


def run_report(
    plugin: str, out: Path, *, env: Mapping[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``floe-conformance report --plugin PLUGIN --level integration`` into ``out``."""
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("floe-conformance")),
            *("report", "--plugin", plugin, "--level", "integration"),
            *("--out", str(out), "--formats", "json,md"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(env or {})},
    )
    assert (out / "certificate.json").exists(), done.stdout + done.stderr
    return done, read_certificate(out / "certificate.json")


def stale_diff(committed: Path, fresh: Mapping[str, Any]) -> str | None:
    """None when ``fresh`` matches the certificate at ``committed``, else a short diff."""
    old = normalized(read_certificate(committed))
    new = normalized(fresh)
    if old == new:
        return None
    diff = difflib.unified_diff(
        json.dumps(old, indent=1, sort_keys=True).splitlines(),
        json.dumps(new, indent=1, sort_keys=True).splitlines(),
        "committed",
        "fresh",
        lineterm="",
        n=2,
    )
    return "\n".join(list(diff)[:80])


def assert_certified_at_integration(
    done: subprocess.CompletedProcess[str], cert: Mapping[str, Any]
) -> None:
    """Exit 0, certified at integration with the build and the timeout checks passed, and
    every capability not claimed named with the checks it leaves unsupported."""
    # a str, not a tuple: pytest cuts the repr of a non-str message at 240 characters
    failed = "\n".join(
        f"{c['id']} ({c['outcome']}, {c['duration_s']} s): {c['message']} {c['details']}"
        for c in cert["checks"]
        if c["outcome"] not in ("passed", "unsupported")
    )
    assert done.returncode == 0, f"{failed}\nstderr: {done.stderr[-2000:]}"
    assert cert["certified"] is True
    assert cert["level_achieved"] == "integration"
    by_id = {c["id"]: c for c in cert["checks"]}
    assert by_id[DBT_BUILD_ID]["outcome"] == "passed"
    assert by_id[TIMEOUT_ID]["outcome"] == "passed"
    unclaimed = {u["capability"]: u["checks"] for u in cert["plugin"]["unclaimed_capabilities"]}
    claimed = set(cert["plugin"]["capabilities"])
    assert set(unclaimed) & claimed == set()
    assert "dbt_build" not in unclaimed
    assert "query_timeout" not in unclaimed
    if "per_model_timeout" not in claimed:
        assert TIMEOUT_ID in unclaimed["per_model_timeout"]
    if "catalog_attachment" not in claimed:
        assert unclaimed["catalog_attachment"]
        assert all(by_id[c]["outcome"] == "unsupported" for c in unclaimed["catalog_attachment"])
