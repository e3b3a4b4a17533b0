"""The jail: a submission's kernel under bubblewrap, and the trusted side of the conversation.

``Jail`` starts ``python -m course.grading.jailed.kernel`` under ``bwrap`` (Debian: ``apt-get install
bubblewrap``) with

- new PID, network, IPC and UTS namespaces: no network at all (not even the grader's
  127.0.0.1), and every process the submission starts dies with the jail;
- a filesystem made of the system's read-only folders (/usr, /lib, ...), the Python
  installation and the course package, read-only; a fresh /proc that shows the jail's own
  processes only; and two small writable tmpfs folders, /home/student (holding only this
  submission's notebook, its outputs cleared) and /tmp. No source folder, gradebook, other
  submission, output folder or course repository is there;
- an unprivileged user: when the grader runs as root the kernel drops to a uid of its own
  before it reads any cell; otherwise a user namespace maps the grader's user to 65534;
- a clean environment: PATH, HOME, the locale and the thread counts, nothing of the grader's;
- limits: address space, processes, open files, file size, CPU time, and the size of its two
  writable folders.

The trusted process talks to it with ``channel.Channel``. ``Proxy`` is the trusted side's
stand-in for a learner's function: calling it sends plain copies of the arguments into the jail
and returns a plain copy of the result; arrays the function changed in place are changed here
too, so that the checks can see it.

``probe()`` says why bwrap cannot run here (macOS, Windows, a container without user
namespaces), or None when it can.
"""
from __future__ import annotations

import builtins
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from ..wire.channel import Channel, ChannelClosed, ChannelTimeout
from ..wire.plain import Borrowed, Handles, ProtocolError, Unreadable, decode, encode

__all__ = ["Jail", "JailBroken", "Proxy", "probe", "HOME"]

HOME = "/home/student"
COURSE_ROOT = "/opt/course-lib"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/fonts",
                "/etc/localtime", "/etc/alternatives", "/etc/mime.types")
PASSED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # settings numpy needs on some processors
JAIL_UID_BASE = 1_900_000_000                           # uids no account uses: one per grading slot


def last_words(path: str, size: int = 600) -> str:
    """The end of a kernel's log (what it wrote to stderr), on one line."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(os.path.getsize(path) - size, 0))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return "(none)"
    return " ".join(text.split())[:size] or "(none)"


class JailBroken(RuntimeError):
    """The kernel in the jail stopped answering or broke the protocol; it has been stopped."""


@functools.lru_cache(maxsize=None)
def probe() -> str | None:
    """None when a jail can be started here; otherwise why not, and what to do."""
    if not sys.platform.startswith("linux"):
        return (f"the jail needs Linux (bubblewrap and its namespaces); this is {sys.platform}. "
                f"Grade in a Linux VM or container, for example: docker run --rm -it -v $PWD:/course "
                f"python:3.11 bash, then apt-get install bubblewrap")
    if shutil.which("bwrap") is None:
        return ("bubblewrap is not installed: apt-get install bubblewrap (Debian, Ubuntu), "
                "dnf install bubblewrap (Fedora)")
    command = _bwrap_args() + [sys.executable, "-s", "-c", "import numpy"]
    try:
        done = subprocess.run(command, env=_environment(), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not be started ({error})"
    if done.returncode != 0:
        said = " ".join(done.stderr.decode("utf-8", "replace").split())[:300]
        return (f"bubblewrap cannot make a jail here ({said or f'exit code {done.returncode}'}); "
                f"a container without user namespaces cannot run it: grade on a Linux machine or VM, "
                f"or start the container with user namespaces allowed")
    return None


def _readable_prefixes() -> list[str]:
    """The Python installation: prefixes and the folders of sys.path that hold packages."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix,
               str(Path(os.path.realpath(sys.executable)).parent.parent)}
    for entry in sys.path:
        if entry and ("site-packages" in entry or "dist-packages" in entry) and os.path.isdir(entry):
            folders.add(entry)
    folders = sorted(os.path.realpath(f) for f in folders if os.path.isdir(f))
    # a folder inside another is bound with it
    return [f for f in folders if not any(f != g and f.startswith(g + os.sep) for g in folders)]


