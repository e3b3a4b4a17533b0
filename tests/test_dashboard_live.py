"""Dashboards following the mouse: changes from the page are drawn latest value first, in the
dashboard's drawing thread, and never queue up; the training dashboard restarts once per drag.

A change "from the page" is made here as the kernel makes it when the browser sends a value:
``control.set_state({"value": v})`` (ipywidgets locks the property meanwhile).
"""
import io
import threading
import time

import ipywidgets as widgets
import pytest
from support import wait_until

from course.plots import new_figure
from course.widgets import Dashboard, LatestOnly
from course.widgets.dashboard import describe
from course.widgets.training import training_dashboard


def drag(control, values, every: float = 0.0):
    """Send ``values`` to ``control`` one after another, each as soon as the last was handled."""
    for value in values:
        control.set_state({"value": value})
        if every:
            time.sleep(every)


def browser_drag(control, values, every: float) -> list:
    """A drag as the browser makes it: the mouse goes through ``values``, one every ``every``
    seconds; the page sends the slider's newest value whenever the kernel has answered the
    previous message (ipywidgets keeps one message in flight per control). Returns what was sent."""
    mouse = {"value": None, "done": False}

    def move():
        for value in values:
            mouse["value"] = value
            time.sleep(every)
        mouse["done"] = True

    mover = threading.Thread(target=move)
    mover.start()
    sent = []
    while True:
        done, value = mouse["done"], mouse["value"]
        if value is not None and (not sent or value != sent[-1]):
            control.set_state({"value": value})         # returns when the kernel would be idle
            sent.append(value)
        elif done:
            break
        else:
            time.sleep(0.001)
    mover.join()
    return sent


def slow_dashboard(seconds: float = 0.05, compute=None, gate: threading.Event | None = None):
    """A dashboard whose drawing takes ``seconds`` (or, with ``gate``, waits until it is set);
    ``drawn`` lists the slope of each picture, ``dash.drawn_in`` the thread that drew it."""
    drawn = []

    def draw(state, values):
        if gate is not None and drawn:
            gate.wait(30)                   # held until the test lets it go
        time.sleep(seconds)                 # a figure that takes a while to draw
        drawn.append(values["slope"])
        dash.drawn_in.append(threading.current_thread())
        fig, ax = new_figure()
        ax.plot([0, 1], [0, state])
        return fig

    dash = Dashboard({"slope": widgets.FloatSlider(value=0.0, min=0, max=100, step=1),
                      "name": widgets.Dropdown(options=[("first", "a"), ("second", "b")], value="a")},
                     compute or (lambda v: v["slope"]), draw, auto=False)
    dash.drawn_in = []
    dash.redraw()
    return dash, drawn


# -- LatestOnly ---------------------------------------------------------------------------------------
def test_requests_made_while_the_job_runs_make_one_more_run():
    seen, latest = [], {"v": 0}
    started, release = threading.Event(), threading.Event()

    def job():
        started.set()
        release.wait(30)                    # the first run is held until the requests are made
        seen.append(latest["v"])

    worker = LatestOnly(job)
    worker.request()
    assert started.wait(30)
    for v in range(1, 51):                  # 50 requests while the first run is held
        latest["v"] = v
        worker.request()
    release.set()
    assert worker.wait(30)
    assert seen[-1] == 50 and len(seen) == 2 and worker.runs == 2 and worker.requests == 51


def test_settled_runs_once_after_a_burst():
    calls = []
    worker = LatestOnly(lambda: calls.append("job"), settled=lambda: calls.append("settled"), settle=0.2)
    for _ in range(5):                      # one burst: no pause between the requests
        worker.request()
    assert worker.wait(30)
    assert calls.count("settled") == 1 and calls[-1] == "settled"
    worker.request()                        # a second burst settles once more
    assert worker.wait(30)
    assert calls.count("settled") == 2


def test_the_worker_thread_ends_when_idle():
    worker = LatestOnly(lambda: None, idle=0.05)
    worker.request()
    assert worker.wait(30)
    assert wait_until(lambda: worker._thread is None), "the idle thread did not end"
    worker.request()                        # and starts again on demand
    assert worker.wait(30) and worker.runs == 2


# -- the Dashboard base ---------------------------------------------------------------------------------
def test_changes_from_the_page_during_a_picture_end_with_one_picture_of_the_last_value():
    gate = threading.Event()
    dash, drawn = slow_dashboard(0.0, gate=gate)
    dash.pace_seconds = 0.0                          # the kernel answers at once: values pile up
    drag(dash.controls["slope"], [1.0])              # the drawing thread starts and is held
    assert wait_until(lambda: dash._worker.busy and not dash._worker._pending)
    drag(dash.controls["slope"], range(2, 41))       # 39 more values while it is held
    gate.set()
    assert dash.wait(30)
    assert dash.state == 40.0 and dash.drawn_values["slope"] == 40.0 and drawn[-1] == 40.0
    assert drawn[1:] == [1.0, 40.0], f"pictures of {drawn[1:]}: stale values were drawn"
    assert all(thread is not threading.main_thread() for thread in dash.drawn_in[1:]), \
        "the kernel drew in the message handler instead of the drawing thread"
    assert dash.last_error is None


