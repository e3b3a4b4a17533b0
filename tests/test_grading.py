"""The grading pieces one by one: self-check messages, reading and merging submissions, scoring,
the sandbox, the command line. The whole batch grader runs in test_grading_robustness.py."""
import csv
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from course.grading import checks
from course.grading.trusted import assemble

ROOT = Path(__file__).resolve().parents[1]


# -- checks: messages a learner can act on ---------------------------------------------------------
def _message(func, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as error:
        func(*args, **kwargs)
    return str(error.value)


def test_check_close_reports_nan_with_the_hint():
    message = _message(checks.check_close, "sigmoid(-1000)", np.float64("nan"), 0.0,
                       hint="exp overflowed; compute it from exp(-|x|)")
    assert message == "sigmoid(-1000) returned nan, expected 0.0: exp overflowed; compute it from exp(-|x|)"


def test_check_close_reports_the_first_wrong_entry_and_the_largest_difference():
    message = _message(checks.check_close, "out", np.array([[1.0, 2.0], [3.0, 9.0]]), [[1.0, 2.0], [3.0, 4.0]])
    assert message == "out holds 9.0 at index (1, 1), expected 4.0 (largest difference 5)."


def test_check_close_reports_a_shape_mismatch_before_values():
    assert _message(checks.check_close, "out", np.ones((2, 2)), np.ones((2, 3))) == \
        "out has shape (2, 2), expected (2, 3)."


def test_check_close_says_a_missing_return_is_likely():
    assert "does the function end with `return`?" in _message(checks.check_close, "f(1)", None, 1.0)


def test_check_close_passes_within_tolerance():
    checks.check_close("out", np.array([1.0 + 1e-9]), [1.0])


def test_call_turns_not_implemented_into_a_next_step():
    def predict(x):
        raise NotImplementedError()

    assert _message(checks.call, "predict(x)", predict, 1) == (
        "predict(x): predict is not written yet. Replace the line `raise NotImplementedError()` "
        "with your code.")


def test_call_reports_a_numpy_overflow_with_the_hint():
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    message = _message(checks.call, "sigmoid(-1000)", sigmoid, np.array(-1000.0), hint="use exp(-|x|)")
    assert message == "sigmoid(-1000) failed inside NumPy (overflow encountered in exp): use exp(-|x|)"


def test_call_reports_an_argument_changed_in_place():
    def step(w, g):
        w -= 0.1 * g
        return w

    message = _message(checks.call, "step", step, np.ones(2), np.ones(2))
    assert message.startswith("step changed w in place")   # the parameter's name, not its position


def test_call_reports_a_change_at_any_depth_with_its_path():
    def gradients(x, y, params):
        params["W1"][0, 0] = 0.0
        return {"W1": np.zeros((2, 2))}

    params = {"W1": np.ones((2, 2)), "layers": [np.ones(2)]}
    message = _message(checks.call, "gradients", gradients, np.ones(2), 1, params)
    assert message.startswith("gradients changed params['W1'] in place")
    assert _message(checks.check_no_mutation, "f", lambda a: a["layers"][0].fill(3), params) \
        .startswith("f changed a['layers'][0] in place")


def test_hidden_rng_differs_by_student_and_test_and_repeats_for_the_same():
    def draw(student, test):
        checks._enter_hidden(b"0123456789abcdef", student, "01_x/x.ipynb", test)
        return [checks.hidden_rng().normal(), checks.hidden_rng().normal()]

    try:
        assert draw("ann", "t1") == draw("ann", "t1")
        assert draw("ann", "t1") != draw("bob", "t1") and draw("ann", "t1") != draw("ann", "t2")
        assert draw("ann", "t1")[0] != draw("ann", "t1")[1]   # each call, a stream of its own
    finally:
        checks._hidden_context = None


def test_a_failed_check_carries_a_message_without_values():
    with pytest.raises(checks.CheckFailed) as failed:
        checks.check_close("sigmoid on random inputs", np.array([0.25]), np.array([0.5]))
    assert "0.25" in str(failed.value) and failed.value.quiet == "sigmoid on random inputs does not match the expected values"


def test_check_no_mutation_returns_the_result_when_nothing_changes():
    assert checks.check_no_mutation("add", np.add, np.ones(2), np.ones(2)).tolist() == [2.0, 2.0]


def test_check_shape_and_finite_and_type():
    assert _message(checks.check_shape, "dx", np.ones(3), (3, 1), hint="keep it 2-D") == \
        "dx has shape (3,), expected (3, 1): keep it 2-D"
    assert _message(checks.check_finite, "loss", np.array([1.0, np.inf])) == "loss returned inf at index (1,)."
    assert _message(checks.check_type, "f()", "a", (int, float)) == \
        "f() returned 'a' of type str, expected int or float."


# -- reading a submission ---------------------------------------------------------------------------
@pytest.mark.parametrize("raw, says", [
    (b"not json {", "not valid JSON"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b"[1, 2]", "JSON list, not a notebook"),
    (json.dumps({"nbformat": 99, "cells": []}).encode(), "nbformat 99"),
    (json.dumps({"nbformat": 4, "cells": "x"}).encode(), "no list of 'cells'"),
    (json.dumps({"nbformat": 4, "cells": [{"source": "x"}]}).encode(), "cell 1 is not a cell"),
    (json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": 3}]}).encode(), "cell 1: a cell's source"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
])
def test_read_cells_explains_why_a_file_is_not_a_notebook(raw, says):
    with pytest.raises(assemble.NotebookError, match=says):
        assemble.read_cells(raw)


def test_read_cells_reads_nbformat_3():
    raw = json.dumps({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "code", "input": ["x = ", "1"], "metadata": {}},
        {"cell_type": "heading", "source": "Title", "level": 1}]}]}).encode()
    assert assemble.read_cells(raw) == [assemble.Cell("code", "x = 1", None), assemble.Cell("markdown", "Title", None)]


