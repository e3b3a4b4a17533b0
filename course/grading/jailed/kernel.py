"""The kernel inside the jail: runs a submission's cells, and calls its functions for the tests.

    python -m course.grading.jailed.kernel READ_FD WRITE_FD [--drop-to UID]

The grader starts it under bubblewrap (``jail.py``). It holds the learner's code and nothing
else: the notebook's given cells and the learner's answers run here, in an IPython shell (so
``%magics`` and ``!commands`` behave as in JupyterLab). The test cells do not: they run in the
grader's trusted process, which asks this kernel over two pipes (``channel.py``, frames of
``plain.py``) to

    run    a cell's code                       -> ok or the error's name and message
    get    the values of some names            -> plain data; a function goes by number
    call   a function with plain arguments     -> its result, and the arguments as they are
                                                  afterwards (to see changes made in place)
    ping                                       -> pong

A function of the test passed as an argument (the ``f`` of ``numerical_gradient(f, x)``)
arrives as a stand-in: calling it asks the trusted process to run it there.

Nothing here is trusted: the learner's code may replace any of it. The grader believes only
plain data, within limits, and only as the values of the learner's functions.
"""
from __future__ import annotations

import builtins
import contextlib
import io
import os
import signal
import sys
import warnings

from ..wire.channel import Channel
from ..wire.job import OUTPUT_LIMIT
from ..wire.plain import Borrowed, Handles, ProtocolError, decode, encode

__all__ = ["main"]


class _Capped(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int = OUTPUT_LIMIT):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        room = max(self.limit - self.kept, 0)
        self.parts.append(text[:room])
        self.kept += min(len(text), room)
        self.dropped += max(len(text) - room, 0)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts)


def _error_fields(error: BaseException) -> dict:
    try:
        message = str(error)
    except Exception:  # a learner's exception whose __str__ fails
        message = ""
    return {"status": "error", "ename": type(error).__name__[:100], "evalue": message[:2000]}


