"""The plugin host: the child process in which the plugin under test runs.

It loads the plugin, answers one request at a time on a private channel, and sends
back plain data (:mod:`._wire`). Its own stdout and stderr belong to the plugin. What
a call leaves behind that would break a caller's process (a changed working
directory, environment or signal handler, a thread or a child process) is undone
where it can be and reported, so the kit can fail a check for it.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any, Final, NoReturn

from floe_compute_kit.conformance.host._wire import (
    WireError,
    decode,
    encode,
    known_models,
    read_frame,
    write_frame,
)

__all__ = ["main"]

#: The environment variable that hands the host its channel: "<read fd>,<write fd>".
CHANNEL_ENV: Final = "FLOE_PLUGIN_HOST_CHANNEL"
#: a ``validate_many`` or ``call_many`` request answers for at most this many configs or
#: calls, and stops once it has spent this long (one trip for what would be dozens; see
#: HostPlugin.floe_prefetch and floe_prefetch_calls)
BATCH_MAX: Final = 256
BATCH_BUDGET_S: Final = 1.0
_MAX_TEXT: Final = 20_000
_BUILTIN_BASES: Final = (
    "ValueError",
    "TypeError",
    "KeyError",
    "IndexError",
    "LookupError",
    "AttributeError",
    "NotImplementedError",
    "RuntimeError",
    "OSError",
    "ConnectionError",
    "TimeoutError",
    "PermissionError",
    "FileNotFoundError",
    "ImportError",
    "ArithmeticError",
    "AssertionError",
    "SystemExit",
    "KeyboardInterrupt",
    "RecursionError",
    "MemoryError",
    "UnicodeError",
)


def _cap(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "\n... (cut)"


def _raised(exc: BaseException, *, skip: int = 1) -> dict[str, Any]:
    tb = exc.__traceback__
    for _ in range(skip):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    try:
        text = "".join(traceback.format_exception(type(exc), exc, tb))
    except Exception:  # a plugin's exception whose str() raises
        text = f"{type(exc).__qualname__} (its text could not be read)"
    try:
        message = str(exc)
    except Exception:
        message = "<str() of the exception raised>"
    kit_error = None
    for cls in type(exc).__mro__:
        if cls.__module__ == "floe_compute_kit.errors":
            kit_error = cls.__qualname__
            break
    bases = [name for name in _BUILTIN_BASES if isinstance(exc, getattr(builtins, name))]
    return {
        "type": type(exc).__qualname__,
        "module": type(exc).__module__,
        "message": _cap(message),
        "traceback": _cap(text),
        "bases": bases,
        "kit_error": kit_error,
        "notes": [_cap(str(n)) for n in getattr(exc, "__notes__", [])][:20],
    }


class _Effects:
    """What a call changed in the process, undone where it can be."""

    def __init__(self) -> None:
        self.cwd = os.getcwd()
        self.env = dict(os.environ)
        self.env_raw = _env_raw()
        self.signals = {s: signal.getsignal(s) for s in _signals()}
        self.threads = set(threading.enumerate())
        self.children = _children()
        self.std = _std_streams()

    def collect(self, method: str) -> list[str]:
        found: list[str] = []
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = "<removed>"
        if cwd != self.cwd:
            found.append(f"{method} changed the working directory to {cwd!r}")
            with contextlib.suppress(OSError):
                os.chdir(self.cwd)
        raw = _env_raw()
        env = self.env if raw is not None and raw == self.env_raw else dict(os.environ)
        if env != self.env:
            changed = sorted(
                set(env.keys() ^ self.env.keys())
                | {k for k in env.keys() & self.env.keys() if env[k] != self.env[k]}
            )
            found.append(f"{method} changed the environment: {', '.join(changed[:10])}")
            os.environ.clear()
            os.environ.update(self.env)
        for sig, handler in self.signals.items():
            try:
                now = signal.getsignal(sig)
            except (OSError, ValueError):
                continue
            if now is not handler and now != handler:
                found.append(f"{method} replaced the handler of {signal.Signals(sig).name}")
                with contextlib.suppress(OSError, ValueError, TypeError):
                    signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        std = _std_streams()
        for fd, was in self.std.items():
            if was and not std.get(fd):
                found.append(
                    f"{method} closed file descriptor {fd} (standard "
                    f"{('input', 'output', 'error')[fd]})"
                )
        new_threads = [t for t in threading.enumerate() if t not in self.threads and t.is_alive()]
        # A worker finishing its last item (an executor shut down without waiting) gets a
        # moment to end; only what is still running after that was left behind.
        grace_end = time.monotonic() + 0.2
        for thread in new_threads:
            thread.join(max(0.0, grace_end - time.monotonic()))
        new_threads = [t for t in new_threads if t.is_alive()]
        if new_threads:
            names = ", ".join(t.name for t in new_threads[:5])
            found.append(f"{method} left {len(new_threads)} thread(s) running: {names}")
            self.threads.update(new_threads)
        new_children = _children() - self.children
        if new_children:
            found.append(
                f"{method} left {len(new_children)} child process(es) running "
                f"(pids {', '.join(map(str, sorted(new_children)))}); the kit killed them"
            )
            for pid in new_children:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        return found


def _std_streams() -> dict[int, bool]:
    out: dict[int, bool] = {}
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            out[fd] = True
        except OSError:
            out[fd] = False
    return out


def _signals() -> list[int]:
    wanted = (
        "SIGINT",
        "SIGTERM",
        "SIGHUP",
        "SIGQUIT",
        "SIGUSR1",
        "SIGUSR2",
        "SIGALRM",
        "SIGCHLD",
        "SIGPIPE",
    )
    return [getattr(signal, n) for n in wanted if hasattr(signal, n)]


def _env_raw() -> dict[bytes, bytes] | None:
    """The environment as CPython keeps it (undecoded): comparing two costs a dict compare,
    where decoding every variable each call cost more than the rest of the scan."""
    data = getattr(os.environ, "_data", None)
    return dict(data) if isinstance(data, dict) else None


#: pids seen not to be our children: a process cannot become our child later, so each
#: scan reads only the stat files of pids it has not seen.
_NOT_OURS: set[str] = set()


def _children() -> set[int]:
    """Live child processes of this process (from /proc; empty where there is none)."""
    listed = _listed_children()
    return _scanned_children() if listed is None else listed


def _live(pid: str) -> bool | None:
    """Whether ``pid`` is running (not a zombie); None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = stat.rpartition(")")[2].split()
    return bool(rest) and rest[0] not in ("Z", "X")


