"""The kit's side of the plugin host: start it, talk to it, and stand in for the plugin.

:class:`PluginHost` owns the child process: a private channel, capped output pipes,
its own process group and a deadline on every request. When the plugin crashes,
exits or hangs, the host is killed (its whole group) and started afresh for the next
call, and the call fails with what happened. :class:`HostPlugin` looks like the
plugin to the checks, so the same check runs in-process or against a host.
"""

from __future__ import annotations

import builtins
import collections
import contextvars
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from floe_compute_kit.conformance.host._mirror import (
    MirrorBase,
    mirror_model,
    rebuild_validation_error,
)
from floe_compute_kit.conformance.host._server import BATCH_MAX, CHANNEL_ENV
from floe_compute_kit.conformance.host._wire import (
    WireError,
    decode,
    encode,
    known_models,
    read_frame,
    write_frame,
)

__all__ = [
    "HostPlugin",
    "HostSettings",
    "PluginDiedError",
    "PluginHost",
    "PluginHungError",
    "RemotePluginError",
    "call_deadline",
]

#: The environment variable that caps the host's address space (bytes).
MEMORY_ENV: Final = "FLOE_PLUGIN_HOST_MEMORY"
_OUTPUT_KEEP: Final = 64 * 1024
_GRACE_S: Final = 0.5
_CAPTURED_KEEP: Final = 200
#: verdicts on configs kept per host (equal input, equal verdict)
_VALIDATED_KEEP: Final = 10_000
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "floe_host_deadline", default=None
)


@dataclass(frozen=True)
class HostSettings:
    """How long the host may take, and how much memory it may map."""

    call_deadline_s: float = 15.0
    hook_deadline_s: float = 60.0
    load_deadline_s: float = 60.0
    memory_limit_bytes: int = 16 * 1024**3


class RemotePluginError(Exception):
    """Mixed into the stand-ins for the exceptions a plugin raised in its host."""

    floe_remote_traceback: str = ""
    floe_remote_type: str = ""


class PluginDiedError(RuntimeError):
    """The plugin ended (or lost) its process while the kit waited for ``method``."""

    floe_host_event = True

    def __init__(self, method: str, how: str) -> None:
        self.method = method
        self.how = how
        super().__init__(f"the plugin {how} inside {method}")


class PluginHungError(TimeoutError):
    """``method`` did not answer within its deadline; the host was killed."""

    floe_host_event = True

    def __init__(self, method: str, deadline_s: float, *, earlier: bool = False) -> None:
        self.method = method
        self.deadline_s = deadline_s
        self.earlier = earlier
        if earlier:
            text = (
                f"{method} hung earlier (no answer within {deadline_s:g} s), so the kit "
                "does not call it again"
            )
        else:
            text = (
                f"{method} did not return within {deadline_s:g} s; the kit killed the "
                "plugin's process"
            )
        super().__init__(text)


