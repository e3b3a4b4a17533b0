"""Presenting a lesson as a lecturer does, in Chromium at 1280x720: `python -m course.lecture lab`
(what `make lecture` runs), the deck through the menus and then the keyboard only, the lesson run
while presenting, the presenter view in a second window, and the next lecture after a save."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from course import lecture

from .conftest import ROOT
from .lab import JS_ERRORS, JS_KERNEL_BUSY

LESSON = ROOT / "notebooks" / "01_perceptron.ipynb"
SCREEN = {"width": 1280, "height": 720}
ACTIVE = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
ONSCREEN = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')]
  .map((c, i) => [i, c]).filter(([i, c]) => c.classList.contains('jp-deck-mod-onscreen')
     && getComputedStyle(c).visibility !== 'hidden' && c.getBoundingClientRect().height > 0)
  .map(([i, c]) => i)"""
NOTES_TEXT = re.compile(r"^\*\*(Say|Ask|Expect|Demo)", re.M)


class Lecture:
    """`python -m course.lecture lab LESSON --no-browser` in a temporary HOME, as make lecture runs it."""

    def __init__(self, workdir: Path, lesson: Path = LESSON):
        self.home, self.copies = workdir / "home", workdir / "lecture"
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOME": str(self.home), "JUPYTER_CONFIG_DIR": str(self.home / ".jupyter"),
               "JUPYTER_DATA_DIR": str(self.home / ".local/share/jupyter"), "IPYTHONDIR": str(self.home / ".ipython"),
               "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"), "PYTHONUNBUFFERED": "1",
               "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        env.pop("JUPYTER_PATH", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "course.lecture", "lab", str(lesson), "--no-browser", "--copy-to", str(self.copies)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[str] = []
        self.url = self.presenter = None
        deadline = time.monotonic() + 180
        while self.presenter is None and time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError("the lecture stopped before printing its addresses:\n" + "".join(self.lines))
            self.lines.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+/\S+\?token=[0-9a-f]+)", line)  # not the log's masked one
            if found and "/lab/tree/" in found.group(1):
                self.url = found.group(1)
            elif found and "/course/presenter/" in found.group(1):
                self.presenter = found.group(1)
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True).start()
        self.copy = self.copies / lesson.name

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def presented(tmp_path_factory):
    before = LESSON.read_bytes()
    talk = Lecture(tmp_path_factory.mktemp("talk"))
    yield talk, before
    talk.stop()


@pytest.fixture(scope="module")
def window(browser, presented):
    """The projected window and, in the same browser, the presenter view."""
    talk, _ = presented
    context = browser.new_context(viewport=SCREEN)
    deck = context.new_page()
    deck.goto(talk.url)
    deck.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.content", timeout=120000)
    deck.wait_for_function(f"() => window.courseDeck && window.courseDeck.ran[{json.dumps(talk.copy.name)}]"
                           " === 'done' || (window.courseDeck && Object.values(window.courseDeck.ran).includes('done'))",
                           timeout=300000)
    yield context, deck
    context.close()


def _wait_idle(page, timeout=240):
    deadline = time.monotonic() + timeout
    quiet = None
    while time.monotonic() < deadline:
        busy = page.evaluate(JS_KERNEL_BUSY) != "idle" or page.locator(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt:has-text('[*]')").count()
        if not busy:
            quiet = quiet or time.monotonic()
            if time.monotonic() - quiet > 1.0:
                return
        else:
            quiet = None
        time.sleep(0.25)
    raise AssertionError("the kernel was still busy")


def _kinds(nb):
    return [lecture.slide_type(c) for c in nb["cells"]]


def _on_a_slide(deck, nb):
    active = deck.evaluate(ACTIVE)
    shown = deck.evaluate(ONSCREEN)
    assert _kinds(nb)[active] not in ("notes", "skip"), f"the deck is on cell {active}, a {_kinds(nb)[active]} cell"
    assert shown, "nothing on the projected screen"
    assert not [i for i in shown if _kinds(nb)[i] == "notes"], f"notes on the projected screen: {shown}"
    return active


def test_the_address_is_printed_once_the_server_answers(presented):
    talk, _ = presented
    port = re.search(r":(\d+)/", talk.url).group(1)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=10) as response:
        assert response.status == 200
    assert str(talk.copy.relative_to(talk.copy.parents[1])) in talk.url or talk.copy.name in talk.url


def test_the_deck_runs_the_lesson_and_stays_on_the_first_slide(window, presented):
    _, deck = window
    nb = json.loads(LESSON.read_text())
    assert deck.evaluate("document.body.dataset.jpDeckMode") == "presenting"
    _wait_idle(deck)
    assert deck.evaluate(ACTIVE) == 0, "running the lesson moved the deck"
    errors = deck.evaluate(JS_ERRORS)
    assert not errors, f"cells raised: {errors}"
    assert deck.locator("text=Would you like to get notified").count() == 0, "the news pop-up is on the deck"
    _on_a_slide(deck, nb)