def _bwrap_args(home_mb: int = 256, tmp_mb: int = 256,
                notebook_fd: int | None = None, notebook_name: str = "submission.ipynb",
                info_fd: int | None = None) -> list[str]:
    args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "jail"]
    root = os.geteuid() == 0
    if not root:
        args += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    for folder in SYSTEM_DIRS:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    for path in SYSTEM_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    made: set[str] = {"/"}

    def parents(path: str) -> list[str]:  # bwrap would make them 0700: the jail's user could not pass
        out = []
        for parent in reversed(Path(path).parents):
            if str(parent) not in made:
                made.add(str(parent))
                out += ["--perms", "0755", "--dir", str(parent)]
        return out

    for folder in _readable_prefixes():
        args += parents(folder) + ["--ro-bind", folder, folder]
    package = str(Path(__file__).resolve().parents[2])
    args += parents(f"{COURSE_ROOT}/course") + ["--ro-bind", package, f"{COURSE_ROOT}/course"]
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(tmp_mb * 2**20), "--tmpfs", "/tmp",
             "--perms", "1777", "--size", str(home_mb * 2**20), "--tmpfs", HOME]
    if notebook_fd is not None:
        args += ["--perms", "0644", "--file", str(notebook_fd), f"{HOME}/{notebook_name}"]
    if info_fd is not None:
        args += ["--info-fd", str(info_fd)]
    args += ["--chdir", HOME, "--"]
    return args


def _environment() -> dict:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": HOME, "LANG": "C.UTF-8",
           "TMPDIR": "/tmp", "PYTHONPATH": COURSE_ROOT, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{HOME}/.matplotlib",
           "IPYTHONDIR": f"{HOME}/.ipython", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}
    for name in PASSED_ENV:
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


