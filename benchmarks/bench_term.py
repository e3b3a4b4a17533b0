"""A term's grading, timed: a generated class graded into nbgrader's gradebook.

    python benchmarks/bench_term.py [--students 40] [--jobs 2] [--skip-nbgrader]

The class (``course.gradebook.classgen``, seeded): every student of the roster on each of the
five assignments, the source solutions with deliberate mistakes (an answer left as handed out,
the notebook as handed out, a late or a missing submission). It prints

- the batch time into a gradebook (``python -m course.grading --db``, one writer, N jobs);
- the time to resume after the grader is killed (SIGKILL) once half the notebooks are
  committed, and checks that the rerun grades only what was not committed;
- the same jobs graded by the engine alone (``find_jobs`` and ``grade_batch``, same settings,
  in a process of its own, writing nothing: no gradebook, no reports); the goal: the gradebook
  costs at most 1.2x this;
- ``nbgrader autograde`` with nbgrader's own executor (the tests in the learner's kernel, one
  notebook after the other) on the same class, for reference.

Its last two lines: the gradebook's batch against the engine alone (the ratio), then
``term: N notebooks in S s into the gradebook (resume after a kill: K s),
nbgrader autograde T s``. Timings on a busy machine are noisy: run it on a quiet one.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course.gradebook import classgen  # noqa: E402


TIMEOUT = 300.0       # python -m course.grading's defaults, given to the engine alone as well
CELL_TIMEOUT = 60.0
MEMORY_MB = 2048


def grader(course: Path, db: Path | None, out: Path, jobs: int) -> list[str]:
    command = [sys.executable, "-m", "course.grading", str(course / "submitted"), "--source",
               str(course / "source"), "--out", str(out), "--jobs", str(jobs), "--timeout", f"{TIMEOUT:g}",
               "--cell-timeout", f"{CELL_TIMEOUT:g}", "--memory", str(MEMORY_MB)]
    if db is not None:
        command += ["--db", str(db), "--roster", str(course / "roster.csv"),
                    *[f"--due={a}={classgen.DUE.isoformat()}" for a in sorted(os.listdir(course / "source"))]]
    return command


def engine_alone(course: Path, scratch: Path, jobs: int) -> None:
    """The jobs of ``grader(..., db)`` graded by the engine alone: the submissions found, and the
    rostered students' missing notebooks; the same settings; nothing written. Run in a process
    of its own: ``python benchmarks/bench_term.py --engine-alone COURSE SCRATCH JOBS``."""
    import csv

    from course.grading import Job, Settings, find_jobs, grade_batch, load_templates

    templates = load_templates(course / "source")
    found = find_jobs(course / "submitted", templates)
    graded = {(j.student, j.template.assignment) for j in found}
    with open(course / "roster.csv", newline="", encoding="utf-8") as handle:
        roster = sorted(row["id"] for row in csv.DictReader(handle))
    missing = [Job(student, template, None) for student in roster for assignment in sorted(templates)
               if (student, assignment) not in graded for template in templates[assignment]]
    settings = Settings(timeout=TIMEOUT, cell_timeout=CELL_TIMEOUT, memory_mb=MEMORY_MB, jobs=jobs)
    results = grade_batch(course / "submitted", scratch, course / "source", settings, jobs=found + missing)
    print(f"engine alone: {len(results)} notebooks", file=sys.stderr)


def timed(command, **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, **kwargs)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{command[:4]} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return seconds, out


def committed(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as connection:
            return connection.execute("SELECT count(*) FROM course_result").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def kill_at_half(course: Path, db: Path, out: Path, jobs: int, total: int) -> int:
    process = subprocess.Popen(grader(course, db, out, jobs), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    while process.poll() is None and committed(db) < total // 2:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(1)   # the grading processes it had started die with their group
    return committed(db)


def nbgrader_autograde(course: Path, memory_mb: int) -> float:
    plain = course.parent / "plain"
    plain.mkdir()
    for folder in ("source", "submitted"):
        os.symlink(course / folder, plain / folder)
    (plain / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///gradebook.db'\n"
        "c.Execute.timeout = 60\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for assignment in sorted(os.listdir(course / "source")):
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
                       cwd=plain, env=env, capture_output=True, check=True)
    start = time.perf_counter()
    for assignment in sorted(os.listdir(course / "source")):
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--force"],
                       cwd=plain, env=env, capture_output=True, timeout=3600)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-nbgrader", action="store_true", help="leave out nbgrader autograde")
    parser.add_argument("--engine-alone", nargs=3, metavar=("COURSE", "SCRATCH", "JOBS"),
                        help="grade COURSE's class with the engine alone and exit (the benchmark runs "
                             "this in a process of its own)")
    args = parser.parse_args()
    if args.engine_alone:
        course, scratch, jobs = args.engine_alone
        engine_alone(Path(course), Path(scratch), int(jobs))
        return
    with tempfile.TemporaryDirectory(prefix="bench-term-") as scratch:
        course = Path(scratch) / "course"
        plan = classgen.make_class(course, students=args.students, seed=args.seed)
        notebooks = len(plan)
        submitted = sum(kind != "missing" for kind in plan.values())
        print(f"class: {args.students} students x {len(set(a for _, a in plan))} assignments = {notebooks} "
              f"notebooks ({submitted} submitted, {notebooks - submitted} missing), jobs {args.jobs}")

        seconds, _ = timed(grader(course, Path(scratch) / "a" / "gradebook.db", Path(scratch) / "a-out", args.jobs))
        print(f"into the gradebook: {seconds:.1f} s")

        alone, _ = timed([sys.executable, __file__, "--engine-alone", str(course),
                          str(Path(scratch) / "alone-out"), str(args.jobs)])

        db = Path(scratch) / "b" / "gradebook.db"
        db.parent.mkdir()
        done = kill_at_half(course, db, Path(scratch) / "b-out", args.jobs, notebooks)
        resume, out = timed(grader(course, db, Path(scratch) / "b-out", args.jobs))
        again = int(re.search(r"graded (\d+) notebook", out.stderr).group(1))
        print(f"killed with {done} of {notebooks} committed; the resume graded {again} "
              f"({'nothing committed graded again' if again == notebooks - done else 'MISMATCH'}) in {resume:.1f} s")

        if args.skip_nbgrader:
            autograde = float("nan")
        else:
            autograde = nbgrader_autograde(course, 2048)
            print(f"nbgrader autograde (its own executor, one notebook at a time): {autograde:.1f} s")
    print(f"the engine alone (the same jobs and settings, no gradebook, no reports): {alone:.1f} s; "
          f"the gradebook costs {seconds / alone:.2f}x")
    print(f"term: {notebooks} notebooks in {seconds:.1f} s into the gradebook (resume after a kill: "
          f"{resume:.1f} s), nbgrader autograde {autograde:.1f} s")


if __name__ == "__main__":
    main()
