"""The lessons as lectures, in Chromium: presenting live in JupyterLab (jupyterlab-slideshow) and
the static decks opened from file:// with the network blocked."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from course import lecture

from .conftest import ROOT
from .lab import REDRAW_LIMIT_S, CHROMIUM, CHROMIUM_ARGS, Notebook, start_lab

LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SCREEN = {"width": 1280, "height": 720}

ONSCREEN = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')]
  .map((c, i) => [i, c]).filter(([i, c]) => c.classList.contains('jp-deck-mod-onscreen')
     && getComputedStyle(c).visibility !== 'hidden' && c.getBoundingClientRect().height > 0)
  .map(([i, c]) => { const r = c.getBoundingClientRect();
     return {index: i, visible: c.classList.contains('jp-deck-mod-visible'), top: r.top, bottom: r.bottom, left: r.left, right: r.right,
             input: (() => { const w = c.querySelector('.jp-Cell-inputWrapper');
                             return w ? w.getBoundingClientRect().height : 0; })()}; })"""


ACTIVE = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"


@pytest.fixture(scope="module")
def lecture_lab(tmp_path_factory):
    """JupyterLab as `make lecture` starts it (course.lecture.lab): the deck on, the projector look,
    the learner's configuration and the deck's helper (course/deck.js: the projector's text sizes,
    the lesson's own run as it opens)."""
    work = tmp_path_factory.mktemp("lecture")
    settings = lecture.prepare_settings(work / "settings")
    server = start_lab(work, {"notebooks": ROOT / "notebooks"},
                       env_extra={"JUPYTERLAB_SETTINGS_DIR": str(settings), **lecture.learner_environment({}),
                                  "COURSE_PRESENTATION": "1", "COURSE_LECTURE": "1"})
    yield server
    server.stop()


@pytest.fixture
def screen(browser):
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    yield page
    context.close()


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _kinds(name):
    nb = json.loads((ROOT / "notebooks" / name).read_text())
    return nb, lecture.slides(nb)


@pytest.mark.parametrize("name", LESSONS)
def test_the_lesson_presents_live_slide_by_slide(name, lecture_lab, screen, screenshots):
    """Space, and only Space, as an instructor presses it: every fragment, subslide and slide in
    reading order. (deck:forward, the right arrow, moves on to the next *slide*: from a fragment
    it passes over the subslides below it.) A fragment is on screen, transparent, from the start
    of its slide, so a step is told by the active cell, not by what is on screen."""
    nb, deck = _kinds(name)
    page = screen
    lesson = Notebook(page, lecture_lab, f"notebooks/{name}").open(timeout=300)
    assert page.evaluate("document.body.dataset.jpDeckMode") == "presenting", "the lesson does not open presenting"
    assert page.evaluate("() => getComputedStyle(document.body).getPropertyValue('--jp-content-font-size1').trim()") \
        == "15px", "the deck's helper (course/deck.js) is not on the page: the projector's text sizes are missing"
    # the lesson runs itself as the deck opens (course/deck.js), as in `make lecture`
    page.wait_for_function(f"() => window.courseDeck && window.courseDeck.ran[{json.dumps('notebooks/' + name)}] === 'done'",
                           timeout=300000)
    lesson.wait_idle(240)
    lesson.assert_no_errors()
    lesson.command("deck:stop")
    page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0")
    lesson.command("deck:start")
    time.sleep(1.0)
    notes = {i for i, c in enumerate(nb["cells"]) if lecture.slide_type(c) == "notes"}
    plumbing = {i for i, c in enumerate(nb["cells"]) if lecture.is_plumbing(c)}
    steps, problems, redrawn = [], [], 0
    for step in range(400):                      # every key press: a slide, a subslide or a fragment
        active = page.evaluate(ACTIVE)
        if steps and active == steps[-1][0]:
            break                                # Space did not move: the end of the deck
        cells = page.evaluate(ONSCREEN)
        shown = sorted(c["index"] for c in cells)
        steps.append((active, shown, sorted(c["index"] for c in cells if c["visible"])))
        if notes & set(shown):
            problems.append(f"step {step}: notes cells {sorted(notes & set(shown))} are on the projected slide")
        for c in cells:
            if c["bottom"] > SCREEN["height"] + 1 or c["top"] < -1 or c["right"] > SCREEN["width"] + 1:
                problems.append(f"step {step}: cell {c['index']} overflows the 1280x720 window "
                                f"(top {c['top']:.0f}, bottom {c['bottom']:.0f}, right {c['right']:.0f} px)")
            if c["index"] in plumbing and c["input"] > 0:
                problems.append(f"step {step}: the plumbing code of cell {c['index']} is visible")
        if any(lecture.is_dashboard(nb["cells"][i]) for i in shown) and active == shown[0]:
            dash = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-deck-mod-onscreen .course-dashboard").first
            before = dash.locator("img").first.get_attribute("src")
            handle = dash.locator(".widget-slider .noUi-handle, .widget-hslider .noUi-handle").first
            handle.focus()
            handle.press("ArrowRight")
            handle.press("ArrowRight")
            deadline = time.monotonic() + REDRAW_LIMIT_S
            while time.monotonic() < deadline and dash.locator("img").first.get_attribute("src") == before:
                time.sleep(0.05)
            assert dash.locator("img").first.get_attribute("src") != before, (
                f"{name}: step {step}: the dashboard did not redraw within {REDRAW_LIMIT_S} s of a slider move")
            assert page.evaluate(ACTIVE) == active, f"{name}: step {step}: moving the slider moved the deck"
            redrawn += 1
            time.sleep(0.3)
            page.screenshot(path=str(screenshots / f"lecture_{Path(name).stem}.png"))
        page.keyboard.press("Space")
        time.sleep(0.3)
    # the steps of one slide share its first cell; its last step shows all of it
    slides_seen = {}
    for active, shown, visible in steps:
        slides_seen[shown[0]] = visible
    assert list(slides_seen) == [s.start for s in deck], (
        f"{name}: presenting shows {len(slides_seen)} slides starting at cells {list(slides_seen)}; "
        f"the metadata says {len(deck)}: {[s.start for s in deck]}")
    for s in deck:
        if slides_seen[s.start] != sorted(s.shown):
            problems.append(f"slide at cell {s.start}: shows cells {slides_seen[s.start]}, the metadata says {sorted(s.shown)}")
        if not s.notes:
            problems.append(f"slide at cell {s.start}: no notes")
    assert not problems, f"{name}:\n" + "\n".join(problems)
    assert redrawn >= 1, f"{name}: no dashboard slide"


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    return {p.name.replace(".slides.html", ".ipynb"): p
            for p in lecture.build_slides([ROOT / "notebooks" / n for n in LESSONS], out)}


