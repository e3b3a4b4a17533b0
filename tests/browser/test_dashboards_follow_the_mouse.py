"""Dragging a slider in JupyterLab: the picture follows the mouse and ends on the value it stopped on."""
import time

from .drag import analyse, drag_slider
from .lab import Notebook


def test_a_drag_shows_several_pictures_and_ends_on_the_final_value(lab, page):
    nb = Notebook(page, lab, "fixtures/follow_the_mouse.ipynb").open()
    nb.run_all(timeout=120)
    nb.assert_no_errors()
    nb.assert_widgets_render(expected_min=2)
    for to in (0.9, 0.1):
        result = analyse(drag_slider(nb, 0, "epochs", to), "epochs")
        assert result.values_passed >= 10, "the drag did not move the slider"
        assert result.pictures_during >= 3, (
            f"{result.pictures_during} pictures while the mouse moved for {result.seconds:.1f} s: "
            "the dashboard does not follow the mouse")
        assert result.last_picture_value == result.final_value and result.final_delay is not None, (
            f"the picture shows epochs={result.last_picture_value}, the slider {result.final_value}")


def test_the_training_dashboard_follows_a_drag_and_trains_the_final_value_once(lab, page):
    nb = Notebook(page, lab, "fixtures/follow_the_mouse.ipynb").open()
    nb.run_all(timeout=120)
    training = nb.dashboards().nth(1)
    result = analyse(drag_slider(nb, 1, "hidden units", 0.6), "hidden units")
    assert result.pictures_during >= 3 and result.final_delay is not None, result
    status = training.locator(".widget-html-content")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any("done after 20" in t for t in status.all_inner_texts()):
        time.sleep(0.25)
    assert any("done after 20 epoch(s)" in t for t in status.all_inner_texts()), status.all_inner_texts()
    descriptions = page.evaluate("() => window.__courseDrag.pictures.map(p => p.title)")
    assert f"hidden units {result.final_value:g}," in descriptions[-1], "the trained picture is not of the final value"
    nb.assert_no_errors()


def test_the_server_sends_kernel_messages_at_once(lab):
    """course.server is loaded: without it each picture waits up to 40 ms in the server (Nagle)."""
    log = lab.log.read_text()
    assert "course.server: kernel websockets send each message at once" in log, log[-2000:]
