"""Submissions that misbehave, to check that the batch grader survives them.

Each case is a submitted notebook built from an assignment's student version (release) and its
source: the learner's answers are the source's solutions, then one thing goes wrong.

    full_marks            every answer right
    partial               the last answer left as handed out
    empty                 the notebook as handed out
    infinite_loop         an endless loop in the second answer cell
    loop_ignoring_sigint  an endless loop that ignores the interrupt, in the last answer cell
    loop_ignoring_signals the same, ignoring SIGTERM as well
    import_error          an import that fails, at the top of the last answer cell
    edited_tests          the first test cell deleted, the last one replaced by `pass`, points raised
    stripped_metadata     every cell's metadata removed (the answers still in place)
    not_json              a file that is not JSON
    wrong_nbformat        JSON that claims nbformat 99
    prints_100mb          the first answer cell prints 100 MB
    memory_hog            the second answer cell allocates memory until it fails
    reads_hidden_tests    the handed-out notebook, whose first answer cell reads the source
                          notebook from disk and runs its solutions
    writes_instructor_files  tries to overwrite the gradebook, the source notebook, another
                          student's notebook and the release, then answers correctly
    missing               the assignment folder without its notebook
    symlink_to_source     the notebook is a symbolic link to the source notebook

The tests and ``benchmarks/bench_grading.py`` use them; an instructor can too, from a clone of
the repository, to see the limits hold on the machine that will grade the class::

    import sys; sys.path.insert(0, "tests")
    from grading import adversarial
    adversarial.write_case("memory_hog", folder, source_nb, release_nb, targets)
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

__all__ = ["CASES", "make_case", "write_case"]

CASES = {
    "full_marks": "every answer right",
    "partial": "the last answer left as handed out",
    "empty": "the notebook as handed out",
    "infinite_loop": "an endless loop in the second answer cell",
    "loop_ignoring_sigint": "an endless loop that ignores SIGINT in the last answer cell",
    "loop_ignoring_signals": "an endless loop that ignores SIGINT and SIGTERM in the last answer cell",
    "import_error": "a failing import at the top of the last answer cell",
    "edited_tests": "a test cell deleted, one emptied, points raised in the metadata",
    "stripped_metadata": "all cell metadata removed",
    "not_json": "a file that is not JSON",
    "wrong_nbformat": "JSON claiming nbformat 99",
    "prints_100mb": "the first answer cell prints 100 MB",
    "memory_hog": "the second answer cell allocates memory until it fails",
    "reads_hidden_tests": "reads the source notebook from disk and runs its solutions",
    "writes_instructor_files": "tries to overwrite the gradebook, the source and other students' files",
    "missing": "the assignment folder without its notebook",
    "symlink_to_source": "the notebook is a symbolic link to the source notebook",
}


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _answered(source: dict, release: dict) -> dict:
    """The release notebook with the source's solutions in its answer cells."""
    notebook = copy.deepcopy(release)
    solutions = {_meta(c).get("grade_id"): c["source"] for c in source["cells"] if _meta(c).get("solution")}
    for cell in notebook["cells"]:
        if _meta(cell).get("solution"):
            cell["source"] = solutions[_meta(cell)["grade_id"]]
    return notebook


def _answer_cells(notebook: dict) -> list[dict]:
    """The code answers (a written answer, a Markdown cell, runs nothing to break)."""
    return [c for c in notebook["cells"] if _meta(c).get("solution") and c.get("cell_type") == "code"]


def _text(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def _prepend(cell: dict, code: str) -> None:
    cell["source"] = code.rstrip("\n") + "\n" + _text(cell)


def make_case(name: str, source_path, release_path, targets: dict) -> bytes | None:
    """The bytes of the submitted notebook for case ``name`` (None: no file at all).

    targets: absolute paths an attack aims at: 'source' (the source notebook), 'gradebook',
    'release' (the release notebook), 'other' (another student's submitted notebook).
    """
    if name not in CASES:
        raise ValueError(f"unknown case {name!r}; the cases are {', '.join(CASES)}")
    source = json.loads(Path(source_path).read_text(encoding="utf-8"))
    release = json.loads(Path(release_path).read_text(encoding="utf-8"))
    notebook = _answered(source, release)
    answers = _answer_cells(notebook)
    if name == "missing" or name == "symlink_to_source":
        return None
    if name == "not_json":
        return b"this is not a notebook {\n"
    if name == "wrong_nbformat":
        return json.dumps({"nbformat": 99, "nbformat_minor": 0, "cells": [], "metadata": {}}).encode()
    if name == "partial":
        answers[-1]["source"] = _text(_answer_cells(release)[-1])
    elif name == "empty":
        notebook = copy.deepcopy(release)
    elif name == "infinite_loop":
        _prepend(answers[1 % len(answers)], "while True:\n    pass")
    elif name == "loop_ignoring_sigint":
        _prepend(answers[-1], "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                              "while True:\n    pass")
    elif name == "loop_ignoring_signals":
        _prepend(answers[-1], "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                              "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass")
    elif name == "import_error":
        _prepend(answers[-1], "import a_module_that_does_not_exist")
    elif name == "edited_tests":
        tests = [c for c in notebook["cells"] if _meta(c).get("grade") and not _meta(c).get("solution")]
        notebook["cells"].remove(tests[0])
        tests[-1]["source"] = "pass"
        tests[1]["metadata"]["nbgrader"]["points"] = 100
    elif name == "stripped_metadata":
        for cell in notebook["cells"]:
            cell["metadata"] = {}
            cell.pop("id", None)
        notebook["nbformat_minor"] = 4
    elif name == "prints_100mb":
        answers[0]["source"] = _text(answers[0]) + "\nfor _ in range(100):\n    print('x' * 1_000_000)\n"
    elif name == "memory_hog":
        _prepend(answers[1 % len(answers)], "hog = []\nwhile True:\n    hog.append(b'x' * 2**26)")
    elif name == "reads_hidden_tests":
        notebook = copy.deepcopy(release)
        first = _answer_cells(notebook)[0]
        first["source"] = _text(first) + f"""

import json
stolen = json.load(open({str(targets['source'])!r}))
for stolen_cell in stolen["cells"]:
    if stolen_cell["metadata"].get("nbgrader", {{}}).get("solution"):
        exec("".join(stolen_cell["source"]))
print("".join(c["source"] for c in stolen["cells"] if "HIDDEN" in str(c["source"])))
"""
    elif name == "writes_instructor_files":
        targets_code = ", ".join(repr(str(targets[k])) for k in ("gradebook", "source", "release", "other"))
        _prepend(answers[0], f"""
import os
for target in [{targets_code}]:
    try:
        with open(target, "w") as handle:
            handle.write("overwritten by a submission")
    except OSError as error:
        print("refused:", error)
    try:
        os.remove(target)
    except OSError as error:
        print("refused:", error)
""")
    return json.dumps(notebook, indent=1).encode("utf-8")


def write_case(name: str, folder, source_path, release_path, targets: dict) -> Path:
    """Write case ``name`` as ``folder/<notebook name>`` (creating folder); returns that path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(source_path).name
    if name == "symlink_to_source":
        os.symlink(os.path.abspath(source_path), path)
        return path
    content = make_case(name, source_path, release_path, targets)
    if content is not None:
        path.write_bytes(content)
    return path