def test_a_drag_shows_several_pictures_in_order_and_ends_on_its_last_value():
    dash, drawn = slow_dashboard(0.03)
    sent = browser_drag(dash.controls["slope"], [float(v) for v in range(1, 41)], every=0.01)
    dash.wait(30)
    during = drawn[1:]
    assert len(during) >= 2, "the picture should follow the mouse, not wait for it to stop"
    assert during == sorted(during) and during[-1] == 40.0 and sent[-1] == 40.0
    # one message per picture, not one per move: the page sends a value when the last is taken up
    assert len(sent) <= len(during) + 2, (len(sent), len(during))
    assert "slope 40," in png_description(dash)


def test_a_change_from_python_is_drawn_before_the_call_returns():
    dash, drawn = slow_dashboard(0.0)
    drag(dash.controls["slope"], [5.0, 6.0])
    dash.controls["slope"].value = 7.0       # a cell's assignment: drawn at once
    assert dash.state == 7.0 and drawn[-1] == 7.0
    dash.wait(30)
    assert dash.drawn_values["slope"] == 7.0


def test_an_error_while_following_the_mouse_is_shown_not_raised():
    def compute(values):
        if values["slope"] > 50:
            raise ValueError("slope too steep")
        return values["slope"]

    dash, _ = slow_dashboard(0.0, compute)
    drag(dash.controls["slope"], [60.0])
    dash.wait(30)
    assert "slope too steep" in dash.last_error and "slope too steep" in dash.message.value
    drag(dash.controls["slope"], [10.0])
    dash.wait(30)
    assert dash.last_error is None and dash.message.value == "" and dash.state == 10.0


def png_description(dash) -> str:
    from PIL import Image

    return Image.open(io.BytesIO(bytes(dash.image.value))).text["Description"]


def test_the_picture_names_the_settings_it_shows():
    dash, _ = slow_dashboard(0.0)
    dash.set(slope=12.0, name="b")
    assert png_description(dash) == "slope 12, name second"
    assert describe(dash.controls, {"slope": 3.5, "name": "a"}) == "slope 3.5, name first"


# -- the training dashboard: one restart per drag ----------------------------------------------------------
@pytest.mark.slow
def test_a_drag_restarts_training_once_for_the_value_it_stopped_on():
    dash = training_dashboard(epochs=5, hidden_units=4, redraw_every=100).wait()
    assert dash.trainings_started == 1
    browser_drag(dash.controls["hidden_units"], range(5, 21), every=0.02)   # a drag over 16 values
    dash.wait(30)
    assert dash.trainings_started == 2, f"{dash.trainings_started - 1} restarts for one drag"
    assert dash.state.model.layers[0].units == 20 and dash.drawn_values["hidden_units"] == 20
    assert len(dash.state.history["loss"]) == 5 and "done after 5 epoch(s)" in dash.status.value
    assert dash.last_error is None
    expected = training_dashboard(epochs=5, hidden_units=20, redraw_every=100).wait()
    assert dash.state.history == expected.state.history, "the restarted run is not the run of its settings"


@pytest.mark.slow
def test_a_drag_drops_a_long_training_without_waiting_for_it(monkeypatch):
    from course.widgets import training

    in_batch, release = threading.Event(), threading.Event()
    batch_end = training._Progress.on_batch_end

    def held(self, batch, logs=None):               # the first run is held inside its first batch
        if not in_batch.is_set():
            in_batch.set()
            release.wait(30)
        return batch_end(self, batch, logs)

    monkeypatch.setattr(training._Progress, "on_batch_end", held)
    dash = training_dashboard(epochs=300, batch_size=1, hidden_units=64, redraw_every=1000)
    assert in_batch.wait(30) and dash.running
    old_state, old_thread = dash.state, dash._thread
    answered = threading.Event()
    kernel = threading.Thread(target=lambda: (drag(dash.controls["learning_rate"], [0.01]), answered.set()))
    kernel.start()
    # the kernel answers the page while the old run is still inside its batch: it waits only
    # for the drawing thread to take the value up, never for the old run
    assert answered.wait(30), "the kernel waited for the old run"
    assert old_thread.is_alive()
    release.set()
    kernel.join(30)
    old_thread.join(30)
    assert not old_thread.is_alive()
    assert wait_until(lambda: dash.state is not old_state)
    assert old_state.history.get("loss", []) == [], "the old run went on after its batch"
    dash.stop()
    assert not dash.running and dash.state.values["learning_rate"] == pytest.approx(0.01)