class Kernel:
    def __init__(self, read_fd: int, write_fd: int):
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        config.InteractiveShell.colors = "NoColor"
        config.InteractiveShell.autocall = 0
        self.shell = InteractiveShell.instance(config=config)
        self.handles = Handles()
        self.channel = Channel(read_fd, write_fd, handler=self.handle)

    # -- requests of the trusted process ---------------------------------------------------------
    def handle(self, message: dict, blobs: list):
        op = message.get("op")
        if op == "ping":
            return {"status": "ok"}, []
        if op == "run":
            number = message.get("code")
            if not (isinstance(number, int) and 0 <= number < len(blobs)):
                return {"status": "error", "ename": "ProtocolError", "evalue": "no code to run"}, []
            code = blobs[number].decode("utf-8", "replace")
            limit = message.get("limit")
            limit = limit if isinstance(limit, int) and 0 <= limit <= 2**24 else OUTPUT_LIMIT
            return self.run(code, bool(message.get("silent")), limit), []
        if op == "get":
            return self.get([str(n) for n in message.get("names", [])])
        if op == "call":
            return self.call(message, blobs)
        return {"status": "error", "ename": "ProtocolError", "evalue": f"unknown request {op!r}"}, []

    def run(self, code: str, silent: bool, limit: int = OUTPUT_LIMIT) -> dict:
        out, err = _Capped(limit), _Capped(limit)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                result = self.shell.run_cell(code, store_history=False, silent=silent)
            error = result.error_before_exec or result.error_in_exec
        except KeyboardInterrupt as interrupt:
            error = interrupt
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        reply = {"status": "ok", "stdout": out.getvalue(), "stderr": err.getvalue(),
                 "dropped": out.dropped + err.dropped}
        if error is not None:
            reply.update(_error_fields(error))
        return reply

    def get(self, names: list[str]):
        blobs: list = []
        values = {}
        for name in names:
            if name in self.shell.user_ns:
                try:
                    values[name] = encode(self.shell.user_ns[name], blobs, self.handles.lend)
                except (ProtocolError, RecursionError) as error:
                    values[name] = ["opaque", f"a value that cannot be sent ({error})"[:200]]
        return {"status": "ok", "values": values}, blobs

    def call(self, message: dict, blobs: list):
        try:
            func = self.handles.get(message.get("function"))
            args = decode(message.get("args"), blobs, self.borrow, self.handles.get)
            kwargs = decode(message.get("kwargs"), blobs, self.borrow, self.handles.get)
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ProtocolError("call arguments are not a list and a dict")
        except ProtocolError as error:
            return {"status": "error", "ename": "ProtocolError", "evalue": str(error)}, []
        errstate = message.get("errstate") or {}
        filters = message.get("warnings") or []
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with _numpy_errstate(errstate), warnings.catch_warnings():
                for action, category in reversed(filters):
                    kind = getattr(builtins, str(category), None)
                    if isinstance(kind, type) and issubclass(kind, Warning) and action in (
                            "error", "ignore", "always", "default", "once", "module"):
                        warnings.simplefilter(action, kind)
                result = func(*args, **kwargs)
        except BaseException as error:  # the learner's error, or the interrupt of a timeout
            if isinstance(error, SystemExit):
                error = RuntimeError(f"the function called exit() ({error})")
            return _error_fields(error), []
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        out: list = []
        try:
            value = encode(result, out, self.handles.lend)
            after = encode([args, kwargs], out, self.handles.lend)
        except (ProtocolError, RecursionError) as error:
            return {"status": "error", "ename": "ProtocolError",
                    "evalue": f"the result cannot be sent to the grader: {error}"}, []
        return {"status": "ok", "value": value, "after": after}, out

    def borrow(self, number: int, name: str):
        """A stand-in for the trusted process's function ``number``."""
        return _Callback(self, number, name)

    def serve_forever(self) -> None:
        self.channel.send({"event": "ready", "pid": os.getpid()}, [])
        while True:
            try:
                message, blobs = self.channel.receive()
            except EOFError:
                return
            except KeyboardInterrupt:  # an interrupt that came late, between two requests
                continue
            if "op" in message and isinstance(message.get("id"), int):
                self.channel.serve(message, blobs)


class _Callback(Borrowed):
    """Calling it runs the trusted process's function ``number`` there, on plain copies."""

    def __init__(self, kernel: Kernel, number: int, name: str):
        self.kernel, self.number, self.__name__ = kernel, number, name

    def __call__(self, *args, **kwargs):
        kernel, blobs = self.kernel, []
        request = {"op": "callback", "function": self.number,
                   "args": encode(list(args), blobs, kernel.handles.lend),
                   "kwargs": encode(dict(kwargs), blobs, kernel.handles.lend)}
        reply, reply_blobs = kernel.channel.request(request, blobs)
        if reply.get("status") != "ok":
            kind = getattr(builtins, str(reply.get("ename")), None)
            if not (isinstance(kind, type) and issubclass(kind, Exception)):
                kind = RuntimeError
            raise kind(str(reply.get("evalue", "")))
        return decode(reply.get("value"), reply_blobs, kernel.borrow, kernel.handles.get)


@contextlib.contextmanager
def _numpy_errstate(errstate: dict):
    import numpy as np

    allowed = {"ignore", "warn", "raise", "call", "print", "log"}
    settings = {k: v for k, v in errstate.items() if k in ("divide", "over", "under", "invalid")
                and v in allowed and v not in ("call", "log")}
    with np.errstate(**settings):
        yield


def _drop_privileges(uid: int) -> None:
    """Become ``uid`` for good (the grader started the jail as root): no groups, no capabilities."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:  # pragma: no cover - the kernel refused
        raise SystemExit("could not drop privileges")


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    read_fd, write_fd = int(argv[0]), int(argv[1])
    if "--drop-to" in argv:
        _drop_privileges(int(argv[argv.index("--drop-to") + 1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    Kernel(read_fd, write_fd).serve_forever()


if __name__ == "__main__":
    main()