# -- merging a submission with the source ----------------------------------------------------------
TEMPLATE = [
    {"role": "markdown", "cell_type": "markdown", "grade_id": "intro", "source": "# Title", "visible": "# Title"},
    {"role": "setup", "cell_type": "code", "grade_id": "setup", "source": "import numpy", "visible": "import numpy"},
    {"role": "solution", "cell_type": "code", "grade_id": "f", "source": "def f():\n    raise NotImplementedError()",
     "visible": "def f():\n    raise NotImplementedError()"},
    {"role": "test", "cell_type": "code", "grade_id": "test_f", "source": "assert f() == 1\nassert f() != 2",
     "visible": "assert f() == 1"},
    {"role": "solution", "cell_type": "code", "grade_id": "g", "source": "def g():\n    raise NotImplementedError()",
     "visible": "def g():\n    raise NotImplementedError()"},
    {"role": "test", "cell_type": "code", "grade_id": "test_g", "source": "assert g() == 2", "visible": "assert g() == 2"},
]


def _cells(*specs):
    return [assemble.Cell(kind, source, grade_id) for kind, source, grade_id in specs]


def test_merge_takes_answers_from_the_submission_and_tests_from_the_source():
    submission = _cells(("markdown", "# Title", "intro"), ("code", "import numpy", "setup"),
                        ("code", "def f():\n    return 1", "f"), ("code", "assert True  # edited", "test_f"),
                        ("code", "def g():\n    return 2", "g"), ("code", "assert g() == 2", "test_g"))
    to_run, notes = assemble.merge(TEMPLATE, submission)
    assert [c.source for c in to_run] == ["import numpy", "def f():\n    return 1", "assert f() == 1\nassert f() != 2",
                                          "def g():\n    return 2", "assert g() == 2"]
    assert notes == ["test cell 'test_f' was edited: the original was run"]


def test_merge_restores_deleted_tests_and_grades_a_deleted_answer_as_the_stub():
    submission = _cells(("code", "import numpy", "setup"), ("code", "def f():\n    return 1", "f"))
    to_run, notes = assemble.merge(TEMPLATE, submission)
    assert [c.role for c in to_run] == ["setup", "solution", "test", "solution", "test"]
    assert to_run[3].source == "def g():\n    raise NotImplementedError()"
    assert "answer cell 'g' is missing (deleted?): graded as left empty" in notes
    assert "test cell 'test_g' was deleted: the original was run" in notes


