"""The batch grader: every submission in its own process, scored as nbgrader scores it.

    python -m course.grading SUBMISSIONS --out OUT [--source exercises/source]
           [--timeout 300] [--cell-timeout 60] [--memory 2048] [--jobs N] [--assignment NAME]

SUBMISSIONS holds one folder per student, each with one folder per assignment:

    SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb
    SUBMISSIONS/submitted/<student>/<assignment>/<notebook>.ipynb   (nbgrader's layout, also read)

The assignments and their notebooks are those of the source folder (the instructor's
versions, with solutions and hidden tests). OUT receives

    grades.csv            student, assignment, score, max_score (autograded), pending_manual (points
                          of written answers a person grades), status, reason, graded_in
    feedback/<student>.md what each test cell gave, and why it failed
    results.json          everything above, per notebook and per test cell

How a notebook is graded (the steps nbgrader's ``autograde`` takes, without a database):

1. The cells to run come from the SOURCE notebook: its setup cells and its test cells, hidden
   tests included, in the source's order; from the submission only the answers (and any code
   cells the learner added). Deleted or edited test cells and stripped metadata change nothing
   (``assemble.py``). Points come from the source's metadata, never from the submission's.
   (nbgrader gives 0 for a deleted test cell; here the source's cell runs, and the reason says
   it was deleted.)
2. A process of its own (``child.py``, the trusted process) clears the notebook's outputs and
   starts a jail (``jail.py``): bubblewrap with no network, its own PID namespace, a read-only
   system, two small writable folders and limits on memory, processes, files and CPU time.
   The setup cells and the learner's answers run there, in an IPython kernel (``kernel.py``).
   The test cells run in the trusted process, where the learner's names are proxies that call
   into the jail with plain data (``plain.py``): nothing the submission does changes what a
   test computes, and the hidden tests never enter the jail. ``--unsafe-no-jail`` runs the
   kernel beside the tests instead, behind the audit hook of ``sandbox.py``.
3. Each test cell is scored by nbgrader's rule (``nbgrader.utils.determine_grade``): full
   points unless its output holds an error or text on stderr.

A submission that loops, eats memory, prints without end, crashes its kernel or is not a
notebook at all gets the points of the cells that ran, and a reason in grades.csv; the others
are not affected, since each runs in its own process group on its own CPU and the grader kills
that group (SIGTERM, then SIGKILL) once its time is up.
"""
from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Settings", "Template", "TestResult", "Result", "load_templates", "find_jobs",
           "grade_batch", "write_reports", "main"]

STATUS_ORDER = ("ok", "flagged", "timeout", "error", "invalid", "missing")
PRELOAD = ("torch",)


@dataclass
class Settings:
    """Limits for one submission (one notebook)."""

    timeout: float = 300.0        # seconds for the whole notebook, then its processes are killed
    cell_timeout: float = 60.0    # seconds for one cell, then it is interrupted
    memory_mb: int = 2048         # address space of the grading process and of its kernel
    jobs: int = 0                 # submissions graded at once; 0: one per CPU
    output_limit: int = 20000     # characters of output kept per cell
    file_size_mb: int = 256       # largest file a submission may write
    max_notebook_mb: int = 64     # largest notebook, once its outputs are cleared
    max_file_mb: int = 512        # largest notebook file read (outputs included)
    disk_mb: int = 256            # size of each of the jail's writable folders (home and /tmp)
    jail: bool = True             # False: --unsafe-no-jail, the in-process guard of sandbox.py


@dataclass
class Template:
    """One source notebook as the grader uses it."""

    assignment: str
    notebook: str                 # file name, e.g. 'perceptron.ipynb'
    cells: list[dict]             # for assemble.merge: role, cell_type, grade_id, source, visible
    tests: dict[str, dict]        # grade_id -> the source's test cell (nbformat dict)
    preload: list[str] = field(default_factory=list)  # heavy modules the tests import
    answer_names: list[str] = field(default_factory=list)  # what the answers define, minus the setup's
    manual: dict[str, float] = field(default_factory=dict)  # grade_id -> points of written answers

    @property
    def manual_points(self) -> float:
        return float(sum(self.manual.values()))

    @property
    def max_score(self) -> float:
        return float(sum(cell["metadata"]["nbgrader"]["points"] for cell in self.tests.values()))


