"""The browser helpers themselves: a broken dashboard must fail loudly, naming notebook and control."""
import pytest

from .lab import Notebook


def test_a_dashboard_whose_callback_raises_fails_with_the_notebook_and_control(lab, page):
    nb = Notebook(page, lab, "fixtures/broken_dashboard.ipynb").open()
    nb.run_all(timeout=60)
    nb.assert_no_errors()
    nb.assert_widgets_render(expected_min=1)
    with pytest.raises(AssertionError, match=r"broken_dashboard\.ipynb.*'slope'.*deliberately broken"):
        nb.change_control(0)


def test_a_cell_error_is_reported_with_the_notebook_and_cell(lab, page):
    nb = Notebook(page, lab, "fixtures/raises.ipynb").open()
    nb.run_all(timeout=60)
    with pytest.raises(AssertionError, match=r"raises\.ipynb: cells show errors: cell 0: ZeroDivisionError"):
        nb.assert_no_errors()
