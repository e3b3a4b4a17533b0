"""``python -m course.grading``: grade a class into nbgrader's gradebook.

    python -m course.grading SUBMISSIONS (--db COURSE/gradebook.db | --out OUT) [--out OUT]
           [--source exercises/source] [--assignment NAME] [--student ID ...] [--force]
           [--roster roster.csv] [--due ASSIGNMENT=2026-10-01T23:59] [--late-points-per-day P]
           [--extension STUDENT/ASSIGNMENT=HOURS ...]
           [--jobs N] [--timeout 300] [--cell-timeout 60] [--memory 2048] [--wait]
           [--secret FILE] [--unsafe-no-jail]

Each submission is graded in its own process (``course.grading.grade_batch``) and committed to
the gradebook as it finishes, by this process alone. A rerun skips what is graded and
unchanged (``--force`` grades again). Rostered students with no submission get 0, "missing".
Afterwards the derived files are made from the gradebook, each written atomically and stamped
with the run: ``grades.csv``, ``feedback/<student>.md``, ``results.json`` (as before),
``regrade.csv`` (who changed, old -> new score, and why), ``grades-lms.csv`` (one row per
rostered student), the class report ``report.md`` with ``histogram-<assignment>.png``, and
``feedback-html/<student>/<assignment>/<notebook>.html`` (with ``--db`` also in the course's
``feedback/`` folder, where ``nbgrader release_feedback`` sends it to the learners).

An extension moves one student's due date for one assignment by HOURS (0 takes it away); it is
written into the gradebook (nbgrader's ``extension``) and the late penalty counts from it, also
for a notebook graded before, which is not graded again.

Without ``--db`` the gradebook is a temporary one and only ``--out`` remains.
A second grader on the same gradebook refuses (or waits, with ``--wait``) and says which.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import fcntl
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main", "parse_args", "Locked", "lock"]


class Locked(RuntimeError):
    """Another grader holds the gradebook."""


class lock:
    """An exclusive lock on ``<gradebook>.lock``, which names its holder."""

    def __init__(self, db_path: Path, wait: bool, say=print):
        self.path = Path(str(db_path) + ".lock")
        self.wait, self.say = wait, say

    def __enter__(self):
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another grader"
            if not self.wait:
                self.handle.close()
                raise Locked(f"{holder} is grading into {self.path.with_suffix('')} now: refusing to "
                             f"start a second grader (pass --wait to wait for it)")
            self.say(f"waiting: {holder} is grading into this gradebook")
            fcntl.flock(self.handle, fcntl.LOCK_EX)
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"the grader with process id {os.getpid()} (started "
                          f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC)")
        self.handle.flush()
        return self

    def __exit__(self, *exc):
        self.handle.seek(0)
        self.handle.truncate()
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _default_source() -> str:
    here = Path("exercises") / "source"
    if here.is_dir():
        return str(here)
    return str(Path(__file__).resolve().parents[2] / "exercises" / "source")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m course.grading",
        description="Grade a folder of submitted notebooks into nbgrader's gradebook, each in its "
                    "own process and jail. Layout: SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb "
                    "(or SUBMISSIONS/submitted/<student>/..., nbgrader's).")
    parser.add_argument("submissions", help="folder with one folder per student")
    parser.add_argument("--db", help="the course's gradebook (nbgrader's gradebook.db), the record; "
                                     "autograded notebooks go beside it")
    parser.add_argument("--out", help="folder for grades.csv, feedback/, results.json and the other "
                                      "derived files (default with --db: grades/ beside the gradebook)")
    parser.add_argument("--source", default=_default_source(),
                        help="the instructor's notebooks, <source>/<assignment>/<notebook>.ipynb")
    parser.add_argument("--assignment", help="grade this assignment only; students without it get 'missing'")
    parser.add_argument("--student", action="append", default=[],
                        help="grade this student only (repeatable); needs --db")
    parser.add_argument("--force", action="store_true", help="grade again what is graded and unchanged")
    parser.add_argument("--roster", help="CSV with id[,first_name,last_name,email,lms_user_id]: the class")
    parser.add_argument("--due", action="append", default=[], metavar="ASSIGNMENT=WHEN",
                        help="due date (ISO, UTC), e.g. 01_perceptron=2026-10-01T23:59 (repeatable)")
    parser.add_argument("--late-points-per-day", type=float, default=None,
                        help="points off per day late (nbgrader's late-submission plugin; default 0)")
    parser.add_argument("--extension", action="append", default=[], metavar="STUDENT/ASSIGNMENT=HOURS",
                        help="move STUDENT's due date for ASSIGNMENT by HOURS, e.g. s007/01_perceptron=48 "
                             "(0 takes an extension away; repeatable)")
    parser.add_argument("--wait", action="store_true",
                        help="wait for a grader already working on this gradebook instead of refusing")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds for a whole notebook before its processes are killed (default 300)")
    parser.add_argument("--cell-timeout", type=float, default=None,
                        help="seconds for one cell before it is interrupted (default: timeout / 5, at most 60)")
    parser.add_argument("--memory", type=int, default=2048,
                        help="MB of address space for each grading process and its kernel (default 2048)")
    parser.add_argument("--jobs", type=int, default=0, help="submissions graded at once (default: one per CPU)")
    parser.add_argument("--secret", metavar="FILE",
                        help="the file of the course secret (hex text, mode 0600) the hidden tests draw "
                             "their inputs from (default: course_secret beside the source folder, made "
                             "there when missing)")
    parser.add_argument("--unsafe-no-jail", action="store_true",
                        help="run each kernel as a plain process with rlimits, without bubblewrap's "
                             "namespaces (for machines where bwrap cannot run; the tests still run in "
                             "the trusted process; every row of grades.csv says so)")
    args = parser.parse_args(argv)
    if not args.db and not args.out:
        parser.error("say where the grades go: --db COURSE/gradebook.db (the record) and/or --out FOLDER")
    if args.student and not args.db:
        parser.error("--student regrades some students of a class: pass the class's gradebook with "
                     "--db, so the others keep their grades")
    for name in ("timeout", "memory"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive, got {getattr(args, name)}")
    if args.cell_timeout is not None and args.cell_timeout <= 0:
        parser.error(f"--cell-timeout must be positive, got {args.cell_timeout}")
    if args.jobs < 0:
        parser.error(f"--jobs must be 0 (one per CPU) or more, got {args.jobs}")
    if args.memory < 512:
        parser.error(f"--memory {args.memory} MB is too little for a Python kernel with NumPy; give 512 or more")
    try:
        args.due = dict(_due(item) for item in args.due)
        extensions: dict[str, dict[str, float]] = {}
        for item in args.extension:
            student, assignment, hours = _extension(item)
            extensions.setdefault(student, {})[assignment] = hours
        args.extension = extensions
    except ValueError as error:
        parser.error(str(error))
    return args


def _due(item: str):
    name, sep, when = item.partition("=")
    if not sep:
        raise ValueError(f"--due takes ASSIGNMENT=WHEN, e.g. 01_perceptron=2026-10-01T23:59; got {item!r}")
    try:
        return name, dt.datetime.fromisoformat(when).replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"--due {item!r}: the date must be ISO, e.g. 2026-10-01T23:59") from None


def _extension(item: str) -> tuple[str, str, float]:
    example = "s007/01_perceptron=48"
    who, sep, hours = item.partition("=")
    student, slash, assignment = who.partition("/")
    if not (sep and slash and student and assignment):
        raise ValueError(f"--extension takes STUDENT/ASSIGNMENT=HOURS, e.g. {example}; got {item!r}")
    try:
        value = float(hours)
    except ValueError:
        raise ValueError(f"--extension {item!r}: HOURS must be a number, e.g. {example}") from None
    if not value >= 0:
        raise ValueError(f"--extension {item!r}: HOURS must be 0 (no extension) or more, e.g. {example}")
    return student, assignment, value


def read_roster(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "id" not in rows[0]:
        raise ValueError(f"the roster {path} needs a header with 'id' (and optionally first_name, "
                         f"last_name, email, lms_user_id)")
    return rows


def _timestamp(job):
    """nbgrader's timestamp.txt beside the submitted notebook, if any."""
    if job.path is None:
        return None
    stamp = Path(job.path).parent / "timestamp.txt"
    try:
        from nbgrader.utils import parse_utc
        return parse_utc(stamp.read_text(encoding="utf-8").strip()).replace(tzinfo=None)
    except (OSError, ValueError, TypeError):
        return None