@pytest.mark.parametrize("name", LESSONS)
def test_the_static_deck_shows_every_slide_offline(name, decks, browser, screenshots):
    nb, deck = _kinds(name)
    context = browser.new_context(viewport=SCREEN)
    left, failed = [], []
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                  else (left.append(route.request.url), route.abort()))
    page = context.new_page()
    page.on("requestfailed", lambda request: failed.append(request.url))
    try:
        page.goto(decks[name].as_uri())
        page.wait_for_function("() => document.querySelector('.reveal .slide-number')"
                               " && document.querySelector('.reveal .slide-number').innerText.includes('/')",
                               timeout=30000)
        total = page.evaluate("() => document.querySelector('.reveal .slide-number').innerText.split('/')[1].trim()")
        # the formulas: typeset by the deck's own MathJax, none left as TeX, none in error
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30000)
        page.evaluate("() => MathJax.startup.promise")
        formulas = sum(_source(c).count("$") // 2 for c in nb["cells"] if c["cell_type"] == "markdown"
                       and lecture.slide_type(c) not in ("notes", "skip"))
        math = page.evaluate("""() => { const text = document.querySelector('.reveal .slides').innerText;
            return {typeset: document.querySelectorAll('.reveal .slides mjx-container').length,
                    errors: document.querySelectorAll('.reveal .slides mjx-merror').length,
                    raw: (text.match(/\\$\\$[^$]+\\$\\$|\\$[^$\\s][^$\\n]*\\$/g) || []).slice(0, 3)}; }""")
        assert formulas == 0 or math["typeset"] > 0, f"{name}: no formula typeset ({formulas} in the lesson)"
        assert not math["raw"] and not math["errors"], f"{name}: formulas left as TeX or in error: {math}"
        assert int(total) == len(deck), f"{name}: {total} slides in the deck, {len(deck)} in the metadata"
        empty = []
        for number in range(1, len(deck) + 1):
            if number > 1:
                for _ in range(30):              # fragments first, then the next slide
                    page.keyboard.press("Space")
                    if page.evaluate("() => document.querySelector('.reveal .slide-number').innerText"
                                     ".split('/')[0].trim()") == str(number):
                        break
            visible = page.evaluate("""() => { const s = [...document.querySelectorAll('.reveal .slides section.present')].pop();
                const r = s.getBoundingClientRect();
                return r.height > 0 && s.innerText.trim().length + s.querySelectorAll('img').length > 0; }""")
            if not visible:
                empty.append(number)
            notes = page.evaluate("() => { const n = [...document.querySelectorAll('.reveal .slides section.present')]"
                                  ".pop().querySelector('aside.notes');"
                                  " return n ? [n.innerText.length, n.getBoundingClientRect().height] : null; }")
            assert notes and notes[0] > 0 and notes[1] == 0, f"{name}: slide {number}: notes missing or projected"
        images = page.evaluate("() => [...document.querySelectorAll('.reveal img')].filter(i => !i.complete || i.naturalWidth === 0).length")
        page.keyboard.press("Home")
        time.sleep(0.5)
        page.screenshot(path=str(screenshots / f"deck_{Path(name).stem}.png"))
    finally:
        context.close()
    assert not empty, f"{name}: slides {empty} show nothing"
    assert images == 0, f"{name}: {images} picture(s) did not load"
    assert not left, f"{name}: requests left file://: {left[:5]}"
    assert not failed, f"{name}: requests failed: {failed[:5]}"
