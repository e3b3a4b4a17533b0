"""Each lesson as a learner meets it in JupyterLab: run all, no errors, live dashboards."""
import pytest

from .conftest import ROOT
from .lab import Notebook

LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_runs_and_every_dashboard_redraws(name, lab, page, screenshots):
    nb = Notebook(page, lab, f"notebooks/{name}").open()
    nb.run_all(timeout=240)
    nb.assert_no_errors()
    count = nb.assert_widgets_render(expected_min=1)
    for index in range(count):
        nb.change_control(index)
    nb.screenshot(screenshots)


def test_there_are_five_lessons():
    assert len(LESSONS) == 5, LESSONS
