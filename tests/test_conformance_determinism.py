"""Under the kit, a seed alone decides what Hypothesis draws (certificates replay)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from floe_compute_kit.conformance._determinism import seed_only_draws

pytestmark = pytest.mark.requirement("KIT-011")

MARKER = "zq_local_constant_7f3a"


def draws() -> list[str]:
    seen: list[str] = []

    @seed(1234)
    @settings(
        max_examples=600,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(st.text(min_size=1))
    def collect(value: str) -> None:
        seen.append(value)

    collect()
    return seen


@pytest.fixture
def local_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module outside site-packages, as an editable install is, holding a string constant."""
    (tmp_path / "floe_local_constants_mod.py").write_text(f"VALUE = {MARKER!r}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    yield "floe_local_constants_mod"
    sys.modules.pop("floe_local_constants_mod", None)


def test_local_constants_change_plain_hypothesis_draws_but_not_the_kits(local_module: str) -> None:
    with seed_only_draws():
        before = draws()
    importlib.import_module(local_module)
    plain = draws()
    with seed_only_draws():
        after = draws()
    # Plain Hypothesis mixes local constants (this module's, an editable kit's) into the
    # same seed's draws; under the kit the draws stay what the seed alone decides.
    assert plain != before, "Hypothesis no longer mixes in local constants"
    assert after == before
    assert not any(MARKER in v for v in after)


def test_the_switch_nests_and_restores() -> None:
    from hypothesis.internal.conjecture import providers

    original = providers._get_local_constants
    with seed_only_draws(), seed_only_draws():
        assert providers._get_local_constants is not original
    assert providers._get_local_constants is original


def test_a_check_abandoned_as_hung_leaves_hypothesis_as_it_was(tmp_path: Path) -> None:
    import threading

    from hypothesis.internal.conjecture import providers

    from floe_compute_kit.conformance._check import CheckContext, RegisteredCheck
    from floe_compute_kit.conformance._results import CheckSpec, Level, Outcome
    from floe_compute_kit.conformance.runner import run_check
    from floe_compute_kit.models import ComputeConfig

    release = threading.Event()
    original = providers._get_local_constants
    spec = CheckSpec("test.hangs", "generate_dbt_profile", ("KIT-011",), "hangs", Level.CORE, None)
    hung = RegisteredCheck(spec, lambda ctx: release.wait(30))
    ctx = CheckContext(
        plugin=object(),
        plugin_spec="x",
        config_model=ComputeConfig,
        workdir=tmp_path,
        check_timeout_s=0.2,
    )
    try:
        result = run_check(hung, ctx)
        assert result.outcome is Outcome.FAILED
        assert providers._get_local_constants is original
    finally:
        release.set()


_SHARED_RANDOM = """
import gc, json, threading
from hypothesis import given, seed, settings, strategies as st
from floe_compute_kit.conformance._determinism import shared_thread_random

full = []
def count(phase, info):
    if phase == "start" and info["generation"] == 2:
        full.append(1)
gc.callbacks.append(count)
gc.disable()  # only the collections someone asks for are counted

def draw(share, out):
    if share:
        shared_thread_random()
    @seed(99)
    @settings(max_examples=20, database=None, deadline=None)
    @given(st.text())
    def collect(value):
        out.append(value)
    collect()

def in_threads(share):
    full.clear()
    drawn = []
    for _ in range(3):
        out = []
        worker = threading.Thread(target=draw, args=(share, out))
        worker.start()
        worker.join()
        drawn.append(out)
    return len(full), drawn

own, own_draws = in_threads(False)
shared, shared_draws = in_threads(True)
print(json.dumps({"own": own, "shared": shared, "same": own_draws == shared_draws}))
"""


def test_drawing_threads_share_one_registered_random() -> None:
    """Hypothesis registers a Random per new drawing thread, each with a full gc.collect();
    the kit's threads share one, registered once, and draw what their seed says."""
    import json
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _SHARED_RANDOM], capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["own"] == 3, seen  # one full collection per new thread
    assert seen["shared"] == 1, seen  # once, for the shared Random
    assert seen["same"] is True
