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
from ..wire.job import GradingJob
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


class LogTail:
    """The jail's stdout and stderr, through a pipe: the last ``limit`` bytes are kept, the rest
    counted and dropped, so a kernel that writes without end costs neither disk nor memory."""

    def __init__(self, limit: int = 64 * 1024):
        import threading

        self.limit, self.total = limit, 0
        self.kept = bytearray()
        self._read, self.fd = os.pipe()
        self._thread = threading.Thread(target=self._drain, daemon=True)

    def start(self) -> None:
        os.close(self.fd)  # the jail holds the writing end now
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self._read, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            self.kept += chunk
            if len(self.kept) > self.limit:
                del self.kept[:len(self.kept) - self.limit]
        os.close(self._read)

    def last_words(self, size: int = 600) -> str:
        text = bytes(self.kept[-size * 4:]).decode("utf-8", "replace")
        return " ".join(text.split())[-size:] or "(none)"


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
        if said.startswith("bwrap:") and any(word in said for word in (
                "namespace", "Operation not permitted", "Permission denied", "setting up uid map")):
            return (f"bubblewrap cannot make a jail here ({said}): this machine or container does "
                    f"not allow user namespaces; grade on a Linux machine or VM, or start the "
                    f"container with user namespaces allowed")
        if said.startswith("bwrap:"):
            return f"bubblewrap could not set up the jail ({said})"
        return (f"the jail was made, but Python could not run in it ({said or f'exit code {done.returncode}'}): "
                f"the jail shows the Python installation {sys.prefix} and the folders of its "
                f"packages; a package imported from elsewhere is not there")
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
    # the fresh /tmp and home come first, and the Python installation is bound after them: a
    # Python installed under /tmp (a course cloned there, with its .venv) stays visible
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(tmp_mb * 2**20), "--tmpfs", "/tmp",
             "--perms", "1777", "--size", str(home_mb * 2**20), "--tmpfs", HOME]
    made: set[str] = {"/", "/tmp", "/proc", "/dev", HOME, *[str(p) for p in Path(HOME).parents]}

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

    ``job`` (``wire/job.py``) holds its limits; ``notebook`` is the cleared notebook's bytes, for
    /home/student. A cell's deadline (``deadline_after``) is wall time where the submission has
    a cgroup, and its own CPU time where it has none (``clock.py``).
    """

    def __init__(self, job: GradingJob, notebook: bytes = b"{}"):
        self.job = job
        self.notebook = notebook
        self.process: subprocess.Popen | None = None
        self.channel: Channel | None = None
        self.broken = False
        self.deadline: float | None = None       # set by the grader for the cell that runs
        self.lent = Handles()                     # the test's functions the jail may call back
        self.startup_seconds: float | None = None
        self.pid: int | None = None               # bwrap's child (the jail's pid 1), outside numbering

    def deadline_after(self, seconds: float):
        """The deadline of a cell given ``seconds``: that much wall time where the submission has a
        cgroup (its CPU share); where it has none, that much of its own CPU time, with a wall-clock
        backstop of ``cell_wall_factor`` times as long (``clock.CellClock``)."""
        if self.job.cpu_clock:
            from .clock import CellClock

            return CellClock(seconds, seconds * self.job.cell_wall_factor)
        return time.monotonic() + seconds

    def limit_text(self, seconds: float) -> str:
        """A cell's limit, in words: '6 s', or '6 s of CPU time'."""
        return f"{seconds:g} s of CPU time" if self.job.cpu_clock else f"{seconds:g} s"

    # -- starting and stopping ---------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> float:
        """Start the jail and wait for the kernel's first message; returns the seconds it took."""
        started = time.monotonic()
        job = self.job
        to_kernel_r, to_kernel_w = os.pipe()
        from_kernel_r, from_kernel_w = os.pipe()
        info_r, info_w = os.pipe()
        notebook_path = os.path.join(job.private_dir, "notebook-for-jail.ipynb")
        with open(notebook_path, "wb") as handle:
            handle.write(self.notebook)
        notebook_fd = os.open(notebook_path, os.O_RDONLY)
        root = os.geteuid() == 0
        uid = JAIL_UID_BASE + job.slot % 100_000
        kernel = [sys.executable, "-s", "-m", "course.grading.jailed.kernel", str(to_kernel_r), str(from_kernel_w)]
        if job.jail:
            command = _bwrap_args(job.disk_mb, job.disk_mb, notebook_fd, job.notebook_name, info_w) + kernel
            env, cwd = _environment(), None
        else:  # the second launcher: a plain process, no namespaces (--unsafe-no-jail)
            command, cwd = kernel, self._plain_home(job, uid if root else None)
            env = {**_environment(), "HOME": cwd, "TMPDIR": os.path.join(cwd, ".tmp"),
                   "MPLCONFIGDIR": os.path.join(cwd, ".matplotlib"), "IPYTHONDIR": os.path.join(cwd, ".ipython"),
                   "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
        if root:
            command += ["--drop-to", str(uid)]
        limits = self._limits(root)
        cpu = job.cpu
        cgroup = list(job.cgroup)

        def prepare():  # in the forked child, before bwrap starts: inherited by the jail
            if cgroup:  # the whole jail's CPU share, memory and processes (cgroups.py)
                from .cgroups import join

                join(cgroup)
            for kind, value in limits:
                resource.setrlimit(kind, (value, value))
            if cpu is not None and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, {cpu})

        # what the jail writes on its stdout and stderr: only the last words are kept, in memory
        self.log = LogTail(job.log_limit)
        self.process = subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=self.log.fd, stderr=self.log.fd,
            pass_fds=(to_kernel_r, from_kernel_w, notebook_fd, info_w), preexec_fn=prepare,
            start_new_session=not job.jail)
        self.log.start()
        for fd in (to_kernel_r, from_kernel_w, notebook_fd, info_w):
            os.close(fd)
        self._info_fd = info_r
        self.channel = Channel(from_kernel_r, to_kernel_w, handler=self._serve,
                               max_bytes=job.max_message_mb * 2**20, nonblocking_writes=True)
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
        self.pid = self._read_info() if job.jail else None
        self.startup_seconds = time.monotonic() - started
        return self.startup_seconds

    def _limits(self, root: bool) -> list:
        job = self.job
        limits = [(resource.RLIMIT_AS, job.memory_mb * 2**20), (resource.RLIMIT_CORE, 0),
                  (resource.RLIMIT_NOFILE, job.open_files),
                  (resource.RLIMIT_FSIZE, job.file_size_mb * 2**20),
                  (resource.RLIMIT_CPU, job.cpu_seconds)]
        if root:  # the jail's own uid: the limit counts its processes and threads only
            limits.append((resource.RLIMIT_NPROC, job.processes))
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

    def _plain_home(self, job: GradingJob, uid: int | None) -> str:
        """The kernel's own folder when it runs without namespaces: the notebook, and room to write."""
        import tempfile

        # outside the private folder, which the kernel's user must not read
        home = self.plain_home = tempfile.mkdtemp(prefix="course-grading-home-")
        os.makedirs(os.path.join(home, ".tmp"), exist_ok=True)
        with open(os.path.join(home, job.notebook_name), "wb") as handle:
            handle.write(self.notebook)
        if uid is not None:  # the kernel drops to this uid: the folder is its own, the one above it passable
            for folder, _, files in os.walk(home):
                os.chown(folder, uid, uid)
                for name in files:
                    os.chown(os.path.join(folder, name), uid, uid)
        return home

    def kernel_pid(self) -> int | None:
        """The kernel's pid outside the jail: the child of the jail's pid 1 (without namespaces,
        the launched process itself)."""
        if not self.job.jail:
            return self.process.pid if self.process is not None else None
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
        """Kill the jail: bwrap, and with it (die-with-parent, PID namespace) all it holds.
        Without namespaces, the kernel's session (process group) is killed instead."""
        self.broken = True
        if self.process is not None and not self.job.jail:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
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
        if getattr(self, "plain_home", None):
            import shutil as _shutil

            _shutil.rmtree(self.plain_home, ignore_errors=True)
            self.plain_home = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None and not self.broken

    def last_words(self, size: int = 400) -> str:
        return self.log.last_words(size) if getattr(self, "log", None) is not None else "(none)"

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
        grace = time.monotonic() + self.job.interrupt_grace
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
            # the code crosses as bytes beside the header: a cell of any size (20 MB of pasted
            # data) is graded, within the channel's limit on one message
            reply, _ = self.request({"op": "run", "code": 0, "silent": silent,
                                     "limit": self.job.output_limit}, [code.encode("utf-8")],
                                    self.deadline_after(timeout))
        except ChannelTimeout:
            status = "timeout" if self.alive() else "stuck"
            return {"status": status, "ename": "TimeoutError",
                    "evalue": f"the cell ran longer than {self.limit_text(timeout)} and "
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
        reply, blobs = self.request({"op": "get", "names": list(names)}, [], self.deadline_after(timeout))
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
        names = jail.job.signatures.get(name)
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
