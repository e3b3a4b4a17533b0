"""The batch grader against submissions that misbehave (``tests/grading/adversarial.py``).

One batch grades every case of the perceptron assignment (8 points: predict 2, the update rule
3, the training loop 3) side by side. For each case: the batch finishes, the case gets the
points of the parts that work and a reason an instructor can read, the well-behaved
submissions get exactly the score they get when graded alone, and no file of the instructor
or of another student changes.
"""
import csv
import shutil
import time
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
from course.grading.trusted import runner  # noqa: E402
from grading import adversarial  # noqa: E402
from support import assert_outcome, course_folder, file_hashes, grade_with_cli, own_descendants  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_perceptron"
NOTEBOOK = "perceptron.ipynb"
SETTINGS = runner.Settings(timeout=90, cell_timeout=8, memory_mb=1536, jobs=2)

# case -> (score out of 8, status, words the reason must contain)
EXPECTED = {
    "full_marks": (8, "ok", ""),
    "partial": (5, "ok", "failed: test_train_by_hand"),
    "empty": (0, "ok", "no test passed"),
    "infinite_loop": (2, "flagged", "cell 'perceptron_update' was stopped after 8 s"),
    "loop_ignoring_sigint": (5, "flagged", "the kernel was restarted"),
    "loop_ignoring_signals": (5, "flagged", "the kernel was restarted"),
    "import_error": (5, "ok", "raised ModuleNotFoundError: No module named 'a_module_that_does_not_exist'"),
    "edited_tests": (8, "flagged", "test cell 'test_predict_by_hand' was deleted"),
    "stripped_metadata": (8, "flagged", "3 answer cell(s) had no nbgrader metadata"),
    "not_json": (0, "invalid", "the file is not valid JSON"),
    "wrong_nbformat": (0, "invalid", "nbformat 99"),
    "prints_100mb": (8, "flagged", "cell 'predict' printed at least"),
    # with a cgroup the whole submission's memory is limited: the hog is stopped by its cell's
    # time limit (or, per process, by its address space): 2 points either way
    "memory_hog": (2, "flagged", "cell 'perceptron_update'"),
    # in the jail the instructor's files do not exist; naming them in an answer is flagged
    "reads_hidden_tests": (0, "flagged", "raised FileNotFoundError"),
    "writes_instructor_files": (8, "flagged", "left for the instructor"),
    "missing": (0, "missing", "no perceptron.ipynb"),
    "symlink_to_source": (0, "invalid", "symbolic link"),
}




def _grading_processes() -> list[str]:
    """Grading processes, jails and kernels among this test's own descendants (never other
    programs'; a JupyterLab another test of the session started is not one of them)."""
    return [command for _, command in own_descendants()
            if "course.grading" in command or "course-grading-" in command or "bwrap" in command]


def _write_cases(root: Path, cases) -> tuple[Path, Path]:
    course = root / "course"
    if not course.exists():
        course_folder(root, assignments=None, secret="c3" * 32)
        (course / "gradebook.db").write_bytes(b"the gradebook")
    source = course / "source" / ASSIGNMENT / NOTEBOOK
    release = course / "release" / ASSIGNMENT / NOTEBOOK
    submitted = root / "submitted"
    targets = {"source": source, "gradebook": course / "gradebook.db", "release": release,
               "other": root / "submitted" / "full_marks" / ASSIGNMENT / NOTEBOOK}
    for case in cases:
        adversarial.write_case(case, submitted / case / ASSIGNMENT, source, release, targets)
    return course, submitted


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("robustness")
    course, submitted = _write_cases(root, EXPECTED)
    before = file_hashes(course, submitted)
    start = time.monotonic()
    code, results = grade_with_cli(submitted, root / "out", course / "source", SETTINGS)
    seconds = time.monotonic() - start
    assert code == 0
    after = file_hashes(course, submitted)
    alone = {}
    for case in ("full_marks", "partial"):
        single = root / f"alone-{case}"
        shutil.copytree(submitted / case, single / case)
        alone[case] = runner.grade_batch(single, root / f"out-{case}", course / "source", SETTINGS)[0]
    return {"results": {r.student: r for r in results}, "before": before, "after": after,
            "alone": alone, "out": root / "out", "seconds": seconds}


@pytest.mark.parametrize("case", EXPECTED)
def test_each_case_gets_the_points_of_what_works_and_a_reason(batch, case):
    score, status, words = EXPECTED[case]
    assert_outcome(batch["results"][case], score, status, words, max_score=8)


def test_every_case_is_in_grades_csv_with_a_reason_unless_it_got_full_marks(batch):
    with open(batch["out"] / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(EXPECTED)
    for case, row in rows.items():
        assert float(row["score"]) == EXPECTED[case][0] and row["status"] == EXPECTED[case][1]
        assert row["reason"] or row["score"] == row["max_score"], case
        assert (batch["out"] / "feedback" / f"{case}.md").is_file()


@pytest.mark.parametrize("case", ["full_marks", "partial"])
def test_a_well_behaved_submission_scores_in_the_batch_what_it_scores_alone(batch, case):
    together, alone = batch["results"][case], batch["alone"][case]
    assert [(t.grade_id, t.points) for t in together.tests] == [(t.grade_id, t.points) for t in alone.tests]
    assert (together.score, together.status) == (alone.score, alone.status)


def test_no_file_of_the_instructor_or_of_a_student_changes(batch):
    assert batch["after"] == batch["before"]


def test_hidden_tests_do_not_reach_the_feedback(batch):
    feedback = (batch["out"] / "feedback" / "reads_hidden_tests.md").read_text()
    assert "HIDDEN" not in feedback and "_reference_train" not in feedback


def test_no_grading_process_or_kernel_outlives_the_batch(batch):
    deadline = time.monotonic() + 10
    while _grading_processes() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _grading_processes() == []


def test_the_notebook_time_limit_kills_a_kernel_that_ignores_sigint_and_sigterm(tmp_path):
    _, submitted = _write_cases(tmp_path, ["loop_ignoring_signals"])
    settings = runner.Settings(timeout=12, cell_timeout=120, memory_mb=1536, jobs=1)
    [result] = runner.grade_batch(submitted, tmp_path / "out", tmp_path / "course" / "source", settings)
    assert (result.score, result.status) == (5, "timeout")
    assert result.seconds < settings.cell_timeout  # the notebook's limit ended it, not the cell's
    assert result.reason.startswith("stopped after 12 s, the time limit of a notebook (3 test cells had not run)")
    assert _grading_processes() == []