def test_through_the_menus_then_the_keyboard(window):
    context, deck = window
    nb = json.loads(LESSON.read_text())
    deck.locator(".jp-deck-mod-onscreen").first.wait_for()
    # leave the deck and start it again with the deck button of the notebook's toolbar, as the
    # start message says (while presenting, the button sits with the deck's own controls)
    for mode in ("", "presenting"):
        button = deck.locator(".jp-NotebookPanel:not(.lm-mod-hidden) [data-jp-item-name='deck'] button").first
        if not button.is_visible():
            deck.evaluate("() => window.jupyterapp.commands.execute('deck:toggle')")
        else:
            button.click()
        deck.wait_for_function(f"() => (document.body.dataset.jpDeckMode || '') === '{mode}'")
    start = deck.evaluate(ACTIVE)
    seen = [start]
    for _ in range(6):
        deck.keyboard.press("Space")
        deck.wait_for_function(f"() => window.jupyterapp.shell.currentWidget.content.activeCellIndex !== {seen[-1]}")
        seen.append(_on_a_slide(deck, nb))
    for _ in range(3):
        deck.keyboard.press("Shift+Space")
        deck.wait_for_function(f"() => window.jupyterapp.shell.currentWidget.content.activeCellIndex !== {seen[-1]}")
        seen.append(_on_a_slide(deck, nb))
    assert seen[-1] < seen[-4], f"Shift+Space did not go back: {seen}"


def test_running_the_lesson_while_presenting_leaves_the_deck_on_its_slide(window):
    context, deck = window
    nb = json.loads(LESSON.read_text())
    for _ in range(3):
        deck.keyboard.press("Space")
        time.sleep(0.3)
    here = _on_a_slide(deck, nb)
    deck.keyboard.press("Control+Shift+C")                     # the command palette: the menus are hidden
    palette = deck.locator(".lm-CommandPalette-input")
    palette.wait_for()
    palette.fill("Run All Cells")
    deck.locator(".lm-CommandPalette-item.lm-mod-active").wait_for()
    deck.keyboard.press("Enter")
    time.sleep(1.0)
    _wait_idle(deck)
    assert _on_a_slide(deck, nb) == here, "Run All moved the deck"
    deck.keyboard.press("Space")
    deck.wait_for_function(f"() => window.jupyterapp.shell.currentWidget.content.activeCellIndex !== {here}")
    _on_a_slide(deck, nb)


def test_the_presenter_view_follows_the_deck_and_the_projector_never_shows_notes(window, presented):
    talk, _ = presented
    context, deck = window
    nb = json.loads(LESSON.read_text())
    starts = [s.start for s in lecture.slides(nb)]
    notes = context.new_page()
    notes.goto(talk.presenter)
    notes.wait_for_function("() => document.body.dataset.slide !== undefined", timeout=30000)
    deck.bring_to_front()
    for _ in range(8):
        deck.keyboard.press("Space")
        time.sleep(0.3)
        active = deck.evaluate(ACTIVE)
        slide = max(s for s in starts if s <= active)
        notes.wait_for_function(f"() => document.body.dataset.slide === '{slide}'", timeout=10000)
        said = notes.inner_text("#notes")
        expected = next(s for s in lecture.slides(nb) if s.start == slide)
        first = lecture._source(nb["cells"][expected.notes[0]]).split("**Say:**")[1].strip().split()[:4]
        assert " ".join(first) in said, f"slide at cell {slide}: the presenter view shows {said[:80]!r}"
        onscreen_text = deck.evaluate("""() => [...document.querySelectorAll('.jp-deck-mod-onscreen')]
            .filter(c => getComputedStyle(c).visibility !== 'hidden').map(c => c.innerText).join('\\n')""")
        assert "Say:" not in onscreen_text, "speaker notes on the projected window"
    notes.close()


def test_the_quiz_slide_scrolls_rather_than_clips(window):
    _, deck = window
    nb = json.loads(LESSON.read_text())
    quiz = next(i for i, c in enumerate(nb["cells"]) if lecture.is_quiz(c))
    deck.evaluate(f"() => window.jupyterapp.shell.currentWidget.content.activeCellIndex = {quiz}")
    box = deck.locator(".jp-deck-mod-onscreen .course-quiz").first
    box.wait_for(timeout=30000)
    rows = box.evaluate("""q => [...q.children].map(r => [r.getBoundingClientRect().height, r.scrollHeight])""")
    clipped = [r for r in rows if r[0] + 1 < r[1]]
    assert not clipped, f"quiz rows cut short (height, needed): {clipped}"
    fits = box.evaluate("q => q.getBoundingClientRect().bottom <= window.innerHeight + 1")
    scrolls = box.evaluate("q => q.scrollHeight <= q.clientHeight + 1 || getComputedStyle(q).overflowY === 'auto'")
    assert fits and scrolls


def test_a_saved_presented_lesson_still_checks_builds_and_presents(window, presented, tmp_path):
    talk, before = presented
    _, deck = window
    deck.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    deck.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30000)
    saved = json.loads(talk.copy.read_text())
    assert any(lecture.WIDGET_VIEW in o.get("data", {}) for c in saved["cells"] for o in c.get("outputs", [])), \
        "the save did not store the live widgets (nothing tested)"
    assert LESSON.read_bytes() == before, "presenting changed the lesson itself"
    for path in (LESSON, talk.copy):                          # make lecture's and make slides' steps
        out = subprocess.run([sys.executable, "-m", "course.lecture", "check", str(path)],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
    built = lecture.build_slides([talk.copy], tmp_path / "slides")
    assert built and built[0].stat().st_size > 0
    again = Lecture(tmp_path / "again")                       # the next make lecture starts
    try:
        assert again.url and again.copy.read_bytes() == LESSON.read_bytes()
    finally:
        again.stop()