@contextmanager
def call_deadline(seconds: float) -> Iterator[None]:
    """Calls into a host made inside this block get ``seconds`` (a budgeted call)."""
    token = _DEADLINE.set(seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class _Output:
    """Drains one of the host's output pipes, keeping only the tail."""

    def __init__(self, stream: Any, name: str) -> None:
        self.total = 0
        self.tail = b""
        self._thread = threading.Thread(
            target=self._drain, args=(stream,), daemon=True, name=f"floe-host-{name}"
        )
        self._thread.start()

    def _drain(self, stream: Any) -> None:
        with suppress(OSError, ValueError):
            while chunk := stream.read1(65536):
                self.total += len(chunk)
                self.tail = (self.tail + chunk)[-_OUTPUT_KEEP:]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class PluginHost:
    """One plugin, loaded in a child process that the kit can kill and restart."""

    #: the load request :meth:`begin` sent: (what it is called, when its deadline ends)
    _pending: tuple[str, float] | None = None
    #: why :meth:`begin` could not send it
    _begin_error: BaseException | None = None

    def __init__(self, spec: str, workdir: Path, settings: HostSettings | None = None) -> None:
        self.spec = spec
        self.workdir = workdir
        self.settings = settings or HostSettings()
        self.info: dict[str, Any] = {}
        self.effects: list[str] = []
        self.hung: dict[str, float] = {}
        self.restarts = 0
        self.events: list[str] = []
        #: (method, what the plugin logged/traced/measured in that call), newest last
        self.captured: list[tuple[str, dict[str, Any]]] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._rfd = -1
        self._wfd = -1
        self._lock = threading.RLock()
        self._outputs: list[_Output] = []
        self.output_bytes = 0
        #: hosts of the same plugin serving calls beside this one (see ._pool)
        self.siblings: list[PluginHost] = []

    # --- life cycle -------------------------------------------------------------
    def _spawn(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        cwd = self.workdir / "host"
        cwd.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env[CHANNEL_ENV] = f"{to_child_r},{from_child_w}"
        env[MEMORY_ENV] = str(self.settings.memory_limit_bytes)
        paths = [p for p in sys.path if p and Path(p).exists()]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        env.pop("PYTEST_XDIST_WORKER", None)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "floe_compute_kit.conformance.host"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(to_child_r, from_child_w),
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._rfd, self._wfd = from_child_r, to_child_w
        for stream in self._outputs:
            self.output_bytes += stream.total
        self._outputs = [_Output(self._proc.stdout, "stdout"), _Output(self._proc.stderr, "stderr")]

    def start(self) -> dict[str, Any]:
        """Start the host and load the plugin; the load reply (or its failure)."""
        self.begin()
        return self.finish()

    def begin(self) -> None:
        """Spawn the host and ask it to load the plugin, without waiting for the answer.

        The host's interpreter start and the plugin's import then run while the caller
        does its own start-up; :meth:`finish` reads the answer (under the same deadline,
        counted from here).
        """
        with self._lock:
            self._spawn()
            self._pending = None
            try:
                write_frame(self._wfd, {"op": "load", "spec": self.spec})
            except OSError:
                self._pending = None
                self._begin_error = self._died("loading the plugin")
                return
            self._begin_error = None
            self._pending = ("loading the plugin", time.monotonic() + self.settings.load_deadline_s)

    def finish(self) -> dict[str, Any]:
        """The load reply :meth:`begin` asked for (or its failure)."""
        with self._lock:
            try:
                if self._begin_error is not None:
                    raise self._begin_error
                assert self._pending is not None, "finish() without begin()"
                method, end = self._pending
                self._pending = None
                reply = self._await(method, end, self.settings.load_deadline_s)
            except (PluginDiedError, PluginHungError) as exc:
                return {"failure": {"message": str(exc), "traceback": None, "missing": []}}
            self.effects.extend(reply.get("effects", []))
            if "failure" not in reply:
                self.info = reply
            return reply

    def _restart(self, method: str) -> None:
        self.restarts += 1
        self._spawn()
        reply = self._exchange(
            {"op": "load", "spec": self.spec},
            "loading the plugin again",
            self.settings.load_deadline_s,
        )
        if "failure" in reply:
            raise PluginDiedError(
                method,
                "could not be loaded again after its process ended: "
                + str(reply["failure"].get("message")),
            )

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        """Stop the host and everything in its process group (and its siblings)."""
        while self.siblings:
            self.siblings.pop().close()
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            with suppress(OSError, WireError):
                if proc.poll() is None:
                    write_frame(self._wfd, {"op": "quit"})
            # A thread the plugin left may keep it alive: it is killed below.
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2.0)
            self._kill()

    def _kill(self) -> None:
        proc = self._proc
        if proc is None:
            return
        with suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        with suppress(OSError, subprocess.TimeoutExpired):
            proc.wait(timeout=5.0)
        for fd in (self._rfd, self._wfd):
            with suppress(OSError):
                os.close(fd)
        self._rfd = self._wfd = -1
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                with suppress(OSError):
                    stream.close()

    def output_tail(self) -> str:
        mine = b"".join(o.tail for o in self._outputs).decode("utf-8", "replace")
        return mine + "".join(sibling.output_tail() for sibling in list(self.siblings))

    # --- requests ---------------------------------------------------------------
    def _exchange(self, message: dict[str, Any], method: str, deadline_s: float) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None
        try:
            write_frame(self._wfd, message)
        except OSError:
            raise self._died(method) from None
        return self._await(method, time.monotonic() + deadline_s, deadline_s)

    def _await(self, method: str, end: float, deadline_s: float) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None
        while True:
            left = end - time.monotonic()
            if left <= 0:
                self._kill()
                self.events.append(f"{method}: no answer within {deadline_s:g} s")
                raise PluginHungError(method, deadline_s)
            ready, _, _ = select.select([self._rfd], [], [], min(left, 0.5))
            if ready:
                break
            if proc.poll() is not None:
                raise self._died(method)
        try:
            reply: dict[str, Any] = read_frame(self._rfd)
        except (EOFError, OSError, ValueError):
            raise self._died(method) from None
        return reply

    def _died(self, method: str) -> PluginDiedError:
        proc = self._proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                code = None
        self._kill()
        if code is None:
            how = "closed the kit's channel to its process"
        elif code < 0:
            how = f"was killed by {_signal_name(-code)}"
        else:
            how = f"ended its process with exit code {code}"
        self.events.append(f"{method}: {how}")
        return PluginDiedError(method, how)

    def request(self, message: dict[str, Any], method: str) -> dict[str, Any]:
        """Send one request; restart the host first when an earlier call ended it."""
        deadline = self.hung.get(method)
        if deadline is not None:
            raise PluginHungError(method, deadline, earlier=True)
        budget = _DEADLINE.get()
        if budget is not None:
            deadline_s = budget + _GRACE_S
        elif method.startswith("conformance_"):
            deadline_s = self.settings.hook_deadline_s
        else:
            deadline_s = self.settings.call_deadline_s
        with self._lock:
            if not self.alive():
                self._restart(method)
            try:
                reply = self._exchange(message, method, deadline_s)
            except PluginHungError:
                self.hung[method] = deadline_s
                raise
        if reply.get("captured"):
            self.captured.append((method, reply["captured"]))
            del self.captured[:-_CAPTURED_KEEP]
        self.note_effects(reply)
        return reply

    def note_effects(self, reply: dict[str, Any]) -> None:
        """Keep what a reply says the plugin did to its process (each effect once)."""
        for effect in reply.get("effects", []):
            if effect not in self.effects and len(self.effects) < 50:
                self.effects.append(str(effect))


class _LastCall(threading.local):
    """Per thread: the class attributes are each thread's starting values."""

    #: the arguments as the host encoded them after the call, decoded when asked for
    #: (only the mutation checks ask; decoding a config validates it again)
    args_after_wire: list[Any] = []  # read, never mutated: each call sets a new list
    violations: list[str] = []
    wall_ms: float = 0.0


class _Prefetched(threading.local):
    """Per thread: replies to calls made ahead (see HostPlugin.floe_prefetch_calls)."""

    def __init__(self) -> None:
        self.replies: dict[str, collections.deque[dict[str, Any]]] = {}


def _call_key(method: str, encoded: list[Any], sandboxed: bool) -> str:
    return json.dumps([method, encoded, sandboxed], sort_keys=True)


class HostPlugin:
    """Stands in for the plugin: attribute reads and method calls go to the host."""

    def __init__(self, host: PluginHost, models: dict[str, Any]) -> None:
        self._host = host
        self._models = models
        self._attributes = frozenset(host.info.get("attributes", ()))
        self._callables = frozenset(host.info.get("callables", ()))
        self._last = _LastCall()
        self._prefetched = _Prefetched()
        #: methods whose batch ended or hung the host: made one call at a time from then on
        self._unbatched: set[str] = set()
        self._validated: dict[str, dict[str, Any]] = {}
        #: every secret value sent to the plugin, so reports can be scrubbed of them
        self.secrets_seen: set[str] = set()

    @property
    def floe_host(self) -> PluginHost:
        return self._host

    # What the calling thread's last call left: checks in two lanes call at once.
    @property
    def last_args_after(self) -> list[Any]:
        """The arguments as the plugin left them after this thread's last call."""
        return [self._decode(a) for a in self._last.args_after_wire]

    @property
    def last_violations(self) -> list[str]:
        """What the sandbox saw in this thread's last sandboxed call."""
        return self._last.violations

    @property
    def last_wall_ms(self) -> float:
        """How long this thread's last call ran in the host."""
        return self._last.wall_ms

    @property
    def floe_models(self) -> dict[str, Any]:
        return self._models

    def __repr__(self) -> str:
        return f"<plugin {self._host.spec} in its host process>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._attributes:
            raise AttributeError(name)
        if name in self._callables:
            return _RemoteMethod(self, name)
        return self._read(self._host.request({"op": "get", "name": name}, name), name)

    def floe_call(self, method: str, *args: Any, sandboxed: bool = False) -> Any:
        encoded = [encode(a) for a in args]
        waiting = self._prefetched.replies.get(_call_key(method, encoded, sandboxed))
        if waiting:
            reply = waiting.popleft()  # made ahead, in this order: this call's own reply
        else:
            message = {"op": "call", "method": method, "args": encoded, "sandboxed": sandboxed}
            reply = self._host.request(message, method)
        self._last.violations = [str(v) for v in reply.get("violations", [])]
        after = reply.get("args_after")
        self._last.args_after_wire = after if isinstance(after, list) else []
        return self._read(reply, method)

    def floe_prefetch_calls(
        self, method: str, calls: Sequence[Sequence[Any]], *, sandboxed: bool = False
    ) -> None:
        """Make the calls of ``method`` with each of ``calls`` (argument lists) now, in one
        trip; each later ``floe_call`` with equal arguments in this thread takes its reply
        instead of a trip of its own. The plugin sees the same calls in the same order,
        only sooner. The calls the host did not get to (its time ran out), and all of them
        when the trip fails, are made one by one as before: a call that ends or hangs the
        host is then met, and reported, by the check's own call with that config.
        Replies not taken stay with the thread (each check runs in a thread of its own)."""
        if method not in self._callables or not calls:
            return
        keyed: list[tuple[str, list[Any]]] = []
        for args in list(calls)[:BATCH_MAX]:
            try:
                encoded = [encode(a) for a in args]
            except WireError:
                break  # the call itself reports it, in its turn
            keyed.append((_call_key(method, encoded, sandboxed), encoded))
        if not keyed:
            return
        message = {
            "op": "call_many",
            "method": method,
            "calls": [encoded for _, encoded in keyed],
            "sandboxed": sandboxed,
        }
        for (key, _), item in zip(keyed, self._batch(message, method), strict=False):
            if isinstance(item, dict):
                self._host.note_effects(item)
                self._prefetched.replies.setdefault(key, collections.deque()).append(item)

    def floe_provenance(self) -> dict[str, Any]:
        """The plugin's distribution and environment, as the host reads them."""
        try:
            value = self._read(self._host.request({"op": "provenance"}, "provenance"), "provenance")
        except Exception as exc:  # a plugin that crashes here still gets its certificate
            return {"distribution": None, "environment": None, "error": str(exc)}
        return value if isinstance(value, dict) else {}

    def floe_validate(self, model: type[MirrorBase], data: Any) -> Any:
        encoded = encode(data)
        key = json.dumps(encoded, sort_keys=True)
        reply = self._validated.get(key)
        if reply is None:
            # The model's verdict on equal input is taken to be the same: checks
            # re-validate the same configs many times, and each asks would cost a trip.
            reply = self._host.request({"op": "validate", "data": encoded}, "config_model")
            if len(self._validated) < _VALIDATED_KEEP:
                self._validated[key] = reply
        if "rejected" in reply:
            raise rebuild_validation_error(model.__name__, reply["rejected"])
        if "raised" in reply:
            raise _remote_error(reply["raised"])
        value = reply["value"]
        return decode(value["data"]) if isinstance(value, dict) and "data" in value else {}

    def floe_prefetch(self, items: list[Any]) -> None:
        """Ask the host for the verdicts on ``items`` in one trip, so that validating them
        next costs none: the verdicts land where :meth:`floe_validate` looks first. What
        the host left out (its time ran out) is asked for one by one, as before."""
        pending: dict[str, Any] = {}
        for data in items:
            try:
                encoded = encode(data)
            except WireError:
                continue  # validating it reports that itself
            key = json.dumps(encoded, sort_keys=True)
            if key not in self._validated:
                pending.setdefault(key, encoded)
        if not pending or len(self._validated) + len(pending) > _VALIDATED_KEEP:
            return
        keys = list(pending)[:BATCH_MAX]
        message = {"op": "validate_many", "data": [pending[k] for k in keys]}
        for key, verdict in zip(keys, self._batch(message, "config_model"), strict=False):
            if isinstance(verdict, dict):
                self._validated[key] = verdict

    def _batch(self, message: dict[str, Any], method: str) -> list[Any]:
        """The replies of one batch request; none when it failed. A batch that ends or
        hangs the host blames nobody (the calls one by one then meet it, with the input
        that causes it), and ``method`` is not batched again in this run: a plugin that
        keeps dying would pay for two host starts per check."""
        if method in self._unbatched:
            return []
        hung_before = method in self._host.hung
        try:
            reply = self._host.request(message, method)
        except (PluginDiedError, PluginHungError):
            self._unbatched.add(method)
            if not hung_before:
                self._host.hung.pop(method, None)
            return []
        replies = reply.get("value")
        return replies if isinstance(replies, list) else []

    def _decode(self, data: Any) -> Any:
        return decode(data, models=self._models)

    def _read(self, reply: dict[str, Any], name: str) -> Any:
        self._last.wall_ms = float(reply.get("wall_ms", 0.0))
        if "rejected" in reply:
            raise rebuild_validation_error(name, reply["rejected"])
        if "raised" in reply:
            raise _remote_error(reply["raised"])
        if "unreadable" in reply:
            raise _remote_error(
                {
                    "type": "UnreadableResult",
                    "module": "floe_compute_kit.conformance.host",
                    "message": f"{name} returned a value the kit cannot read: "
                    f"{reply['unreadable']}",
                    "traceback": "",
                    "bases": ["TypeError"],
                    "kit_error": None,
                }
            )
        return self._decode(reply.get("value"))


def _collect_secrets(data: Any, into: set[str]) -> None:
    if isinstance(data, list):
        for item in data:
            _collect_secrets(item, into)
    elif isinstance(data, dict):
        secret = data.get("$secret")
        if isinstance(secret, str) and len(data) == 1:
            into.add(secret)
            return
        for item in data.values():
            _collect_secrets(item, into)


class _RemoteMethod:
    def __init__(self, plugin: HostPlugin, name: str) -> None:
        self._plugin = plugin
        self.__name__ = name

    def __call__(self, *args: Any) -> Any:
        return self._plugin.floe_call(self.__name__, *args)


_ERROR_CLASSES: dict[tuple[str, tuple[str, ...]], type[BaseException]] = {}
_NEVER_BASES: Final = frozenset({"SystemExit", "KeyboardInterrupt"})


def _remote_error(raised: dict[str, Any]) -> BaseException:
    """A local exception standing for one the plugin raised: same name, same builtin kinds."""
    names = tuple(b for b in raised.get("bases", ()) if b not in _NEVER_BASES)
    classes = [getattr(builtins, n) for n in names if isinstance(getattr(builtins, n, None), type)]
    bases = [c for c in classes if not any(o is not c and issubclass(o, c) for o in classes)]
    type_name = str(raised.get("type") or "Exception")
    key = (type_name, tuple(c.__name__ for c in bases))
    if key not in _ERROR_CLASSES:
        try:
            _ERROR_CLASSES[key] = type(
                type_name.rpartition(".")[2], (RemotePluginError, *bases), {}
            )
        except TypeError:  # bases whose layouts conflict: keep the first
            _ERROR_CLASSES[key] = type(type_name, (RemotePluginError, *bases[:1]), {})
    cls = _ERROR_CLASSES[key]
    error = cls.__new__(cls)
    BaseException.__init__(error, str(raised.get("message", "")))
    error.floe_remote_traceback = str(raised.get("traceback") or "")  # type: ignore[attr-defined]
    error.floe_remote_type = f"{raised.get('module')}.{type_name}"  # type: ignore[attr-defined]
    for note in raised.get("notes", ()):
        error.add_note(str(note))
    return error


def _kit_start_up() -> None:
    """Import what every suite run needs next (the catalogue, hypothesis, the strategies,
    the SQL tokenizer of the catalog checks), so it overlaps the host's start instead of
    following it."""
    import sqlglot  # noqa: F401, PLC0415

    from floe_compute_kit.conformance import strategies  # noqa: F401, PLC0415
    from floe_compute_kit.conformance._determinism import shared_thread_random  # noqa: PLC0415
    from floe_compute_kit.conformance.checks import load_catalogue  # noqa: PLC0415

    load_catalogue()
    shared_thread_random()  # its one gc.collect() while the heap is small and the kit waits


def load_in_host(spec: str, workdir: Path, settings: HostSettings | None = None) -> Any:
    """The plugin named ``spec`` loaded in a host: a LoadedPlugin, or a LoadFailure."""
    from floe_compute_kit import models as kit_models  # noqa: PLC0415
    from floe_compute_kit.conformance._loader import LoadedPlugin, LoadFailure  # noqa: PLC0415

    host = PluginHost(spec, workdir, settings)
    host.begin()
    _kit_start_up()  # while the host starts and imports the plugin
    reply = host.finish()
    if "failure" in reply:
        host.close()
        failure = reply["failure"]
        return LoadFailure(
            spec,
            str(failure.get("message")),
            failure.get("traceback"),
            tuple(failure.get("missing") or ()),
        )
    models: dict[str, Any] = known_models()
    described = reply["config_model"]
    plugin = HostPlugin(host, models)
    if described["kit"]:
        model: Any = kit_models.ComputeConfig
    else:
        mirror = mirror_model(str(described["name"]), described["schema"])
        mirror.floe_remote[:] = [plugin.floe_validate, plugin.floe_prefetch]
        models[str(described["name"])] = mirror
        model = mirror
    declared = reply.get("declared_config_model")
    return LoadedPlugin(
        instance=plugin,
        spec=str(reply.get("spec", spec)),
        config_model=model,
        declared_config_model=model if declared is None else declared,
        capabilities=frozenset(reply.get("capabilities", ())),
        structural=bool(reply.get("structural")),
    )