def main(argv=None) -> int:
    from course.grading import JailUnavailable, Job, Settings, check_launcher, find_jobs, grade_batch, load_templates

    from .reports import UNJAILED, write_derived
    from .store import Store, fingerprint

    args = parse_args(argv)
    # nbgrader's gradebook runs the `alembic` command of its environment
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    say = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    cell_timeout = args.cell_timeout or min(60.0, args.timeout / 5)
    settings = Settings(timeout=args.timeout, cell_timeout=cell_timeout, memory_mb=args.memory,
                        jobs=args.jobs, jail=not args.unsafe_no_jail, secret=args.secret)
    if args.unsafe_no_jail:
        say(f"warning: {UNJAILED}")
    start = time.monotonic()
    scratch = None
    run = f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}-{secrets.token_hex(3)}"
    try:
        check_launcher(settings)   # before anything is written: a grader that cannot grade says so
        templates = load_templates(args.source)
        if not Path(args.submissions).is_dir():
            raise FileNotFoundError(f"the submissions folder {args.submissions} does not exist")
        if args.db:
            db_path = Path(args.db).resolve()
            if db_path.is_dir():
                db_path = db_path / "gradebook.db"
            db_path.parent.mkdir(parents=True, exist_ok=True)
        else:
            scratch = Path(tempfile.mkdtemp(prefix="course-gradebook-"))
            db_path = scratch / "gradebook.db"
        out = Path(args.out) if args.out else db_path.parent / "grades"
        roster = read_roster(args.roster) if args.roster else []
        with lock(db_path, args.wait, say):
            from traitlets.config import Config

            config = Config()
            config.AssignLatePenalties.plugin_class = "course.gradebook.late.PointsPerDay"
            if args.late_points_per_day is not None:
                config.PointsPerDay.points_per_day = args.late_points_per_day
            if args.extension:
                config.PointsPerDay.extensions = args.extension
            store = Store(db_path, args.source, templates, config, run)
            try:
                jobs = find_jobs(args.submissions, templates, args.assignment)
                graded = {(j.student, j.template.assignment) for j in jobs}
                unknown = sorted(set(args.due) - set(templates))
                if unknown:
                    raise ValueError(f"--due names {', '.join(unknown)}, not an assignment of {args.source}")
                unknown = sorted({a for given in args.extension.values() for a in given} - set(templates))
                if unknown:
                    raise ValueError(f"--extension names {', '.join(unknown)}, not an assignment of {args.source}")
                assignments = [args.assignment] if args.assignment else sorted(
                    {a for _, a in graded} | set(args.due))
                store.add_assignments(assignments, args.due)
                store.add_roster(roster)
                for student in store.roster():  # the roster: missing work
                    for assignment in assignments:
                        if (student, assignment) not in graded:
                            jobs += [Job(student, t, None) for t in templates[assignment]]
                if args.student:
                    jobs = [j for j in jobs if j.student in set(args.student)]
                known = store.known()
                todo, prints = [], {}
                for job in jobs:
                    key = (job.student, job.template.assignment, job.template.notebook)
                    prints[id(job)] = fingerprint(job, args.source)
                    if args.force or known.get(key) != prints[id(job)]:
                        todo.append(job)
                graded_now = {id(job) for job in todo}
                for job in jobs:   # an extension given after grading: the late penalty again, no regrade
                    if id(job) not in graded_now and job.template.assignment in args.extension.get(job.student, {}):
                        store.apply_late_penalty(job)
                skipped = len(jobs) - len(todo)
                if skipped:
                    say(f"{skipped} notebook(s) graded before and unchanged: kept (--force grades them again)")
                by_key = {(j.student, j.template.assignment, j.template.notebook): j for j in todo}

                def commit(result):
                    job = by_key[(result.student, result.assignment, result.notebook_name)]
                    store.commit(job, result, prints[id(job)], _timestamp(job))

                results = grade_batch(args.submissions, out, args.source, settings, args.assignment,
                                      progress=say, on_result=commit, jobs=todo) if todo else []
                for problem in write_derived(store, out, run, deliver=scratch is None):
                    say(f"error: {problem}")
                if not jobs:
                    say(f"error: no submission found in {args.submissions}: expected "
                        f"{args.submissions}/<student>/<assignment>/<notebook>.ipynb with an assignment "
                        f"of {args.source}" + ("" if store.results() else "; grades.csv is empty"))
                    return 1
                if store.changes:
                    say(f"{len(store.changes)} grade(s) changed: see {out / 'regrade.csv'}")
                    for change in store.changes:
                        say(f"  {change['student']} {change['assignment']}/{change['notebook']}: "
                            f"{change['old']:g} -> {change['new']:g} ({change['why']})")
            finally:
                store.close()
    except (FileNotFoundError, ValueError, JailUnavailable, Locked) as error:
        say(f"error: {error}")
        return 3 if isinstance(error, Locked) else 2
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    say(f"graded {len(results)} notebook(s) in {time.monotonic() - start:.1f} s (run {run}); "
        f"see {out / 'grades.csv'}")
    return 0
