"""Feedback a student can read: one HTML page per notebook, from the gradebook.

Each page shows every test's name, points, result and a message the learner can act on, each
written answer with the instructor's score and comment, the late penalty and the total. It
holds no test source, no hidden test's message (a hidden check's failure is reported as such,
since its message may quote its inputs) and nothing of the grader's environment (the grader's
notes name paths and processes: the page gives a plain account of the status instead). Every
string that comes from a submission or a person is HTML-escaped; the page has no script.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

__all__ = ["feedback_page", "feedback_pages", "markdown_feedback", "STATUS_TEXT"]

STATUS_TEXT = {
    "ok": "",
    "flagged": "Your notebook ran to its end, and your instructor has been asked to look at it.",
    "timeout": "Your notebook took longer than the time limit; the tests that ran before keep their points.",
    "invalid": "The grader could not read your notebook file (is it the notebook you were given, saved from Jupyter?).",
    "missing": "No notebook was submitted for this assignment.",
    "error": "The grader could not finish your notebook; your instructor has been told.",
}

STYLE = """body{font-family:system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
.passed{color:#1a7f37}.failed{color:#b42318}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}
.total{font-size:1.3em}"""


def _e(text) -> str:
    return html.escape(str(text if text is not None else ""), quote=True)


def _hidden(source: str) -> bool:
    return "BEGIN HIDDEN TESTS" in source


def feedback_page(record: dict, written: list[dict], late: float, template, run: str) -> str:
    """The page of one notebook. ``written``: grade_id, answer, score, max_score, comment."""
    tests = record.get("tests", [])
    hidden = {g for g, cell in template.tests.items() if _hidden(cell["source"])} if template else set()
    auto = sum(t["points"] for t in tests)
    manual = sum(w["score"] or 0.0 for w in written)
    total = max(0.0, auto + manual - late)
    most = sum(t["max_points"] for t in tests) + sum(w["max_score"] for w in written)
    rows = []
    for test in tests:
        verdict = "passed" if test["passed"] else ("not run" if test["message"] == "not run" else "failed")
        if test["passed"] or verdict == "not run":
            message = ""
        elif test["grade_id"] in hidden:
            message = ("One of the grader's further checks failed (your function on other inputs). "
                       "Run the visible test in your notebook, then try inputs of your own.")
        else:
            message = test["message"]
        rows.append(f"<tr><td>{_e(test['grade_id'])}</td><td>{test['points']:g} / {test['max_points']:g}</td>"
                    f"<td class=\"{'passed' if test['passed'] else 'failed'}\">{verdict}</td>"
                    f"<td>{'<pre>' + _e(message) + '</pre>' if message else ''}</td></tr>")
    answers = []
    for answer in written:
        score = "not graded yet" if answer["score"] is None else f"{answer['score']:g} / {answer['max_score']:g}"
        answers.append(f"<h3>{_e(answer['grade_id'])}: {score}</h3><pre>{_e(answer['answer'])}</pre>"
                       + (f"<p><b>Comment:</b></p><pre>{_e(answer['comment'])}</pre>" if answer["comment"] else ""))
    status = STATUS_TEXT.get(record.get("status"), "")
    title = f"{record['assignment']} / {record['notebook']}: feedback for {record['student']}"
    return "\n".join([
        "<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p class=\"total\">Total: <b>{total:g}</b> of {most:g} points"
        + (f" (after a late penalty of {late:g})" if late else "") + "</p>",
        f"<p>{_e(status)}</p>" if status else "",
        "<h2>Tests</h2>",
        "<table><tr><th>test</th><th>points</th><th>result</th><th>what to look at</th></tr>",
        *rows, "</table>",
        "<h2>Written answers</h2>" if answers else "", *answers,
        f"<p><small>{_e('graded in run ' + run)}</small></p>", "</body></html>", ""])


def _written(store, record) -> list[dict]:
    from nbgrader.api import MissingEntry

    notebook = Path(record["notebook"]).stem
    try:
        submitted = store.gradebook.find_submission_notebook(notebook, record["assignment"], record["student"])
    except MissingEntry:
        return []
    tests = {t["grade_id"] for t in record.get("tests", [])}
    path = store.autograded(record["student"], record["assignment"], record["notebook"])
    sources = {}
    if path.is_file():
        for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id:
                sources[grade_id] = "".join(cell.get("source", ""))
    comments = {c.name: (c.manual_comment or c.auto_comment or "") for c in submitted.comments}
    out = []
    for grade in submitted.grades:
        if grade.name in tests:
            continue
        comment = comments.get(grade.name, "")
        if comment.startswith("Grader:"):
            comment = comment.split("\n\n", 1)[1] if "\n\n" in comment else ""
        score = grade.score if (grade.manual_score is not None or grade.auto_score is not None) else None
        out.append({"grade_id": grade.name, "answer": sources.get(grade.name, ""), "score": score,
                    "max_score": grade.max_score, "comment": comment})
    return out


def feedback_pages(store, folder, run: str) -> list[str]:
    """feedback-html/<student>/<assignment>/<notebook>.html for every notebook of the gradebook;
    returns the problems (a page that cannot be written costs no other page)."""
    from course.grading.trusted.inert import safe_filename

    from .reports import _problem
    from .store import late_penalty

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    templates = {(a, t.notebook): t for a, ts in store.templates.items() for t in ts}
    problems = []
    for record in store.results():
        try:
            target = folder / safe_filename(record["student"]) / safe_filename(record["assignment"]) / \
                safe_filename(Path(record["notebook"]).stem, ".html")
            target.parent.mkdir(parents=True, exist_ok=True)
            page = feedback_page(record, _written(store, record), late_penalty(store, record),
                                 templates.get((record["assignment"], record["notebook"])), run)
            target.write_text(page, encoding="utf-8")
        except Exception as error:  # noqa: BLE001 - one student's report never costs another theirs
            problems.append(_problem("feedback page", record["student"], error))
    return problems


def markdown_feedback(student: str, results) -> str:
    """The feedback of one student in Markdown, all their notebooks (``feedback/<student>.md``):
    the learner's strings escaped, messages in fences they cannot close (``inert.py``)."""
    from course.grading.trusted.inert import code_block, markdown_text

    lines = [f"# Feedback for {markdown_text(student)}", ""]
    for result in sorted(results, key=lambda r: (r.assignment, r.notebook_name)):
        lines += [f"## {markdown_text(result.assignment)} / {markdown_text(result.notebook_name)}: "
                  f"{result.score:g} of {result.max_score:g} points", ""]
        if result.status != "ok":
            lines += [f"Status: **{result.status}**. {markdown_text(result.reason)}", ""]
        lines += ["| test | points | result |", "|---|---|---|"]
        for test in result.tests:
            verdict = "passed" if test.passed else ("not run" if test.message == "not run" else "failed")
            lines.append(f"| `{_grade_id(test.grade_id)}` | {test.points:g} / {test.max_points:g} | {verdict} |")
        if result.manual and result.status not in ("missing", "invalid"):
            for grade_id in result.manual:
                lines.append(f"| `{_grade_id(grade_id)}` | pending | a written answer, graded by your instructor |")
        lines.append("")
        if result.pending_manual and result.status not in ("missing", "invalid"):
            lines += [f"{result.pending_manual:g} more point(s) for written answers are pending manual "
                      f"grading; they are not counted above.", ""]
        for test in result.tests:
            if not test.passed and test.message and test.message != "not run":
                lines += [f"**{markdown_text(test.grade_id)}**", "", code_block(test.message), ""]
    return "\n".join(lines)


def _grade_id(grade_id: str) -> str:
    """A grade id (the source's, the instructor's) for a code span: one line, no backtick."""
    from course.grading.trusted.inert import plain_text

    return plain_text(grade_id).replace("`", "'").replace("|", "/")
