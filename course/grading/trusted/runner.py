"""The batch grader's engine: every submission in its own process, scored as nbgrader scores it.

``grade_batch`` grades the submissions that ``find_jobs`` finds and returns one ``Result`` per
notebook, writing nothing: its command line, ``python -m course.grading``
(``course.gradebook.cli``), commits each result to nbgrader's gradebook as it comes and makes
grades.csv, the feedback and results.json from the gradebook. SUBMISSIONS holds one folder per
student, each with one folder per assignment:

    SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb
    SUBMISSIONS/submitted/<student>/<assignment>/<notebook>.ipynb   (nbgrader's layout, also read)

The assignments and their notebooks are those of the source folder (the instructor's
versions, with solutions and hidden tests).

How a notebook is graded (the steps nbgrader's ``autograde`` takes):

1. The cells to run come from the SOURCE notebook: its setup cells and its test cells, hidden
   tests included, in the source's order; from the submission only the answers (and any code
   cells the learner added). Deleted or edited test cells and stripped metadata change nothing
   (``assemble.py``). Points come from the source's metadata, never from the submission's.
   (nbgrader gives 0 for a deleted test cell; here the source's cell runs, and the reason says
   it was deleted.)
2. A process of its own (``child.py``, the trusted process) clears the notebook's outputs and
   starts a jail (``jail.py``): bubblewrap with no network, its own PID namespace, a read-only
   system, two small writable folders, a cgroup of its own where one can be made (a CPU
   share, memory and processes for the whole submission: ``cgroups.py``) and rlimits.
   The setup cells and the learner's answers run there, in an IPython kernel
   (``jailed/kernel.py``). The test cells run in the trusted process, where the learner's names
   are proxies that call into the jail with plain data (``wire/plain.py``): nothing the
   submission does changes what a test computes, and the hidden tests never enter the jail.
   ``--unsafe-no-jail`` launches the same kernel as a plain process, without namespaces.
3. Each test cell is scored by nbgrader's rule (``nbgrader.utils.determine_grade``): full
   points unless its output holds an error or text on stderr.

A submission that loops, eats memory, prints without end, crashes its kernel or is not a
notebook at all gets the points of the cells that ran, and a reason in its Result; the others
are not affected, since each runs in its own cgroup (or process group, on its own CPU) and the
grader kills it (SIGTERM, then SIGKILL) once its time is up. The security model is written out
in docs/grading-security.md.
"""
from __future__ import annotations

import copy
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
from dataclasses import dataclass, field
from pathlib import Path

from ..wire.job import GradingJob
from .inert import plain_text

__all__ = ["Settings", "Template", "TestResult", "Result", "Job", "load_template", "load_templates",
           "find_jobs", "grade_batch", "check_launcher", "JailUnavailable"]

PRELOAD = ("torch",)


@dataclass
class Settings:
    """Limits for one submission (one notebook). Those the job carries take their defaults from
    ``GradingJob`` (``wire/job.py``), and ``make_job`` passes each one on."""

    timeout: float = 300.0        # seconds for the whole notebook, then its processes are killed
    cell_timeout: float = GradingJob.cell_timeout  # seconds for one cell, then it is interrupted
    memory_mb: int = GradingJob.memory_mb  # address space of each process (the cgroup's total)
    jobs: int = 0                 # submissions graded at once; 0: one per CPU
    output_limit: int = GradingJob.output_limit  # characters of output kept per cell
    file_size_mb: int = GradingJob.file_size_mb  # largest file a submission may write
    max_notebook_mb: int = GradingJob.max_notebook_bytes // 2**20  # largest notebook, outputs cleared
    max_file_mb: int = GradingJob.max_file_bytes // 2**20  # largest notebook file read (outputs included)
    disk_mb: int = GradingJob.disk_mb  # size of each of the jail's writable folders (home and /tmp)
    jail: bool = GradingJob.jail  # False: --unsafe-no-jail, the kernel as a plain process (no namespaces)
    secret: str | None = None     # the course secret's file; None: course_secret beside the source folder
    processes: int = GradingJob.processes  # processes and threads of one submission, all together
    cgroups: bool = True          # a cgroup per submission where one can be made (False: none; cell
                                  # limits are then measured in the jail's CPU time)


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
    signatures: dict[str, list[str]] = field(default_factory=dict)  # answer function -> its parameters

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
    notebook_name: str            # the notebook's file name, e.g. 'perceptron.ipynb'
    score: float
    max_score: float
    status: str
    reason: str
    tests: list[TestResult] = field(default_factory=list)
    seconds: float = 0.0
    jailed: bool = True
    kernel_start: float | None = None   # seconds from starting the kernel to its first answer
    peak_memory_mb: float | None = None  # the most memory the submission's jail held at once (cgroup)
    pending_manual: float = 0.0          # points of written answers a person grades (nbgrader's formgrader)
    manual: list[str] = field(default_factory=list)
    notebook: dict | None = field(default=None, repr=False)  # as graded: cells with outputs (nbformat 4)
    graded_in: str = ""                  # where it ran and which limits applied


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
                      "visible": visible.source, "metadata": {"nbgrader": dict(meta)} if meta else {}})
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
    signatures = {}
    for cell in source.cells:
        if cell.cell_type == "code" and _role(cell) == "solution":
            signatures.update(_signatures(cell.source))
    return Template(assignment, path.name, cells, tests, preload, sorted(answers - given), manual, signatures)