@dataclass
class TestResult:
    grade_id: str
    points: float
    max_points: float
    passed: bool
    message: str = ""


@dataclass
class Result:
    student: str
    assignment: str
    notebook: str
    score: float
    max_score: float
    status: str
    reason: str
    tests: list[TestResult] = field(default_factory=list)
    seconds: float = 0.0
    jailed: bool = True
    kernel_start: float | None = None   # seconds from starting the kernel to its first answer
    pending_manual: float = 0.0          # points of written answers a person grades (nbgrader's formgrader)
    manual: list[str] = field(default_factory=list)
    notebook_cells: dict = field(default_factory=dict, repr=False)  # see executed_notebook

    @property
    def executed_notebook(self) -> dict:
        """The test cells as the trusted process ran them, with their outputs (an nbformat dict)."""
        return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [dict(cell) for cell in self.notebook_cells.values()]}


# -- the source notebooks --------------------------------------------------------------------------
def _role(cell) -> str:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell["cell_type"] != "code":
        return "markdown"
    if meta.get("grade") and meta.get("solution"):
        return "solution"  # a manually graded answer in code: it runs, its points wait for a person
    if meta.get("grade"):
        return "test"
    if meta.get("solution"):
        return "solution"
    return "setup"


def load_template(path: Path, assignment: str) -> Template:
    """Read a source notebook and compute its student version with nbgrader's preprocessors."""
    import nbformat
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    source = nbformat.read(str(path), as_version=4)
    student = copy.deepcopy(source)
    resources: dict = {}
    student, resources = ClearSolutions().preprocess(student, resources)
    student, resources = ClearHiddenTests().preprocess(student, resources)
    cells, tests, manual = [], {}, {}
    for original, visible in zip(source.cells, student.cells):
        role = _role(original)
        grade_id = original.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        meta = original.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("solution"):
            if not grade_id or "points" not in meta:
                raise ValueError(f"{path}: a manually graded answer needs a grade_id and points")
            manual[grade_id] = float(meta["points"])
        cells.append({"role": role, "cell_type": original.cell_type, "grade_id": grade_id,
                      # an answer cell is run from the submission: only its stub is sent along
                      "source": visible.source if role == "solution" else original.source,
                      "visible": visible.source})
        if role == "test":
            if not grade_id or "points" not in original.metadata["nbgrader"]:
                raise ValueError(f"{path}: a test cell needs a grade_id and points")
            tests[grade_id] = {"cell_type": "code", "source": original.source, "execution_count": None,
                               "metadata": {"nbgrader": dict(original.metadata["nbgrader"])},
                               "outputs": []}
    # Imported before the first cell, so that their import time (seconds for torch on a busy
    # machine) is not counted against the time limit of the cell that first imports them.
    preload = [name for name in PRELOAD if any(re.search(rf"^\s*(import|from) {name}\b", c["source"], re.M)
                                               for c in cells)]
    given = set().union(*[_bound_names(c["source"]) for c in cells if c["role"] == "setup"])
    answers = set().union(*[_bound_names(c.source) for c in source.cells
                            if c.cell_type == "code" and _role(c) == "solution"])
    return Template(assignment, path.name, cells, tests, preload, sorted(answers - given), manual)