def test_merge_matches_cells_without_metadata_by_position():
    submission = _cells(("markdown", "# Title", None), ("code", "import numpy", None),
                        ("code", "def f():\n    return 1", None), ("code", "assert f() == 1", None),
                        ("code", "def g():\n    return 2", None), ("code", "assert g() == 2", None))
    to_run, notes = assemble.merge(TEMPLATE, submission)
    assert [(c.role, c.grade_id) for c in to_run] == [("setup", "setup"), ("solution", "f"), ("test", "test_f"),
                                                      ("solution", "g"), ("test", "test_g")]
    assert to_run[1].source == "def f():\n    return 1"
    assert notes == ["2 answer cell(s) had no nbgrader metadata and were matched to the assignment by position"]


def test_merge_keeps_the_learners_own_cells_in_place():
    submission = _cells(("code", "import numpy", "setup"), ("code", "helper = 1", None),
                        ("code", "def f():\n    return helper", "f"), ("code", "assert f() == 1", "test_f"),
                        ("code", "def g():\n    return 2", "g"), ("code", "assert g() == 2", "test_g"),
                        ("code", "print('done')", None))
    to_run, notes = assemble.merge(TEMPLATE, submission)
    assert [c.source for c in to_run][:3] == ["import numpy", "helper = 1", "def f():\n    return helper"]
    assert to_run[-1] == assemble.RunCell("print('done')", "extra", None)
    assert notes == []


def test_merge_never_trusts_a_submitted_grade_id_of_another_cell_type():
    # a markdown cell carrying a test's or a setup cell's grade_id replaces nothing
    submission = _cells(("markdown", "pass", "test_f"), ("raw", "import os", "setup"))
    to_run, _ = assemble.merge(TEMPLATE, submission)
    assert to_run[0].source == "import numpy"
    assert to_run[2].source == "assert f() == 1\nassert f() != 2"


# -- scoring: nbgrader's rule -------------------------------------------------------------------------
nbgrader = pytest.importorskip("nbgrader")
from course.grading.trusted import runner  # noqa: E402  (needs nbgrader)


def _template():
    tests = {gid: {"cell_type": "code", "source": "", "execution_count": None, "outputs": [],
                   "metadata": {"nbgrader": {"grade": True, "grade_id": gid, "points": points, "solution": False,
                                             "locked": True, "schema_version": 3}}}
             for gid, points in (("test_a", 1), ("test_b", 2), ("test_c", 3))}
    return runner.Template("01_x", "x.ipynb", [], tests)


def test_score_follows_nbgrader_errors_and_stderr_fail_a_cell():
    job = runner.Job("ann", _template(), Path("x.ipynb"))
    events = [{"event": "cell", "grade_id": "test_a", "outputs": []},
              {"event": "cell", "grade_id": "test_b", "outputs": [
                  {"output_type": "error", "ename": "AssertionError", "evalue": "f(1) returned 2, expected 1", "traceback": []}]},
              {"event": "cell", "grade_id": "test_c", "outputs": [{"output_type": "stream", "name": "stderr", "text": "warn"}]},
              {"event": "done"}]
    result = runner.score(job, events, runner.Settings())
    assert (result.score, result.max_score, result.status) == (1.0, 6.0, "ok")
    assert [t.points for t in result.tests] == [1.0, 0.0, 0.0]
    assert result.tests[1].message == "AssertionError: f(1) returned 2, expected 1"
    assert result.tests[2].message.startswith("the cell wrote to stderr")
    assert result.reason == "failed: test_b, test_c"


def test_score_keeps_the_points_earned_before_a_timeout():
    job = runner.Job("ann", _template(), Path("x.ipynb"))
    events = [{"event": "cell", "grade_id": "test_a", "outputs": []}]
    result = runner.score(job, events, runner.Settings(timeout=9), killed=True)
    assert (result.score, result.status) == (1.0, "timeout")
    assert result.reason.startswith("stopped after 9 s, the time limit of a notebook (2 test cells had not run)")


