"""The batch grader writing into nbgrader's gradebook (``python -m course.grading --db``).

A small generated class of the perceptron assignment: graded into a gradebook with a roster, a
due date and a late penalty; the gradebook, grades.csv, the LMS table and the feedback pages
checked against what each student was given to do; a rerun grades nothing; a second grader is
refused and told who holds the gradebook; one student regraded leaves the others alone; points
changed in the source are regraded with a report of who changed and why; an extension given
after grading moves those students' due dates and lifts their late penalty without a regrade.
"""
import csv
import datetime as dt
import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
from course.gradebook import classgen  # noqa: E402
from course.grading.trusted.jail import probe  # noqa: E402

pytestmark = pytest.mark.skipif(probe() is not None, reason=f"no jail on this machine: {probe()}")

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_perceptron"
HIDDEN_WORDS = ("BEGIN HIDDEN", "_reference_train", "default_rng(11)")
FAIR = {"right": 8, "late": 8, "stub": None, "blank": 0, "missing": 0}


def grade(course: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "course.grading", str(course / "submitted"), "--db",
               str(course / "gradebook.db"), "--source", str(course / "source"), "--roster",
               str(course / "roster.csv"), "--due", f"{ASSIGNMENT}={classgen.DUE.isoformat()}",
               "--late-points-per-day", "1", "--jobs", "2", "--timeout", "120", "--cell-timeout", "20", *extra]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("class")
    plan = classgen.make_class(course, students=6, seed=3, assignments=[ASSIGNMENT])
    out = grade(course)
    assert out.returncode == 0, out.stderr[-3000:]
    return course, plan


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_rostered_student_is_in_the_gradebook_and_the_lms_table(course):
    from nbgrader.api import Gradebook, MissingEntry

    course, plan = course
    lms = {row["student_id"]: row for row in rows(course / "grades" / "grades-lms.csv")}
    roster = {row["id"]: row for row in rows(course / "roster.csv")}
    assert set(lms) == set(roster)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for (student, _), kind in plan.items():
            row = lms[student]
            assert (row["email"], row["lms_user_id"]) == (roster[student]["email"], roster[student]["lms_user_id"])
            if kind == "missing":
                assert float(row[ASSIGNMENT]) == 0
                continue
            submission = gradebook.find_submission(ASSIGNMENT, student)
            penalty = 1.0 * 2 if kind == "late" else 0.0   # two days late, one point a day
            assert submission.late_submission_penalty == pytest.approx(penalty), student
            assert float(row[ASSIGNMENT]) == pytest.approx(max(0.0, submission.score - penalty)), student
            assert float(row["total"]) == float(row[ASSIGNMENT])
            if FAIR[kind] is not None:
                assert submission.code_score == FAIR[kind], (student, kind)
            else:
                assert submission.code_score < 8, (student, kind)
        with pytest.raises(MissingEntry):
            gradebook.find_student("nobody")


def test_grades_csv_keeps_its_columns_and_says_missing(course):
    course, plan = course
    table = {row["student"]: row for row in rows(course / "grades" / "grades.csv")}
    assert list(next(iter(table.values())))[:8] == ["student", "assignment", "score", "max_score",
                                                    "pending_manual", "status", "reason", "graded_in"]
    run = (course / "grades" / "RUN").read_text().strip()
    for (student, _), kind in plan.items():
        assert table[student]["run"] == run
        if kind == "missing":
            assert table[student]["status"] == "missing" and table[student]["score"] == "0"
        if kind == "blank":   # a blank written answer scores 0 and waits for nobody
            assert table[student]["pending_manual"] == "0"
        if kind == "right":
            assert float(table[student]["pending_manual"]) > 0


def test_feedback_pages_hold_no_hidden_tests_and_escape_what_students_wrote(course):
    course, plan = course
    pages = list((course / "grades" / "feedback-html").rglob("*.html"))
    assert len(pages) == len(plan)
    for page in pages:
        text = page.read_text()
        assert "<script" not in text and "Total:" in text
        assert not any(word in text for word in HIDDEN_WORDS), page