def _listed_children() -> set[int] | None:
    """Children from each thread's /proc/self/task/<tid>/children (a child whose thread
    ended is reparented to a live thread of the process, so it is still listed); None
    where the kernel does not offer the file, and the whole of /proc is scanned instead."""
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return None
    pids: set[str] = set()
    readable = False
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/children", "rb") as handle:
                pids.update(handle.read().decode("ascii", "replace").split())
            readable = True
        except FileNotFoundError:
            continue  # a thread that just ended
        except OSError:
            return None
    if not readable:
        return None
    return {int(pid) for pid in pids if pid.isdigit() and _live(pid)}


def _scanned_children() -> set[int]:
    me = os.getpid()
    out: set[int] = set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for entry in entries:
        if not entry.isdigit() or entry in _NOT_OURS:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        rest = stat.rpartition(")")[2].split()
        if len(rest) > 2 and rest[1] == str(me):
            if rest[0] not in ("Z", "X"):
                out.add(int(entry))
        else:
            _NOT_OURS.add(entry)
    return out


class _Host:
    def __init__(self) -> None:
        self.loaded: Any = None
        self.models: dict[str, Any] = {}
        # One baseline for the host's life: after each call collect() restores the
        # process to it, so the state before a call is the baseline (one scan a call).
        self.baseline = _Effects()

    # --- requests -------------------------------------------------------------
    def load(self, spec: str) -> dict[str, Any]:
        from pydantic import BaseModel  # noqa: PLC0415

        from floe_compute_kit import models as kit_models  # noqa: PLC0415
        from floe_compute_kit.conformance._loader import LoadFailure, load_target  # noqa: PLC0415

        effects = self.baseline
        try:
            loaded = load_target(spec)
        except BaseException as exc:
            return {
                "failure": {
                    "message": f"loading the plugin raised {type(exc).__name__}: {_cap(str(exc))}",
                    "traceback": _raised(exc, skip=0)["traceback"],
                    "missing": [],
                },
                "effects": effects.collect("loading"),
            }
        if isinstance(loaded, LoadFailure):
            return {
                "failure": {
                    "message": loaded.message,
                    "traceback": loaded.traceback,
                    "missing": list(loaded.missing),
                },
                "effects": effects.collect("loading"),
            }
        self.loaded = loaded
        model = loaded.config_model
        name = f"{model.__module__}.{model.__qualname__}"
        self.models = known_models()
        self.models[name] = model
        kit = model is kit_models.ComputeConfig
        declared = loaded.declared_config_model
        attrs = sorted(n for n in _names(loaded.instance) if not n.startswith("__"))
        return {
            "spec": loaded.spec,
            "structural": loaded.structural,
            "capabilities": sorted(loaded.capabilities),
            "config_model": {
                "name": name,
                "kit": kit,
                "schema": None if kit else model.model_json_schema(),
            },
            "declared_config_model": None
            if isinstance(declared, type) and issubclass(declared, BaseModel)
            else _short_repr(declared),
            "attributes": attrs,
            "callables": sorted(n for n in attrs if _is_callable(loaded.instance, n)),
            "class": f"{type(loaded.instance).__module__}:{type(loaded.instance).__qualname__}",
            "effects": effects.collect("loading"),
        }

    def get(self, name: str) -> dict[str, Any]:
        effects = self.baseline
        start = time.perf_counter()
        try:
            value = getattr(self.loaded.instance, name)
        except BaseException as exc:
            return {
                "raised": _raised(exc, skip=0),
                "effects": effects.collect(name),
                "wall_ms": (time.perf_counter() - start) * 1000.0,
            }
        return self._reply(name, value, effects, start)

    def call(self, method: str, args: list[Any], sandboxed: bool) -> dict[str, Any]:
        from floe_compute_kit.conformance._invoke import PluginRaised, call  # noqa: PLC0415

        try:
            real_args = [self._arg(a) for a in args]
        except ValueError as exc:
            return {"rejected": _errors(exc)}
        effects = self.baseline
        violations: list[str] = []
        start = time.perf_counter()
        try:
            if sandboxed:
                from floe_compute_kit.conformance.sandbox import call_sandboxed  # noqa: PLC0415

                value, found = call_sandboxed(
                    call, self.loaded.instance, method, *real_args, method=method
                )
                violations = [str(v) for v in found]
            else:
                value = call(self.loaded.instance, method, *real_args)
        except PluginRaised as exc:
            return {
                "raised": _raised(exc.error),
                "violations": violations,
                "effects": effects.collect(method),
                "args_after": self._after(real_args),
                "wall_ms": (time.perf_counter() - start) * 1000.0,
            }
        except BaseException as exc:
            return {
                "raised": _raised(exc, skip=0),
                "violations": violations,
                "effects": effects.collect(method),
                "wall_ms": (time.perf_counter() - start) * 1000.0,
            }
        reply = self._reply(method, value, effects, start)
        reply["violations"] = violations
        reply["args_after"] = self._after(real_args)
        return reply

    def provenance(self) -> dict[str, Any]:
        """Where the plugin comes from and what it runs with, read here, not in the kit."""
        from floe_compute_kit.conformance._provenance import (  # noqa: PLC0415
            distribution_info,
            environment_info,
        )

        instance = self.loaded.instance
        try:
            distribution = distribution_info(type(instance))
        except BaseException as exc:
            distribution = {"error": f"{type(exc).__name__}: {_cap(str(exc))}"}
        try:
            environment = environment_info(instance)
        except BaseException as exc:
            environment = environment_info(None)
            environment["error"] = f"{type(exc).__name__}: {_cap(str(exc))}"
        try:
            return {"value": encode({"distribution": distribution, "environment": environment})}
        except WireError as exc:
            return {"unreadable": str(exc)}

    def call_many(self, method: str, calls: list[Any], sandboxed: bool) -> dict[str, Any]:
        """Each call's reply in order, as :meth:`call` gives it, for as many calls as fit
        in :data:`BATCH_BUDGET_S` (at least one); the kit makes the rest one by one."""
        replies: list[dict[str, Any]] = []
        end = time.monotonic() + BATCH_BUDGET_S
        for args in calls[:BATCH_MAX]:
            replies.append(self.call(method, list(args), sandboxed))
            if time.monotonic() > end:
                break
        return {"value": replies}

    def validate_many(self, items: list[Any]) -> dict[str, Any]:
        """The verdicts on ``items`` in order, as :meth:`validate` gives them, for as many
        as fit in :data:`BATCH_BUDGET_S` (at least one): a slow validator gets the shorter
        list, and the kit asks for the rest one by one, each within its own deadline."""
        verdicts: list[dict[str, Any]] = []
        end = time.monotonic() + BATCH_BUDGET_S
        for data in items[:BATCH_MAX]:
            verdicts.append(self.validate(data))
            if time.monotonic() > end:
                break
        return {"value": verdicts}

    def validate(self, data: Any) -> dict[str, Any]:
        try:
            config = self.loaded.config_model.model_validate(decode(data))
        except ValueError as exc:
            return {"rejected": _errors(exc)}
        except BaseException as exc:
            return {"raised": _raised(exc, skip=0)}
        return {"value": {"data": encode(config.model_dump())}}

    # --- helpers --------------------------------------------------------------
    def _arg(self, data: Any) -> Any:
        value = decode(data)
        if isinstance(data, dict) and "$model" in data:
            cls = self.models.get(str(data["$model"]))
            fields = decode(data["data"])
            if cls is not None:
                return cls.model_validate(fields)
        return value

    def _after(self, args: list[Any]) -> list[Any]:
        out: list[Any] = []
        for arg in args:
            try:
                out.append(encode(arg))
            except Exception:  # a mutated argument that can no longer be encoded
                out.append({"$object": "unencodable", "fields": {"$dict": []}, "repr": "?"})
        return out

    def _reply(self, name: str, value: Any, effects: _Effects, start: float) -> dict[str, Any]:
        wall = (time.perf_counter() - start) * 1000.0
        try:
            encoded = {"value": encode(value)}
        except BaseException as exc:
            encoded = {"unreadable": f"{type(exc).__name__}: {_cap(str(exc))}"}
        return {**encoded, "effects": effects.collect(name), "wall_ms": wall}