class Jail:
    """One submission's kernel in its jail, and the requests the trusted process makes of it.

    job: memory_mb, file_size_mb, disk_mb, cpu_seconds, cpu (a CPU to pin to, or None),
    slot (to choose the jail's uid), private_dir (the trusted process's own folder, outside),
    notebook (the cleared notebook's bytes, for /home/student), notebook_name.
    """

    def __init__(self, job: dict):
        self.job = job
        self.process: subprocess.Popen | None = None
        self.channel: Channel | None = None
        self.broken = False
        self.deadline: float | None = None       # set by the grader for the cell that runs
        self.lent = Handles()                     # the test's functions the jail may call back
        self.startup_seconds: float | None = None
        self.log_path = os.path.join(job["private_dir"], "kernel.log")
        self.pid: int | None = None               # bwrap's child (the jail's pid 1), outside numbering

    # -- starting and stopping ---------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> float:
        """Start the jail and wait for the kernel's first message; returns the seconds it took."""
        started = time.monotonic()
        job = self.job
        to_kernel_r, to_kernel_w = os.pipe()
        from_kernel_r, from_kernel_w = os.pipe()
        info_r, info_w = os.pipe()
        notebook_path = os.path.join(job["private_dir"], "notebook-for-jail.ipynb")
        with open(notebook_path, "wb") as handle:
            handle.write(job.get("notebook", b"{}"))
        notebook_fd = os.open(notebook_path, os.O_RDONLY)
        root = os.geteuid() == 0
        uid = JAIL_UID_BASE + int(job.get("slot", 0)) % 100_000
        command = _bwrap_args(job.get("disk_mb", 256),
                              job.get("disk_mb", 256), notebook_fd, job.get("notebook_name", "submission.ipynb"),
                              info_w)
        command += [sys.executable, "-s", "-m", "course.grading.jailed.kernel", str(to_kernel_r), str(from_kernel_w)]
        if root:
            command += ["--drop-to", str(uid)]
        limits = self._limits(root)
        cpu = job.get("cpu")

        def prepare():  # in the forked child, before bwrap starts: inherited by the jail
            for kind, value in limits:
                resource.setrlimit(kind, (value, value))
            if cpu is not None and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, {cpu})

        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, env=_environment(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                pass_fds=(to_kernel_r, from_kernel_w, notebook_fd, info_w), preexec_fn=prepare)
        for fd in (to_kernel_r, from_kernel_w, notebook_fd, info_w):
            os.close(fd)
        self._info_fd = info_r
        self.channel = Channel(from_kernel_r, to_kernel_w, handler=self._serve,
                               max_bytes=job.get("max_message_mb", 256) * 2**20, nonblocking_writes=True)
        self.broken = False
        try:
            message, _ = self.channel.receive(time.monotonic() + timeout)
        except (ChannelTimeout, ChannelClosed, ProtocolError) as error:
            self.stop()
            raise JailBroken(f"the jailed kernel did not start ({type(error).__name__}: {error}); "
                             f"its last words: {self.last_words()}") from None
        if message.get("event") != "ready":
            self.stop()
            raise JailBroken("the jailed kernel did not say it was ready")
        self.pid = self._read_info()
        self.startup_seconds = time.monotonic() - started
        return self.startup_seconds

    def _limits(self, root: bool) -> list:
        job = self.job
        memory = int(job.get("memory_mb", 2048)) * 2**20
        limits = [(resource.RLIMIT_AS, memory), (resource.RLIMIT_CORE, 0),
                  (resource.RLIMIT_NOFILE, int(job.get("open_files", 256))),
                  (resource.RLIMIT_FSIZE, int(job.get("file_size_mb", 256)) * 2**20),
                  (resource.RLIMIT_CPU, int(job.get("cpu_seconds", 600)))]
        if root:  # the jail's own uid: the limit counts its processes and threads only
            limits.append((resource.RLIMIT_NPROC, int(job.get("processes", 64))))
        return limits

    def _read_info(self) -> int | None:
        import json
        import select

        data = b""
        while select.select([self._info_fd], [], [], 0)[0]:
            chunk = os.read(self._info_fd, 4096)
            if not chunk:
                break
            data += chunk
        try:
            return int(json.loads(data.decode())["child-pid"])
        except (ValueError, KeyError, TypeError):
            return None

    def kernel_pid(self) -> int | None:
        """The kernel's pid outside the jail: the child of the jail's pid 1."""
        if self.pid is None:
            return None
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as handle:
                children = handle.read().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def interrupt(self) -> None:
        pid = self.kernel_pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        """Kill the jail: bwrap, and with it (die-with-parent, PID namespace) all it holds."""
        self.broken = True
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
        for fd in (getattr(self, "_info_fd", None),
                   self.channel.reader.fd if self.channel else None,
                   self.channel.writer.fd if self.channel else None):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._info_fd = None
        self.channel = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None and not self.broken

    def last_words(self, size: int = 400) -> str:
        return last_words(self.log_path, size)

    # -- requests --------------------------------------------------------------------------------
    def request(self, message: dict, blobs: list, deadline: float | None = None) -> tuple[dict, list]:
        """A request to the kernel. On a timeout the kernel is interrupted and given a few
        seconds to answer; then it is stopped (JailBroken). ChannelTimeout still propagates."""
        if not self.alive() or self.channel is None:
            raise JailBroken("the submission's kernel is not running (it was stopped after an "
                             "earlier error)")
        deadline = deadline if deadline is not None else self.deadline
        try:
            return self.channel.request(message, blobs, deadline)
        except ChannelTimeout:
            self._recover()
            raise
        except (ChannelClosed, ProtocolError, OSError) as error:
            self.stop()
            raise JailBroken(f"the submission's kernel stopped answering ({type(error).__name__}: "
                             f"{error}); the kernel's last words: {self.last_words()}") from None

    def _recover(self) -> None:
        """After a timeout: interrupt, and keep the kernel if it answers within the grace time."""
        self.interrupt()
        grace = time.monotonic() + float(self.job.get("interrupt_grace", 3))
        try:
            reply, _ = self.channel.request({"op": "ping"}, [], grace)
        except Exception:  # noqa: BLE001 - any failure here means the kernel is lost
            self.stop()
            return
        if reply.get("status") != "ok":
            self.stop()

    def run(self, code: str, timeout: float, silent: bool = False) -> dict:
        """Run a cell of the submission. Returns the kernel's reply with 'status' set to 'ok',
        'error', 'timeout' (interrupted), 'stuck' (did not stop) or 'died'."""
        try:
            reply, _ = self.request({"op": "run", "code": code, "silent": silent}, [],
                                    time.monotonic() + timeout)
        except ChannelTimeout:
            status = "timeout" if self.alive() else "stuck"
            return {"status": status, "ename": "TimeoutError",
                    "evalue": f"the cell ran longer than {timeout:g} s and "
                              + ("was interrupted" if status == "timeout" else "did not stop when interrupted")}
        except JailBroken as error:
            return {"status": "died", "ename": "DeadKernelError", "evalue": str(error)}
        if not isinstance(reply.get("status"), str):
            reply["status"] = "error"
        if reply["status"] == "error" and reply.get("ename") == "KeyboardInterrupt":
            reply["status"] = "timeout"
        return reply

    def fetch(self, names: list[str], timeout: float = 30.0) -> dict:
        """The current values of ``names`` in the submission, as plain data and Proxies."""
        reply, blobs = self.request({"op": "get", "names": list(names)}, [], time.monotonic() + timeout)
        values = reply.get("values")
        if not isinstance(values, dict):
            self.stop()
            raise JailBroken("the kernel's answer broke the protocol")
        out = {}
        for name in names:
            if name in values:
                try:
                    out[name] = decode(values[name], blobs, self._borrow, self.lent.get)
                except ProtocolError as error:
                    out[name] = _Refused(name, str(error))
        return out

    def _borrow(self, number: int, name: str) -> "Proxy":
        return Proxy(self, number, name)

    def _serve(self, message: dict, blobs: list):
        """The kernel's requests: only calls back of the functions the test passed in."""
        if message.get("op") != "callback":
            raise ProtocolError(f"the kernel asked for {message.get('op')!r}")
        func = self.lent.get(message.get("function"))
        args = decode(message.get("args"), blobs, self._borrow, self.lent.get)
        kwargs = decode(message.get("kwargs"), blobs, self._borrow, self.lent.get)
        if not isinstance(args, list) or not isinstance(kwargs, dict) or \
                not all(isinstance(k, str) for k in kwargs):
            raise ProtocolError("callback arguments are not a list and a dict")
        try:
            result = func(*args, **kwargs)
        except Exception as error:  # the test's function failed on what the learner gave it
            return {"status": "error", "ename": type(error).__name__, "evalue": str(error)[:2000]}, []
        out: list = []
        return {"status": "ok", "value": encode(result, out, self.lent.lend)}, out