def _bound_names(source: str) -> set[str]:
    """The names a cell binds at its top level: functions, classes, assignments, imports."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ValueError(f"a cell of the source does not parse: {error}") from None
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            targets = (node.targets if isinstance(node, ast.Assign) else
                       [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For)) else
                       [item.optional_vars for item in node.items if item.optional_vars is not None])
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def load_templates(source_dir: Path) -> dict[str, list[Template]]:
    """Every assignment of the source folder: source/<assignment>/<notebook>.ipynb."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise FileNotFoundError(f"the source folder {source_dir} does not exist: pass --source, the "
                                f"folder of the instructor's notebooks (e.g. exercises/source)")
    templates = {}
    for folder in sorted(p for p in source_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        notebooks = sorted(folder.glob("*.ipynb"))
        if notebooks:
            templates[folder.name] = [load_template(nb, folder.name) for nb in notebooks]
    if not templates:
        raise FileNotFoundError(f"no assignment in {source_dir}: expected {source_dir}/<assignment>/<notebook>.ipynb")
    return templates


# -- the submissions --------------------------------------------------------------------------------
@dataclass
class Job:
    student: str
    template: Template
    path: Path | None             # None: the notebook is missing
    problem: str = ""             # why the file cannot be graded at all


def submissions_root(submissions_dir: Path, assignments=()) -> Path:
    """SUBMISSIONS itself, or SUBMISSIONS/submitted when SUBMISSIONS is an nbgrader course folder.

    ``submitted`` is taken for nbgrader's folder only when it holds no assignment folder of its
    own: a student called 'submitted' is a student."""
    nested = Path(submissions_dir) / "submitted"
    if nested.is_dir() and not nested.is_symlink() and not any(
            (nested / name).is_dir() for name in assignments):
        return nested
    return Path(submissions_dir)


def find_jobs(submissions_dir: Path, templates: dict[str, list[Template]],
              assignment: str | None = None) -> list[Job]:
    """One job per student, assignment submitted and notebook of that assignment.

    Without ``assignment``, a student is graded on the assignments that have a folder in the
    student's folder. With it, every student is graded on that one, and a student without the
    folder gets the status 'missing'. A student folder, assignment folder or notebook that is a
    symbolic link is refused (its row says why), and so is a folder whose name starts with '.'.
    """
    root = submissions_root(submissions_dir, templates)
    if assignment is not None and assignment not in templates:
        raise ValueError(f"no assignment {assignment!r} in the source folder; there are "
                         f"{', '.join(templates)}")
    jobs = []
    for student_dir in sorted(root.iterdir()):
        name = student_dir.name
        if not (student_dir.is_dir() or student_dir.is_symlink()):
            continue
        names = [assignment] if assignment else list(templates)
        problem = ""
        if student_dir.is_symlink():
            problem = "the student's folder is a symbolic link, not a submitted folder"
        elif name.startswith("."):
            problem = "the folder's name starts with '.' (a hidden folder): not graded"
        if problem:
            for assignment_name in names:
                for template in templates[assignment_name]:
                    jobs.append(Job(name, template, student_dir / assignment_name / template.notebook, problem))
            continue
        for assignment_name in names:
            folder = student_dir / assignment_name
            if not (folder.is_dir() or folder.is_symlink()) and assignment is None:
                continue
            for template in templates[assignment_name]:
                path = folder / template.notebook
                if folder.is_symlink() or path.is_symlink():
                    jobs.append(Job(name, template, path,
                                    "the notebook (or its folder) is a symbolic link, not a submitted file"))
                elif path.is_file():
                    jobs.append(Job(name, template, path))
                else:
                    jobs.append(Job(name, template, None))
    return jobs


# -- one submission in its own process --------------------------------------------------------------
def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Grading:
    """The grading process of one job: started, watched, killed when its time is up."""

    def __init__(self, job: Job, settings: Settings, private: Path, protected: list[str],
                 cpu: int | None, pythonpath: str, slot: int = 0):
        self.job = job
        self.settings = settings
        self.events: list[dict] = []
        self.kernel_pids: list[int] = []
        self.killed = False
        private.mkdir(mode=0o700)
        work = private / "work"
        work.mkdir(mode=0o700)
        payload = {
            "submission": str(job.path), "template": job.template.cells,
            "private_dir": str(private), "work_dir": str(work), "protected": protected,
            "memory_mb": settings.memory_mb, "cell_timeout": settings.cell_timeout,
            "output_limit": settings.output_limit, "file_size_mb": settings.file_size_mb,
            "max_notebook_bytes": settings.max_notebook_mb * 2**20, "cpu": cpu,
            "pythonpath": pythonpath, "preload": job.template.preload,
            "jail": settings.jail, "answer_names": job.template.answer_names, "slot": slot,
            "max_file_bytes": settings.max_file_mb * 2**20, "disk_mb": settings.disk_mb,
            "notebook_name": job.template.notebook, "cpu_seconds": int(settings.timeout * 2 + 30),
        }
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "PYTHONPATH": pythonpath, "PYTHONDONTWRITEBYTECODE": "1"}
        if os.environ.get("COURSE_DATA_DIR"):
            env["COURSE_DATA_DIR"] = os.environ["COURSE_DATA_DIR"]
        self.stderr_path = private / "grader.log"
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "course.grading.child"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=stderr, cwd=private, env=env, start_new_session=True)
        self.started = time.monotonic()
        self._payload = json.dumps(payload).encode("utf-8")
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        try:
            self.process.stdin.write(self._payload)
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        budget = 32 * 2**20  # the report of one submission is a few kB; never keep more than this
        for line in iter(lambda: self.process.stdout.readline(4 * 2**20), b""):
            budget -= len(line)
            if budget < 0:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                if event.get("event") == "kernel" and isinstance(event.get("pid"), int):
                    self.kernel_pids.append(event["pid"])
                self.events.append(event)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def finished(self) -> bool:
        return self.process.poll() is not None

    def kill(self) -> None:
        """Stop the grading process and its kernels: SIGTERM to each group, then SIGKILL."""
        self.killed = True
        groups = [self.process.pid, *self.kernel_pids]
        for pgid in groups:
            _kill_group(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.2)
        for pgid in groups:
            _kill_group(pgid, signal.SIGKILL)
        self.process.wait()

    def collect(self) -> Result:
        self._reader.join(timeout=5)
        if self.process.returncode not in (0, None) and not self.killed:
            for pgid in self.kernel_pids:  # the grading process crashed: its kernel must go too
                _kill_group(pgid, signal.SIGKILL)
        return score(self.job, self.events, self.settings, killed=self.killed,
                     returncode=self.process.returncode, seconds=self.elapsed,
                     log_tail=_tail(self.stderr_path))


