"""A lesson as a learner reads it in the JupyterLab of `make lab`: the lecturer's notes are
collapsed and labelled, nbgrader's instructor tools are off, no "Jupyter news?" pop-up."""
import json
import re
import time

import pytest

from course import lecture

from .conftest import ROOT
from .lab import PANEL, Notebook, start_lab

NOTES_TEXT = re.compile(r"\b(Say|Ask|Expect|Demo|Misconception|Answer):")


@pytest.fixture(scope="module")
def learner_lab(tmp_path_factory):
    """JupyterLab as `make lab` starts it: the learner's configuration, nothing else switched off."""
    server = start_lab(tmp_path_factory.mktemp("learner"), {"notebooks": ROOT / "notebooks"},
                       env_extra={"JUPYTER_CONFIG_PATH": str(lecture.LEARNER_CONFIG)}, quiet_news=False)
    yield server
    server.stop()


def test_a_learner_reads_a_lesson_and_finds_no_notes_text(learner_lab, page):
    name = "02_multilayer_network.ipynb"
    nb = Notebook(page, learner_lab, f"notebooks/{name}").open()
    panel = page.locator(f"{PANEL} .jp-WindowedPanel-outer")
    read, seen = [], set()
    for _ in range(400):                               # read it to the end, a screen at a time
        text = page.locator(PANEL).inner_text()
        read.append(text)
        top = panel.evaluate("p => p.scrollTop")
        if top in seen:
            break
        seen.add(top)
        panel.evaluate("p => p.scrollBy(0, p.clientHeight * 0.8)")
        time.sleep(0.15)
    found = sorted({m.group(0) for text in read for m in NOTES_TEXT.finditer(text)})
    assert not found, f"{name}: notes text on the learner's page: {found}"
    notes = sum(lecture.is_notes(c) for c in json.loads((ROOT / "notebooks" / name).read_text())["cells"])
    labels = page.evaluate("""() => [...document.querySelectorAll('.jp-InputPlaceholder .jp-Placeholder-contentContainer')]
        .map(e => getComputedStyle(e, '::before').content).filter(c => c.includes('for the lecturer')).length""")
    assert labels >= 1 and notes > 0, "the collapsed notes are not labelled as the lecturer's"
    assert "Speaker notes, for the lecturer" in " ".join(read) or labels, "no label"


def test_no_instructor_tools_and_no_news_in_the_learners_lab(learner_lab, page):
    Notebook(page, learner_lab, "notebooks/01_perceptron.ipynb").open()
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert menus and not [m for m in menus if "nbgrader" in m.lower()], menus
    toolbar = page.locator(f"{PANEL} .jp-NotebookPanel-toolbar").first.inner_text()
    assert "Validate" not in toolbar, "nbgrader's Validate button"
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    disabled = config.get("disabledExtensions", [])
    assert "@jupyter/nbgrader" in disabled and "@jupyterlab/apputils-extension:announcements" in disabled, disabled
    assert page.locator("text=Would you like to get notified").count() == 0
    log = learner_lab.log.read_text()
    assert "nbgrader_config.py" not in log and "formgrader" not in log.lower(), log[-2000:]