def test_score_ignores_test_cells_the_source_does_not_have():
    job = runner.Job("ann", _template(), Path("x.ipynb"))
    events = [{"event": "cell", "grade_id": "test_invented", "outputs": []}, {"event": "done"}]
    assert runner.score(job, events, runner.Settings()).score == 0.0


def test_find_jobs_reads_both_layouts_and_reports_missing_and_linked_notebooks(tmp_path):
    templates = {"01_x": [_template()]}
    for root in (tmp_path / "plain", tmp_path / "nbgrader" / "submitted"):
        (root / "ann" / "01_x").mkdir(parents=True)
        (root / "ann" / "01_x" / "x.ipynb").write_text("{}")
        (root / "bob" / "01_x").mkdir(parents=True)
        (root / "cy").mkdir()
        (root / "dee" / "01_x").mkdir(parents=True)
        (root / "dee" / "01_x" / "x.ipynb").symlink_to(root / "ann" / "01_x" / "x.ipynb")
    for folder in (tmp_path / "plain", tmp_path / "nbgrader"):
        jobs = runner.find_jobs(folder, templates)
        assert [(j.student, j.path is not None, bool(j.problem)) for j in jobs] == [
            ("ann", True, False), ("bob", False, False), ("dee", True, True)]
        assert [j.student for j in runner.find_jobs(folder, templates, "01_x")] == ["ann", "bob", "cy", "dee"]


def test_the_course_package_may_not_sit_inside_a_protected_folder(tmp_path):
    with pytest.raises(ValueError, match="lies inside"):
        runner._protected_paths(tmp_path / "source", ROOT, tmp_path / "out", tmp_path / "work")


@pytest.mark.parametrize("argv, says", [
    (["subs"], "--out"),
    (["subs", "--out", "o", "--timeout", "0"], "--timeout must be positive"),
    (["subs", "--out", "o", "--memory", "100"], "too little"),
    (["subs", "--out", "o", "--jobs", "-1"], "--jobs must be 0"),
])
def test_command_line_rejects_bad_arguments_with_a_reason(argv, says, capsys):
    from course.gradebook import cli

    with pytest.raises(SystemExit):
        cli.parse_args(argv)
    assert says in capsys.readouterr().err


def test_command_line_reports_a_missing_source_folder(tmp_path, capsys):
    from course.gradebook import cli

    assert cli.main([str(tmp_path), "--out", str(tmp_path / "out"), "--source", str(tmp_path / "nope")]) == 2
    assert "the source folder" in capsys.readouterr().err


# -- plain data across the jail's wall ------------------------------------------------------------
from course.grading.wire import plain  # noqa: E402


def _round_trip(value, borrow=None, own=None):
    blobs = []
    tagged = plain.encode(value, blobs)
    return plain.decode(json.loads(json.dumps(tagged)), blobs, borrow, own)