def _tail(path: Path, size: int = 600) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(os.path.getsize(path) - size, 0))
            lines = handle.read().decode("utf-8", "replace").strip().splitlines()
            return lines[-1] if lines else ""
    except OSError:
        return ""


# -- scoring ----------------------------------------------------------------------------------------
def _message(outputs: list[dict]) -> str:
    for output in outputs:
        if output.get("output_type") == "error":
            text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
            return text[:600]
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return ("the cell wrote to stderr, which nbgrader counts as a failure: "
                    + " ".join(str(output.get("text", "")).split())[:400])
    return ""


def _blocked_note(line: str) -> str:
    what, _, path = line.partition(" ")
    if what in ("read", "write"):
        return f"blocked: tried to {what} {path}"
    return f"blocked: tried to {line}"


def score(job: Job, events: list[dict], settings: Settings, killed: bool = False,
          returncode: int | None = 0, seconds: float = 0.0, log_tail: str = "") -> Result:
    """A Result from the events of a grading process, with nbgrader's rule for each test cell."""
    import nbformat
    from nbgrader.utils import determine_grade

    template = job.template
    result = Result(job.student, template.assignment, template.notebook, 0.0, template.max_score,
                    "ok", "", seconds=round(seconds, 2))
    result.jailed = settings.jail
    result.pending_manual, result.manual = template.manual_points, list(template.manual)
    starts = [e["seconds"] for e in events if e.get("event") == "ready" and isinstance(e.get("seconds"), (int, float))]
    result.kernel_start = float(starts[0]) if starts else None
    invalid = [e for e in events if e.get("event") == "invalid"]
    if invalid or job.problem:
        result.status = "invalid"
        result.reason = (job.problem if job.problem and "folder" in job.problem else
                         f"not a notebook the grader can read: {job.problem or invalid[0].get('reason', '')}")
        result.tests = [TestResult(g, 0.0, float(c["metadata"]["nbgrader"]["points"]), False, "not run")
                        for g, c in template.tests.items()]
        return result
    ran = {e["grade_id"]: e for e in events if e.get("event") == "cell" and e.get("grade_id") in template.tests}
    notes = [str(e.get("text", ""))[:300] for e in events if e.get("event") == "note"]
    notes += [_blocked_note(str(e.get("text", ""))[:300]) for e in events if e.get("event") == "blocked"]
    mistakes = [str(e.get("text", ""))[:300] for e in events if e.get("event") == "error"]
    done = any(e.get("event") == "done" for e in events)
    if killed:
        result.status = "timeout"
        notes.insert(0, f"stopped after {settings.timeout:g} s, the time limit of a notebook "
                        f"({len(template.tests) - len(ran)} test cells had not run)")
    elif not done:
        result.status = "error"
        notes.insert(0, f"the grading process ended before the last cell (exit code {returncode})"
                        + (f": {log_tail[:300]}" if log_tail else ""))
    elif notes:
        result.status = "flagged"
    failed = []
    for grade_id, cell in template.tests.items():
        max_points = float(cell["metadata"]["nbgrader"]["points"])
        if grade_id not in ran:
            result.tests.append(TestResult(grade_id, 0.0, max_points, False, "not run"))
            failed.append(grade_id)
            continue
        executed = nbformat.from_dict({**cell, "outputs": ran[grade_id].get("outputs") or []})
        result.notebook_cells[grade_id] = {**cell, "outputs": ran[grade_id].get("outputs") or []}
        points, _ = determine_grade(executed)
        points = float(points or 0.0)
        passed = points >= max_points
        result.tests.append(TestResult(grade_id, points, max_points, passed,
                                       "" if passed else _message(executed.outputs)))
        result.score += points
        if not passed:
            failed.append(grade_id)
    notes += mistakes
    if failed and len(failed) < len(template.tests):
        notes.append(f"failed: {', '.join(failed)}")
    elif failed:
        notes.append("no test passed")
    result.reason = "; ".join(notes)
    return result


