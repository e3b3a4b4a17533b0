"""Submissions of a real class that the grader must grade fairly: free marks taken from the
course's own code or from the test's inputs, hidden inputs fished out through error messages,
honest notebooks that are merely large, and strings meant to act when a report is opened.

    CASES: name -> (assignment, what it does)
    write_case(name, submissions_dir, exercises_dir) -> Path of the notebook written

Each is the assignment's source notebook answered with its solutions (full marks), then changed
as its description says. tests/test_grading_fair.py grades them in one batch and checks what each
fairly gets.
"""
from __future__ import annotations

import json
from pathlib import Path

from .adversarial import _answer_cells, _answered, _meta, _text

NOTEBOOKS = {"01_perceptron": "perceptron.ipynb", "02_activations_dense": "activations_dense.ipynb",
             "03_backpropagation": "backpropagation.ipynb"}

CASES: dict[str, tuple[str, str]] = {
    "honest": ("01_perceptron", "the solutions"),
    "imports_the_reference": ("02_activations_dense", "sigmoid's answer imports course.activations.sigmoid"),
    "imports_the_reference_dynamically": ("02_activations_dense",
                                          "sigmoid's answer is found by __import__ of a built name"),
    "wraps_the_tests_gradient_check": ("03_backpropagation", "numerical_gradient's answer wraps "
                                                             "course.gradcheck.numerical_gradient, which "
                                                             "only the tests import"),
    "zeroes_the_weights": ("03_backpropagation", "network_gradients zeroes the test's weights in place, "
                                                 "nested in its params dict, and returns zeros"),
    "raises_with_its_inputs": ("01_perceptron", "predict raises an error holding its inputs when a hidden "
                                                "test calls it with 50 rows"),
    "raises_in_a_visible_test": ("01_perceptron", "predict raises an error holding its inputs in a visible test"),
    "saved_under_another_name": ("01_perceptron", "the notebook saved as 'perceptron (1).ipynb'"),
    "huge_answer_cell": ("01_perceptron", "20 MB of pasted data in an answer cell, which JupyterLab runs"),
    "non_ascii_answer_cell": ("01_perceptron", "3 MB of non-ASCII text in an answer cell"),
    "forges_report_text": ("01_perceptron", "an error message with terminal escapes, a CSV row, a closing "
                                            "code fence, a fake score header and a <script> tag"),
}

# graded in a batch of their own, beside an honest classmate, at two jobs
RESOURCE_CASES: dict[str, tuple[str, str]] = {
    "cpu_hog": ("01_perceptron", "right answers, after starting 16 processes that spin for ever on every CPU"),
    "forks_memory_hogs": ("01_perceptron", "right answers, after forking 5 children that hold 600 MB each"),
}
HOG = """
import os as _os
try:  # the grader's pinning is advisory: spread over every CPU of the machine
    _os.sched_setaffinity(0, range(_os.cpu_count()))
except OSError:
    pass
for _ in range(16):
    if _os.fork() == 0:
        _os.setsid()  # a session each: the scheduler's autogroups then count 16 users, not one
        while True:
            pass
"""
MEMORY_HOGS = """
import os as _os, select as _select, time as _time
_r, _w = _os.pipe()
for _ in range(5):
    if _os.fork() == 0:
        try:
            _held = bytearray(b"x") * (600 * 2**20)
            _os.write(_w, b"1")
            _time.sleep(600)
        finally:
            _os._exit(0)
_os.close(_w)
_held_by, _until = 0, _time.monotonic() + 30
while _held_by < 5 and _select.select([_r], [], [], max(_until - _time.monotonic(), 0))[0]:
    _got = _os.read(_r, 5)
    if not _got:
        break
    _held_by += len(_got)
"""

FORGED = ("\x1b[2J\x1b]52;c;ZXZpbA==\x07\r\n=cmd|' /C calc'!A0\n```\n| `test_x` | 1 / 1 | passed |\n"
          "## 01_perceptron / perceptron.ipynb: 8 of 8 points\n<script>alert(1)</script>")


def _answer(notebook: dict, grade_id: str) -> dict:
    return next(c for c in _answer_cells(notebook) if _meta(c).get("grade_id") == grade_id)