def test_plain_data_keeps_types_dtypes_and_shapes():
    value = {"a": [1, 2.5, None, True, "x", (3, 4)], 7: np.float32(1.5), "arr": np.arange(6, dtype=np.int16).reshape(2, 3),
             "nan": float("nan"), "big": 10 ** 30, "set": {1, 2}, "bytes": b"\x00\x01"}
    back = _round_trip(value)
    assert back["a"] == [1, 2.5, None, True, "x", (3, 4)] and isinstance(back["a"][5], tuple)
    assert type(back[7]) is np.float32 and back[7] == 1.5
    assert back["arr"].dtype == np.int16 and back["arr"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert np.isnan(back["nan"]) and back["big"] == 10 ** 30 and back["set"] == {1, 2}
    assert back["bytes"] == b"\x00\x01"


def test_an_object_of_the_learners_class_arrives_unreadable_and_fails_when_used():
    class Sneaky:
        def __eq__(self, other):
            return True

    back = _round_trip(Sneaky())
    with pytest.raises(TypeError, match="an object of type Sneaky, which the grader cannot check"):
        back == 1  # noqa: B015
    with pytest.raises(TypeError):
        np.asarray(back) + 1


@pytest.mark.parametrize("tagged, blobs, says", [
    (["nope"], [], "unknown tag"),
    ("str", [], "not tagged"),
    (["int", "1" * 5000], [], "malformed"),
    (["array", 0], [b"not an npy file"], "np.load refuses"),
    (["array", 3], [], "malformed"),
    (["dict", [[["list", []], ["none"]]]], [], "cannot be hashed"),
    (["function", 1, "f"], [], None),
])
def test_plain_decode_refuses_what_breaks_the_rules(tagged, blobs, says):
    if says is None:  # a function with nobody to borrow it from is unreadable, not callable
        assert isinstance(plain.decode(tagged, blobs), plain.Unreadable)
        return
    with pytest.raises(plain.ProtocolError, match=says):
        plain.decode(tagged, blobs)


def test_plain_decode_refuses_object_arrays_and_deep_nesting():
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(plain.ProtocolError, match="np.load refuses"):
        plain.decode(["array", 0], [buffer.getvalue()])
    deep = ["none"]
    for _ in range(200):
        deep = ["list", [deep]]
    with pytest.raises(plain.ProtocolError, match="nested too deeply"):
        plain.decode(deep, [])


def test_a_model_crosses_as_its_configuration_and_weights():
    from course.layers import Dense
    from course.models import Sequential
    from course.optimizers import SGD

    model = Sequential([Dense(4, activation="relu", input_shape=(3,), seed=1), Dense(2, activation="softmax", seed=2)])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=SGD(lr=0.3, momentum=0.5), metrics=["accuracy"])
    back = _round_trip(model)
    assert type(back) is Sequential and back is not model
    assert [layer.activation.name for layer in back.layers] == ["relu", "softmax"]
    for mine, theirs in zip(back.layers, model.layers):
        assert np.array_equal(mine.kernel, theirs.kernel) and np.array_equal(mine.bias, theirs.bias)
    assert (type(back.optimizer).__name__, back.optimizer.lr, back.optimizer.momentum) == ("SGD", 0.3, 0.5)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    assert np.array_equal(back.predict(x), model.predict(x))


def test_grades_csv_cells_a_spreadsheet_would_run_start_with_an_apostrophe():
    from course.grading.trusted.inert import csv_cell as _cell

    assert [_cell(t) for t in ("=1+1", "+1", "-1", "@x", "zoë", "ok")] == ["'=1+1", "'+1", "'-1", "'@x", "zoë", "ok"]


def test_merge_grades_an_answer_cell_turned_into_markdown_as_code():
    submission = _cells(("code", "import numpy", "setup"), ("markdown", "def f():\n    return 1", "f"),
                        ("code", "def g():\n    return 2", "g"))
    to_run, notes = assemble.merge(TEMPLATE, submission)
    assert to_run[1] == assemble.RunCell("def f():\n    return 1", "solution", "f", 2)
    assert "answer cell 'f' was a markdown cell: graded as code, as nbgrader does" in notes


def test_answer_names_are_what_the_answers_define_and_the_setup_does_not():
    template = runner.load_template(ROOT / "exercises" / "source" / "03_backpropagation" / "backpropagation.ipynb",
                             "03_backpropagation")
    assert "dense_backward" in template.answer_names and "numerical_gradient" in template.answer_names
    assert "dense_forward" not in template.answer_names  # given by the setup: the tests keep their own


# -- reports: every string of a submission inert ------------------------------------------------------
ASSIGNMENT, NOTEBOOK = "01_perceptron", "perceptron.ipynb"


def _result(student, reason="", message=""):
    tests = [runner.TestResult("test_a", 0.0, 1.0, False, message)] if message else []
    return runner.Result(student, ASSIGNMENT, NOTEBOOK, 0.0, 1.0, "flagged" if reason else "ok", reason, tests)


