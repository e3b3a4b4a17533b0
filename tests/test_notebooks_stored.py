"""The lessons as stored in the repository: executed, clean, readable without a kernel.

(nbval runs them: `pytest --nbval-lax notebooks`; these tests check how they are stored.)
"""
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = {"01": "01_perceptron", "02": "02_activations_dense", "03": "03_backpropagation",
             "04": "04_optimizers", "05": "05_hyperparameters"}


def load(path):
    return json.loads(path.read_text())


def test_the_five_lessons_are_there():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_executed_without_errors_or_widget_state(path):
    nb = load(path)
    assert "widgets" not in nb["metadata"], "widget state is stored: re-run `make notebooks`"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] is not None for c in code if "".join(c["source"]).strip()), \
        f"{path.name} has cells that were never run: store it executed (`make notebooks`)"
    assert not [c for c in code if "execution" in c["metadata"]], \
        f"{path.name} stores execution timestamps, which change at every run: `make notebooks`"
    for c in code:
        for out in c["outputs"]:
            assert out["output_type"] != "error", f"{path.name} is stored with an error: {out.get('ename')}"
            assert "application/vnd.jupyter.widget-view+json" not in out.get("data", {}), \
                f"{path.name} stores a widget view that shows 'model not found' until run: `make notebooks`"
            data = out.get("data", {})
            text = "".join(data.get("text/plain", ""))
            assert "image/png" in data or not text.startswith("<Figure size"), \
                f"{path.name} shows a figure as text only: {text}"
    assert path.stat().st_size < 3_000_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_reads_as_a_lesson(path):
    nb = load(path)
    cells = nb["cells"]
    first = "".join(cells[0]["source"]).lower()
    assert cells[0]["cell_type"] == "markdown" and "able to" in first, "open with what the learner will be able to do"
    last = " ".join("".join(c["source"]) for c in cells[-3:] if c["cell_type"] == "markdown")
    assert f"exercises/release/{EXERCISES[path.name[:2]]}" in last, "end with a pointer to the exercise"
    prose = sum(c["cell_type"] == "markdown" for c in cells)
    assert prose >= len(cells) / 3, "a lesson has prose between its code cells"
    checked = sum("NBVAL_CHECK_OUTPUT" in "".join(c["source"]) for c in cells)
    assert checked >= 3, "pin the printed numbers that must not drift with # NBVAL_CHECK_OUTPUT"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_lesson_has_a_live_dashboard(path):
    sources = "".join("".join(c["source"]) for c in load(path)["cells"])
    assert "course.widgets" in sources or "from course import widgets" in sources
