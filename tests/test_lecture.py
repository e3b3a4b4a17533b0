"""The lessons as lectures: every cell has a slide type, the rules of course.lecture hold, and
the checker names the cells that break them."""
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import load_notebook

from course import lecture

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_the_lesson_is_ready_to_present(path):
    errors = lecture.check(load_notebook(path), path.name)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_reader_sees_the_notes_collapsed(path):
    errors = lecture.reader_errors(load_notebook(path), path.name)
    assert not errors, "\n".join(errors)


def test_the_checker_runs_from_the_command_line():
    out = subprocess.run([sys.executable, "-m", "course.lecture", "check", *map(str, LESSONS)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ready to present" in out.stdout


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_each_lesson_has_a_deck_with_a_dashboard_slide(path):
    nb = load_notebook(path)
    deck = lecture.slides(nb)
    assert 10 <= len(deck) <= 50, len(deck)          # 90 minutes at about two minutes a slide
    dashboards = [s for s in deck if any(lecture.is_dashboard(nb["cells"][i]) for i in s.shown)]
    assert dashboards and all(len(s.shown) == 1 for s in dashboards)


def _tiny(collapsed=True):
    def md(text, kind):
        return {"cell_type": "markdown", "metadata": {"slideshow": {"slide_type": kind}}, "source": text}
    note = "**Say:** a.\n\n**Ask:** b?\n\n**Misconception:** c.\n\n**Answer:** e.\n\n**Demo:** d."
    nb = {"cells": [md("# Title", "slide"), md(note, "notes"), md("## 1. A section", "slide"), md(note, "notes")],
          "metadata": {}}
    if collapsed:
        lecture.collapse_notes(nb)
    return nb


def test_the_checker_names_the_cells_that_break_a_rule():
    assert lecture.check(_tiny(), "tiny") == []
    nb = _tiny()
    nb["cells"][2]["metadata"]["slideshow"]["slide_type"] = "-"            # a section inside a slide
    errors = lecture.check(nb, "tiny")
    assert any("cell 2" in e and "must start a slide" in e for e in errors), errors
    nb = _tiny()
    del nb["cells"][3]                                                     # a slide without notes
    assert lecture.check(nb, "tiny") == ["tiny: cell 2: the slide '## 1. A section' has no notes (a markdown "
                                         "cell with slide_type 'notes' before the next slide)"]
    nb = _tiny()
    nb["cells"][1]["source"] = "**Say:** only this."                       # a note missing its parts
    assert any("cell 1" in e and "**Ask**" in e for e in lecture.check(nb, "tiny"))
    nb = _tiny()
    del nb["cells"][0]["metadata"]["slideshow"]
    assert any("cell 0" in e and "slide_type" in e for e in lecture.check(nb, "tiny"))


def test_a_dashboard_needs_a_slide_of_its_own_and_plumbing_is_hidden():
    nb = _tiny()
    dash = {"cell_type": "code", "metadata": {"slideshow": {"slide_type": "fragment"}}, "source": "dash",
            "outputs": [{"output_type": "execute_result", "data": {"text/plain": "Dashboard: " + lecture.DASHBOARD_TEXT + "."}}]}
    nb["cells"].insert(3, dash)
    assert any("cell 3" in e and "dashboard" in e for e in lecture.check(nb, "tiny"))
    plumbing = copy.deepcopy(dash)
    plumbing["outputs"] = []
    plumbing["metadata"]["tags"] = ["plumbing"]
    nb = _tiny()
    nb["cells"].insert(3, plumbing)
    assert any("cell 3" in e and "plumbing" in e for e in lecture.check(nb, "tiny"))
    plumbing["metadata"][lecture.FONTS_KEY] = lecture.HIDE_INPUT_STYLE
    assert lecture.check(nb, "tiny") == []


def test_a_dashboard_picture_is_fitted_to_its_slide():
    nb = _tiny()
    dash = {"cell_type": "code", "metadata": {"slideshow": {"slide_type": "subslide"}}, "source": "dash",
            "outputs": [{"output_type": "execute_result", "data": {"text/plain": "Dashboard: " + lecture.DASHBOARD_TEXT + "."}}]}
    note = copy.deepcopy(nb["cells"][1])
    nb["cells"] += [dash, note]
    assert any("cell 4" in e and "fits its picture" in e for e in lecture.check(nb, "tiny"))
    assert lecture.add_presenting_styles(nb) == 1 and lecture.add_presenting_styles(nb) == 0
    assert lecture.check(nb, "tiny") == []


def test_each_lesson_has_a_lecture_plan():
    for path in LESSONS:
        plan = ROOT / "lectures" / f"{path.stem}.md"
        assert plan.exists(), f"{plan} is missing"
        text = plan.read_text()
        for heading in ("50 minutes", "90 minutes", "Discussion", "Exercise", "Prepare"):
            assert heading in text, f"{plan.name} lacks a '{heading}' part"


def test_the_projector_switch_enlarges_text_and_lines():
    from course.plots import style

    try:
        base = (style.fs(8), style.lw(2.0), style.figure_dpi())
        style.presentation(True)
        assert style.presenting() and style.fs(8) >= 14 and style.lw(2.0) > 2.0 and style.figure_dpi() >= 100
    finally:
        style.presentation(False)
    assert (style.fs(8), style.lw(2.0), style.figure_dpi()) == base and base[2] >= 100


def test_lesson_4_momentum_runs_get_far_apart_colours():
    from course.plots.style import CYCLE

    def rgb(h):
        return [int(h[i:i + 2], 16) for i in (1, 3, 5)]
    # the race of lesson 4 draws SGD, momentum 0.9, Nesterov 0.9 and momentum 0.95 in this order
    a, b = rgb(CYCLE[1]), rgb(CYCLE[3])
    assert sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5 > 120, (CYCLE[1], CYCLE[3])


def test_a_section_under_other_text_in_a_cell_is_found():
    nb = _tiny()
    nb["cells"][2]["source"] = "A last remark about the title.\n\n## 1. A section\n\nIts text."
    errors = lecture.check(nb, "tiny")
    assert any("cell 2" in e and "'## 1. A section' is inside the cell" in e for e in errors), errors


def test_a_quiz_saved_while_presenting_is_not_a_dashboard():
    """JupyterLab saves the live quiz's widget view: the lesson must still check and build."""
    quiz = {"cell_type": "code", "source": "lesson_quiz(1)", "metadata": {"slideshow": {"slide_type": "fragment"}},
            "outputs": [{"output_type": "display_data", "data": {lecture.WIDGET_VIEW: {"model_id": "x"}}}]}
    assert lecture.is_quiz(quiz) and not lecture.is_dashboard(quiz)
    nb = _tiny()
    nb["cells"].insert(1, quiz)
    lecture.add_presenting_styles(nb)
    assert lecture.check(nb, "tiny") == []


def test_the_nbval_mark_is_neither_a_slide_title_nor_in_the_notes():
    nb = _tiny()
    code = {"cell_type": "code", "source": "# NBVAL_CHECK_OUTPUT\nprint(1)", "outputs": [],
            "metadata": {"slideshow": {"slide_type": "subslide"}}}
    nb["cells"][2:2] = [code, copy.deepcopy(nb["cells"][1])]
    assert any("NBVAL" in e for e in lecture.check(nb, "tiny"))
    lecture.add_presenting_styles(nb)
    assert lecture.check(nb, "tiny") == []
    assert [s.title for s in lecture.slides(nb)] == ["# Title", "print(1)", "## 1. A section"]
    assert "NBVAL" not in lecture.notes_text(nb, "tiny")


def test_notes_are_collapsed_and_labelled_for_readers():
    nb = _tiny(collapsed=False)
    errors = lecture.reader_errors(nb, "tiny")
    assert lecture.add_presenting_styles(nb) == 2
    for cell in nb["cells"]:
        if lecture.is_notes(cell):
            assert cell["metadata"]["jupyter"]["source_hidden"] is True
            assert any(lecture.NOTES_LABEL in rules.get("content", "") for rules in lecture._styles(cell).values())
    assert lecture.add_presenting_styles(nb) == 0
    assert any("not collapsed" in e for e in errors)


def test_make_lecture_presents_a_copy(tmp_path):
    lesson = LESSONS[0]
    copy = lecture.presenting_copy(lesson, tmp_path)
    assert copy.parent == tmp_path and copy.read_bytes() == lesson.read_bytes()
    copy.write_text("{}")                       # what presenting saves stays in the copy
    assert load_notebook(lesson)["cells"]


def test_the_learner_configuration_switches_off_nbgrader_and_the_news():
    page = json.loads((lecture.LEARNER_CONFIG / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader"] is True
    assert page["disabledExtensions"]["@jupyterlab/apputils-extension:announcements"] is True
    server = json.loads((lecture.LEARNER_CONFIG / "jupyter_server_config.d" / "learner.json").read_text())
    assert not any(server["ServerApp"]["jpserver_extensions"].values())
    env = lecture.learner_environment({"JUPYTER_CONFIG_PATH": "/elsewhere"})
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(lecture.LEARNER_CONFIG), "/elsewhere"]


def test_the_presenter_view_has_every_slide_and_its_notes():
    from course import server

    nb = load_notebook(LESSONS[0])
    deck = server.presenter_slides(nb)
    assert [s["start"] for s in deck] == [s.start for s in lecture.slides(nb)]
    assert all("Say:" in s["notes"] for s in deck)
    page = server.presenter_page("notebooks/x.ipynb", nb)
    assert "BroadcastChannel" in page and "</script" not in page.split("<script>")[1].split("</script>")[0]


def _pictures(deck_html: str) -> list[tuple[int, int, float]]:
    """(width, height, dots per inch) of every PNG picture in a static deck's HTML."""
    import base64
    import re
    import struct

    found = []
    for data in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"', deck_html):
        png = base64.b64decode(data)
        width, height = struct.unpack(">II", png[16:24])
        dpi, at = None, 8
        while at < len(png):
            length, kind = struct.unpack(">I4s", png[at:at + 8])
            if kind == b"pHYs":
                per_metre, _, unit = struct.unpack(">IIB", png[at + 8:at + 17])
                dpi = per_metre * 0.0254 if unit == 1 else None
                break
            if kind == b"IDAT":
                break
            at += 12 + length
        found.append((width, height, dpi))
    return found


@pytest.mark.slow
def test_the_static_deck_shows_the_projectors_pictures(tmp_path):
    """make slides: the pictures are drawn as the room sees them (COURSE_PRESENTATION=1, 110 dpi,
    text of at least 14 pt), not the learner-size ones stored in the lesson (100 dpi); the lesson
    is not written, and the run is reused while nothing changes."""
    from course.plots.style import DEFAULT_RC, PROJECTOR_RC

    lesson = LESSONS[0]
    before = lesson.read_bytes()
    out = tmp_path / "slides"
    deck = lecture.build_slides([lesson], out)[0]
    html = deck.read_text(encoding="utf-8")
    assert '<meta name="course-figures" content="projector">' in html
    pictures = _pictures(html)
    assert len(pictures) >= 3, f"{deck.name}: {len(pictures)} pictures"
    projector_dpi, learner_dpi = PROJECTOR_RC["figure.dpi"], DEFAULT_RC["figure.dpi"]
    wrong = [p for p in pictures if p[2] is None or round(p[2]) != projector_dpi]
    assert not wrong, f"{deck.name}: pictures not drawn at the projector's {projector_dpi} dpi: {wrong[:5]}"
    assert lesson.read_bytes() == before, "building the deck wrote the lesson"
    run = out / "projector" / lesson.name
    assert load_notebook(run)["metadata"][lecture.DECK_KEY]["look"] == "projector"
    stamp = run.stat().st_mtime_ns
    lecture.build_slides([lesson], out)                      # nothing changed: the run is reused
    assert run.stat().st_mtime_ns == stamp
    # the stored, learner-size pictures, on request (--stored): drawn at 100 dpi
    stored = _pictures(lecture.build_slides([lesson], tmp_path / "stored", projector=False)[0].read_text())
    assert stored and all(p[2] and round(p[2]) == learner_dpi for p in stored)
