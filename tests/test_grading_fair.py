"""Fair outcomes for a real class (``tests/grading/unfair.py``): no free marks from the course's own
code or from the test's inputs, no hidden input in any feedback, honest notebooks graded however
large, and reports in which nothing a student wrote acts when they are opened.

One batch grades every case, in the jail, at two jobs.
"""
import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
from course.grading.trusted import runner  # noqa: E402
from course.grading.trusted.jail import probe  # noqa: E402
from grading import unfair  # noqa: E402
from support import assert_outcome, course_folder, grade_with_cli, hog_class  # noqa: E402

pytestmark = pytest.mark.skipif(probe() is not None, reason=f"no jail on this machine: {probe()}")

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = runner.Settings(timeout=240, cell_timeout=30, memory_mb=2048, jobs=2)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("fair")
    course = course_folder(root, unfair.NOTEBOOKS, secret="a1" * 32)
    subs = root / "subs"
    for name in unfair.CASES:
        unfair.write_case(name, subs, ROOT / "exercises")
    code, results = grade_with_cli(subs, root / "out", course / "source", SETTINGS)
    assert code == 0
    graded = {}
    for result in results:  # each case is graded on the assignment it submitted
        if result.assignment == unfair.CASES[result.student][0]:
            graded[result.student] = result
    return {"results": graded, "out": root / "out", "seen": results, "course": course}


def _feedback(batch, student: str) -> str:
    return (batch["out"] / "feedback" / f"{student}.md").read_text(encoding="utf-8")


def test_the_honest_submission_gets_full_marks(batch):
    assert_outcome(batch["results"]["honest"], 8, "ok", max_score=8)


@pytest.mark.parametrize("case", ["imports_the_reference", "imports_the_reference_dynamically"])
def test_an_answer_using_the_courses_own_code_is_flagged_with_what_it_used(batch, case):
    result = batch["results"][case]
    assert result.status == "flagged", result.reason
    assert "sigmoid" in result.reason and "left for the instructor" in result.reason
    if case == "imports_the_reference":
        assert "from course.activations import sigmoid" in result.reason
    else:
        assert "__import__" in result.reason


def test_the_reference_a_test_cell_imports_is_no_free_mark_for_an_answer(batch):
    """Assignment 03's tests import course.gradcheck's numerical gradient in their own cells (the
    trusted process), not in the setup the jail runs: an answer that imports it is flagged."""
    result = batch["results"]["wraps_the_tests_gradient_check"]
    assert result.status == "flagged", result.reason
    assert "from course.gradcheck import numerical_gradient" in result.reason, result.reason
    assert result.score == result.max_score, "the score stays as the tests gave it, for the instructor"


def test_a_change_nested_in_an_argument_is_reported_with_its_path_never_written_back(batch):
    result = batch["results"]["zeroes_the_weights"]
    assert result.score < result.max_score, result.reason
    messages = " ".join(t.message for t in result.tests)
    assert "network_gradients changed params['" in messages and "in place" in messages


def test_hidden_test_feedback_holds_neither_inputs_nor_the_learners_message(batch):
    result = batch["results"]["raises_with_its_inputs"]
    assert result.score == 7, result.reason
    [failed] = [t for t in result.tests if not t.passed]
    assert failed.grade_id == "test_predict_by_hand"
    assert "INPUTS" not in failed.message and "hidden test" in failed.message
    assert "INPUTS" not in _feedback(batch, "raises_with_its_inputs") + result.reason


def test_a_visible_tests_error_message_reaches_the_feedback(batch):
    result = batch["results"]["raises_in_a_visible_test"]
    assert "ValueError: INPUTS [[1.0, 2.0]" in " ".join(t.message for t in result.tests)


def test_a_notebook_saved_under_another_name_is_missing_and_the_reason_names_what_was_found(batch):
    result = batch["results"]["saved_under_another_name"]
    assert (result.status, result.score) == ("missing", 0)
    assert "'perceptron (1).ipynb'" in result.reason and "perceptron.ipynb" in result.reason


def test_every_result_reached_on_result_once(batch):
    keys = [(r.student, r.assignment) for r in batch["seen"]]
    assert len(keys) == len(set(keys)) and {r.student for r in batch["seen"]} == set(unfair.CASES)


@pytest.mark.parametrize("case", ["huge_answer_cell", "non_ascii_answer_cell"])
def test_an_honest_notebook_with_a_large_answer_cell_is_graded(batch, case):
    assert_outcome(batch["results"][case], 8, "ok")


def test_a_forged_error_message_is_inert_in_grades_csv_and_the_feedback(batch):
    raw = (batch["out"] / "grades.csv").read_bytes()
    assert b"\x1b" not in raw and b"\x07" not in raw
    with open(batch["out"] / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(unfair.CASES)   # no forged row
    feedback = _feedback(batch, "forges_report_text")
    before, rest = feedback.split("````text\n", 1)
    block, after = rest.split("\n````", 1)
    assert "<script>" in block and "<script>" not in before + after
    assert "8 of 8 points" not in before + after
    assert json.loads((batch["out"] / "results.json").read_text(encoding="utf-8"))


def test_a_python_installed_under_tmp_can_be_jailed(tmp_path):
    import subprocess
    import sys
    import sysconfig

    assert str(tmp_path).startswith("/tmp/")
    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (site / "course-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    code = "from course.grading.trusted.jail import probe; print(probe())"
    done = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "None", done.stdout


# -- one submission's resources, whoever else is in the batch -----------------------------------------
def _cgroups_here() -> str:
    from course.grading.trusted import cgroups

    made = cgroups.Cgroups.create()
    if made is None:
        return cgroups.why_not
    made.remove()
    return ""


@pytest.fixture(scope="module")
def resources(tmp_path_factory):
    why = _cgroups_here()
    if why:
        pytest.skip(f"no cgroup can be made here: {why}")
    root = tmp_path_factory.mktemp("resources")
    course, subs = hog_class(root, unfair.RESOURCE_CASES)
    settings = runner.Settings(timeout=180, cell_timeout=6, memory_mb=2048, jobs=2)
    results = runner.grade_batch(subs, root / "out", course / "source", settings)
    return {r.student: r for r in results}


def test_a_correct_submission_beside_a_cpu_hog_gets_full_marks(resources):
    victim = resources["victim"]
    assert_outcome(victim, 8, "ok")
    assert "cgroup" in victim.graded_in and "1 CPU" in victim.graded_in


def test_memory_is_limited_for_the_whole_submission_not_per_process(resources):
    result = resources["forks_memory_hogs"]
    assert result.peak_memory_mb is not None and result.peak_memory_mb <= 2048 * 1.01, result.peak_memory_mb
    assert "2048 MB" in result.graded_in


def test_the_graders_cgroups_are_removed_when_the_batch_ends(resources):
    import os

    for controller in ("cpu", "memory", "pids"):
        own = Path("/proc/self/cgroup").read_text()
        line = next(l for l in own.splitlines() if controller in l.split(":")[1].split(","))
        folder = Path("/sys/fs/cgroup") / controller / line.split(":", 2)[2].lstrip("/")
        assert not [p for p in folder.glob(f"course-grading-{os.getpid()}-*")], controller