def _reports(results, out, tmp_path) -> list[str]:
    """Commit ``results`` to a gradebook of the perceptron exercise and make the reports from it,
    as ``python -m course.grading`` does; returns the problems it met."""
    from course.gradebook.reports import write_derived
    from course.gradebook.store import Store

    source = ROOT / "exercises" / "source"
    templates = {ASSIGNMENT: [runner.load_template(source / ASSIGNMENT / NOTEBOOK, ASSIGNMENT)]}
    (tmp_path / "gradebook").mkdir()
    store = Store(tmp_path / "gradebook" / "gradebook.db", source, templates, run="test")
    try:
        store.add_assignments([ASSIGNMENT])
        for result in results:
            store.commit(runner.Job(result.student, templates[ASSIGNMENT][0], None), result, "-")
        return write_derived(store, out, "test")
    finally:
        store.close()


def test_reports_make_every_submission_string_inert(tmp_path):
    forged = ("\x1b[2J\x1b]52;c;ZXZpbA==\x07\r\n=cmd|' /C calc'!A0\n```\n| `test_x` | 1 / 1 | passed |\n"
              f"## {ASSIGNMENT} / {NOTEBOOK}: 1 of 1 points\n<script>alert(1)</script>")
    results = [_result("ann\x1b[31m", reason=f"cell 'f' raised ValueError: {forged}", message=f"ValueError: {forged}"),
               _result("=HYPERLINK(\"http://x\")")]
    out = tmp_path / "out"
    assert _reports(results, out, tmp_path) == []
    raw = (out / "grades.csv").read_bytes()
    assert b"\x1b" not in raw and b"\x07" not in raw and raw.count(b"\r") == raw.count(b"\r\n") == 3  # csv's own
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 3 and all("\x1b" not in cell and "\n" not in cell for row in rows for cell in row)
    assert {row[0] for row in rows[1:]} == {"ann", "'=HYPERLINK(\"http://x\")"}
    [feedback] = [p for p in (out / "feedback").iterdir() if "ann" in p.name]
    text = feedback.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x07" not in text
    fence = "````"   # longer than the three backticks of the message
    before, rest = text.split(fence + "text\n", 1)
    block, after = rest.split("\n" + fence, 1)
    assert "<script>" in block and f"## {ASSIGNMENT} / {NOTEBOOK}: 1 of 1 points" in block
    outside = before + after
    assert "<script>" not in outside and f"\n## {ASSIGNMENT} / {NOTEBOOK}: 1 of 1" not in outside
    assert "| `test_x` | 1 / 1 | passed |" not in outside
    for page in (out / "feedback-html").rglob("*.html"):
        assert "<script>" not in page.read_text(encoding="utf-8"), page


def test_an_id_that_cannot_be_a_file_name_gets_a_safe_one_and_one_failure_costs_no_one_else(tmp_path, monkeypatch):
    from course.gradebook import feedback
    from course.grading.trusted.inert import safe_filename

    def fails_for_bob(student, results, _write=feedback.markdown_feedback):
        if student == "bob":
            raise OSError("the disk refused bob's file")
        return _write(student, results)

    monkeypatch.setattr(feedback, "markdown_feedback", fails_for_bob)   # bob's feedback cannot be written
    long_id, slashed = "s" * 253, "../../etc/passwd"
    results = [_result(long_id), _result(slashed), _result("bob"), _result("cy")]
    out = tmp_path / "out"
    problems = _reports(results, out, tmp_path)
    assert len(problems) == 1 and "'bob'" in problems[0]
    names = {p.name for p in (out / "feedback").iterdir()}
    assert {safe_filename(long_id, ".md"), safe_filename(slashed, ".md"), "cy.md"} <= names
    assert all(len(name.encode()) < 200 and "/" not in name for name in names)
    assert long_id in (out / "feedback" / safe_filename(long_id, ".md")).read_text(encoding="utf-8")
    pages = {p.relative_to(out / "feedback-html").parts[0] for p in (out / "feedback-html").rglob("*.html")}
    assert pages == {safe_filename(long_id), safe_filename(slashed), "bob", "cy"}
    assert not (tmp_path / "etc").exists() and not (out.parent / "etc").exists()
    assert len(json.loads((out / "results.json").read_text(encoding="utf-8"))["results"]) == 4
