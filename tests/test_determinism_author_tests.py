"""A check abandoned as hung mid-Hypothesis leaves the author's own @given tests normal.

The kit switches Hypothesis's local constants off while a check runs
(``_determinism.seed_only_draws``). A check can time out while its own property test
is still running in the abandoned worker thread; the author's tests that run next in
the same pytest process must then see Hypothesis exactly as they would without the kit.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.requirement("KIT-011")

LOCAL = "zq_author_51c2"  # at most 20 characters, or Hypothesis ignores it

AUTHOR_TESTS = """
import threading

from hypothesis import given, settings, strategies as st
from hypothesis.internal.conjecture import providers

from floe_compute_kit.conformance._check import CheckContext, RegisteredCheck
from floe_compute_kit.conformance._results import CheckSpec, Level, Outcome
from floe_compute_kit.conformance.runner import run_check
from floe_compute_kit.models import ComputeConfig

ORIGINAL = (providers._get_local_constants, providers.CONSTANTS_CACHE)
RELEASE = threading.Event()
INSIDE = threading.Event()
from author_helpers import LOCAL


def hangs_inside_given(ctx):
    @settings(max_examples=50, database=None, deadline=None)
    @given(st.integers())
    def prop(x):
        INSIDE.set()
        RELEASE.wait(60)

    prop()


def test_1_a_check_times_out_mid_given(tmp_path):
    spec = CheckSpec("test.hangs", "generate_dbt_profile", ("KIT-011",), "hangs", Level.CORE, None)
    ctx = CheckContext(
        plugin=object(), plugin_spec="x", config_model=ComputeConfig, workdir=tmp_path,
        check_timeout_s=1.0,
    )
    result = run_check(RegisteredCheck(spec, hangs_inside_given), ctx)
    assert INSIDE.is_set(), "the check never reached its property test"
    assert result.outcome is Outcome.FAILED
    assert "did not finish" in result.message


def test_2_hypothesis_internals_are_back():
    assert (providers._get_local_constants, providers.CONSTANTS_CACHE) == ORIGINAL


@settings(max_examples=300, database=None)
@given(st.integers())
def test_3_author_property_fails_and_shrinks(x):
    assert x < 1000


def test_4_author_hypothesis_sees_local_constants():
    # Plain Hypothesis mixes constants of local (non-test) modules into its draws.
    assert LOCAL in providers._get_local_constants().strings


def test_6_release():
    RELEASE.set()
"""


def test_author_given_tests_behave_normally_after_a_check_times_out(
    pytester: pytest.Pytester,
) -> None:
    # Hypothesis takes constants from local modules, never from test files.
    pytester.makepyfile(author_helpers=f"LOCAL = {LOCAL!r}\n", test_author=AUTHOR_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*test_3_author_property_fails_and_shrinks FAILED*"])
    result.stdout.fnmatch_lines(["*test_3_author_property_fails_and_shrinks(*", "*x=1000,*"])
