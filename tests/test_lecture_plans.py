"""The lecture plans in lectures/ agree with the decks their lessons make (course.lecture.check_plan)."""
import json
from pathlib import Path

import pytest

from course import lecture

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("0[1-5]_*.ipynb"))


def md(text, kind):
    return {"cell_type": "markdown", "metadata": {"slideshow": {"slide_type": kind}}, "source": text}


def deck():
    """Five slides: the title, section 1 (two slides), section 2 (one), the summary."""
    return {"cells": [md("# Title", "slide"), md("## 1. One", "slide"), md("more of one", "subslide"),
                      md("## 2. Two", "slide"), md("## Summary", "slide")], "metadata": {}}


def plan(rows, total=(10, 20), cut="The 50-minute cut skips slides 3 (more of one), and runs the demo."):
    lines = ["| section | 50 minutes | 90 minutes |", "|---|---:|---:|"]
    lines += [f"| {label} | {a} | {b} |" for label, a, b in rows]
    lines += [f"| **total** | **{total[0]}** | **{total[1]}** |", "", cut]
    return "\n".join(lines)


GOOD = [("Title and goals", 1, 2), ("1. One", 3, 6), ("2. Two", 4, 8), ("Summary", 2, 4)]


def test_a_plan_that_fits_its_deck_passes():
    assert lecture.check_plan(plan(GOOD), deck(), "p") == []


def test_minutes_that_do_not_add_up_are_named():
    rows = [("Title and goals", 1, 2), ("1. One", 3, 6), ("2. Two", 5, 8), ("Summary", 2, 4)]
    assert lecture.check_plan(plan(rows), deck(), "p") == ["p: the minutes of column 1 add up to 11, not 10"]


def test_a_section_whose_slides_the_cut_skips_gets_no_minutes():
    cut = "The 50-minute cut skips slides 4 (section two), and runs the demo."
    errors = lecture.check_plan(plan(GOOD, cut=cut), deck(), "p")
    assert errors == ["p: the row '2. Two' gets 4 minutes in column 1, but the cut skips all its slides [4]"]
    rows = [("Title and goals", 1, 2), ("1. One", 5, 6), ("2. Two", 0, 8), ("Summary", 4, 4)]
    assert lecture.check_plan(plan(rows, total=(10, 20), cut=cut), deck(), "p") == []


def test_every_slide_the_cut_names_exists():
    cut = "The 50-minute cut skips slides 3 and 9-10 (gone): say them, and runs the demo."
    errors = lecture.check_plan(plan(GOOD, cut=cut), deck(), "p")
    assert errors == ["p: the 50-minute cut skips slide 9, but the deck has 5 slides",
                      "p: the 50-minute cut skips slide 10, but the deck has 5 slides"]


def test_too_few_minutes_for_the_slides_shown_and_unknown_sections_are_named():
    rows = [("Title and goals", 1, 2), ("1. One", 3, 0), ("2. Two", 4, 8), ("3. Three", 0, 6), ("Summary", 2, 4)]
    errors = lecture.check_plan(plan(rows, total=(10, 20)), deck(), "p")
    assert "p: the row '1. One' gets 0 minutes in column 2 for 2 slides: at least 1" in errors
    assert "p: the row '3. Three' names no section of the deck (no section ['3'])" in errors
    rows = [("Title and goals", 1, 2), ("1. One", 7, 14), ("Summary", 2, 4)]
    assert lecture.check_plan(plan(rows), deck(), "p") == [
        "p: section '2' (slides [4]) has no row in the table"]


def test_the_cut_is_read_without_the_words_in_brackets_or_after_the_colon():
    text = ("The 50-minute cut skips slides 6 (worked example: slide 7 stays), 15, 19-20 and 32 to 34: "
            "show slide 40 only, and runs the dashboard")
    assert lecture._skipped_slides(text) == [6, 15, 19, 20, 32, 33, 34]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_each_lesson_plan_fits_its_deck(path):
    plan_path = ROOT / "lectures" / f"{path.stem}.md"
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert lecture.check_plan(plan_path.read_text(encoding="utf-8"), nb, plan_path.name) == []


def test_lesson_5_cut_keeps_the_table_that_says_the_gradients_explode():
    path = ROOT / "notebooks" / "05_hyperparameters.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    skipped = lecture._skipped_slides((ROOT / "lectures" / "05_hyperparameters.md").read_text(encoding="utf-8"))
    for number, s in enumerate(lecture.slides(nb), start=1):
        text = "".join("".join(nb["cells"][i]["source"]) for i in s.shown)
        if "explain_large_tanh_init" in text:
            assert number not in skipped, f"slide {number} carries 'the gradients explode'"
            break
    else:
        pytest.fail("no slide shows explain_large_tanh_init")
