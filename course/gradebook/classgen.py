"""A generated class: submissions made from the source solutions, with deliberate mistakes.

    make_class(course, students=40, seed=0) -> dict of what each student was given to do

writes an nbgrader course folder at ``course`` (``source/`` and ``release/`` copied from the
exercises, ``submitted/<student>/<assignment>/<notebook>.ipynb`` with nbgrader's
``timestamp.txt``, and ``roster.csv``). Each student's notebook of each assignment is one of:

    right     every answer the solution, the written answers written
    stub      one code answer left as handed out (its tests fail)
    blank     the notebook as handed out, written answers blank
    missing   no folder for the assignment
    late      right, but submitted two days after ``DUE``

``one_test_per_answer=True`` keeps, in the class's ``source/`` and ``release/``, only the first
test after each answer (an answer's tests follow it in every exercise): every answer is still
tested, a stub still fails, and a notebook grades in a fraction of the time (the later tests
train networks). The tests of the grading pipeline use it; the benchmark grades the real thing.

Seeded: the same ``seed`` gives the same class. Used by the tests and ``benchmarks/bench_term.py``.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import random
import shutil
from pathlib import Path

__all__ = ["make_class", "KINDS", "DUE", "EXERCISES"]

EXERCISES = Path(__file__).resolve().parents[2] / "exercises"
KINDS = ("right", "stub", "blank", "missing", "late")
WEIGHTS = (0.55, 0.25, 0.08, 0.06, 0.06)
DUE = dt.datetime(2026, 10, 1, 23, 59)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _notebook(kind: str, source: dict, release: dict, rng: random.Random, student: str) -> dict:
    notebook = json.loads(json.dumps(release))
    if kind == "blank":
        return notebook
    solutions = {_meta(c).get("grade_id"): c["source"] for c in source["cells"] if _meta(c).get("solution")}
    code = [c for c in notebook["cells"] if _meta(c).get("solution") and c["cell_type"] == "code"]
    keep = rng.randrange(len(code)) if kind == "stub" and code else None
    for cell in notebook["cells"]:
        if not _meta(cell).get("solution"):
            continue
        if cell["cell_type"] == "code" and keep is not None and cell is code[keep]:
            continue
        if cell["cell_type"] == "markdown":
            cell["source"] = f"My answer ({student}): the weights move toward the examples it gets wrong."
        else:
            cell["source"] = solutions[_meta(cell)["grade_id"]]
    return notebook


def later_tests(source: dict) -> set[str]:
    """The grade ids of the test cells after the first test of each answer, in notebook order."""
    later, tested = set(), True
    for cell in source["cells"]:
        meta = _meta(cell)
        if meta.get("solution"):
            tested = False
        elif meta.get("grade"):
            if tested:
                later.add(meta["grade_id"])
            tested = True
    return later


def _drop_later_tests(course: Path) -> None:
    for path in sorted((course / "source").glob("*/*.ipynb")):
        drop = later_tests(json.loads(path.read_text(encoding="utf-8")))
        for copy in (path, course / "release" / path.parent.name / path.name):
            notebook = json.loads(copy.read_text(encoding="utf-8"))
            notebook["cells"] = [c for c in notebook["cells"] if _meta(c).get("grade_id") not in drop]
            copy.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def make_class(course, students: int = 40, seed: int = 0, assignments=None,
               one_test_per_answer: bool = False) -> dict:
    """Write the class; returns {(student, assignment): kind}."""
    course = Path(course)
    copied = False
    for folder in ("source", "release"):
        if not (course / folder).exists():
            shutil.copytree(EXERCISES / folder, course / folder)
            copied = True
    if one_test_per_answer and copied:
        _drop_later_tests(course)
    names = assignments or sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    rng = random.Random(seed)
    plan = {}
    rows = []
    for number in range(students):
        student = f"s{number:03d}"
        rows.append({"id": student, "first_name": f"Student{number}", "last_name": f"Number{number}",
                     "email": f"{student}@example.edu", "lms_user_id": f"lms-{1000 + number}"})
        for assignment in names:
            kind = rng.choices(KINDS, WEIGHTS)[0]
            plan[(student, assignment)] = kind
            if kind == "missing":
                continue
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            when = DUE + (dt.timedelta(days=2) if kind == "late" else -dt.timedelta(hours=3))
            (folder / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
            for path in sorted((course / "source" / assignment).glob("*.ipynb")):
                source = json.loads(path.read_text(encoding="utf-8"))
                release = json.loads((course / "release" / assignment / path.name).read_text(encoding="utf-8"))
                (folder / path.name).write_text(json.dumps(_notebook(kind, source, release, rng, student)),
                                                encoding="utf-8")
    with open(course / "roster.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return plan
