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
     return {index: i, top: r.top, bottom: r.bottom, left: r.left, right: r.right,
             input: (() => { const w = c.querySelector('.jp-Cell-inputWrapper');
                             return w ? w.getBoundingClientRect().height : 0; })()}; })"""


@pytest.fixture(scope="module")
def lecture_lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("lecture")
    settings = lecture.prepare_settings(work / "settings")
    server = start_lab(work, {"notebooks": ROOT / "notebooks"},
                       env_extra={"JUPYTERLAB_SETTINGS_DIR": str(settings), "COURSE_PRESENTATION": "1"})
    yield server
    server.stop()


@pytest.fixture
def screen(browser):
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    yield page
    context.close()


def _kinds(name):
    nb = json.loads((ROOT / "notebooks" / name).read_text())
    return nb, lecture.slides(nb)


@pytest.mark.parametrize("name", LESSONS)
def test_the_lesson_presents_live_slide_by_slide(name, lecture_lab, screen, screenshots):
    nb, deck = _kinds(name)
    page = screen
    lesson = Notebook(page, lecture_lab, f"notebooks/{name}").open()
    assert page.evaluate("document.body.dataset.jpDeckMode") == "presenting", "the lesson does not open presenting"
    lesson.run_all(timeout=240)
    lesson.assert_no_errors()
    lesson.command("deck:stop")
    page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0")
    lesson.command("deck:start")
    time.sleep(1.0)
    notes = {i for i, c in enumerate(nb["cells"]) if lecture.slide_type(c) == "notes"}
    plumbing = {i for i, c in enumerate(nb["cells"]) if lecture.is_plumbing(c)}
    seen, problems, redrawn = [], [], 0
    for number, expected in enumerate(deck, start=1):
        if number > 1:
            lesson.command("deck:forward")
            time.sleep(0.6)
        cells = page.evaluate(ONSCREEN)
        shown = sorted(c["index"] for c in cells)
        seen.append(shown)
        if shown != sorted(expected.shown):
            problems.append(f"slide {number}: shows cells {shown}, the metadata says {sorted(expected.shown)}")
        if notes & set(shown):
            problems.append(f"slide {number}: notes cells {sorted(notes & set(shown))} are on the projected slide")
        for c in cells:
            if c["bottom"] > SCREEN["height"] + 1 or c["top"] < -1 or c["right"] > SCREEN["width"] + 1:
                problems.append(f"slide {number}: cell {c['index']} overflows the 1280x720 window "
                                f"(top {c['top']:.0f}, bottom {c['bottom']:.0f} px)")
            if c["index"] in plumbing and c["input"] > 0:
                problems.append(f"slide {number}: the plumbing code of cell {c['index']} is visible")
        if any(lecture.is_dashboard(nb["cells"][i]) for i in shown):
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
                f"{name}: slide {number}: the dashboard did not redraw within {REDRAW_LIMIT_S} s of a slider move")
            redrawn += 1
            page.screenshot(path=str(screenshots / f"lecture_{Path(name).stem}.png"))
    lesson.command("deck:forward")
    time.sleep(0.6)
    assert sorted(c["index"] for c in page.evaluate(ONSCREEN)) == seen[-1], \
        f"{name}: the deck goes on past the {len(deck)} slides of its metadata"
    assert redrawn >= 1, f"{name}: no dashboard slide"
    assert not problems, f"{name}:\n" + "\n".join(problems)


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
        assert int(total) == len(deck), f"{name}: {total} slides in the deck, {len(deck)} in the metadata"
        empty = []
        for number in range(1, len(deck) + 1):
            if number > 1:
                page.keyboard.press("Space")
                page.wait_for_function("(n) => document.querySelector('.reveal .slide-number').innerText"
                                       ".split('/')[0].trim() === String(n)", arg=number, timeout=5000)
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