# -- the batch --------------------------------------------------------------------------------------
def _protected_paths(source_dir: Path, submissions_dir: Path, out_dir: Path, batch_root: Path) -> list[str]:
    course_dir = source_dir.resolve().parent
    paths = [source_dir, course_dir / "release", course_dir / "gradebook.db",
             course_dir / "submitted", course_dir / "autograded", course_dir / "feedback",
             submissions_root(submissions_dir), submissions_dir, out_dir, batch_root]
    paths = [str(Path(p).resolve()) for p in paths]
    package = str(Path(__file__).resolve().parents[1])
    for path in paths:
        if package == path or package.startswith(path + os.sep):
            raise ValueError(f"the course package {package} lies inside {path}, which submissions "
                             f"must not read: keep the source, submissions and output folders "
                             f"outside the package")
    return sorted(set(paths))


def _cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return [None] * (os.cpu_count() or 1)


def grade_batch(submissions_dir, out_dir, source_dir, settings: Settings | None = None,
                assignment: str | None = None, progress=None, on_result=None, jobs=None) -> list[Result]:
    """Grade every submission found in ``submissions_dir``; returns the Results (and writes nothing).

    ``on_result(result)`` is called in this process as each submission finishes. ``jobs`` (a list
    of Job, from find_jobs) grades those instead of every submission found."""
    settings = settings or Settings()
    submissions_dir, out_dir, source_dir = Path(submissions_dir), Path(out_dir), Path(source_dir)
    if settings.jail:
        from .jail import probe

        why = probe()
        if why is not None:
            raise JailUnavailable(
                f"submissions are graded in a jail, and none can be made here: {why}. To grade "
                f"anyway with the weaker in-process guard, pass --unsafe-no-jail (every row of "
                f"grades.csv then says so)")
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"the submissions folder {submissions_dir} does not exist")
    if jobs is None:
        templates = load_templates(source_dir)
        jobs = find_jobs(submissions_dir, templates, assignment)
    out_dir.mkdir(parents=True, exist_ok=True)
    batch_root = Path(tempfile.mkdtemp(prefix="course-grading-"))
    protected = _protected_paths(source_dir, submissions_dir, out_dir, batch_root)
    pythonpath = str(Path(__file__).resolve().parents[2])
    cpus = _cpus()
    slots = settings.jobs or len(cpus)
    results: list[Result | None] = [None] * len(jobs)
    running: dict[int, tuple[int, Grading]] = {}  # slot -> (job index, grading)
    queue = list(enumerate(jobs))
    try:
        while queue or running:
            for slot in range(slots):
                if slot in running or not queue:
                    continue
                index, job = queue.pop(0)
                if job.path is None or job.problem:
                    results[index] = (_missing(job, settings) if job.path is None else score(job, [], settings))
                    _report(progress, results[index], index, len(jobs))
                    if on_result is not None:
                        on_result(results[index])
                    continue
                running[slot] = (index, Grading(job, settings, batch_root / f"{index:04d}", protected,
                                                cpus[slot % len(cpus)], pythonpath, slot))
            for slot, (index, grading) in list(running.items()):
                if not grading.finished() and grading.elapsed > settings.timeout:
                    grading.kill()
                if grading.finished():
                    results[index] = grading.collect()
                    del running[slot]
                    _report(progress, results[index], index, len(jobs))
                    if on_result is not None:
                        on_result(results[index])
            time.sleep(0.05)
    finally:
        for _, grading in running.values():
            grading.kill()
        shutil.rmtree(batch_root, ignore_errors=True)
    return [r for r in results if r is not None]


