"""The exercises: nbgrader source notebooks, the committed student versions, and their grades.

- the release folder is exactly what `nbgrader generate_assignment` makes from the source;
- every notebook is well formed for nbgrader, and its headings announce the points its tests give;
- graded by the batch grader, every source notebook gets full marks and every release notebook,
  as handed out, gets 0.
"""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
ASSIGNMENTS = ["01_perceptron", "02_activations_dense", "03_backpropagation", "04_optimizers",
               "05_hyperparameters"]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _notebook(folder: str, assignment: str) -> Path:
    notebooks = sorted((EXERCISES / folder / assignment).glob("*.ipynb"))
    assert len(notebooks) == 1, f"{folder}/{assignment} should hold one notebook, found {notebooks}"
    return notebooks[0]


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _source(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def test_there_is_one_assignment_per_lesson():
    for folder in ("source", "release"):
        assert sorted(p.name for p in (EXERCISES / folder).iterdir() if p.is_dir()) == ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_is_well_formed_for_nbgrader(assignment):
    notebook = _load(_notebook("source", assignment))
    ids = [_meta(c).get("grade_id") for c in notebook["cells"]]
    assert len(ids) == len(set(ids)) and None not in ids, "every cell needs its own grade_id"
    for cell in notebook["cells"]:
        meta, text = _meta(cell), _source(cell)
        if cell["cell_type"] != "code":
            continue
        assert meta.get("schema_version") == 3, f"{meta.get('grade_id')}: nbgrader metadata missing"
        if meta.get("solution"):
            assert not meta.get("grade"), f"{meta['grade_id']}: answers are autograded by test cells"
            assert "### BEGIN SOLUTION" in text and "### END SOLUTION" in text, meta["grade_id"]
        elif meta.get("grade"):
            assert meta.get("locked") and meta.get("points", 0) > 0, meta["grade_id"]
            assert text.count("### BEGIN HIDDEN TESTS") == text.count("### END HIDDEN TESTS")
        else:
            assert meta.get("locked"), f"{meta['grade_id']}: a setup cell must be read-only"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_heading_announces_the_points_of_the_tests_below_it(assignment):
    notebook = _load(_notebook("source", assignment))
    announced, counted, section = {}, {}, None
    for cell in notebook["cells"]:
        heading = re.match(r"## (\d+)\..*\((\d+) points?\)", _source(cell))
        if cell["cell_type"] == "markdown" and heading:
            section = heading.group(1)
            announced[section], counted[section] = int(heading.group(2)), 0
        elif _meta(cell).get("grade") and section is not None:
            counted[section] += _meta(cell)["points"]
            if cell["cell_type"] == "code":
                assert _source(cell).startswith(f"# {_meta(cell)['points']} point"), \
                    f"{_meta(cell)['grade_id']}: the first line should say how many points the cell gives"
    assert announced and announced == counted


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_holds_no_solution_and_no_hidden_test(assignment):
    notebook = _load(_notebook("release", assignment))
    text = json.dumps(notebook)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    answers = [c for c in notebook["cells"] if _meta(c).get("solution") and c["cell_type"] == "code"]
    assert answers and all("raise NotImplementedError()" in _source(c) for c in answers)
    written = [c for c in notebook["cells"] if _meta(c).get("solution") and c["cell_type"] == "markdown"]
    assert written and all(_source(c) == "YOUR ANSWER HERE" for c in written), \
        "a written answer reaches the learner empty, as nbgrader's ClearSolutions leaves it"


def _written(notebook) -> list:
    return [c for c in notebook["cells"] if c["cell_type"] == "markdown" and _meta(c).get("grade")]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_one_or_two_written_questions_manually_graded_with_a_model_answer(assignment):
    notebook = _load(_notebook("source", assignment))
    written = _written(notebook)
    assert 1 <= len(written) <= 2, "each exercise asks one or two questions to answer in words"
    for cell in written:
        meta = _meta(cell)
        assert meta.get("solution") and meta.get("grade") and not meta.get("locked"), meta
        assert meta.get("schema_version") == 3 and meta.get("points", 0) > 0, meta
        answer = _source(cell)
        assert len(answer.split()) >= 40 and "YOUR ANSWER HERE" not in answer, \
            f"{meta['grade_id']}: the source holds the model answer, with what earns the points"
        assert "Grading:" in answer, f"{meta['grade_id']}: say what earns each point"
        before = notebook["cells"][notebook["cells"].index(cell) - 1]
        assert before["cell_type"] == "markdown" and "instructor" in _source(before), \
            f"{meta['grade_id']}: the question above says a person grades the answer"


def test_release_folder_is_what_nbgrader_generates_from_the_source(tmp_path):
    pytest.importorskip("nbgrader")
    shutil.copytree(EXERCISES / "source", tmp_path / "source")
    shutil.copy(EXERCISES / "nbgrader_config.py", tmp_path)
    out = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--no-db", "--force"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    for assignment in ASSIGNMENTS:
        committed = _load(_notebook("release", assignment))
        fresh = _load(tmp_path / "release" / assignment / _notebook("release", assignment).name)
        assert committed["metadata"] == fresh["metadata"]
        assert len(committed["cells"]) == len(fresh["cells"]), assignment
        for mine, theirs in zip(committed["cells"], fresh["cells"]):
            assert (mine["cell_type"], _source(mine), mine["metadata"], mine.get("id")) == \
                (theirs["cell_type"], _source(theirs), theirs["metadata"], theirs.get("id")), (
                f"{assignment}: release/ is out of date; run `nbgrader generate_assignment '*' --force "
                f"--no-db` in exercises/ and commit release/")


# -- graded by the batch grader -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    pytest.importorskip("nbgrader")
    from course.grading.trusted import runner

    root = tmp_path_factory.mktemp("exercises")
    for assignment in ASSIGNMENTS:
        for version in ("source", "release"):
            folder = root / "submissions" / version / assignment
            folder.mkdir(parents=True)
            shutil.copy(_notebook(version, assignment), folder)
    settings = runner.Settings(timeout=240, cell_timeout=120, memory_mb=2048)
    results = runner.grade_batch(root / "submissions", root / "out", EXERCISES / "source", settings)
    return {(r.student, r.assignment): r for r in results}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_gets_full_marks(graded, assignment):
    result = graded[("source", assignment)]
    failed = {t.grade_id: t.message for t in result.tests if not t.passed}
    assert result.score == result.max_score > 0, failed
    assert result.status == "ok", result.reason
    written = _written(_load(_notebook("source", assignment)))
    assert result.pending_manual == sum(_meta(c)["points"] for c in written) > 0
    assert sorted(result.manual) == sorted(_meta(c)["grade_id"] for c in written)
    assert not set(result.manual) & {t.grade_id for t in result.tests}, "a written answer is never counted as failed"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_as_handed_out_gets_zero(graded, assignment):
    result = graded[("release", assignment)]
    assert result.score == 0 and result.max_score > 0
    assert result.pending_manual > 0
    assert result.status == "ok", result.reason
    assert all("not written yet" in t.message or "NameError" in t.message for t in result.tests), \
        {t.grade_id: t.message for t in result.tests}
