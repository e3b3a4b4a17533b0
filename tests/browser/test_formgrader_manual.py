"""Written answers graded by hand in nbgrader's formgrader, driven in Chromium.

A small class is graded by the batch grader into a gradebook (``python -m course.grading
--db``); formgrader, served from that course folder, shows a learner's written answer with the
grader's comment; the instructor's score and comment typed into the page are stored in the
gradebook, and the grader's next run (which grades nothing again) puts them into grades.csv's
total, the LMS table and the learner's feedback page, escaped.
"""
from __future__ import annotations

import csv
import json
import os
import re
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from .lab import LabServer, answering, free_port

pytest.importorskip("nbgrader")
from course.gradebook import classgen  # noqa: E402
from course.grading.trusted.jail import probe  # noqa: E402

pytestmark = pytest.mark.skipif(probe() is not None, reason=f"no jail on this machine: {probe()}")

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "01_perceptron"
COMMENT = "Clear. <b>Say why</b> the weights move & by how much."


def grade(course: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course.grading", str(course / "submitted"), "--db",
                           str(course / "gradebook.db"), "--source", str(course / "source"), "--roster",
                           str(course / "roster.csv"), "--jobs", "2", "--timeout", "120", "--cell-timeout", "20"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)


def start_formgrader(course: Path, workdir: Path, timeout: float = 120) -> LabServer:
    port, token = free_port(), secrets.token_hex(16)
    home = workdir / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    (course / "nbgrader_config.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom course.gradebook.config import configure\n"
        "c = get_config()\nc.CourseDirectory.root = " + repr(str(course)) + "\n"
        "c.CourseDirectory.db_url = 'sqlite:///" + str(course / "gradebook.db") + "'\nconfigure(c)\n")
    log = workdir / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
         "--ServerApp.allow_remote_access=False",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=course, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    return answering(LabServer(process, port, token, course, log), timeout, "the server")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("formgrader") / "course"
    plan = classgen.make_class(course, students=3, seed=5, assignments=[ASSIGNMENT])
    out = grade(course)
    assert out.returncode == 0, out.stderr[-3000:]
    student = next(s for (s, _), kind in sorted(plan.items()) if kind in ("right", "stub", "late"))
    server = start_formgrader(course, course.parent)
    yield course, student, server
    server.stop()


def open_grading_page(page, server, notebook_id: str) -> None:
    """formgrader's page for one submitted notebook, its grades and comments loaded and bound.

    The page asks a CDN for MathJax; with no network that request is refused at once, so the
    page's load event (which binds each box to the gradebook) does not wait on it."""
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    # the page's own requests (grades, comments, saves) carry the server's token, as the page does
    page.set_extra_http_headers({"Authorization": f"token {server.token}"})
    answers = []
    page.on("response", lambda r: answers.append(f"{r.request.method} {r.url.split('?')[0]} {r.status}")
            if "/formgrader/api/" in r.url else None)
    page.goto(server.url(f"formgrader/submissions/{notebook_id}/?index=0"))
    try:
        page.wait_for_function("() => window.formgrader && formgrader.grades && formgrader.grades.loaded "
                               "&& formgrader.comments && formgrader.comments.loaded", timeout=120_000)
    except Exception as error:  # noqa: BLE001 - say what the page asked and got
        raise AssertionError(f"formgrader's page did not load its grades: {answers}") from error


def type_and_leave(page, box, text: str, api: str) -> dict:
    """Type into a box and leave it (Tab), as an instructor does: formgrader saves on the box's
    change event with a PUT to its API. Returns what the API answered."""
    with page.expect_response(lambda r: f"/formgrader/api/{api}/" in r.url and r.request.method == "PUT",
                              timeout=60_000) as saved:
        box.click()
        box.fill(text)
        box.press("Tab")
    assert saved.value.ok, (saved.value.status, saved.value.text())
    return saved.value.json()


def test_a_written_answer_is_graded_in_formgrader_and_reaches_the_totals(course, page):
    from nbgrader.api import Gradebook

    course, student, server = course
    db = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(db) as gradebook:
        submitted = gradebook.find_submission_notebook("perceptron", ASSIGNMENT, student)
        notebook_id = submitted.id
        [written] = [g.name for g in submitted.grades if g.cell.cell_type == "markdown"]
        max_score = next(g.max_score for g in submitted.grades if g.name == written)
        before = gradebook.find_submission(ASSIGNMENT, student).score
        assert gradebook.find_grade(written, "perceptron", ASSIGNMENT, student).manual_score is None
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/formgrader/api/comments?submission_id="
                                     f"{notebook_id}", headers={"Authorization": f"token {server.token}"})
    with urllib.request.urlopen(request, timeout=30) as response:   # what formgrader's page loads
        comments = [c["auto_comment"] for c in json.loads(response.read())]
    assert any((c or "").startswith("Grader: ") for c in comments), comments

    open_grading_page(page, server, notebook_id)
    # the learner's answer and the grader's verdict are on the page
    page.get_by_text(f"My answer ({student})").first.wait_for(timeout=30_000)
    score = page.locator(f"input.score#{written}")
    comment = page.locator(f"textarea#{written}-comment")
    given = max_score - 0.5
    answered = type_and_leave(page, score, f"{given:g}", "grade")
    assert float(answered["manual_score"]) == given, answered
    answered = type_and_leave(page, comment, COMMENT, "comment")
    assert answered["manual_comment"] == COMMENT, answered

    # stored in the gradebook, and nbgrader's totals include the hand-given points
    with Gradebook(db) as gradebook:
        stored = gradebook.find_grade(written, "perceptron", ASSIGNMENT, student)
        assert stored.manual_score == given and stored.score == given
        assert gradebook.find_comment(written, "perceptron", ASSIGNMENT, student).manual_comment == COMMENT
        after = gradebook.find_submission(ASSIGNMENT, student).score
    assert after == pytest.approx(before + given), (before, given, after)
    # ... and formgrader's own pages show the new total
    page.reload()
    page.wait_for_function("() => window.formgrader && formgrader.grades && formgrader.grades.loaded",
                           timeout=120_000)
    assert score.input_value() == f"{given:g}"

    # the grader's next run grades nothing again and carries the hand-given points everywhere
    again = grade(course)
    assert again.returncode == 0 and "graded 0 notebook(s)" in again.stderr, again.stderr[-2000:]
    with Gradebook(db) as gradebook:   # the rerun kept the instructor's score and comment
        assert gradebook.find_grade(written, "perceptron", ASSIGNMENT, student).manual_score == given
        assert gradebook.find_comment(written, "perceptron", ASSIGNMENT, student).manual_comment == COMMENT
    with open(course / "grades" / "grades.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["student"] == student)
    assert float(row["manual_score"]) == given
    assert float(row["total"]) == pytest.approx(float(row["score"]) + given - float(row["late_penalty"]))
    assert float(row["total"]) == pytest.approx(after - float(row["late_penalty"]))
    with open(course / "grades" / "grades-lms.csv", newline="") as handle:
        lms = next(r for r in csv.DictReader(handle) if r["student_id"] == student)
    assert float(lms[ASSIGNMENT]) == float(row["total"])
    feedback = (course / "grades" / "feedback-html" / student / ASSIGNMENT / "perceptron.html").read_text()
    assert "&lt;b&gt;Say why&lt;/b&gt; the weights move &amp; by how much." in feedback
    assert "<b>Say why</b>" not in feedback