def _signatures(source: str) -> dict[str, list[str]]:
    """The positional parameters of the functions a solution cell defines at its top level."""
    import ast

    tree = ast.parse(source)
    return {node.name: [a.arg for a in node.args.posonlyargs + node.args.args]
            for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


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
    expected: Path | None = None  # where the notebook was looked for


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
                    jobs.append(Job(name, template, None, expected=path))
    return jobs


# -- one submission in its own process --------------------------------------------------------------
def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def make_job(settings: Settings, job: Job, private: Path, protected: list[str] = (), cpu: int | None = None,
             pythonpath: str = "", slot: int = 0, secret: bytes = b"", box=None) -> GradingJob:
    """The job of one submission, for its trusted process: every setting reaches it here."""
    return GradingJob(
        submission=str(job.path), notebook_name=job.template.notebook, template=job.template.cells,
        answer_names=list(job.template.answer_names), signatures=dict(job.template.signatures),
        preload=list(job.template.preload), student=job.student, assignment=job.template.assignment,
        secret=secret.hex(), private_dir=str(private), work_dir=str(Path(private) / "work"),
        protected=list(protected), pythonpath=pythonpath, jail=settings.jail, slot=slot, cpu=cpu,
        cgroup=list(box.paths) if box is not None else [], cell_timeout=float(settings.cell_timeout),
        cpu_seconds=int(settings.timeout * 2 + 30), memory_mb=int(settings.memory_mb),
        processes=int(settings.processes), file_size_mb=int(settings.file_size_mb),
        disk_mb=int(settings.disk_mb), output_limit=int(settings.output_limit),
        max_notebook_bytes=int(settings.max_notebook_mb * 2**20),
        max_file_bytes=int(settings.max_file_mb * 2**20))


class Grading:
    """The grading process of one job: started, watched, killed when its time is up."""

    def __init__(self, job: Job, settings: Settings, private: Path, protected: list[str],
                 cpu: int | None, pythonpath: str, slot: int = 0, secret: bytes = b"", box=None):
        self.job = job
        self.box = box
        self.settings = settings
        self.events: list[dict] = []
        self.kernel_pids: list[int] = []
        self.killed = False
        private.mkdir(mode=0o700)
        work = private / "work"
        work.mkdir(mode=0o700)
        job_for_child = make_job(settings, job, private, protected, cpu, pythonpath, slot, secret, box)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "PYTHONPATH": pythonpath, "PYTHONDONTWRITEBYTECODE": "1"}
        if os.environ.get("COURSE_DATA_DIR"):
            env["COURSE_DATA_DIR"] = os.environ["COURSE_DATA_DIR"]
        self.stderr_path = private / "grader.log"
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "course.grading.trusted.child"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=stderr, cwd=private, env=env, start_new_session=True)
        self.started = time.monotonic()
        self._payload = job_for_child.to_json()
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
        result = score(self.job, self.events, self.settings, killed=self.killed,
                       returncode=self.process.returncode, seconds=self.elapsed,
                       log_tail=_tail(self.stderr_path))
        result.notebook = _graded_notebook(self.stderr_path.parent / "graded.ipynb")
        result.graded_in = graded_in(self.settings, self.box)
        if self.box is not None:
            peak = self.box.peak_memory_mb()
            result.peak_memory_mb = round(peak, 1) if peak else None
            self.box.remove()
        return result