def test_a_rerun_grades_nothing_and_a_second_grader_is_refused(course):
    course, plan = course
    out = grade(course)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "graded 0 notebook(s)" in out.stderr and f"{len(plan)} notebook(s) graded before" in out.stderr
    with open(str(course / "gradebook.db") + ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(f"the grader with process id {os.getpid()}")
        handle.flush()
        try:
            out = grade(course)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    assert out.returncode == 3 and f"process id {os.getpid()}" in out.stderr and "--wait" in out.stderr


def test_regrading_one_student_touches_nobody_else(course):
    course, plan = course
    student = next(s for (s, _), kind in plan.items() if kind == "stub")
    before = {r["student"]: r for r in rows(course / "grades" / "grades.csv")}
    notebook = course / "submitted" / student / ASSIGNMENT / "perceptron.ipynb"
    right = classgen._notebook("right", json.loads((course / "source" / ASSIGNMENT / "perceptron.ipynb").read_text()),
                               json.loads((course / "release" / ASSIGNMENT / "perceptron.ipynb").read_text()),
                               __import__("random").Random(0), student)
    notebook.write_text(json.dumps(right))
    out = grade(course, "--student", student)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "graded 1 notebook(s)" in out.stderr
    after = {r["student"]: r for r in rows(course / "grades" / "grades.csv")}
    assert set(after) == set(before)
    assert after[student]["score"] == "8"
    for other in set(before) - {student}:
        assert {k: v for k, v in after[other].items() if k != "run"} == \
               {k: v for k, v in before[other].items() if k != "run"}
    [change] = rows(course / "grades" / "regrade.csv")
    assert change["student"] == student and float(change["new_score"]) > float(change["old_score"])
    assert "tests:" in change["why"]


def test_changed_points_are_regraded_with_a_report(course):
    course, plan = course
    path = course / "source" / ASSIGNMENT / "perceptron.ipynb"
    notebook = json.loads(path.read_text())
    test = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
                and not c["metadata"]["nbgrader"].get("solution"))
    test["metadata"]["nbgrader"]["points"] += 1
    path.write_text(json.dumps(notebook))
    out = grade(course)
    assert out.returncode == 0, out.stderr[-2000:]
    changes = rows(course / "grades" / "regrade.csv")
    passed = [s for (s, _), kind in plan.items() if kind in ("right", "late")]
    assert {c["student"] for c in changes} >= set(passed)
    assert all("points available" in c["why"] for c in changes)


def test_nbgrader_export_writes_the_same_lms_table(course):
    course, _ = course
    (course / "nbgrader_config.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom course.gradebook.config import configure\n"
        "c = get_config()\nconfigure(c)\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", "exported.csv"], cwd=course,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (course / "exported.csv").read_text() == (course / "grades" / "grades-lms.csv").read_text()


def test_an_extension_given_after_grading_lifts_the_late_penalty_without_a_regrade(course):
    from nbgrader.api import Gradebook

    course, plan = course
    late = sorted(s for (s, _), kind in plan.items() if kind == "late")
    on_time = sorted(s for (s, _), kind in plan.items() if kind == "right")
    extended = late + on_time[:1]
    out = grade(course, *(f"--extension={s}/{ASSIGNMENT}=72" for s in extended))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "graded 0 notebook(s)" in out.stderr
    lms = {row["student_id"]: row for row in rows(course / "grades" / "grades-lms.csv")}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for (student, _), kind in plan.items():
            if kind == "missing":
                continue
            submission = gradebook.find_submission(ASSIGNMENT, student)
            moved = classgen.DUE + dt.timedelta(hours=72)
            assert submission.duedate == (moved if student in extended else classgen.DUE), student
            penalty = 2.0 if kind == "late" and student not in extended else 0.0
            assert (submission.late_submission_penalty or 0.0) == pytest.approx(penalty), student
            assert float(lms[student][ASSIGNMENT]) == pytest.approx(max(0.0, submission.score - penalty)), student
