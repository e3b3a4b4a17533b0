"""Grade one submission, in a process of its own: ``python -m course.grading.trusted.child``.

The batch grader (``runner.py``) starts one of these per notebook, in a new process group,
writes the job as JSON to its standard input and reads its report, one JSON object per line,
from its standard output:

    {"event": "kernel", "pid": ...}           a kernel was started (the grader kills its group on timeout)
    {"event": "ready", "seconds": ...}        the kernel first answered, seconds after it was started
    {"event": "note", "text": ...}            something the instructor should know
    {"event": "error", "text": ...}           an answer cell raised an error (a learner's mistake)
    {"event": "blocked", "text": ...}         the sandbox refused something ("read <path>", ...)
    {"event": "cell", "grade_id": ..., "status": ..., "outputs": [...]}   one test cell has run
    {"event": "invalid", "reason": ...}       the file is not a notebook
    {"event": "done"}                         every cell has run

This process first limits itself (address space, file size, no core file, one CPU). It reads
the submission itself, so a broken or huge file costs this process only, and clears its
outputs. Then, by default (``grade_jailed``), it starts the submission's kernel in a jail
(``jail.py``), runs the setup cells and the answers there one at a time, and runs each test
cell itself (``TrustedTests``), with the learner's names as proxies into the jail: this is the
trusted process, and the only one whose word counts. With ``--unsafe-no-jail`` (``grade``) it
runs every cell in a Jupyter kernel of its own instead, behind the audit hook of sandbox.py.

Either way each cell has a time limit: a cell that runs too long is interrupted (SIGINT); a
kernel that ignores the interrupt, or dies, is restarted, the cells that had worked are run
again, and grading goes on with the next cell. The text a cell prints is capped, so a cell
printing 100 MB costs no memory.
"""
from __future__ import annotations

import json
import os
import re
import resource
import stat
import subprocess
import sys
import tempfile
import time
from queue import Empty

from .assemble import NotebookError, RunCell, merge, read_cells
from .provenance import findings, given_imports

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class Reporter:
    """Writes the report lines on a private copy of the standard output.

    The kernel inherits file descriptors 1 and 2, so they are pointed at /dev/null and at a log
    file: nothing the submission prints can reach the grader except through the kernel's
    messages, which this process caps.
    """

    def __init__(self):
        self._out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.close(null)

    def __call__(self, event: str, **fields) -> None:
        self._out.write(json.dumps({"event": event, **fields}) + "\n")


def _limit(size_mb: float, cap: int) -> int:
    return int(size_mb * 1024 * 1024) if size_mb else cap


def set_limits(job: dict) -> None:
    """Address space, file size, no core dumps, one CPU: inherited by the kernel."""
    memory = _limit(job["memory_mb"], resource.RLIM_INFINITY)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    size = _limit(job.get("file_size_mb", 256), resource.RLIM_INFINITY)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    if job.get("cpu") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {job["cpu"]})


