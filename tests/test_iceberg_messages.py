"""The local Iceberg catalog's start-up messages: a log they name survives the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe_compute_kit.conformance._logs import logs_kept_in
from floe_compute_kit.conformance.iceberg import ENV_SOURCE, iceberg_rest_catalog
from floe_compute_kit.errors import ComputeConnectionError

pytestmark = pytest.mark.requirement("KIT-171")


@pytest.fixture
def refusing_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The catalog process really starts and really dies at once: a sitecustomize on its
    PYTHONPATH writes a line to its log (stderr) and exits 3 before the server runs."""
    boom = tmp_path / "boom"
    boom.mkdir()
    (boom / "sitecustomize.py").write_text(
        "import os, sys\n"
        "sys.stderr.write('floe-kit-171: refusing to start\\n')\n"
        "sys.stderr.flush()\n"
        "os._exit(3)\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(boom))
    monkeypatch.setenv(ENV_SOURCE, "local")
    work = tmp_path / "work"
    work.mkdir()
    return work


def _start(work: Path) -> ComputeConnectionError:
    with pytest.raises(ComputeConnectionError) as info, iceberg_rest_catalog(workdir=work):
        pass
    return info.value


def test_a_catalog_that_cannot_start_names_its_kept_log(refusing_catalog: Path) -> None:
    logs = refusing_catalog.parent / "out" / "logs"
    with logs_kept_in(logs):
        error = _start(refusing_catalog)
    kept = logs / "iceberg-catalog.log"
    assert "exit code 3" in error.message
    assert f"its log is kept at {kept}" in error.message
    assert "refusing to start" in kept.read_text(encoding="utf-8")
    assert "refusing to start" in error.message  # the tail, too
    assert not list(refusing_catalog.iterdir())  # its temporary folder is gone; the copy stays


def test_without_a_kept_folder_the_message_names_no_deleted_file(refusing_catalog: Path) -> None:
    error = _start(refusing_catalog)
    assert "catalog.log" not in error.message
    assert "--out DIR" in error.message
    assert "refusing to start" in error.message
