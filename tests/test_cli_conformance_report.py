"""`floe-conformance report`: outputs, summary, waivers and exit codes (0 / 1 / 2)."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from _cert_plugins import write_threads_plugin
from floe_compute_kit.cli.conformance import main
from floe_compute_kit.conformance._certificate import schema_errors

MODULE = "floe_cert_threads_cli"


@pytest.mark.requirement("KIT-009")
def test_an_unloadable_plugin_exits_2_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["report", "--plugin", "no_such_plugin_xyz", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "could not be loaded" in err
    assert "no_such_plugin_xyz" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.requirement("KIT-009")
def test_a_plugin_that_fails_to_import_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "floe_cert_boom.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["report", "--plugin", "floe_cert_boom:Plugin", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "boom at import" in capsys.readouterr().err


@pytest.mark.requirement("KIT-009")
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["report", "--plugin", "duckdb", "--level", "platinum"])
    assert info.value.code == 2
    assert "invalid choice: 'platinum'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["report", "--plugin", "duckdb", "--formats", "json,pdf"])
    assert info.value.code == 2
    assert "allowed: a comma-separated subset of json, md, html, junit" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report", "--plugin", "duckdb", "--max-examples", "0"])
    assert "'0' is not allowed; allowed: a whole number greater than 0" in capsys.readouterr().err


@pytest.mark.requirement("KIT-009")
@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("--budget", "nan", "a number greater than 0 and at most 3600"),
        ("--budget", "inf", "a number greater than 0 and at most 3600"),
        ("--budget", "1e400", "a number greater than 0 and at most 3600"),
        ("--budget", "3601", "a number greater than 0 and at most 3600"),
        ("--max-examples", "99999999999999999999", "a whole number greater than 0 and at most"),
        ("--max-examples", "1e3", "a whole number greater than 0 and at most 10000"),
        ("--iceberg-uri", "not a url", "an http:// or https:// URL with a host"),
        ("--iceberg-uri", "http://", "an http:// or https:// URL with a host"),
        ("--iceberg-uri", "http://127.0.0.1:port", "an http:// or https:// URL with a host"),
        ("--iceberg-uri", "ftp://127.0.0.1/", "an http:// or https:// URL with a host"),
        ("--seed", "100000000000000000000", "a whole number of at most 20 digits"),
        ("--seed", "1.5", "a whole number of at most 20 digits"),
    ],
)
def test_an_option_out_of_bounds_is_a_usage_error_before_the_run(
    option: str, value: str, allowed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """nan and inf budgets once ended in a traceback, and a huge --max-examples ran on."""
    with pytest.raises(SystemExit) as info:
        main(["report", "--plugin", "duckdb", option, value])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert f"{option}: {value!r}" in err
    assert allowed in err
    assert "Traceback" not in err


@pytest.mark.requirement("KIT-009")
def test_the_bounds_themselves_are_taken() -> None:
    from floe_compute_kit.conformance._settings import bounded, iceberg_uri, seed

    assert bounded(float, "--budget", 3600)("3600") == 3600.0
    assert bounded(int, "--max-examples", 10_000)("10000") == 10_000
    assert iceberg_uri("--iceberg-uri")("http://127.0.0.1:8181/") == "http://127.0.0.1:8181/"
    assert seed("--seed")("-99999999999999999999") == -(10**20) + 1


@pytest.mark.requirement("KIT-013")
def test_a_malformed_waivers_file_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(
        "waivers:\n  - check: profile.threads\n    reason: r\n    expires: someday\n    link: l\n"
    )
    code = main(["report", "--plugin", "duckdb", "--waivers", str(waivers)])
    err = capsys.readouterr().err
    assert code == 2
    assert "waivers[0].expires: 'someday' is not allowed" in err


@pytest.mark.requirement("KIT-009")
@pytest.mark.requirement("KIT-013")
def test_a_failing_plugin_with_waivers_writes_every_output_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write_threads_plugin(tmp_path / "plugin", MODULE)
    monkeypatch.syspath_prepend(str(tmp_path / "plugin"))
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(
        "waivers:\n"
        "  - check: profile.threads\n    reason: threads are fixed upstream\n"
        "    expires: 2099-01-01\n    link: https://example.org/i/7\n"
        "  - check: metadata.name\n    reason: long gone\n"
        "    expires: 2001-01-01\n    link: https://example.org/i/1\n"
    )
    out = tmp_path / "cert"
    code = main(
        [
            "report",
            "--plugin",
            spec,
            "--out",
            str(out),
            "--seed",
            "5",
            "--max-examples",
            "5",
            "--waivers",
            str(waivers),
        ]
    )
    sys.modules.pop(MODULE, None)
    stdout = capsys.readouterr().out
    assert code == 1
    assert "By method" in stdout
    assert "By requirement" in stdout
    assert "generate_dbt_profile" in stdout
    assert "profile.threads waived" in stdout
    assert "expired on 2001-01-01" in stdout
    assert "NOT CERTIFIED" in stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "certificate.html",
        "certificate.json",
        "certificate.md",
        "junit.xml",
    ]
    cert = json.loads((out / "certificate.json").read_text())
    assert schema_errors(cert) == []
    threads = next(c for c in cert["checks"] if c["id"] == "profile.threads")
    assert threads["outcome"] == "waived"
    assert threads["waiver"]["link"] == "https://example.org/i/7"
    assert cert["waivers"][0]["applied"] is True
    assert cert["waivers"][1]["applied"] is False
    assert cert["level_achieved"] is None
    assert cert["run"]["seed"] == 5
    junit = ET.parse(out / "junit.xml").getroot()  # noqa: S314 - XML the kit just wrote itself
    assert int(junit.get("tests", "0")) == len(cert["checks"])
    assert "profile.threads" in (out / "certificate.html").read_text()
    assert "threads are fixed upstream" in (out / "certificate.md").read_text()
