"""conformance/ holds the DuckDB plugin's current certificate; a stale one fails CI (SC-008).

The suite is run afresh at the integration level (real dbt build, real Iceberg catalog)
and compared with the committed certificate, ignoring what changes between runs of the
same code: timestamps, durations, the machine's environment and the digest. To refresh it:

    floe-conformance report --plugin duckdb --level integration --out conformance --formats json,md
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _committed import assert_certified_at_integration, run_report, stale_diff
from floe_compute_kit.conformance._render import render_markdown
from floe_compute_kit.conformance.report import read_certificate, verify_certificate

COMMITTED = Path(__file__).resolve().parents[1] / "conformance"
REFRESH = (
    "floe-conformance report --plugin duckdb --level integration --out conformance "
    "--formats json,md"
)


@pytest.mark.requirement("SC-008")
def test_the_committed_certificate_is_intact() -> None:
    cert = read_certificate(COMMITTED / "certificate.json")
    assert verify_certificate(cert) == []
    assert cert["plugin"]["name"] == "duckdb"
    assert (COMMITTED / "certificate.md").read_text(encoding="utf-8") == render_markdown(cert), (
        f"conformance/certificate.md was not rendered from certificate.json; run: {REFRESH}"
    )


@pytest.mark.requirement("FR-005")
@pytest.mark.requirement("SC-008")
@pytest.mark.requirement("KIT-009")
@pytest.mark.requirement("KIT-201", "FR-020", "SC-006", "US7-AS1", "US7-AS2")
def test_the_committed_certificate_is_current(tmp_path: Path) -> None:
    # One test, one run: under xdist a shared fixture would run the suite once per worker.
    # A subprocess, exactly as the committed certificate is made (the README's command).
    done, cert = run_report("duckdb", tmp_path)
    failing = [
        f"{c['id']}: {c['message']}"
        for c in cert["checks"]
        if c["outcome"] not in {"passed", "unsupported"}
    ]
    assert failing == []
    # a check that does not apply to DuckDB (no credentials, no host:port, not floe-core)
    # says why, and none of the behaviour checks is among them
    unsupported = {c["id"]: c["message"] for c in cert["checks"] if c["outcome"] == "unsupported"}
    assert all(unsupported.values()), unsupported
    assert not {"integration.dbt_build", "integration.query_timeout", "live.read_only"} & set(
        unsupported
    )
    assert_certified_at_integration(done, cert)
    shown = stale_diff(COMMITTED / "certificate.json", cert)
    if shown is not None:
        pytest.fail(f"conformance/certificate.json is stale; run: {REFRESH}\n{shown}")
