"""A term as an instructor grades it: 40 students x 5 assignments into one gradebook.

The class is generated from the source solutions with deliberate mistakes
(``course.gradebook.classgen``, with one test kept after each answer: every answer tested,
in a fraction of the time) and graded once for the session at 2 jobs: the grader is
killed (SIGKILL, with the processes it started) once half the notebooks are committed, and run
again; the rerun grades exactly what was not committed. The LMS table is checked row by row
against the roster and the gradebook, and every feedback page for hidden-test text. Then one
student is regraded alone, and a test's points are changed: that notebook of every student is
regraded, and the change report says who moved and why.
"""
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
from course.gradebook import classgen  # noqa: E402
from course.grading.trusted.jail import probe  # noqa: E402
from support import own_descendants  # noqa: E402

# minutes of jailed grading: `make test` runs it, `make test-fast` leaves it out
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(probe() is not None, reason=f"no jail on this machine: {probe()}")]

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = 40
HIDDEN_WORDS = ("BEGIN HIDDEN", "END HIDDEN", "hidden_rng", "course_secret", "_reference_")


def command(course: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "course.grading", str(course / "submitted"), "--db", str(course / "gradebook.db"),
            "--source", str(course / "source"), "--roster", str(course / "roster.csv"), "--jobs", "2",
            "--timeout", "180", "--cell-timeout", "30", "--late-points-per-day", "0.5",
            *[f"--due={a}={classgen.DUE.isoformat()}" for a in sorted(os.listdir(course / "source"))], *extra]


def committed(course: Path) -> dict[tuple, str]:
    try:
        with sqlite3.connect(course / "gradebook.db", timeout=60) as db:
            return {(s, a, n): run for s, a, n, run in db.execute(
                "SELECT student, assignment, notebook, run FROM course_result")}
    except sqlite3.OperationalError:   # not made yet
        return {}


@pytest.fixture(scope="session")
def term(tmp_path_factory):
    course = tmp_path_factory.mktemp("term") / "course"
    plan = classgen.make_class(course, students=STUDENTS, seed=7, one_test_per_answer=True)
    total = len(plan)
    process = subprocess.Popen(command(course), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 1800
    while process.poll() is None and len(committed(course)) < total // 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert process.poll() is None, "the grader ended before half the class was graded"
    started = [pid for pid, _ in own_descendants(process.pid)]
    for pid in [process.pid, *started]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()
    before = committed(course)
    for pid in started:   # what it had started is gone too (nothing of this test stays behind)
        deadline = time.monotonic() + 60
        while Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    resumed = subprocess.run(command(course), cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    return {"course": course, "plan": plan, "before": before, "resumed": resumed, "after": committed(course)}


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rfind(")") + 2:].split()[0]
    except OSError:
        return "gone"


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_kill_halfway_loses_nothing_committed_and_the_rerun_grades_the_rest(term):
    plan, before, after = term["plan"], term["before"], term["after"]
    assert len(plan) // 2 <= len(before) < len(plan)
    assert len(after) == len(plan)
    for key, run in before.items():   # nothing committed was graded again
        assert after[key] == run, key
    graded = int(term["resumed"].stderr.rsplit("graded ", 1)[1].split()[0])
    assert graded == len(plan) - len(before)


def test_the_lms_table_row_by_row(term):
    from nbgrader.api import Gradebook, MissingEntry

    course, plan = term["course"], term["plan"]
    roster = rows(course / "roster.csv")
    table = rows(course / "grades" / "grades-lms.csv")
    assert [row["student_id"] for row in table] == [row["id"] for row in roster]
    assignments = sorted(os.listdir(course / "source"))
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for person, row in zip(roster, table):
            assert (row["email"], row["lms_user_id"], row["first_name"], row["last_name"]) == (
                person["email"], person["lms_user_id"], person["first_name"], person["last_name"])
            total = 0.0
            for assignment in assignments:
                kind = plan[(person["id"], assignment)]
                submission = gradebook.find_submission(assignment, person["id"])
                if kind == "missing":
                    expected = 0.0
                else:
                    penalty = 0.5 * 2 if kind == "late" else 0.0   # two days late, half a point a day
                    assert submission.late_submission_penalty == pytest.approx(penalty)
                    expected = max(0.0, submission.score - penalty)
                    if kind == "blank":
                        assert submission.score == 0
                    if kind in ("right", "late"):
                        assert submission.code_score == submission.max_code_score
                    if kind == "stub":
                        assert submission.code_score < submission.max_code_score
                assert float(row[assignment]) == pytest.approx(expected, abs=0.01), (person["id"], assignment)
                total += float(row[assignment])
            assert float(row["total"]) == pytest.approx(total, abs=0.05)
        with pytest.raises(MissingEntry):
            gradebook.find_student("s999")


def test_feedback_pages_hold_no_hidden_tests(term):
    course, plan = term["course"], term["plan"]
    pages = sorted((course / "grades" / "feedback-html").rglob("*.html"))
    assert len(pages) == len(plan)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not any(word in text for word in HIDDEN_WORDS), page
        assert "<script" not in text


def test_the_class_report_has_every_assignment_and_a_histogram(term):
    course = term["course"]
    report = (course / "grades" / "report.md").read_text()
    for assignment in sorted(os.listdir(course / "source")):
        assert f"| {assignment} | {STUDENTS} |" in report
        assert (course / "grades" / f"histogram-{assignment}.png").read_bytes()[:4] == b"\x89PNG"
    assert "## Tests most often failed" in report and "## Flags to look at" in report


def test_one_student_regraded_alone(term):
    course, plan = term["course"], term["plan"]
    student = "s001"
    before = {(r["student"], r["assignment"]): r for r in rows(course / "grades" / "grades.csv")}
    runs = committed(course)
    out = subprocess.run(command(course, "--student", student, "--force"), cwd=ROOT, capture_output=True,
                         text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-2000:]
    after = {(r["student"], r["assignment"]): r for r in rows(course / "grades" / "grades.csv")}
    assert set(after) == set(before)
    for key, run in committed(course).items():
        assert (run != runs[key]) == (key[0] == student), key
    for key, row in after.items():
        assert {k: v for k, v in row.items() if k != "run"} == {k: v for k, v in before[key].items() if k != "run"}


def test_changed_points_regrade_that_assignment_with_a_change_report(term):
    course, plan = term["course"], term["plan"]
    assignment = sorted(os.listdir(course / "source"))[0]
    path = next((course / "source" / assignment).glob("*.ipynb"))
    notebook = json.loads(path.read_text(encoding="utf-8"))
    test = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
                and not c["metadata"]["nbgrader"].get("solution"))
    test["metadata"]["nbgrader"]["points"] += 1
    path.write_text(json.dumps(notebook), encoding="utf-8")
    runs = committed(course)
    out = subprocess.run(command(course), cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-2000:]
    for key, run in committed(course).items():   # that notebook of every student, nothing else
        assert (run != runs[key]) == (key[1] == assignment and key[2] == path.name), key
    changes = rows(course / "grades" / "regrade.csv")
    full = {s for (s, a), kind in plan.items() if a == assignment and kind in ("right", "late")}
    assert full and {c["student"] for c in changes} >= full
    assert {c["assignment"] for c in changes} == {assignment}
    for change in changes:
        assert "points available" in change["why"], change
        if change["student"] in full:
            assert float(change["new_score"]) == float(change["old_score"]) + 1, change
