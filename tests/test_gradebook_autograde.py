"""``nbgrader autograde`` with the course's config grades through the jail.

Good, partial and hostile submissions (the grader's own attack submissions) of the perceptron
assignment are collected in an nbgrader course folder and graded with ``nbgrader autograde``:
the scores are the fair ones, the grader's verdict reaches the gradebook as a comment and
nbgrader's flag, a blank written answer scores 0, no file of the instructor changes, and
``nbgrader generate_feedback`` leaves the hidden tests out.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
from course.grading import adversarial, attacks  # noqa: E402
from course.grading.jail import probe  # noqa: E402
from support import file_hashes  # noqa: E402

pytestmark = pytest.mark.skipif(probe() is not None, reason=f"no jail on this machine: {probe()}")

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_perceptron"
HIDDEN_WORDS = ("BEGIN HIDDEN", "_reference_train", "default_rng(11)")
# student -> (score of the tests, the grader's status)
EXPECTED = {"full_marks": (8, "ok"), "partial": (5, "ok"), "empty": (0, "ok"),
            "reads_hidden_tests": (0, "ok"), "writes_instructor_files": (8, "ok"),
            "rebinds_checks": (0, "ok"), "leaks_hidden_tests": (0, "ok"),
            "kills_its_kernel": (0, "flagged")}


def nbgrader(course: Path, *command: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = subprocess.run([sys.executable, "-m", "nbgrader", *command], cwd=course, env=env,
                         capture_output=True, text=True, timeout=900)
    errors = [line for line in out.stderr.splitlines() if "| ERROR]" in line or "| CRITICAL]" in line]
    assert out.returncode == 0 and not errors, out.stderr[-4000:]
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "exercises" / "source", course / "source")
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    (course / "nbgrader_config.py").write_text(
        (course / "nbgrader_config.py").read_text().replace(
            "_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))", f"_ROOT = {str(ROOT)!r}")
        + "\nc.JailedExecute.timeout = 120\nc.JailedExecute.cell_timeout = 20\n")
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    source = course / "source" / ASSIGNMENT / "perceptron.ipynb"
    release = course / "release" / ASSIGNMENT / "perceptron.ipynb"
    targets = {"source": source, "other": course / "submitted" / "full_marks" / ASSIGNMENT / "perceptron.ipynb",
               "package": ROOT / "course" / "__init__.py", "source_dir": course / "source",
               "gradebook": course / "gradebook.db", "release": release}
    for name in EXPECTED:
        folder = course / "submitted" / name / ASSIGNMENT
        if name in adversarial.CASES:
            adversarial.write_case(name, folder, source, release, targets)
        else:
            attacks.write_attack(name, folder, source, release, targets)
    before = file_hashes(course / "source", course / "release", course / "submitted", ROOT / "course")
    nbgrader(course, "autograde", ASSIGNMENT, "--force")
    after = file_hashes(course / "source", course / "release", course / "submitted", ROOT / "course")
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)
                     and "__pycache__" not in k)
    return course, changed


def test_autograde_scores_through_the_jail(course):
    from nbgrader.api import Gradebook

    course, changed = course
    assert changed == []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, (points, status) in EXPECTED.items():
            notebook = gradebook.find_submission_notebook("perceptron", ASSIGNMENT, student)
            tests = sum(g.score for g in notebook.grades if g.cell.cell_type == "code" and not
                        any(s.name == g.name for s in notebook.notebook.solution_cells))
            assert tests == points, student
            assert notebook.flagged == (status != "ok"), student
            comments = [c.auto_comment or "" for c in notebook.comments]
            assert any(c.startswith(f"Grader: {status}") for c in comments), (student, comments)


def test_a_blank_written_answer_scores_0_and_an_answer_waits_for_the_instructor(course):
    from nbgrader.api import Gradebook

    course, _ = course
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        written = lambda student: [g for g in gradebook.find_submission_notebook(  # noqa: E731
            "perceptron", ASSIGNMENT, student).grades if g.cell.cell_type == "markdown"]
        assert written("empty") and all(g.score == 0 and not g.needs_manual_grade for g in written("empty"))
        assert all(g.needs_manual_grade for g in written("full_marks"))


def test_the_autograded_notebook_holds_the_trusted_outputs_and_no_kernel_ran_the_tests(course):
    course, _ = course
    notebook = json.loads((course / "autograded" / "partial" / ASSIGNMENT / "perceptron.ipynb").read_text())
    tests = [c for c in notebook["cells"] if c["cell_type"] == "code"
             and c["metadata"].get("nbgrader", {}).get("grade") and not c["metadata"]["nbgrader"].get("solution")]
    assert tests and any(o["output_type"] == "error" for c in tests for o in c["outputs"])


def test_generate_feedback_clears_hidden_tests(course):
    course, _ = course
    nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    pages = list((course / "feedback").rglob("*.html"))
    assert len(pages) == len(EXPECTED)
    for page in pages:
        text = page.read_text()
        assert not any(word in text for word in HIDDEN_WORDS), page