def read_submission(path: str, max_bytes: int) -> bytes:
    """The file's bytes; refuses links, non-files and files over max_bytes (NotebookError)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        raise NotebookError(f"the notebook cannot be opened ({error.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotebookError("the notebook is not a regular file")
        if info.st_size > max_bytes:
            raise NotebookError(f"the notebook is {info.st_size / 2**20:.0f} MB, more than the "
                                f"{max_bytes / 2**20:.0f} MB the grader reads; clear its outputs "
                                f"and save it again")
        return handle.read(max_bytes + 1)


class CappedOutputs:
    """The outputs of one cell, as nbformat dicts, keeping at most ``limit`` characters of text."""

    def __init__(self, limit: int):
        self.limit = limit
        self.kept = 0
        self.dropped = 0
        self.outputs: list[dict] = []

    def _take(self, text: str) -> str:
        room = max(self.limit - self.kept, 0)
        if len(text) > room:
            self.dropped += len(text) - room
            text = text[:room]
        self.kept += len(text)
        return text

    def add(self, msg_type: str, content: dict) -> None:
        if msg_type == "stream":
            name = content.get("name", "stdout")
            text = self._take(str(content.get("text", "")))
            last = self.outputs[-1] if self.outputs else None
            if last and last["output_type"] == "stream" and last["name"] == name:
                last["text"] += text
            elif text or name == "stderr":  # an empty stderr write still counts for nbgrader
                self.outputs.append({"output_type": "stream", "name": name, "text": text})
        elif msg_type in ("execute_result", "display_data"):
            data = content.get("data") or {}
            plain = self._take(str(data.get("text/plain", "")))
            output = {"output_type": msg_type, "data": {"text/plain": plain}, "metadata": {}}
            if msg_type == "execute_result":
                output["execution_count"] = content.get("execution_count")
            self.outputs.append(output)
        elif msg_type == "error":
            self.add_error(str(content.get("ename", "Error")), str(content.get("evalue", "")),
                           content.get("traceback") or [])
        elif msg_type == "clear_output":
            self.outputs = [o for o in self.outputs if o["output_type"] == "error"]

    def add_error(self, ename: str, evalue: str, traceback=()) -> None:
        lines = [_ANSI.sub("", str(line))[:2000] for line in list(traceback)[-30:]]
        self.outputs.append({"output_type": "error", "ename": ename[:200],
                             "evalue": self._take(evalue) if evalue else "", "traceback": lines})

    @property
    def has_error(self) -> bool:
        return any(o["output_type"] == "error" for o in self.outputs)


class Kernel:
    """A Jupyter kernel for one submission, with time limits, interrupts and restarts."""

    def __init__(self, job: dict, report: Reporter):
        self.job = job
        self.report = report
        self.private = job["private_dir"]
        self.work = job["work_dir"]
        self.km = None
        self.kc = None
        self.log = None

    def environment(self) -> dict:
        """A small, clean environment: nothing of the instructor's but PATH and the data folder."""
        work, private = self.work, self.private
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": work,
            "TMPDIR": os.path.join(work, "tmp"), "IPYTHONDIR": os.path.join(work, ".ipython"),
            "MPLCONFIGDIR": os.path.join(work, ".matplotlib"), "MPLBACKEND": "Agg",
            "JUPYTER_PATH": os.path.join(private, "jupyter"),
            "JUPYTER_DATA_DIR": os.path.join(private, "jupyter"),
            "JUPYTER_CONFIG_DIR": os.path.join(private, "config"),
            "JUPYTER_RUNTIME_DIR": os.path.join(private, "runtime"),
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1",
        }
        if self.job.get("pythonpath"):
            env["PYTHONPATH"] = self.job["pythonpath"]
        for name in ("COURSE_DATA_DIR",):
            if os.environ.get(name):
                env[name] = os.environ[name]
        for folder in ("TMPDIR", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR"):
            os.makedirs(env[folder], exist_ok=True)
        spec_dir = os.path.join(private, "jupyter", "kernels", "course-grading")
        os.makedirs(spec_dir, exist_ok=True)
        with open(os.path.join(spec_dir, "kernel.json"), "w") as handle:
            json.dump({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                                "--HistoryManager.enabled=False"],
                       "display_name": "course grading", "language": "python"}, handle)
        return env

    def socket_prefix(self) -> str:
        """Where the kernel's sockets live. Unix sockets in the submission's private folder, not
        TCP ports: two kernels started at the same moment can pick the same free port, and one of
        them then dies before it answers. A socket path must stay under about 100 characters."""
        prefix = os.path.join(self.private, "k")
        if len(prefix) > 90:
            prefix = os.path.join(tempfile.mkdtemp(prefix="cg-", dir="/tmp"), "k")
        return prefix

    def start(self, attempts: int = 3) -> None:
        """Start the kernel, up to ``attempts`` times: a kernel that dies before it first answers
        has not run anything of the submission, so starting it again is always safe."""
        from jupyter_client import KernelManager

        env = self.environment()
        os.environ.clear()
        os.environ.update(env)
        started = time.monotonic()
        for attempt in range(1, attempts + 1):
            self.km = KernelManager(kernel_name="course-grading", transport="ipc",
                                    ip=self.socket_prefix())
            # the log stays open: a restart launches the kernel again with the same arguments
            self.log = self.log or open(self.kernel_log, "ab")
            self.km.start_kernel(cwd=self.work, env=env, stdout=subprocess.DEVNULL, stderr=self.log)
            self.report("kernel", pid=self.km.provisioner.process.pid)
            self.kc = self.km.client()
            self.kc.start_channels()
            try:
                self.kc.wait_for_ready(timeout=self.job.get("startup_timeout", 60))
                self.report("ready", seconds=round(time.monotonic() - started, 3))
                break
            except RuntimeError as error:
                self.shutdown()
                if attempt == attempts:
                    raise RuntimeError(f"{error} ({attempts} tries); the kernel's last words: "
                                       f"{self.last_words()}") from None
        self.setup()

    @property
    def kernel_log(self) -> str:
        return os.path.join(self.private, "kernel.log")

    def last_words(self, size: int = 600) -> str:
        from .jail import last_words

        return last_words(self.kernel_log, size)

    def setup(self) -> None:
        """Before any cell of the submission runs: import the heavy modules the tests use (so that
        their import time is not charged to a cell), then install the sandbox (``sandbox.py``)."""
        code = (
            "_name = None\n"
            f"for _name in {list(self.job.get('preload', []))!r}:\n"
            "    try:\n"
            "        __import__(_name)\n"
            "    except ImportError:\n"
            "        pass\n"
            "import ctypes as _ctypes\n"  # ctypes looks up the interpreter's symbols when imported
            "from course.grading.jailed import sandbox as _sandbox\n"
            f"_sandbox.install({self.job['protected']!r}, [{self.work!r}], "
            f"{os.path.join(self.private, 'sandbox.log')!r})\n"
            "del _ctypes, _sandbox, _name\n")
        status, outputs = self.run(code, self.job.get("startup_timeout", 60), silent=True)
        if status != "ok":
            detail = "; ".join(f"{o.get('ename')}: {o.get('evalue')}" for o in outputs.outputs
                               if o["output_type"] == "error")
            raise RuntimeError(f"the grading sandbox could not be set up in the kernel ({status}) {detail}")

    def restart(self) -> None:
        self.km.restart_kernel(now=True)
        self.report("kernel", pid=self.km.provisioner.process.pid)
        self.kc.wait_for_ready(timeout=self.job.get("startup_timeout", 60))
        self.setup()

    def shutdown(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None and self.km.has_kernel:
            self.km.shutdown_kernel(now=True)

    def run(self, code: str, timeout: float, silent: bool = False):
        """Execute code; returns (status, CappedOutputs) with status 'ok', 'error', 'timeout',
        'stuck' (did not stop when interrupted) or 'died'."""
        outputs = CappedOutputs(self.job.get("output_limit", 20000))
        msg_id = self.kc.execute(code, silent=silent, store_history=not silent, allow_stdin=False,
                                 stop_on_error=False)
        deadline = time.monotonic() + timeout
        interrupted_at = None
        next_alive_check = time.monotonic() + 1.0
        while True:
            now = time.monotonic()
            if interrupted_at is None and now > deadline:
                self.km.interrupt_kernel()
                interrupted_at = now
            if interrupted_at is not None and now > interrupted_at + self.job.get("interrupt_grace", 3):
                outputs.add_error("TimeoutError", f"the cell ran longer than {timeout:g} s and did "
                                                  f"not stop when interrupted")
                return "stuck", outputs
            if now > next_alive_check:
                next_alive_check = now + 1.0
                if not self.km.is_alive():
                    outputs.add_error("DeadKernelError", "the kernel stopped while running this cell "
                                      "(it ran out of memory, or the code ended the process)")
                    return "died", outputs
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except Empty:
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            msg_type, content = msg.get("msg_type"), msg.get("content", {})
            if msg_type == "status" and content.get("execution_state") == "idle":
                break
            outputs.add(msg_type, content)
        reply = self._reply(msg_id)
        if interrupted_at is not None:
            outputs.add_error("TimeoutError", f"the cell ran longer than {timeout:g} s and was "
                                              f"interrupted")
            return "timeout", outputs
        if reply is not None and reply.get("status") == "error" and not outputs.has_error:
            # the error was raised but its display was suppressed: it still counts
            outputs.add_error(str(reply.get("ename", "Error")), str(reply.get("evalue", "")))
        if outputs.has_error or (reply is not None and reply.get("status") != "ok"):
            return "error", outputs
        return "ok", outputs

    def _reply(self, msg_id: str):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_shell_msg(timeout=0.5)
            except Empty:
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg.get("content", {})
        return None


def _label(cell: RunCell, position: int) -> str:
    return f"'{cell.grade_id}'" if cell.grade_id else f"cell {position + 1} (added by the learner)"


def grade(job: dict, report: Reporter) -> None:
    try:
        raw = read_submission(job["submission"], job.get("max_notebook_bytes", 64 * 2**20))
        cells = read_cells(raw)
    except NotebookError as error:
        report("invalid", reason=str(error))
        return
    del raw
    to_run, notes = merge(job["template"], cells)
    for text in notes:
        report("note", text=text)

    kernel = Kernel(job, report)
    restarts = 0
    try:
        kernel.start()
        completed: list[str] = []
        for position, cell in enumerate(to_run):
            status, outputs = kernel.run(cell.source, job["cell_timeout"])
            if outputs.dropped:
                report("note", text=f"cell {_label(cell, position)} printed at least "
                                    f"{outputs.kept + outputs.dropped:,} characters; the first "
                                    f"{outputs.kept:,} were kept")
            if status in ("timeout", "stuck"):
                report("note", text=f"cell {_label(cell, position)} was stopped after "
                                    f"{job['cell_timeout']:g} s (an endless loop?)")
            if status == "died":
                report("note", text=f"the kernel died while running cell {_label(cell, position)} "
                                    f"(memory limit {job['memory_mb']} MB, or the code ended the process)")
            if cell.role == "test":
                report("cell", grade_id=cell.grade_id, status=status, outputs=outputs.outputs)
            elif status == "error":
                error = next(o for o in outputs.outputs if o["output_type"] == "error")
                if error["ename"] == "MemoryError":
                    report("note", text=f"cell {_label(cell, position)} ran out of memory (the limit "
                                        f"is {job['memory_mb']} MB)")
                else:
                    detail = " ".join(error["evalue"].split())[:150]
                    report("error", text=f"cell {_label(cell, position)} raised {error['ename']}"
                                         + (f": {detail}" if detail else ""))
            if status == "ok":
                completed.append(cell.source)
            if status in ("stuck", "died"):
                restarts += 1
                if restarts > job.get("max_restarts", 3):
                    report("note", text=f"the kernel was restarted {restarts - 1} times; the "
                                        f"remaining cells were not run")
                    break
                kernel.restart()
                report("note", text="the kernel was restarted and the cells that had worked were "
                                    "run again")
                for source in completed:
                    kernel.run(source, job["cell_timeout"], silent=True)
        report("done")
    finally:
        kernel.shutdown()
        if kernel.log is not None:
            kernel.log.close()
        log = os.path.join(job["private_dir"], "sandbox.log")
        if os.path.exists(log):
            with open(log, encoding="utf-8", errors="replace") as handle:
                attempts = sorted(set(handle.read(20000).splitlines()))
            for line in attempts[:10]:
                report("blocked", text=line)


# -- the jailed way: the submission in bubblewrap, the tests here -----------------------------------
def read_and_clear(path: str, max_file_bytes: int, max_notebook_bytes: int) -> tuple[list, bytes]:
    """The cells of the submission, and the notebook with its outputs cleared (for the jail).

    Outputs are dropped before any limit on the notebook applies, as nbgrader clears them before
    it grades: a notebook of 150 MB of pictures is graded. Only a file over ``max_file_bytes``,
    or one still over ``max_notebook_bytes`` once cleared, is refused."""
    raw = read_submission(path, max_file_bytes)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        data = None  # read_cells says why
    if isinstance(data, dict):
        for cell in _all_cells(data):
            if isinstance(cell, dict):
                if "outputs" in cell:
                    cell["outputs"] = []
                if "execution_count" in cell:
                    cell["execution_count"] = None
                cell.pop("attachments", None)
        raw = json.dumps(data).encode("utf-8")
        if len(raw) > max_notebook_bytes:
            raise NotebookError(f"the notebook is {len(raw) / 2**20:.0f} MB even with its outputs "
                                f"cleared, more than the {max_notebook_bytes / 2**20:.0f} MB the "
                                f"grader reads: remove the large data pasted into its cells")
    del data
    return read_cells(raw), raw


def _all_cells(data: dict) -> list:
    cells = data.get("cells")
    if isinstance(cells, list):
        return cells
    worksheets = data.get("worksheets")
    if isinstance(worksheets, list):
        return [c for w in worksheets if isinstance(w, dict) and isinstance(w.get("cells"), list)
                for c in w["cells"]]
    return []


def names_used(source: str) -> set[str]:
    """The names a cell reads (any ``Name`` in a load context); empty when it does not parse."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


class CellTimeout(TimeoutError):
    """The test cell ran past its time limit in the trusted process."""


def _on_alarm(signum, frame):
    raise CellTimeout("the test ran longer than the time limit of a cell")


class TrustedTests:
    """Runs the instructor's test cells here, in the trusted process, with the learner's
    functions as ``jail.Proxy`` objects and the learner's values as plain copies."""

    def __init__(self, job: dict, answer_names: list[str]):
        self.job = job
        self.answer_names = set(answer_names)
        self.namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
        self.key = bytes.fromhex(job.get("secret") or "")
        self.student = str(job.get("student", ""))
        self.notebook = f"{job.get('assignment', '')}/{job.get('notebook_name', '')}"

    def run(self, source: str, timeout: float, filename: str,
            grade_id: str | None = None) -> tuple[str, CappedOutputs]:
        """Execute trusted code (a setup or test cell). Returns (status, outputs) as Kernel.run.

        For a test cell (``grade_id``), ``checks.hidden_rng`` is seeded from the course secret,
        the student, the notebook and the test; an error raised by a line of its hidden part is
        reported without its message (``CheckFailed.quiet`` for a check), since that message may
        hold the hidden inputs, or text the learner's code chose."""
        import contextlib
        import signal

        from .. import checks
        from .jail import LearnerTimeout

        outputs = CappedOutputs(self.job.get("output_limit", 20000))
        stdout, stderr = _OutputStream(outputs, "stdout"), _OutputStream(outputs, "stderr")
        status = "ok"
        if grade_id is not None:
            checks._enter_hidden(self.key, self.student, self.notebook, grade_id)
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = compile(source, filename, "exec")
                exec(code, self.namespace)  # noqa: S102 - the instructor's own cells
        except (CellTimeout, LearnerTimeout) as error:
            status = "timeout"
            outputs.add_error("TimeoutError", str(error))
        except Exception as error:  # the test failed: its message is the feedback
            status = "error"
            if grade_id is not None and _raised_in(error, filename, hidden_lines(source)):
                if isinstance(error, checks.CheckFailed):
                    outputs.add_error("AssertionError", f"hidden test: {error.quiet}"[:2000])
                else:
                    outputs.add_error("Error", "a hidden test failed with an error (its message "
                                               "is shown for visible tests only)")
            else:
                # the traceback of a hidden test would show its source: keep only name and message
                outputs.add_error(type(error).__name__, _message_of(error))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return status, outputs

    def bind(self, values: dict, wanted: set[str]) -> None:
        """Put the learner's current values into the namespace; a name the learner no longer
        defines is removed, so the test meets a NameError as it would in the notebook."""
        for name in wanted:
            if name in values:
                self.namespace[name] = values[name]
            else:
                self.namespace.pop(name, None)


HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def hidden_lines(source: str) -> set[int]:
    """The line numbers (from 1) of a test cell's hidden part, nbgrader's markers included."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), 1):
        if line.strip().upper().startswith(HIDDEN_BEGIN):
            inside = True
        if inside:
            lines.add(number)
        if line.strip().upper().startswith(HIDDEN_END):
            inside = False
    return lines


def _raised_in(error: BaseException, filename: str, lines: set[int]) -> bool:
    """Whether the cell's own statement that raised ``error`` is one of ``lines``."""
    import traceback

    if not lines:
        return False
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    return not frames or frames[0].lineno in lines


def _message_of(error: BaseException) -> str:
    try:
        return str(error)[:2000]
    except Exception:  # pragma: no cover - a message that cannot be printed
        return ""


class _OutputStream:
    """A text stream that appends to a cell's CappedOutputs as a stream output."""

    def __init__(self, outputs: CappedOutputs, name: str):
        self.outputs, self.name = outputs, name

    def write(self, text) -> int:
        text = str(text)
        if text or self.name == "stderr":
            self.outputs.add("stream", {"name": self.name, "text": text})
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _jail_outputs(reply: dict, limit: int) -> tuple[str, CappedOutputs]:
    outputs = CappedOutputs(limit)
    for name in ("stdout", "stderr"):
        text = reply.get(name)
        if isinstance(text, str) and text:
            outputs.add("stream", {"name": name, "text": text})
    dropped = reply.get("dropped")
    if isinstance(dropped, int) and dropped > 0:
        outputs.dropped += dropped
    status = reply.get("status", "error")
    if status != "ok" or reply.get("ename"):
        outputs.add_error(str(reply.get("ename", "Error")), str(reply.get("evalue", "")))
        if status == "ok":
            status = "error"
    return status, outputs


class GradedNotebook:
    """The notebook as this process graded it, for nbgrader to score: the source's cells in their
    order, the learner's answers (and added cells) where they ran, and each code cell's outputs
    as they were kept here. Written to ``graded.ipynb`` in the private folder (never through the
    report pipe: an answer may hold megabytes)."""

    def __init__(self, template: list[dict], texts: dict):
        self.template, self.texts = template, texts
        self.ran: list[tuple[RunCell, list]] = []

    def add(self, cell: RunCell, outputs: list) -> None:
        self.ran.append((cell, outputs))

    def to_dict(self) -> dict:
        cells: list[dict] = []
        shown = 0  # the source's cells before this index are in place

        def upto(index: int) -> None:
            nonlocal shown
            for k in range(shown, index):
                entry = self.template[k]
                if entry["role"] == "markdown":
                    cells.append({"cell_type": entry["cell_type"], "metadata": entry.get("metadata") or {},
                                  "source": self.texts.get(k, entry["visible"])})
            shown = max(shown, index)

        for cell, outputs in self.ran:
            if cell.index is not None:
                upto(cell.index)
                shown = cell.index + 1
            metadata = (self.template[cell.index].get("metadata") or {}) if cell.index is not None else {}
            cells.append({"cell_type": "code", "execution_count": None, "metadata": metadata,
                          "outputs": outputs, "source": cell.source})
        upto(len(self.template))
        for number, cell in enumerate(cells):
            cell["id"] = f"cell-{number}"
        return {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                            "language": "python"}}}

    def write(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle)