class JailUnavailable(RuntimeError):
    """bubblewrap cannot run on this machine; the message says why and what to do."""


def _missing(job: Job, settings: Settings) -> Result:
    template = job.template
    return Result(job.student, template.assignment, template.notebook, 0.0, template.max_score,
                  "missing", f"no {template.notebook} in {job.student}/{template.assignment}",
                  [TestResult(g, 0.0, float(c["metadata"]["nbgrader"]["points"]), False, "not run")
                   for g, c in template.tests.items()], jailed=settings.jail)


def _report(progress, result: Result, index: int, total: int) -> None:
    if progress is not None:
        progress(f"[{index + 1}/{total}] {result.student} {result.assignment}/{result.notebook}: "
                 f"{result.score:g}/{result.max_score:g} {result.status} ({result.seconds:.1f} s)")


# -- reports ----------------------------------------------------------------------------------------
UNJAILED = "graded WITHOUT the jail (--unsafe-no-jail): the submission's code ran beside the tests"


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: one starting with = + - @ (or a tab or carriage
    return) would be run as a formula, so it gets a leading apostrophe."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _worst(statuses) -> str:
    return max(statuses, key=STATUS_ORDER.index)


def write_reports(results: list[Result], out_dir) -> None:
    """grades.csv (one row per student and assignment), feedback/<student>.md, results.json."""
    out_dir = Path(out_dir)
    (out_dir / "feedback").mkdir(parents=True, exist_ok=True)
    rows: dict[tuple[str, str], list[Result]] = {}
    for result in results:
        rows.setdefault((result.student, result.assignment), []).append(result)
    with open(out_dir / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "assignment", "score", "max_score", "pending_manual", "status",
                         "reason", "graded_in"])
        for (student, assignment), parts in sorted(rows.items()):
            reasons = [(f"{r.notebook}: {r.reason}" if len(parts) > 1 else r.reason) for r in parts if r.reason]
            jailed = all(r.jailed for r in parts)
            if not jailed:
                reasons.insert(0, UNJAILED)
            pending = sum(r.pending_manual for r in parts if r.status not in ("missing", "invalid"))
            writer.writerow([_cell(student), _cell(assignment), f"{sum(r.score for r in parts):g}",
                             f"{sum(r.max_score for r in parts):g}", f"{pending:g}", _worst(r.status for r in parts),
                             _cell("; ".join(reasons)), "jail" if jailed else "no jail (--unsafe-no-jail)"])
    by_student: dict[str, list[Result]] = {}
    for result in results:
        by_student.setdefault(result.student, []).append(result)
    for student, parts in by_student.items():
        (out_dir / "feedback" / f"{student}.md").write_text(_feedback(student, parts), encoding="utf-8")
    with open(out_dir / "results.json", "w", encoding="utf-8") as handle:
        json.dump([{k: v for k, v in asdict(r).items() if k != "notebook_cells"} for r in results],
                  handle, indent=1)


