"""The files made from the gradebook, each written atomically and stamped with the run.

    grades.csv        one row per student and assignment: the batch grader's columns (student,
                      assignment, score, max_score, pending_manual, status, reason, graded_in),
                      then manual_score (written answers graded in formgrader), late_penalty,
                      total (score + manual_score - late_penalty) and run
    results.json      every notebook's result, every test cell
    feedback/<student>.md            what each test gave, and why it failed
    feedback-html/<student>/<assignment>/<notebook>.html   the page a student reads
    grades-lms.csv    one row per rostered student (course.gradebook.export)
    regrade.csv       whose grade this run changed: old -> new, and why
    report.md         the class: per assignment mean, median, spread, histogram-<assignment>.png,
                      the tests most often failed, the notebooks flagged
    RUN               the run these files come from

A file is written beside its target and renamed over it; the folders are swapped whole. A
reader sees the old set or the new one, and each names its run.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

__all__ = ["write_derived", "grade_rows", "result_of", "worst_status", "UNJAILED", "STATUS_ORDER"]

STATUS_ORDER = ("ok", "flagged", "timeout", "error", "invalid", "missing")
UNJAILED = ("graded WITHOUT the jail (--unsafe-no-jail): the submission's code ran as a plain process "
            "with rlimits, without namespaces (it could read the files its user can); the tests still "
            "ran in the trusted process")

COLUMNS = ["student", "assignment", "score", "max_score", "pending_manual", "status", "reason",
           "graded_in", "manual_score", "late_penalty", "total", "run"]


def worst_status(statuses) -> str:
    """The status of a row of several notebooks: the worst of theirs."""
    return max(statuses, key=STATUS_ORDER.index)


def _graded_in(parts: list[dict]) -> str:
    """Where the notebooks of a row ran and which limits applied (the engine's ``graded_in``)."""
    return "; ".join(dict.fromkeys(r["graded_in"] for r in parts if r.get("graded_in"))) or \
        ("jail" if all(r["jailed"] for r in parts) else "no jail (--unsafe-no-jail)")


def result_of(record: dict):
    """The engine's Result of one notebook, from its record (``results.json``, the gradebook)."""
    from course.grading import Result, TestResult

    fields = {k: v for k, v in record.items() if k in Result.__dataclass_fields__ and k not in ("tests", "notebook")}
    result = Result(**fields, notebook_name=record["notebook"])
    result.tests = [TestResult(**t) for t in record.get("tests", [])]
    return result


def _manual(gradebook, record: dict) -> tuple[float, float, float]:
    """(manual points given, manual points still pending, late penalty) of one notebook."""
    from pathlib import Path as _P

    from nbgrader.api import MissingEntry

    try:
        nb = gradebook.find_submission_notebook(_P(record["notebook"]).stem, record["assignment"],
                                                record["student"])
    except MissingEntry:
        return 0.0, 0.0, 0.0
    tests = {t["grade_id"] for t in record.get("tests", [])}
    given = pending = 0.0
    for grade in nb.grades:
        if grade.name in tests:
            continue
        if grade.manual_score is None and grade.auto_score is None:
            pending += grade.max_score
        else:
            given += grade.score or 0.0
    return given, pending, float(nb.late_submission_penalty or 0.0)


def grade_rows(store, run: str) -> list[list[str]]:
    """The rows of grades.csv: every string of a submission inert (``inert.csv_cell``)."""
    from course.grading.trusted.inert import csv_cell

    rows: dict[tuple[str, str], list[dict]] = {}
    for record in store.results():
        rows.setdefault((record["student"], record["assignment"]), []).append(record)
    out = []
    for (student, assignment), parts in sorted(rows.items()):
        reasons = [(f"{r['notebook']}: {r['reason']}" if len(parts) > 1 else r["reason"]) for r in parts if r["reason"]]
        jailed = all(r["jailed"] for r in parts)
        if not jailed:
            reasons.insert(0, UNJAILED)
        manual = [_manual(store.gradebook, r) for r in parts]
        score = sum(r["score"] for r in parts)
        given, pending, late = (sum(m[i] for m in manual) for i in range(3))
        out.append([csv_cell(student), csv_cell(assignment), f"{score:g}",
                    f"{sum(r['max_score'] for r in parts):g}", f"{pending:g}",
                    worst_status(r["status"] for r in parts), csv_cell("; ".join(reasons)),
                    csv_cell(_graded_in(parts)), f"{given:g}", f"{late:g}",
                    f"{max(0.0, score + given - late):g}", run])
    return out


def _write(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _swap(folder: Path, fresh: Path) -> None:
    old = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(fresh, folder)
    shutil.rmtree(old, ignore_errors=True)


def write_derived(store, out, run: str, deliver: bool = False) -> list[str]:
    """Every derived file of ``out`` from the gradebook of ``store``; returns the problems.

    ``deliver``: also put each feedback page where nbgrader's ``release_feedback`` takes it,
    ``feedback/<student>/<assignment>/<notebook>.html`` beside the gradebook.

    A student id that cannot be a file name gets a safe one (``inert.safe_filename``; the id
    is kept inside the file). A student whose feedback cannot be written costs no other student
    theirs: the problem is returned (and ``python -m course.grading`` prints it)."""
    import io

    from course.grading.trusted.inert import csv_cell, safe_filename

    from .export import lms_csv
    from .feedback import feedback_pages, markdown_feedback
    from .report import class_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = f"run {run}"
    records = store.results()
    handle = io.StringIO()
    writer = csv.writer(handle)
    writer.writerow(COLUMNS)
    writer.writerows(grade_rows(store, run))
    _write(out / "grades.csv", handle.getvalue())
    _write(out / "results.json", json.dumps({"run": run, "results": records}, indent=1))
    fresh = out / f".feedback.{run}"
    fresh.mkdir()
    by_student: dict[str, list] = {}
    for record in records:
        by_student.setdefault(record["student"], []).append(result_of(record))
    problems = []
    for student, parts in by_student.items():
        try:
            (fresh / safe_filename(student, ".md")).write_text(
                markdown_feedback(student, parts) + f"\n_{stamp}_\n", encoding="utf-8")
        except Exception as error:  # noqa: BLE001 - one student's report never costs another theirs
            problems.append(_problem("feedback", student, error))
    _swap(out / "feedback", fresh)
    fresh = out / f".feedback-html.{run}"
    problems += feedback_pages(store, fresh, run)
    _swap(out / "feedback-html", fresh)
    if deliver:
        for page in (out / "feedback-html").rglob("*.html"):
            target = store.course_dir / "feedback" / page.relative_to(out / "feedback-html")
            target.parent.mkdir(parents=True, exist_ok=True)
            _write(target, page.read_text(encoding="utf-8"))
    _write(out / "grades-lms.csv", lms_csv(store.gradebook))
    handle = io.StringIO()
    writer = csv.writer(handle)
    writer.writerow(["student", "assignment", "notebook", "old_score", "new_score", "why", "run"])
    for change in store.changes:
        writer.writerow([csv_cell(change["student"]), change["assignment"], change["notebook"],
                         f"{change['old']:g}", f"{change['new']:g}", csv_cell(change["why"]), run])
    _write(out / "regrade.csv", handle.getvalue())
    class_report(store, out, run)
    _write(out / "RUN", run + "\n")
    return problems


def _problem(what: str, student: str, error: BaseException) -> str:
    from course.grading.trusted.inert import plain_text

    return (f"the {what} of {plain_text(student, 80)!r} could not be written "
            f"({type(error).__name__}: {plain_text(error, 200)})")
