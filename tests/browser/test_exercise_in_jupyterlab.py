"""An exercise as handed out: its first self-check tells the learner what to do."""
from .lab import Notebook


def test_unsolved_exercise_self_check_shows_friendly_feedback(lab, page, screenshots):
    nb = Notebook(page, lab, "exercises/01_perceptron/perceptron.ipynb").open()
    nb.run_all(timeout=120)  # stops at the first self-check: predict is still a stub
    errors = nb.errors()
    assert errors, "the unsolved exercise's self-check should fail"
    first = errors[0]
    assert first["ename"] == "AssertionError", first
    assert "not written yet" in first["evalue"] and "raise NotImplementedError()" in first["evalue"], first
    shown = page.locator(".jp-OutputArea-output:has-text('is not written yet')")
    assert shown.count() >= 1, "the feedback message is not visible on the page"
    shown.first.scroll_into_view_if_needed()
    nb.screenshot(screenshots, "exercise_01_feedback.png")