def _errors(exc: BaseException) -> list[dict[str, Any]]:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            out = []
            for err in errors():
                out.append(
                    {
                        "type": str(err.get("type", "value_error")),
                        "loc": [p if isinstance(p, int) else str(p) for p in err.get("loc", ())],
                        "msg": _cap(str(err.get("msg", ""))),
                        "input": _short_repr(err.get("input")),
                    }
                )
            return out
        except Exception:  # noqa: S110 - fall back to the text
            pass
    return [{"type": "value_error", "loc": [], "msg": _cap(str(exc)), "input": None}]


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        return "<unrepresentable>"
    return text if len(text) <= 200 else text[:200] + "..."


def _names(obj: Any) -> list[str]:
    try:
        return list(dir(obj))
    except Exception:
        return []


def _is_callable(obj: Any, name: str) -> bool:
    try:
        attr = getattr(type(obj), name, None)
        if isinstance(attr, property) or attr is None:
            return callable(vars(obj).get(name)) if hasattr(obj, "__dict__") else False
        return callable(attr)
    except Exception:
        return False


def _limit_memory() -> None:
    """Cap the address space, so a runaway plugin fails its call instead of the machine."""
    import resource  # noqa: PLC0415 - POSIX only, and only here

    limit = os.environ.pop("FLOE_PLUGIN_HOST_MEMORY", "")
    if limit.isdigit():
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))


