"""Checks: integration. The profile's timeout really cancels a query on the live target.

A timeout that only reaches ``connect_timeout``, or sits under a key the adapter
accepts and ignores, reads as fine in every other check. Here dbt runs, in one
invocation, a model with the engine's slow query (from the engine seam, or the
plugin's ``conformance_slow_query`` hook) and a fast model, under the plugin's profile
with ``timeout_seconds=2``: the slow one must fail within 1 s after the timeout
(SC-006, dbt's own node timing, less the time the fast node shows the adapter spends
on a node doing nothing), naming the timeout; the fast one must succeed. A
plugin claiming ``per_model_timeout`` also gets a model cut at its own 1 s and one
allowed past the profile's 2 s by a larger override (US7-AS2). Not optional: an engine
that cannot cancel a query records a waiver for this check, which caps the level.

The models run as many at a time as the profile's ``threads`` allow (dbt's own rule; all
of them for the usual 4), so the run lasts about as long as its longest model rather
than their sum. A profile with fewer threads gets fewer at once: the Spark plugin's
local session has ``threads: 1``, and run at once there, one model's job holds the task
slots the others wait for while their timers run (measured on half a core: every model
cut at 6.7 s, the 1 s one 2.7 s late; one at a time: 1.30, 2.26 and 4.90 s).

Where the live target is a DuckDB file the kit made, the models run on a file of their
own (``_live.own_target``), so the check leaves its lane and runs beside
``integration.dbt_build`` instead of after it; on a server, the user's target or a
plugin's hook it takes its turn. The engine's slow query there is an interruptible
``sleep_ms``, which waits without a core: the timing judged is not shared with CPU-bound
queries of the check's own.

The longer override (4 s) runs a slow query asked for 3 s: honoured, the model succeeds
after about 3 s, past the profile's 2 s; ignored, the profile's 2 s cuts it. The verdict
is success against a timeout error, 1 s from either edge, rather than a cut judged by its
time: the run ends after about 3 s instead of 4 s plus the lateness of the cut. A query
that outlasts what it was asked for (Spark's runs for hours) is cut at the override's own
4 s instead, and judged as a cut: stopped before ``4 - 0.5`` s is refused, which leaves
1.5 s above an ignored override's cut at 2 s (on a loaded 2-core machine a 3 s override
judged by its cut once let a deaf plugin through: tests/test_dbt_launcher_zoo.py). A query
that ends before the profile's timeout proves nothing and fails the check. (The shorter
override alone would not do: ignored, its model runs to 2 s, right at its ``1 + SLACK_S``
limit.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel

from floe_compute_kit.compute import Capability
from floe_compute_kit.conformance._check import PARTLY_NEEDS, CheckContext, CheckFailed, check
from floe_compute_kit.conformance._lanes import beside_dir, quiet_hold
from floe_compute_kit.conformance._live import (
    SLOW_QUERY_HOOK,
    live_config,
    live_target_is_own,
    own_target,
    slow_query,
    validated,
)
from floe_compute_kit.conformance._results import Level
from floe_compute_kit.conformance.checks._dbt import (
    DBT_CHECK_TIMEOUT_S,
    DbtRun,
    checked_profile,
    run_dbt,
    tail,
)
from floe_compute_kit.conformance.checks._support import mask
from floe_compute_kit.conformance.engines import engine_for

__all__ = ["PROFILE_TIMEOUT_S", "SLACK_S", "TIMEOUT_ID"]

TIMEOUT_ID: Final = "integration.query_timeout"
#: the profile's timeout_seconds in this check
PROFILE_TIMEOUT_S: Final = 2
#: SC-006: a query past its timeout fails within this long after it
SLACK_S: Final = 1.0
#: how long the slow query would run uncancelled (engines that honour the number)
_SLOW_FOR_S: Final = 60.0
#: per-model overrides (US7-AS2): one shorter and one longer than the profile's
_CUT_S: Final = 1
_LONGER_S: Final = 4
#: what the model under the longer override asks of the slow query (see the module doc)
_LONGER_QUERY_S: Final = 3.0
#: an honoured longer override's model must have run at least this long past the fast
#: model's time: past the profile's timeout, by more than a cut's lateness
_PAST_PROFILE_S: Final = PROFILE_TIMEOUT_S + 0.5
#: seconds past timeout + slack before the kit stops a model that nothing cancelled
_GRACE_S: Final = 6.0
_LOG_NAME: Final = "integration.query_timeout-dbt.log"
_FAST: Final = "floe_fast"
_SLOW: Final = "floe_slow"
_CUT: Final = "floe_cut_short"
_LONGER: Final = "floe_allowed_longer"
_NAMES_TIMEOUT: Final = re.compile(r"time[ _-]?out|timed out", re.IGNORECASE)
PARTLY_NEEDS.setdefault(Capability.PER_MODEL_TIMEOUT.value, set()).add(TIMEOUT_ID)


def _with_timeout(ctx: CheckContext, config: Any, seconds: int) -> Any:
    data = config.model_dump() if isinstance(config, BaseModel) else dict(config)
    data["timeout_seconds"] = seconds
    return validated(
        ctx,
        data,
        f"the config model refuses timeout_seconds={seconds} on the live target's config, "
        "so no timeout can be checked",
        example=mask(config),
    )


def _models(slow: str, longer: str | None, pre_hook: str | None = None) -> dict[str, str]:
    """The timeout models; ``longer`` (a plugin claiming ``per_model_timeout``) is the
    query for the model under the longer override; ``pre_hook`` runs before each slow one
    (the engine's :attr:`~floe_compute_kit.conformance.engines.Engine.slow_model_pre_hook`)."""
    # A view: the fast statement proves the profile runs ordinary work under the timeout,
    # without a table job whose start-up (Spark's) is not what is judged here.
    hook = "" if pre_hook is None else f"{{{{ config(pre_hook={json.dumps(pre_hook)}) }}}}\n"
    models = {
        _FAST: "{{ config(materialized='view') }}\nselect 1 as answer",
        _SLOW: f"{hook}{slow}",
    }
    if longer is not None:
        models[_CUT] = f"{{{{ config(floe_timeout_seconds={_CUT_S}) }}}}\n{hook}{slow}"
        models[_LONGER] = f"{{{{ config(floe_timeout_seconds={_LONGER_S}) }}}}\n{hook}{longer}"
    return models


def _watchdog(timeouts: Mapping[str, float]) -> Any:
    """A ``stop_when`` for run_dbt: a model still running ``timeout + slack + grace`` after
    dbt printed its START line (plus however long the fast model took or is taking: an
    engine still starting up is not a timeout cancelling nothing) was cancelled by
    nothing; stop dbt instead of waiting for a query that may never end."""
    started: dict[str, float] = {}
    finished: dict[str, float] = {}
    names = [*timeouts, _FAST]
    patterns = {name: re.compile(rf"\.{re.escape(name)}\b") for name in names}
    seen = [0]

    def stop_when(lines: list[str], elapsed: float) -> str | None:
        for line in lines[seen[0] :]:
            for name, pattern in patterns.items():
                if not pattern.search(line):
                    continue
                if " START " in line:
                    started.setdefault(name, elapsed)
                elif name in started:
                    finished.setdefault(name, elapsed)
        seen[0] = len(lines)
        fast_start = started.get(_FAST)
        fast_took = 0.0 if fast_start is None else finished.get(_FAST, elapsed) - fast_start
        for name, timeout in timeouts.items():
            since = started.get(name)
            if name in finished or since is None:
                continue
            limit = timeout + SLACK_S + _GRACE_S + fast_took
            if elapsed - since > limit:
                return (
                    f"the model {name} was still running {elapsed - since:.1f} s after it "
                    f"started, {limit - timeout:.1f} s past its timeout of {timeout:g} s"
                )
        return None

    return stop_when


def _at_once(profile: Mapping[str, Any], models: int) -> int:
    """How many models dbt runs at a time: all of them, but no more than the profile's
    ``threads`` (see the module doc)."""
    threads = profile.get("threads")
    if isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1:
        return min(models, threads)
    return models


def _overhead(run: DbtRun) -> float:
    """What dbt and the adapter spend on a node that does no work: the fast model's time.

    A node's execution_time covers the adapter's own statements around the query (Spark
    checks and drops relations first, seconds under load); SC-006 is about the query.
    """
    fast = run.node(_FAST)
    if fast is None or fast.get("status") != "success":
        return 0.0
    return max(0.0, float(fast.get("execution_time") or 0.0))


def _judge_cancelled(run: DbtRun, name: str, timeout: float, what: str) -> str | None:
    node = run.node(name)
    if node is None:
        return f"{what}: dbt reported no result for the model {name}"
    status = str(node.get("status"))
    took = float(node.get("execution_time") or 0.0)
    message = str(node.get("message") or "")
    if status == "success":
        return (
            f"{what}: the model {name} running the engine's slow query succeeded after "
            f"{took:.2f} s; timeout_seconds={timeout:g} cancelled nothing"
        )
    if not _NAMES_TIMEOUT.search(message):
        return (
            f"{what}: the model {name} failed ({status}) after {took:.2f} s, but not with a "
            f"timeout: dbt said {message[:500]!r}; the error must name the timeout"
        )
    overhead = _overhead(run)
    if took - overhead > timeout + SLACK_S:
        return (
            f"{what}: the model {name} failed after {took:.2f} s ({took - overhead:.2f} s "
            f"after the {overhead:.2f} s a trivial model takes), more than {SLACK_S:g} s "
            f"after its timeout_seconds={timeout:g} (SC-006)"
        )
    if took < timeout - 0.5:
        return (
            f"{what}: the model {name} was stopped after {took:.2f} s, before its "
            f"timeout_seconds={timeout:g}"
        )
    return None


def _judge_allowed_longer(run: DbtRun) -> str | None:
    """The longer override: its model succeeds past the profile's timeout, or (a query
    that outlasts what it was asked for) is cut at the override's own timeout."""
    what = "per-model override (longer)"
    node = run.node(_LONGER)
    if node is None or node.get("status") != "success":
        return _judge_cancelled(run, _LONGER, _LONGER_S, what)
    took = float(node.get("execution_time") or 0.0)
    overhead = _overhead(run)
    if took - overhead < _PAST_PROFILE_S:
        return (
            f"{what}: the model {_LONGER}, whose slow query was asked to run "
            f"{_LONGER_QUERY_S:g} s, succeeded after {took:.2f} s ({took - overhead:.2f} s "
            f"after the {overhead:.2f} s a trivial model takes), not past the profile's "
            f"timeout_seconds={PROFILE_TIMEOUT_S}, so it proves nothing about the override "
            f"floe_timeout_seconds={_LONGER_S}; the slow query must run at least as long as "
            f"asked (`{SLOW_QUERY_HOOK}`)"
        )
    return None


@check(
    TIMEOUT_ID,
    method="generate_dbt_profile",
    requirements=("FR-020", "SC-006", "US7-AS1", "US7-AS2"),
    wording=(
        f"A profile generated with timeout_seconds={PROFILE_TIMEOUT_S} MUST make the "
        f"engine cancel a dbt model running a slow query within {SLACK_S:g} s after the "
        "timeout, with an error naming the timeout, while a fast model under the same "
        "profile succeeds; a plugin claiming `per_model_timeout` MUST honour a model's "
        "`floe_timeout_seconds` override, shorter or longer. Every plugin is checked."
    ),
    level=Level.INTEGRATION,
    # after dbt_build (one writer at a time on the live target), unless on a file of its
    # own: then from the run's start, beside everything
    lane="live-target",
    after=("live.",),
    timeout_s=DBT_CHECK_TIMEOUT_S,
    beside_when=live_target_is_own,
)
def query_timeout(ctx: CheckContext) -> None:
    with quiet_hold(ctx, TIMEOUT_ID):  # the plugin's calls; not the seconds dbt takes
        own = own_target(ctx, "timeout")
        live = own if own is not None else live_config(ctx)
        config = _with_timeout(ctx, live, PROFILE_TIMEOUT_S)
        profile = checked_profile(ctx, config)
        kind = str(profile["type"])
        slow = slow_query(ctx, kind, _SLOW_FOR_S)
        per_model = Capability.PER_MODEL_TIMEOUT.value in ctx.capabilities
        longer = slow_query(ctx, kind, _LONGER_QUERY_S) if per_model else None
    if slow is None or (per_model and longer is None):
        raise CheckFailed(
            f"the kit knows no slow query for the engine {kind!r}, so its timeout cannot be "
            f"exercised: define `{SLOW_QUERY_HOOK}(self, seconds) -> str` on the plugin "
            "(a cancellable SELECT that runs at least that long), or waive this check "
            "with the reason",
            example=mask(config),
        )
    timeouts: dict[str, float] = {_SLOW: PROFILE_TIMEOUT_S}
    if per_model:
        timeouts.update({_CUT: _CUT_S, _LONGER: _LONGER_S})
    models = _models(slow, longer, engine_for(kind).slow_model_pre_hook)
    run = run_dbt(
        ctx,
        config,
        profile,
        folder="timeout",
        args=["run", "--threads", str(_at_once(profile, len(models)))],
        models=models,
        log_name=_LOG_NAME,
        # the watchdog stops a model nothing cancelled long before this
        deadline_s=180.0,
        watchdog=lambda: _watchdog(timeouts),
        under=beside_dir(ctx) if own is not None else None,
        # the run's longest chain: dbt's start, the parse, then seconds of waiting
        urgent=True,
    )
    details: dict[str, Any] = {
        "profile_timeout_s": PROFILE_TIMEOUT_S,
        "slow_query": slow,
        "per_model_timeout": "checked" if per_model else "not claimed: not applicable",
        "target": "a file of its own, beside the build" if own is not None else "the live target",
    }
    if run.stopped is not None:
        raise CheckFailed(
            f"timeout_seconds={PROFILE_TIMEOUT_S} cancelled nothing: {run.stopped}, so the "
            f"kit stopped dbt. The profile must make the engine cancel a query past its "
            f"timeout (FR-020); a timeout that only reaches a connect timeout, or a key the "
            f"adapter ignores, does not.\ndbt said:\n{tail(run.output, 15)}{run.log_note}",
            example=mask(config),
            details=details,
        )
    if not run.results:
        raise CheckFailed(
            f"`dbt run` of the timeout models wrote no run_results.json (exit "
            f"{run.returncode}); dbt said:\n{tail(run.output)}{run.log_note}",
            example=mask(config),
            details=details,
        )
    details["node_overhead_s"] = round(_overhead(run), 3)
    details["nodes"] = {
        name: {
            "status": str(node.get("status")),
            "execution_time": float(node.get("execution_time") or 0.0),
        }
        for name in models
        if (node := run.node(name)) is not None
    }
    problems: list[str] = []
    fast = run.node(_FAST)
    if fast is None or fast.get("status") != "success":
        said = "" if fast is None else str(fast.get("message"))
        problems.append(
            f"the fast model {_FAST} failed under the same profile "
            f"(timeout_seconds={PROFILE_TIMEOUT_S}): {said[:500]!r}"
        )
    problems += [
        p
        for p in (
            _judge_cancelled(run, _SLOW, PROFILE_TIMEOUT_S, "profile timeout"),
            _judge_cancelled(run, _CUT, _CUT_S, "per-model override (shorter)")
            if per_model
            else None,
            _judge_allowed_longer(run) if per_model else None,
        )
        if p is not None
    ]
    if problems:
        raise CheckFailed(
            "; ".join(problems) + run.log_note,
            example=mask(config),
            details=details,
        )
