"""Grade one submission, in a process of its own: ``python -m course.grading.trusted.child``.

The batch grader (``runner.py``) starts one of these per notebook, in a new process group,
writes the job (``wire/job.py``'s ``GradingJob``, as JSON of its fields) to its standard input
and reads its report, one JSON object per line, from its standard output:

    {"event": "kernel", "pid": ...}           a kernel was started (the grader kills its group on timeout)
    {"event": "ready", "seconds": ...}        the kernel first answered, seconds after it was started
    {"event": "note", "text": ...}            something the instructor should know (the status: flagged)
    {"event": "error", "text": ...}           an answer cell raised an error (a learner's mistake)
    {"event": "cell", "grade_id": ..., "status": ..., "outputs": [...]}   one test cell has run
    {"event": "invalid", "reason": ...}       the file is not a notebook
    {"event": "done"}                         every cell has run

This process first limits itself (address space, file size, no core file, one CPU). It reads
the submission itself, so a broken or huge file costs this process only, and clears its
outputs. It reads the learner's cells as text for uses of the course's own code
(``provenance.py``). Then it starts the submission's kernel (``jail.py``: under bubblewrap, or
as a plain process with ``--unsafe-no-jail``), runs the setup cells and the answers there one
at a time, and runs each test cell itself (``TrustedTests``), with the learner's names as
proxies into the kernel: this is the trusted process, and the only one whose word counts.
The notebook as it was graded, outputs included, is written to ``graded.ipynb`` beside it.

Each cell has a time limit (``Jail.deadline_after``): wall time where the submission has a
cgroup, its own CPU time where it has none (``clock.py``). A cell that runs too long is
interrupted (SIGINT); a kernel that
ignores the interrupt, or dies, is restarted, the cells that had worked are run again, and
grading goes on with the next cell. The text a cell prints is capped.
"""
from __future__ import annotations

import json
import os
import re
import resource
import stat
import sys
import time

from ..wire.job import GradingJob
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


def set_limits(job: GradingJob) -> None:
    """Address space, file size, no core dumps, one CPU: inherited by the kernel."""
    memory = _limit(job.memory_mb, resource.RLIM_INFINITY)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    size = _limit(job.file_size_mb, resource.RLIM_INFINITY)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    if job.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {job.cpu})


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


def _label(cell: RunCell, position: int) -> str:
    return f"'{cell.grade_id}'" if cell.grade_id else f"cell {position + 1} (added by the learner)"


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


def _later(deadline, seconds: float):
    """``deadline`` (a time.monotonic() moment or a ``clock.CellClock``) made ``seconds`` later."""
    return deadline + seconds if isinstance(deadline, (int, float)) else deadline.later(seconds)


def _alarm_for(deadline):
    """A SIGALRM handler that stops the cell once ``deadline`` has passed (it looks every POLL s)."""
    from ..wire.channel import seconds_left

    def on_alarm(signum, frame):
        if seconds_left(deadline) <= 0:
            raise CellTimeout("the test ran longer than the time limit of a cell")

    return on_alarm


class TrustedTests:
    """Runs the instructor's test cells here, in the trusted process, with the learner's
    functions as ``jail.Proxy`` objects and the learner's values as plain copies."""

    def __init__(self, job: GradingJob):
        self.job = job
        self.answer_names = set(job.answer_names)
        self.namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
        self.key = bytes.fromhex(job.secret)
        self.student = job.student
        self.notebook = f"{job.assignment}/{job.notebook_name}"

    def run(self, source: str, deadline, filename: str,
            grade_id: str | None = None) -> tuple[str, CappedOutputs]:
        """Execute trusted code (a setup or test cell) until ``deadline`` (a time.monotonic()
        moment, or a ``clock.CellClock``). Returns (status, outputs) as Kernel.run.

        For a test cell (``grade_id``), ``checks.hidden_rng`` is seeded from the course secret,
        the student, the notebook and the test; an error raised by a line of its hidden part is
        reported without its message (``CheckFailed.quiet`` for a check), since that message may
        hold the hidden inputs, or text the learner's code chose."""
        import contextlib
        import signal

        from .. import checks
        from ..wire.channel import POLL
        from .jail import LearnerTimeout

        outputs = CappedOutputs(self.job.output_limit)
        stdout, stderr = _OutputStream(outputs, "stdout"), _OutputStream(outputs, "stderr")
        status = "ok"
        if grade_id is not None:
            checks._enter_hidden(self.key, self.student, self.notebook, grade_id)
        previous = signal.signal(signal.SIGALRM, _alarm_for(deadline))
        signal.setitimer(signal.ITIMER_REAL, POLL, POLL)
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