def grade_jailed(job: dict, report: Reporter) -> None:
    """Grade one submission with its code in the jail and the tests in this process."""
    from .jail import Jail, JailBroken

    try:
        cells, cleared = read_and_clear(job["submission"], job.get("max_file_bytes", 512 * 2**20),
                                        job.get("max_notebook_bytes", 64 * 2**20))
    except NotebookError as error:
        report("invalid", reason=str(error))
        return
    texts: dict = {}
    to_run, notes = merge(job["template"], cells, texts)
    graded = GradedNotebook(job["template"], texts)
    for text in notes:
        report("note", text=text)
    given = given_imports(c["source"] for c in job["template"] if c["role"] == "setup")
    for position, cell in enumerate(to_run):
        if cell.role in ("solution", "extra"):
            label = (f"answer cell '{cell.grade_id}'" if cell.role == "solution" and cell.grade_id
                     else _label(cell, position))
            for text in findings(cell.source, given, label):
                report("note", text=text)
    for name in job.get("preload", []):  # the tests' heavy imports, before any time limit
        try:
            __import__(name)
        except ImportError:
            pass
    tests = TrustedTests(job, job.get("answer_names", []))
    jail = Jail({**job, "notebook": cleared, "notebook_name": job.get("notebook_name", "submission.ipynb")})
    cell_timeout = job["cell_timeout"]
    limit = job.get("output_limit", 20000)
    restarts = 0
    completed: list[str] = []

    def start_jail() -> None:
        seconds = jail.start(job.get("startup_timeout", 60))
        report("kernel", pid=jail.process.pid)
        report("ready", seconds=round(seconds, 3))

    def restart() -> bool:
        nonlocal restarts
        restarts += 1
        jail.stop()
        if restarts > job.get("max_restarts", 3):
            report("note", text=f"the kernel was restarted {restarts - 1} times; the remaining "
                                f"cells were not run")
            return False
        start_jail()
        report("note", text="the kernel was restarted and the cells that had worked were run again")
        for source in completed:
            jail.run(source, cell_timeout, silent=True)
        return True

    try:
        try:
            start_jail()
        except JailBroken as error:
            report("note", text=str(error)[:600])
            return
        for position, cell in enumerate(to_run):
            label = _label(cell, position)
            if cell.role == "test":
                wanted = names_used(cell.source) & tests.answer_names
                jail.deadline = time.monotonic() + cell_timeout
                try:
                    values = jail.fetch(sorted(wanted), cell_timeout) if wanted else {}
                except (JailBroken, TimeoutError) as error:
                    values = {}
                    report("note", text=f"the learner's values could not be read for {label}: {error}"[:400])
                tests.bind(values, wanted)
                status, outputs = tests.run(cell.source, cell_timeout + 2, f"<test {cell.grade_id}>",
                                            cell.grade_id)
                report("cell", grade_id=cell.grade_id, status=status, outputs=outputs.outputs)
                graded.add(cell, outputs.outputs)
                if status == "timeout":
                    report("note", text=f"cell {label} was stopped after {cell_timeout:g} s (an endless loop?)")
                if not jail.alive():
                    if not restart():
                        break
                continue
            status, outputs = _jail_outputs(jail.run(cell.source, cell_timeout), limit)
            graded.add(cell, outputs.outputs)
            if cell.role == "setup":  # the instructor's given cells run on both sides
                tests.run(cell.source, cell_timeout, f"<setup {cell.grade_id or position + 1}>")
            if outputs.dropped:
                report("note", text=f"cell {label} printed at least {outputs.kept + outputs.dropped:,} "
                                    f"characters; the first {outputs.kept:,} were kept")
            if status in ("timeout", "stuck"):
                report("note", text=f"cell {label} was stopped after {cell_timeout:g} s (an endless loop?)")
            if status == "died":
                report("note", text=f"the kernel died while running cell {label} (memory limit "
                                    f"{job['memory_mb']} MB, or the code ended the process)")
            if status == "error":
                error = next(o for o in outputs.outputs if o["output_type"] == "error")
                if error["ename"] == "MemoryError":
                    report("note", text=f"cell {label} ran out of memory (the limit is {job['memory_mb']} MB)")
                else:
                    detail = " ".join(error["evalue"].split())[:150]
                    report("error", text=f"cell {label} raised {error['ename']}" + (f": {detail}" if detail else ""))
            if status == "ok":
                completed.append(cell.source)
            if not jail.alive():
                if not restart():
                    break
        report("done")
    finally:
        jail.stop()
        graded.write(os.path.join(job["private_dir"], "graded.ipynb"))


def main() -> None:
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    report = Reporter()
    os.chdir(job["private_dir"])
    set_limits(job)
    if job.get("jail", True):
        grade_jailed(job, report)
    else:
        grade(job, report)


if __name__ == "__main__":
    main()