def graded_in(settings: Settings, box=None) -> str:
    """Where a submission ran and which limits applied, for grades.csv."""
    where = "jail (bubblewrap)" if settings.jail else "no jail (--unsafe-no-jail)"
    if box is not None:
        return f"{where}; {box.description}; cell limit in wall time"
    return (f"{where}; no cgroup: limits per process ({settings.memory_mb} MB of address space each), "
            f"no CPU share; cell limit in CPU time (the submission's own, {settings.cell_timeout:g} s, "
            f"and at most {settings.cell_timeout * GradingJob.cell_wall_factor:g} s of wall time)")


def _graded_notebook(path: Path) -> dict | None:
    """The notebook the trusted process wrote, or None (it was killed before it wrote one)."""
    try:
        with open(path, encoding="utf-8") as handle:
            notebook = json.load(handle)
    except (OSError, ValueError):
        return None
    return notebook if isinstance(notebook, dict) else None


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
    package = str(Path(__file__).resolve().parents[2])
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


def check_launcher(settings: Settings) -> None:
    """Raise JailUnavailable, saying why and what to do, when the kernels of ``settings`` (in the
    jail, or as plain processes with --unsafe-no-jail) cannot be launched on this machine."""
    if settings.jail:
        from .jail import probe

        why = probe()
        if why is not None:
            raise JailUnavailable(
                f"submissions are graded in a jail, and none can be made here: {why}. To grade "
                f"anyway, with the kernel as a plain process (no namespaces: weaker containment, "
                f"the tests still trusted), pass --unsafe-no-jail (every row of grades.csv says so)")
    else:
        why = plain_launcher_refusal()
        if why:
            raise JailUnavailable(why)


def grade_batch(submissions_dir, out_dir, source_dir, settings: Settings | None = None,
                assignment: str | None = None, progress=None, on_result=None, jobs=None) -> list[Result]:
    """Grade every submission found in ``submissions_dir``; returns the Results (and writes nothing).

    ``jobs`` (Jobs of find_jobs), when given, are graded instead of every submission found (a
    gradebook skips what it has graded, or regrades one student).

    on_result(result), when given, is called in this process as each notebook's grading ends
    (for a gradebook to record it at once); an error it raises stops the batch."""
    settings = settings or Settings()
    submissions_dir, out_dir, source_dir = Path(submissions_dir), Path(out_dir), Path(source_dir)
    check_launcher(settings)
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"the submissions folder {submissions_dir} does not exist")
    if jobs is None:
        templates = load_templates(source_dir)
        jobs = find_jobs(submissions_dir, templates, assignment)
    secret = course_secret(source_dir, settings.secret, progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    batch_root = Path(tempfile.mkdtemp(prefix="course-grading-"))
    try:
        protected = _protected_paths(source_dir, submissions_dir, out_dir, batch_root)
    except ValueError:
        shutil.rmtree(batch_root, ignore_errors=True)
        raise
    groups = None
    if settings.cgroups:
        from . import cgroups

        groups = cgroups.Cgroups.create()
        if groups is None and progress is not None:
            progress(f"no cgroup per submission ({cgroups.why_not}): limits per process only, and no "
                     f"CPU share (graded_in says so)")
    pythonpath = str(Path(__file__).resolve().parents[3])
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
                box = groups.make(f"job-{index:04d}", 1, settings.memory_mb, settings.processes) \
                    if groups is not None else None
                running[slot] = (index, Grading(job, settings, batch_root / f"{index:04d}", protected,
                                                cpus[slot % len(cpus)], pythonpath, slot, secret, box))
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
        if groups is not None:
            groups.remove()
        shutil.rmtree(batch_root, ignore_errors=True)
    return [r for r in results if r is not None]


SECRET_NAME = "course_secret"


def course_secret(source_dir: Path, path: str | None = None, progress=None) -> bytes:
    """The course secret hidden tests draw their inputs from (``checks.hidden_rng``).

    A file of hex text, mode 0600: ``path`` (``--secret``), or ``course_secret`` at the root of
    the course folder, beside ``source/``. Where there is none there, one is made (and
    ``progress`` says so): the same secret grades the same inputs again for a regrade."""
    import secrets

    file = Path(path) if path else Path(source_dir).resolve().parent / SECRET_NAME
    if not file.exists():
        if path:
            raise FileNotFoundError(f"the course secret {file} does not exist: pass --secret with the "
                                    f"course's secret file, or leave --secret out to use (or make) "
                                    f"{SECRET_NAME} beside the source folder")
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        (progress or (lambda line: print(line, file=sys.stderr)))(
            f"made a course secret at {file} (mode 0600; keep it out of any repository: "
            f"the hidden tests' inputs derive from it)")
    text = file.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"the course secret {file} is not hex text; make a new one with "
                         f"`python -c 'import secrets; print(secrets.token_hex(32))' > {file}`") from None
    if len(key) < 16:
        raise ValueError(f"the course secret {file} holds {len(key)} bytes; give at least 16 (32 hex digits)")
    return key