def grade_jailed(job: GradingJob, report: Reporter) -> None:
    """Grade one submission with its code in the jail and the tests in this process."""
    from .jail import Jail, JailBroken

    try:
        cells, cleared = read_and_clear(job.submission, job.max_file_bytes, job.max_notebook_bytes)
    except NotebookError as error:
        report("invalid", reason=str(error))
        return
    texts: dict = {}
    to_run, notes = merge(job.template, cells, texts)
    graded = GradedNotebook(job.template, texts)
    for text in notes:
        report("note", text=text)
    given = given_imports(c["source"] for c in job.template if c["role"] == "setup")
    for position, cell in enumerate(to_run):
        if cell.role in ("solution", "extra"):
            label = (f"answer cell '{cell.grade_id}'" if cell.role == "solution" and cell.grade_id
                     else _label(cell, position))
            for text in findings(cell.source, given, label):
                report("note", text=text)
    for name in job.preload:  # the tests' heavy imports, before any time limit
        try:
            __import__(name)
        except ImportError:
            pass
    tests = TrustedTests(job)
    jail = Jail(job, cleared)
    cell_timeout = job.cell_timeout
    limit = job.output_limit
    restarts = 0
    completed: list[str] = []

    def start_jail() -> None:
        seconds = jail.start(job.startup_timeout)
        report("kernel", pid=jail.process.pid)
        report("ready", seconds=round(seconds, 3))

    def restart() -> bool:
        nonlocal restarts
        restarts += 1
        jail.stop()
        if restarts > job.max_restarts:
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
                jail.deadline = jail.deadline_after(cell_timeout)
                try:
                    values = jail.fetch(sorted(wanted), cell_timeout) if wanted else {}
                except (JailBroken, TimeoutError) as error:
                    values = {}
                    report("note", text=f"the learner's values could not be read for {label}: {error}"[:400])
                tests.bind(values, wanted)
                status, outputs = tests.run(cell.source, _later(jail.deadline, 2), f"<test {cell.grade_id}>",
                                            cell.grade_id)
                report("cell", grade_id=cell.grade_id, status=status, outputs=outputs.outputs)
                graded.add(cell, outputs.outputs)
                if status == "timeout":
                    report("note", text=f"cell {label} was stopped after {jail.limit_text(cell_timeout)} (an endless loop?)")
                if not jail.alive():
                    if not restart():
                        break
                continue
            status, outputs = _jail_outputs(jail.run(cell.source, cell_timeout), limit)
            graded.add(cell, outputs.outputs)
            if cell.role == "setup":  # the instructor's given cells run on both sides
                tests.run(cell.source, jail.deadline_after(cell_timeout), f"<setup {cell.grade_id or position + 1}>")
            if outputs.dropped:
                report("note", text=f"cell {label} printed at least {outputs.kept + outputs.dropped:,} "
                                    f"characters; the first {outputs.kept:,} were kept")
            if status in ("timeout", "stuck"):
                report("note", text=f"cell {label} was stopped after {jail.limit_text(cell_timeout)} (an endless loop?)")
            if status == "died":
                report("note", text=f"the kernel died while running cell {label} (memory limit "
                                    f"{job.memory_mb} MB, or the code ended the process)")
            if status == "error":
                error = next(o for o in outputs.outputs if o["output_type"] == "error")
                if error["ename"] == "MemoryError":
                    report("note", text=f"cell {label} ran out of memory (the limit is {job.memory_mb} MB)")
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
        graded.write(os.path.join(job.private_dir, "graded.ipynb"))


def main() -> None:
    job = GradingJob.from_json(sys.stdin.buffer.read())
    report = Reporter()
    os.chdir(job.private_dir)
    set_limits(job)
    grade_jailed(job, report)


if __name__ == "__main__":
    main()