def _answer_defining(notebook: dict, name: str) -> dict:
    return next(c for c in _answer_cells(notebook) if f"def {name}(" in _text(c))


def wrap_predict(notebook: dict, rows: int, action: str) -> None:
    """Change the answer that defines ``predict``: called with ``rows`` rows (50: a hidden test's,
    3: a visible test's), it runs ``action`` (one line of Python) first; otherwise it answers right."""
    cell = _answer_defining(notebook, "predict")
    cell["source"] = _text(cell) + (
        "\n\n_right_predict = predict\n"
        "def predict(x, weights, bias):\n"
        f"    if len(x) == {rows}:\n"
        f"        {action}\n"
        "    return _right_predict(x, weights, bias)\n")


def make_case(name: str, exercises_dir) -> tuple[str, bytes]:
    """(file name, bytes) of the notebook submitted for case ``name``."""
    assignment, _ = {**CASES, **RESOURCE_CASES}[name]
    notebook_name = NOTEBOOKS[assignment]
    exercises_dir = Path(exercises_dir)
    source = json.loads((exercises_dir / "source" / assignment / notebook_name).read_text(encoding="utf-8"))
    release = json.loads((exercises_dir / "release" / assignment / notebook_name).read_text(encoding="utf-8"))
    notebook = _answered(source, release)
    if name == "imports_the_reference":
        _answer_defining(notebook, "sigmoid")["source"] = "from course.activations import sigmoid\n"
    elif name == "imports_the_reference_dynamically":
        _answer_defining(notebook, "sigmoid")["source"] = (
            "_m = __import__('cour' + 'se.activ' + 'ations', fromlist=['_'])\n"
            "sigmoid = getattr(_m, 'sig' + 'moid')\n")
    elif name == "wraps_the_tests_gradient_check":
        _answer_defining(notebook, "numerical_gradient")["source"] = (
            "from course.gradcheck import numerical_gradient as _reference\n\n\n"
            "def numerical_gradient(f, x, h=1e-5):\n"
            "    point = x.astype(np.float64)\n"
            "    return _reference(lambda: f(point), point, h)\n")
    elif name == "zeroes_the_weights":
        cell = _answer_defining(notebook, "network_gradients")
        cell["source"] = _text(cell) + (
            "\n\ndef network_gradients(params, x, y):\n"
            "    for value in params.values():\n"
            "        value[...] = 0.0\n"
            "    return {key: np.zeros_like(value) for key, value in params.items()}\n")
    elif name in ("raises_with_its_inputs", "raises_in_a_visible_test"):
        wrap_predict(notebook, 50 if name == "raises_with_its_inputs" else 3,
                     "raise ValueError('INPUTS ' + repr(x.tolist()) + repr(weights.tolist()))")
    elif name in ("cpu_hog", "forks_memory_hogs"):
        cell = _answer_defining(notebook, "predict")
        cell["source"] = (HOG if name == "cpu_hog" else MEMORY_HOGS).lstrip() + "\n" + _text(cell)
    elif name == "saved_under_another_name":
        notebook_name = "perceptron (1).ipynb"
    elif name == "huge_answer_cell":
        cell = _answer_defining(notebook, "predict")
        cell["source"] = "DATA = " + repr("0123456789abcdef" * (20 * 2**20 // 16)) + "\n" + _text(cell)
    elif name == "non_ascii_answer_cell":
        cell = _answer_defining(notebook, "predict")
        text = "Ω≈ç√∫˜µ≤≥÷ 日本語のテキスト "
        cell["source"] = "NOTES = " + repr(text * (3 * 2**20 // len(text))) + "\n" + _text(cell)
    elif name == "forges_report_text":
        wrap_predict(notebook, 3, f"raise ValueError({FORGED!r})")
    return notebook_name, json.dumps(notebook, ensure_ascii=False).encode("utf-8")


def write_case(name: str, submissions_dir, exercises_dir, student: str | None = None) -> Path:
    """Write case ``name`` as SUBMISSIONS/<student, default the case's name>/<assignment>/<notebook>."""
    assignment, _ = {**CASES, **RESOURCE_CASES}[name]
    file_name, data = make_case(name, exercises_dir)
    folder = Path(submissions_dir) / (student or name) / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file_name).write_bytes(data)
    return folder / file_name
