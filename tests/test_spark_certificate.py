"""conformance/spark/ holds the Spark plugin's integration certificate (SC-008).

Regenerating it runs a real `dbt build` on a local SparkSession (about 70 s alone on two
cores), so this test checks the committed files only; refresh them with:

    SPARK_LOCAL_IP=127.0.0.1 floe-conformance report --plugin spark --level integration \
        --out conformance/spark --formats json,md
"""

from __future__ import annotations

from pathlib import Path

import pytest

from floe_compute_kit.conformance._render import render_markdown
from floe_compute_kit.conformance.report import read_certificate, verify_certificate

COMMITTED = Path(__file__).resolve().parents[1] / "conformance" / "spark"


@pytest.mark.requirement("SC-008")
def test_the_committed_spark_certificate_is_intact_and_certified_at_integration() -> None:
    cert = read_certificate(COMMITTED / "certificate.json")
    assert verify_certificate(cert) == []
    assert cert["plugin"]["name"] == "spark"
    assert cert["certified"] is True
    assert (COMMITTED / "certificate.md").read_text(encoding="utf-8") == render_markdown(cert)
    outcomes = {c["id"]: c["outcome"] for c in cert["checks"]}
    assert outcomes["integration.dbt_build"] == "passed"
