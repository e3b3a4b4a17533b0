"""An exercise as handed out, in the learner's JupyterLab: its first self-check tells the learner
what to do, and a mistake shows a message of a few lines, not a traceback."""
from .lab import PANEL, Notebook

EXERCISE = "exercises/01_perceptron/perceptron.ipynb"
#: A learner's slip: z > 0 where the step activation answers 1 at 0 (the second check catches it).
SLIP = '''def predict(x, weights, bias):
    return (x @ weights + bias > 0).astype(x.dtype)
'''


def test_unsolved_exercise_self_check_shows_friendly_feedback(lab, page, screenshots):
    nb = Notebook(page, lab, EXERCISE).open()
    nb.run_all(timeout=120)  # stops at the first self-check: predict is still a stub
    errors = nb.errors()
    assert errors, "the unsolved exercise's self-check should fail"
    first = errors[0]
    assert first["ename"] == "CheckFailed", first          # an AssertionError of the checks
    assert "not written yet" in first["evalue"] and "raise NotImplementedError()" in first["evalue"], first
    shown = page.locator(".jp-OutputArea-output:has-text('is not written yet')")
    assert shown.count() >= 1, "the feedback message is not visible on the page"
    shown.first.scroll_into_view_if_needed()
    nb.screenshot(screenshots, "exercise_01_feedback.png")


def test_a_mistake_shows_a_message_of_a_few_lines(lab, page, screenshots):
    nb = Notebook(page, lab, EXERCISE).open()
    cell = page.locator(f"{PANEL} .jp-Cell").nth(3)          # the learner writes predict, with a slip
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(SLIP)
    page.keyboard.press("Escape")
    nb.run_all(timeout=120)
    errors = nb.errors()
    assert errors and errors[0]["cell"] == 5, errors
    output = page.locator(f"{PANEL} .jp-Cell").nth(5).locator(".jp-OutputArea-output[data-mime-type*='stderr']")
    output.first.scroll_into_view_if_needed()
    output.first.wait_for()
    lines = [line for line in output.first.text_content().splitlines() if line.strip()]
    assert 1 <= len(lines) <= 4, "\n".join(lines)
    assert "z >= 0" in lines[0] and lines[0].startswith("CheckFailed"), lines
    assert not any("checks.py" in line or "Traceback" in line or "File " in line for line in lines), lines
    nb.screenshot(screenshots, "exercise_01_mistake.png")