def _not_readable_by_others() -> str:
    """The first folder on the way to the Python installation or the course package that other
    users cannot pass ('' when there is none)."""
    import stat

    for target in {sys.base_prefix, sys.prefix, str(Path(__file__).resolve().parents[2])}:
        path = Path(target).resolve()
        for folder in [*reversed(path.parents), path]:
            try:
                if not folder.stat().st_mode & stat.S_IXOTH:
                    return str(folder)
            except OSError:
                return str(folder)
    return ""


def plain_launcher_refusal() -> str:
    """Why the plain launcher (--unsafe-no-jail) cannot run here, and what to do; '' when it can.

    Run by root, it starts the kernel as a uid of its own (never as root), and that uid must
    read the Python installation and the course package."""
    if os.geteuid() != 0:
        return ""
    blocked = _not_readable_by_others()
    if not blocked:
        return ""
    try:
        mode = f"mode {os.stat(blocked).st_mode & 0o777:o}"
    except OSError:
        mode = "not readable"
    from .jail import JAIL_UID_BASE

    return (f"--unsafe-no-jail runs the kernel as a uid of its own ({JAIL_UID_BASE} and up), never as "
            f"root, and that uid cannot read the Python installation ({sys.base_prefix}) or the "
            f"course package: {blocked} ({mode}) lets no other user in. Grade as an ordinary user (the kernel then runs as that user), or "
            f"install Python where every user can read it (e.g. /usr/local or /opt, or "
            f"`chmod o+x` each folder on the way to it), or grade in the jail (bubblewrap)")


class JailUnavailable(RuntimeError):
    """bubblewrap cannot run on this machine; the message says why and what to do."""


def _missing(job: Job, settings: Settings) -> Result:
    template = job.template
    reason = f"no {template.notebook} in {job.student}/{template.assignment}"
    found = _notebooks_beside(job)
    if found:
        reason += (f"; found {', '.join(repr(n) for n in found[:3])}{' and more' if len(found) > 3 else ''}: "
                   f"the notebook must keep its name {template.notebook!r} (rename it and submit again, "
                   f"or the instructor renames it and grades again)")
    return Result(job.student, template.assignment, template.notebook, 0.0, template.max_score,
                  "missing", reason,
                  [TestResult(g, 0.0, float(c["metadata"]["nbgrader"]["points"]), False, "not run")
                   for g, c in template.tests.items()], jailed=settings.jail)


def _notebooks_beside(job: Job) -> list[str]:
    """The notebooks in the folder where the missing one was expected (saved under another name?)."""
    folder = job.expected.parent if job.expected is not None else None
    if folder is None or folder.is_symlink() or not folder.is_dir():
        return []
    try:
        return sorted(p.name for p in folder.iterdir() if p.suffix == ".ipynb" and not p.name.startswith("."))[:20]
    except OSError:
        return []


def _report(progress, result: Result, index: int, total: int) -> None:
    if progress is not None:
        progress(f"[{index + 1}/{total}] {plain_text(result.student, 80)} {result.assignment}/{result.notebook_name}: "
                 f"{result.score:g}/{result.max_score:g} {result.status} ({result.seconds:.1f} s)")
