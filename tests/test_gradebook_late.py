"""Late penalties and per-student extensions in nbgrader's gradebook (``course.gradebook.late``).

A gradebook made with nbgrader's own API: one assignment due ``DUE`` with one 4-point cell, two
students who handed in two days late. ``GrantExtensions`` then nbgrader's ``AssignLatePenalties``
(the order ``configure(c)`` gives ``nbgrader autograde``) at one point a day late: an extension
moves that student's due date for that assignment and nobody else's.
"""
import datetime as dt
import os
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbgrader")
import nbformat  # noqa: E402
from traitlets.config import Config  # noqa: E402

from course.gradebook.late import GrantExtensions, PointsPerDay, extension_hours, penalty  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*not in session.*")   # nbgrader's add_submission

DUE = dt.datetime(2026, 10, 1, 23, 59)
ASSIGNMENT, NOTEBOOK = "01_perceptron", "perceptron"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The gradebook, made once (nbgrader runs `alembic` to make one, which takes seconds)."""
    from nbgrader.api import Gradebook

    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    with Gradebook(f"sqlite:///{path}") as gradebook:
        gradebook.add_assignment(ASSIGNMENT, duedate=DUE)
        gradebook.add_notebook(NOTEBOOK, ASSIGNMENT)
        gradebook.add_grade_cell("q1", NOTEBOOK, ASSIGNMENT, max_score=4, cell_type="code")
        gradebook.add_assignment("02_backprop", duedate=DUE)
        for student in ("ada", "alan"):
            gradebook.add_student(student)
            gradebook.add_submission(ASSIGNMENT, student, timestamp=DUE + dt.timedelta(days=2))
            gradebook.find_grade("q1", NOTEBOOK, ASSIGNMENT, student).auto_score = 4
        gradebook.db.commit()
    return path


@pytest.fixture
def db(made, tmp_path):
    shutil.copy(made, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


def late_penalties(db: str, extensions: dict) -> dict:
    """Run the two steps for each student as ``nbgrader autograde`` does; the penalties and due dates."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties

    config = Config()
    config.AssignLatePenalties.plugin_class = "course.gradebook.late.PointsPerDay"
    config.PointsPerDay.points_per_day = 1.0
    config.PointsPerDay.extensions = extensions
    for student in ("ada", "alan"):
        resources = {"nbgrader": {"student": student, "assignment": ASSIGNMENT, "notebook": NOTEBOOK, "db_url": db}}
        for step in (GrantExtensions(config=config), AssignLatePenalties(config=config)):
            step.preprocess(nbformat.v4.new_notebook(), resources)
    with Gradebook(db) as gradebook:
        return {student: (gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).late_submission_penalty or 0.0,
                          gradebook.find_submission(ASSIGNMENT, student).duedate) for student in ("ada", "alan")}


def test_without_an_extension_two_days_late_costs_two_points(db):
    assert late_penalties(db, {}) == {"ada": (2.0, DUE), "alan": (2.0, DUE)}


def test_an_extension_moves_that_students_due_date_and_nobody_elses(db):
    result = late_penalties(db, {"ada": {ASSIGNMENT: 72}, "alan": {"02_backprop": 72}})
    assert result["ada"] == (0.0, DUE + dt.timedelta(hours=72)), result
    assert result["alan"] == (2.0, DUE), result    # his extension is for another assignment


def test_late_days_count_from_the_extended_due_date(db):
    result = late_penalties(db, {"ada": {ASSIGNMENT: 24}})   # one day late instead of two
    assert result["ada"] == (1.0, DUE + dt.timedelta(hours=24)), result


def test_a_new_extension_replaces_the_old_and_zero_takes_it_away(db):
    late_penalties(db, {"ada": {ASSIGNMENT: 72}})
    assert late_penalties(db, {"ada": {ASSIGNMENT: 30}})["ada"] == (1.0, DUE + dt.timedelta(hours=30))
    assert late_penalties(db, {"ada": {ASSIGNMENT: 0}})["ada"] == (2.0, DUE)


def test_an_extension_left_out_of_the_configuration_stays_in_the_gradebook(db):
    late_penalties(db, {"ada": {ASSIGNMENT: 72}})
    assert late_penalties(db, {})["ada"] == (0.0, DUE + dt.timedelta(hours=72))


@pytest.mark.parametrize("extensions", [{"ada": 48}, {"ada": {ASSIGNMENT: -1}}, {"ada": {ASSIGNMENT: "two days"}}])
def test_a_malformed_extension_says_what_is_expected(extensions):
    with pytest.raises(ValueError, match="s007"):
        extension_hours(extensions, "ada", ASSIGNMENT)


def test_the_penalty_is_points_per_day_started_and_at_most_the_score():
    assert penalty(1, 8, 1.5) == 1.5
    assert penalty(86400 + 1, 8, 1.5) == 3.0
    assert penalty(30 * 86400, 8, 1.5) == 8.0
    assert penalty(0, 8, 1.5) == 0.0 and penalty(86400, 8, 0.0) == 0.0
    assert PointsPerDay(points_per_day=2.0).late_submission_penalty("ada", 8.0, 3600) == 2.0


def test_nbgrader_autograde_grants_extensions_before_the_late_penalty():
    from nbgrader.preprocessors import AssignLatePenalties

    from course.gradebook.config import configure

    c = Config()
    configure(c)
    steps = list(c.Autograde.autograde_preprocessors)
    assert steps.index(GrantExtensions) == steps.index(AssignLatePenalties) - 1


def test_the_command_line_takes_extensions():
    from course.gradebook.cli import parse_args

    args = parse_args(["submitted", "--db", "gradebook.db", "--extension", f"ada/{ASSIGNMENT}=48",
                       "--extension", "ada/02_backprop=0", "--extension", f"alan/{ASSIGNMENT}=1.5"])
    assert args.extension == {"ada": {ASSIGNMENT: 48.0, "02_backprop": 0.0}, "alan": {ASSIGNMENT: 1.5}}


@pytest.mark.parametrize("given", ["ada=48", f"ada/{ASSIGNMENT}", f"ada/{ASSIGNMENT}=two", f"ada/{ASSIGNMENT}=-3"])
def test_a_malformed_extension_on_the_command_line_is_refused_with_an_example(given, capsys):
    from course.gradebook.cli import parse_args

    with pytest.raises(SystemExit):
        parse_args(["submitted", "--db", "gradebook.db", "--extension", given])
    assert "s007/01_perceptron=48" in capsys.readouterr().err
