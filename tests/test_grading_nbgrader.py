"""The batch grader gives the scores `nbgrader autograde` gives, on the same submissions.

One deliberate difference: nbgrader gives 0 for a test cell the learner deleted; the batch
grader runs the source's test cell anyway (and says so in the reason), so the answer is judged
on its merits.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
from course.grading.trusted import runner  # noqa: E402
from grading import adversarial  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_perceptron"
CASES = ["full_marks", "partial", "empty", "import_error", "edited_tests"]


def nbgrader_errors(stderr: str) -> list[str]:
    """nbgrader's own error lines, "[AutogradeApp | ERROR] ...".

    The kernels nbgrader starts write to the same stream, and one can log a traceback while it
    shuts down (ipykernel flushing to a socket already closed: "ERROR:tornado.general"). That
    says nothing about the grading, which the scores below check.
    """
    return [line for line in stderr.splitlines() if "| ERROR]" in line or "| CRITICAL]" in line]


def test_scores_agree_with_nbgrader_autograde(tmp_path):
    shutil.copytree(ROOT / "exercises" / "source", tmp_path / "source")
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", tmp_path)
    source = tmp_path / "source" / ASSIGNMENT / "perceptron.ipynb"
    release = ROOT / "exercises" / "release" / ASSIGNMENT / "perceptron.ipynb"
    for case in CASES:
        adversarial.write_case(case, tmp_path / "submitted" / case / ASSIGNMENT, source, release, {})
    # nbgrader runs the `alembic` command of its environment
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for command in (["generate_assignment", ASSIGNMENT, "--force"],
                    ["autograde", ASSIGNMENT, "--force", "--Execute.timeout=60"]):
        out = subprocess.run([sys.executable, "-m", "nbgrader", *command], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0 and not nbgrader_errors(out.stderr), out.stderr[-3000:]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        theirs = {case: gradebook.find_submission(ASSIGNMENT, case).score for case in CASES}

    settings = runner.Settings(timeout=120, cell_timeout=60, memory_mb=2048)
    results = runner.grade_batch(tmp_path / "submitted", tmp_path / "out", tmp_path / "source", settings)
    ours = {r.student: r.score for r in results}

    deleted_test_points = 1  # edited_tests deletes test_predict_by_hand, worth 1 point
    assert theirs == {**ours, "edited_tests": ours["edited_tests"] - deleted_test_points}
    assert ours == {"full_marks": 8, "partial": 5, "empty": 0, "import_error": 5, "edited_tests": 8}


def test_nbgrader_errors_keeps_nbgrader_errors_and_ignores_kernel_shutdown_noise():
    stderr = ("[AutogradeApp | INFO] Autograding a.ipynb\n"
              "ERROR:tornado.general:Uncaught exception in ZMQStream callback\n"
              "[AutogradeApp | ERROR] There was an error processing assignment: b\n"
              "[AutogradeApp | CRITICAL] Something went wrong\n")
    assert nbgrader_errors(stderr) == ["[AutogradeApp | ERROR] There was an error processing assignment: b",
                                       "[AutogradeApp | CRITICAL] Something went wrong"]
