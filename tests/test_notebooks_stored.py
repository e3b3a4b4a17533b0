"""The lessons as stored in the repository: executed, clean, readable without a kernel.

(nbval runs them: `pytest --nbval-lax notebooks`; these tests check how they are stored.)
"""
import math
import re
from pathlib import Path

import pytest
from support import load_notebook

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = {"01": "01_perceptron", "02": "02_activations_dense", "03": "03_backpropagation",
             "04": "04_optimizers", "05": "05_hyperparameters"}


def test_the_five_lessons_are_there():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_executed_without_errors_or_widget_state(path):
    nb = load_notebook(path)
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
    nb = load_notebook(path)
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
    sources = "".join("".join(c["source"]) for c in load_notebook(path)["cells"])
    assert "course.widgets" in sources or "from course import widgets" in sources


def _text(cell) -> str:
    return "".join(cell["source"])


def _first(cells, needle) -> int:
    return next(i for i, c in enumerate(cells) if needle in _text(c))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_ends_with_concept_questions_readable_without_a_kernel(path):
    from course.quiz import lesson_quiz

    cells = load_notebook(path)["cells"]
    lesson = int(path.name[:2])
    at = _first(cells, f"lesson_quiz({lesson})")
    later = [_text(c).split("\n")[0] for c in cells[at + 1:] if c["cell_type"] == "markdown"]
    assert [h for h in later if h.startswith("## ")] == ["## Summary"], \
        "the concept questions are the lesson's last section before the summary"
    stored = [out.get("data", {}).get("text/markdown", "") for out in cells[at]["outputs"]]
    markdown = "".join("".join(m) for m in stored)
    for question in lesson_quiz(lesson).questions:
        assert question.text in markdown, "the stored notebook shows every question without a kernel"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_thing_to_try_says_what_to_expect(path):
    for cell in load_notebook(path)["cells"]:
        text = _text(cell)
        if cell["cell_type"] != "markdown" or "Things to try" not in text:
            continue
        items = [line for line in text.split("Things to try", 1)[1].splitlines()
                 if re.match(r"(\d+\.|-) ", line)]
        assert items and text.count("<details>") == len(items), \
            f"{path.name}: each of the {len(items)} things to try gets its expected observation in a <details>"


def _lesson(number):
    return next(p for p in NOTEBOOKS if p.name.startswith(number))


def test_lesson_1_the_learner_writes_the_rule_before_the_library_trains():
    cells = load_notebook(_lesson("01"))["cells"]
    assert _first(cells, "check_update_rule(my_update)") < _first(cells, "train_perceptron(x, y")


def test_lesson_3_works_backpropagation_by_hand_before_the_matrix_form():
    cells = load_notebook(_lesson("03"))["cells"]
    by_hand = _first(cells, "plot_computation_graph(hand)")
    assert by_hand < _first(cells, "## 4. The backward pass")
    assert _first(cells, "kernel_gradients(hand)") < _first(cells, "## 4. The backward pass")


def test_lesson_4_derives_every_optimizer_before_racing_them():
    from course.derivations import OPTIMIZER_CHAIN

    cells = load_notebook(_lesson("04"))["cells"]
    race = _first(cells, "Seven optimizers on two landscapes")
    for step in OPTIMIZER_CHAIN:
        formula = _first(cells, step.formula)
        code = _first(cells, f'implementation("{step.name}")')
        assert formula < code < race, step.name
        printed = "".join("".join(out.get("text", "")) for out in cells[code]["outputs"])
        assert step.step.__name__ in printed
    assert _first(cells, "plot_step_per_weight") < race


def test_lessons_4_and_5_say_where_mnist_comes_from_and_make_no_claim_their_numbers_contradict():
    for number in ("04", "05"):
        text = " ".join(_text(c) for c in load_notebook(_lesson(number))["cells"])
        assert "cache" in text and "COURSE_DATA_DIR" in text
    lesson4 = " ".join(_text(c) for c in load_notebook(_lesson("04"))["cells"])
    assert "grow without bound, which is why" not in lesson4
    assert "*updated* $v$" in lesson4
    lesson5 = " ".join(_text(c) for c in load_notebook(_lesson("05"))["cells"])
    for wrong in ("on every run", "degrades slowly", "so learning is slow"):
        assert wrong not in lesson5, wrong


def test_lesson_5_states_the_book_claims_the_figure_draws():
    from course.results import load_book_runs
    from course.runs.hyperparameters import BOOK_CLAIMS, compare_with_book

    text = " ".join(" ".join(_text(c).split()) for c in load_notebook(_lesson("05"))["cells"])
    base, gain = BOOK_CLAIMS[(10, "sigmoid", 5)][1], BOOK_CLAIMS[(10, "relu", 5)][1]
    assert f"passed* {100 * base:.0f} %" in text and f"more than {100 * (base + gain):.0f} %" in text
    relu = next(r for r in compare_with_book(load_book_runs()) if r.run.startswith("784-10(relu)"))
    assert math.isclose(relu.claimed_accuracy, base + gain)


def test_lesson_5_shows_validation_accuracy_falling_and_where_early_stopping_stops():
    cells = load_notebook(_lesson("05"))["cells"]
    at = _first(cells, "print(runs.overfitting_sentence(overfit))")
    printed = "".join("".join(out.get("text", "")) for out in cells[at]["outputs"])
    peak, last = (float(v) for v in re.findall(r"peaks at ([\d.]+)% .* falls to ([\d.]+)%", printed)[0])
    assert last < peak - 3, printed
    assert "EarlyStopping" in printed and "stops after epoch" in printed


def test_lesson_5_describes_the_overfitting_run_it_makes():
    cells = load_notebook(_lesson("05"))["cells"]
    call = _text(cells[_first(cells, "runs.overfitting_run(small")])
    args = dict(re.findall(r"(\w+)=\(?([\d.]+)", call))
    prose = " ".join(_text(cells[_first(cells, "### The book's signal")]).split())
    assert f"{float(args['label_noise']) * 100:.0f} % of their labels" in prose
    assert f"{args['hidden']} ReLU units" in prose and f"for {args['epochs']} epochs" in prose
    assert f"patience={args['patience']}" in prose and "500 images" in prose
    assert "n_train=500" in _text(cells[_first(cells, "small = mnist.load_subset(")])


def test_lesson_4_quotes_the_rosenbrock_limit_that_the_claims_test_checks():
    text = " ".join(" ".join(_text(c).split()) for c in load_notebook(_lesson("04"))["cells"])
    assert "About 0.002 from the default start: at 0.003 the loss turns into `nan`" in text


def test_lesson_5_words_the_keras_gap_as_the_stored_runs_measure_it():
    from course.results import load_book_runs
    from course.runs.hyperparameters import compare_with_book

    rows = [r for r in compare_with_book(load_book_runs()) if r.keras_accuracy is not None]
    sigmas = [abs(r.keras_accuracy - r.accuracy) / r.accuracy_std for r in rows]
    text = " ".join(" ".join(_text(c).split()) for c in load_notebook(_lesson("05"))["cells"])
    assert "a distance of about two standard deviations is weak evidence" in text
    assert round(max(sigmas)) == 2, "the prose speaks of about two standard deviations at most"
    assert max(max(r.seeds, r.keras_seeds) for r in rows) <= 3, "and of two or three seeds on each side"
    assert "with only two or three seeds on each side" in text