def _feedback(student: str, results: list[Result]) -> str:
    lines = [f"# Feedback for {student}", ""]
    for result in sorted(results, key=lambda r: (r.assignment, r.notebook)):
        lines += [f"## {result.assignment} / {result.notebook}: {result.score:g} of {result.max_score:g} points", ""]
        if result.status != "ok":
            lines += [f"Status: **{result.status}**. {result.reason}", ""]
        lines += ["| test | points | result |", "|---|---|---|"]
        for test in result.tests:
            verdict = "passed" if test.passed else ("not run" if test.message == "not run" else "failed")
            lines.append(f"| `{test.grade_id}` | {test.points:g} / {test.max_points:g} | {verdict} |")
        if result.manual and result.status not in ("missing", "invalid"):
            for grade_id in result.manual:
                lines.append(f"| `{grade_id}` | pending | a written answer, graded by your instructor |")
        lines.append("")
        if result.pending_manual and result.status not in ("missing", "invalid"):
            lines += [f"{result.pending_manual:g} more point(s) for written answers are pending manual "
                      f"grading; they are not counted above.", ""]
        for test in result.tests:
            if not test.passed and test.message and test.message != "not run":
                lines += [f"**{test.grade_id}**", "", "```", test.message, "```", ""]
    return "\n".join(lines)


# -- command line -----------------------------------------------------------------------------------
def _default_source() -> str:
    here = Path("exercises") / "source"
    if here.is_dir():
        return str(here)
    return str(Path(__file__).resolve().parents[2] / "exercises" / "source")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m course.grading",
        description="Grade a folder of submitted notebooks, each in its own process, with "
                    "nbgrader's scoring. Layout: SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb "
                    "(or SUBMISSIONS/submitted/<student>/..., nbgrader's).")
    parser.add_argument("submissions", help="folder with one folder per student")
    parser.add_argument("--out", required=True, help="folder for grades.csv, feedback/ and results.json")
    parser.add_argument("--source", default=_default_source(),
                        help="the instructor's notebooks, <source>/<assignment>/<notebook>.ipynb "
                             "(default: exercises/source)")
    parser.add_argument("--assignment", help="grade this assignment only; students without it get 'missing'")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds for a whole notebook before its processes are killed (default 300)")
    parser.add_argument("--cell-timeout", type=float, default=None,
                        help="seconds for one cell before it is interrupted (default: timeout / 5, at most 60)")
    parser.add_argument("--memory", type=int, default=2048,
                        help="MB of address space for each grading process and its kernel (default 2048)")
    parser.add_argument("--jobs", type=int, default=0, help="submissions graded at once (default: one per CPU)")
    parser.add_argument("--unsafe-no-jail", action="store_true",
                        help="grade without the bubblewrap jail, with only the in-process guard (for "
                             "machines where bwrap cannot run; every row of grades.csv says so)")
    args = parser.parse_args(argv)
    for name in ("timeout", "memory"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive, got {getattr(args, name)}")
    if args.cell_timeout is not None and args.cell_timeout <= 0:
        parser.error(f"--cell-timeout must be positive, got {args.cell_timeout}")
    if args.jobs < 0:
        parser.error(f"--jobs must be 0 (one per CPU) or more, got {args.jobs}")
    if args.memory < 512:
        parser.error(f"--memory {args.memory} MB is too little for a Python kernel with NumPy; give 512 or more")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    cell_timeout = args.cell_timeout or min(60.0, args.timeout / 5)
    settings = Settings(timeout=args.timeout, cell_timeout=cell_timeout, memory_mb=args.memory,
                        jobs=args.jobs, jail=not args.unsafe_no_jail)
    if args.unsafe_no_jail:
        print(f"warning: {UNJAILED}", file=sys.stderr)
    start = time.monotonic()
    try:
        results = grade_batch(args.submissions, args.out, args.source, settings, args.assignment,
                              progress=lambda line: print(line, file=sys.stderr, flush=True))
    except (FileNotFoundError, ValueError, JailUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_reports(results, args.out)
    if not results:
        print(f"error: no submission found in {args.submissions}: expected "
              f"{args.submissions}/<student>/<assignment>/<notebook>.ipynb with an assignment of "
              f"{args.source}; grades.csv is empty", file=sys.stderr)
        return 1
    print(f"graded {len(results)} notebook(s) in {time.monotonic() - start:.1f} s; "
          f"see {Path(args.out) / 'grades.csv'}", file=sys.stderr)
    return 0
