"""Fuzzing `verify` and `replay` with certificates bent every way: exit 0, 1 or 2, never a crash.

Starts from a real certificate (one failing check) and replaces, drops or adds values
anywhere in it, with and without resealing the digest, plus raw bytes.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _cert_data import build_real, real_results
from floe_compute_kit.cli.conformance import main
from floe_compute_kit.conformance._certificate import certificate_digest
from floe_compute_kit.conformance._results import Outcome

pytestmark = [pytest.mark.requirement("KIT-011"), pytest.mark.requirement("KIT-012")]

BASE = build_real(results=real_results(**{"profile.threads": Outcome.FAILED}))

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["core", "failed", "waived", "profile.threads", "1.0", "\n# x", "sha256:"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data[:3]):
            out += _paths(value, (*prefix, i))
    return out


PATHS = [p for p in _paths(BASE) if p]


@st.composite
def certificates(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    cert = json.loads(json.dumps(BASE))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = cert
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "drop", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(_values)
            elif action == "drop":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(max_size=8))] = draw(_values)
        except (KeyError, IndexError, TypeError):
            continue
    if draw(st.booleans()) and isinstance(cert, dict):
        with contextlib.suppress(Exception):
            cert["digest"] = certificate_digest(cert)
    return json.dumps(cert).encode()


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=certificates(), command=st.sampled_from(["verify", "replay"]))
def test_verify_and_replay_never_crash(data: bytes, command: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "certificate.json"
        path.write_bytes(data)
        argv = [command, str(path)]
        if command == "replay":
            argv += ["--check", "profile.threads"]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    assert code in {0, 1, 2}
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text
    if command == "verify":
        ok = [line for line in text.splitlines() if line.startswith("OK")]
        assert len(ok) <= 1
        assert (code == 0) == bool(ok)