class _Refused(Unreadable):
    def __init__(self, name: str, why: str):
        super().__init__(f"a value for {name} that the grader refused ({why})")


def _warning_filters() -> list:
    """The simple warning filters in force, to apply around the learner's function."""
    out = []
    def empty(pattern) -> bool:
        return pattern is None or getattr(pattern, "pattern", pattern) == ""

    for action, message, category, module, _ in warnings.filters[:20]:
        if empty(message) and empty(module) and getattr(builtins, category.__name__, None) is category:
            out.append([action, category.__name__])
    return out


def _raise_learner_error(reply: dict, name: str):
    ename, evalue = str(reply.get("ename", "Error"))[:100], str(reply.get("evalue", ""))[:2000]
    kind = getattr(builtins, ename, None)
    if isinstance(kind, type) and issubclass(kind, Exception) and not issubclass(kind, ProtocolError):
        try:
            error = kind(evalue)
        except Exception:  # an exception class that wants other arguments
            error = None
        if error is not None:
            raise error
    raise SubmissionError(f"{ename}: {evalue}" if evalue else ename)


class LearnerTimeout(TimeoutError):
    """A function of the submission ran past the time limit of the test cell that called it."""


class SubmissionError(Exception):
    """An exception of the learner's own class, raised by the learner's function in the jail."""


class Proxy(Borrowed):
    """The trusted side's stand-in for a function of the submission.

    Its arguments cross as copies: nothing the function does reaches the caller's values. What
    it changed in its copies, at any depth, is listed in ``changed_in_place`` after each call
    (``params['W1']``, with the parameter names of the source notebook's solution), where
    ``checks.call`` finds it; it is never written back."""

    def __init__(self, jail: Jail, number: int, name: str):
        self.jail, self.number = jail, number
        self.__name__ = self.__qualname__ = name
        self.changed_in_place: list[str] = []
        names = (jail.job.get("signatures") or {}).get(name)
        if isinstance(names, list):
            import inspect

            self.__signature__ = inspect.Signature(
                [inspect.Parameter(str(n), inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])

    def __repr__(self) -> str:
        return f"<function {self.__name__} of the submission>"

    def __call__(self, *args, **kwargs):
        jail, blobs = self.jail, []
        self.changed_in_place = []
        try:
            message = {"op": "call", "function": self.number,
                       "args": encode(list(args), blobs, jail.lent.lend),
                       "kwargs": encode(dict(kwargs), blobs, jail.lent.lend),
                       "errstate": np.geterr(), "warnings": _warning_filters()}
        except ProtocolError as error:
            raise TypeError(f"the grader cannot pass these arguments to {self.__name__}: {error}") from None
        try:
            reply, reply_blobs = jail.request(message, blobs)
        except ChannelTimeout:
            raise LearnerTimeout(f"{self.__name__} ran past the time limit of the cell"
                               + ("" if jail.alive() else " and did not stop when interrupted")) from None
        if reply.get("status") != "ok":
            _raise_learner_error(reply, self.__name__)
        try:
            value = decode(reply.get("value"), reply_blobs, jail._borrow, jail.lent.get)
            after = decode(reply.get("after"), reply_blobs, jail._borrow, jail.lent.get)
        except ProtocolError as error:
            raise TypeError(f"{self.__name__} returned something the grader cannot read ({error})") from None
        self.changed_in_place = _changes_in_jail(self, args, kwargs, after)
        return value


def _changes_in_jail(func, args: tuple, kwargs: dict, after) -> list[str]:
    """Where the function's copies of the arguments differ, after the call, from what was sent."""
    from ..checks import changes, parameter_names

    if not (isinstance(after, list) and len(after) == 2 and isinstance(after[0], list)
            and isinstance(after[1], dict) and len(after[0]) == len(args)):
        return ["its arguments (the copies it was given came back unreadable)"]
    names = parameter_names(func, args, kwargs)
    found = [names[i] + p for i, (old, new) in enumerate(zip(args, after[0])) for p in changes(old, new)]
    found += [k + p for k, old in kwargs.items() for p in changes(old, after[1].get(k))]
    return found
