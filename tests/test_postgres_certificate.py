"""The postgres plugin is CERTIFIED at integration against a live server, and its
committed certificate (conformance/postgres/) is current. To refresh it:

    python -m floe_compute_kit.conformance.services postgres -- floe-conformance report \\
        --plugin postgres --level integration --out conformance/postgres --formats json,md
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _committed import run_report, stale_diff
from floe_compute_kit.conformance._render import render_markdown
from floe_compute_kit.conformance.report import read_certificate, verify_certificate
from floe_compute_kit.conformance.services import PostgresServer

COMMITTED = Path(__file__).resolve().parents[1] / "conformance" / "postgres"
REFRESH = (
    "python -m floe_compute_kit.conformance.services postgres -- floe-conformance report "
    "--plugin postgres --level integration --out conformance/postgres --formats json,md"
)


@pytest.mark.requirement("SC-008")
def test_the_committed_postgres_certificate_is_intact() -> None:
    cert = read_certificate(COMMITTED / "certificate.json")
    assert verify_certificate(cert) == []
    assert cert["plugin"]["name"] == "postgres"
    assert cert["certified"] is True
    assert (COMMITTED / "certificate.md").read_text(encoding="utf-8") == render_markdown(cert), (
        f"conformance/postgres/certificate.md was not rendered from its json; run: {REFRESH}"
    )


@pytest.mark.requirement("SC-008")
@pytest.mark.requirement("KIT-009")
def test_postgres_is_certified_at_integration_against_a_live_server(
    floe_postgres: PostgresServer, tmp_path: Path
) -> None:
    done, cert = run_report("postgres", tmp_path, env=floe_postgres.env())
    failing = [f"{c['id']}: {c['message']}" for c in cert["checks"] if c["outcome"] == "failed"]
    assert failing == []
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CERTIFIED postgres" in done.stdout
    assert "NOT CERTIFIED" not in done.stdout
    assert cert["level_achieved"] == "integration"
    build = next(c for c in cert["checks"] if c["id"] == "integration.dbt_build")
    assert build["outcome"] == "passed"
    assert floe_postgres.password not in (tmp_path / "certificate.json").read_text("utf-8")
    shown = stale_diff(COMMITTED / "certificate.json", cert)
    if shown is not None:
        pytest.fail(f"conformance/postgres/certificate.json is stale; run: {REFRESH}\n{shown}")


@pytest.mark.requirement("KIT-009")
def test_a_half_set_live_target_fails_naming_the_variables(tmp_path: Path) -> None:
    # None set: the kit starts its own server (tests/test_conformance_zoo_live.py); some
    # set: the plugin's hook names the ones missing instead of guessing.
    env = {**dict.fromkeys(PostgresServer("h", 1, "u", "p", "d").env(), "")}
    env["FLOE_POSTGRES_HOST"] = "127.0.0.1"
    done, cert = run_report("postgres", tmp_path, env=env)
    build = next(c for c in cert["checks"] if c["id"] == "integration.dbt_build")
    assert build["outcome"] != "passed"
    assert "FLOE_POSTGRES_PORT" in build["message"]
    assert done.returncode != 0