def main() -> int:
    from floe_compute_kit.conformance._network import loopback_only  # noqa: PLC0415
    from floe_compute_kit.conformance.host._capture import install  # noqa: PLC0415

    _limit_memory()
    capture = install()  # before the plugin is imported, so its loggers and tracers land here
    # The plugin never reaches past this machine while the kit calls it, from its
    # import on: every lookup and connect that is not loopback is refused.
    with loopback_only():
        return _serve(capture)


def _quit() -> NoReturn:
    """Exit at once: the kit has read every reply, and an interpreter shutdown (the plugin's
    atexit handlers, module teardown; DuckDB's alone is 0.1 s) would only keep it waiting."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _serve(capture: Any) -> int:
    channel = os.environ.pop(CHANNEL_ENV, "")
    read_fd, _, write_fd = channel.partition(",")
    rfd, wfd = int(read_fd), int(write_fd)
    os.set_inheritable(rfd, False)
    os.set_inheritable(wfd, False)
    host = _Host()
    handlers = {
        "load": lambda m: host.load(str(m["spec"])),
        "get": lambda m: host.get(str(m["name"])),
        "call": lambda m: host.call(str(m["method"]), list(m["args"]), bool(m.get("sandboxed"))),
        "validate": lambda m: host.validate(m["data"]),
        "validate_many": lambda m: host.validate_many(list(m["data"])),
        "call_many": lambda m: host.call_many(
            str(m["method"]), list(m["calls"]), bool(m.get("sandboxed"))
        ),
        "provenance": lambda m: host.provenance(),
    }
    while True:
        try:
            message = read_frame(rfd)
        except (EOFError, OSError):
            return 0
        op = str(message.get("op"))
        if op == "quit":
            _quit()
        try:
            reply = handlers[op](message)
        except BaseException as exc:
            reply = {"raised": _raised(exc, skip=0), "host_error": True}
        captured = capture.take()  # what the plugin logged, traced and measured in this request
        if captured:
            reply["captured"] = captured
        try:
            write_frame(wfd, reply)
        except WireError as exc:
            write_frame(wfd, {"unreadable": str(exc), "effects": reply.get("effects", [])})
        except OSError:
            return 0


if __name__ == "__main__":
    sys.exit(main())
