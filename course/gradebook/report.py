"""The class report: per assignment the mean, median and spread of the scores (missing work
counts 0 for rostered students), a histogram, the tests most often failed, and the notebooks to
look at (every status other than ``ok``). Markdown, with everything from a submission escaped
so that nothing a student wrote becomes a link, an image or HTML when the report is opened.
"""
from __future__ import annotations

import os
import re
import statistics
from collections import Counter
from pathlib import Path

__all__ = ["class_report", "md_text"]


def md_text(text) -> str:
    """Plain text in Markdown: HTML and Markdown's own characters escaped, one line."""
    import html

    text = html.escape(" ".join(str(text).split()), quote=True)
    return re.sub(r"([\\`*_{}\[\]()#+!|~>-])", r"\\\1", text)


def _scores(store) -> dict[str, dict[str, float]]:
    """assignment -> student -> score after late penalties (0 where missing)."""
    from .export import lms_rows

    header, rows = lms_rows(store.gradebook)
    names = header[5:-2]
    return {name: {row[0].lstrip("'"): float(row[5 + i]) for row in rows} for i, name in enumerate(names)}


def class_report(store, out, run: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    records = store.results()
    scores = _scores(store)
    maxima = {a.name: a.max_score for a in store.gradebook.assignments}
    lines = [f"# Class report", "", f"Run {run}. Scores after late penalties; missing work counts 0.", "",
             "| assignment | students | mean | median | spread (sd) | min | max | of |", "|---|---|---|---|---|---|---|---|"]
    for assignment, by_student in sorted(scores.items()):
        values = list(by_student.values())
        if not values:
            continue
        spread = statistics.pstdev(values) if len(values) > 1 else 0.0
        lines.append(f"| {assignment} | {len(values)} | {statistics.mean(values):.2f} | "
                     f"{statistics.median(values):g} | {spread:.2f} | {min(values):g} | {max(values):g} | "
                     f"{maxima.get(assignment, 0):g} |")
        figure, axes = plt.subplots(figsize=(5, 3))
        top = maxima.get(assignment) or max(values) or 1
        axes.hist(values, bins=min(20, max(5, int(top) + 1)), range=(0, top), color="#4c72b0", label="students")
        axes.set_title(f"{assignment}: scores of {len(values)} students")
        axes.set_xlabel("score (points)")
        axes.set_ylabel("students")
        axes.legend()
        figure.tight_layout()
        partial = out / f".histogram-{assignment}.png.partial"
        figure.savefig(partial, format="png", dpi=80)
        plt.close(figure)
        os.replace(partial, out / f"histogram-{assignment}.png")
    lines += [""] + [f"![{a}](histogram-{a}.png)" for a in sorted(scores)] + ["", "## Tests most often failed", "",
                                                                             "| assignment | test | failed by |", "|---|---|---|"]
    failed = Counter((r["assignment"], t["grade_id"]) for r in records if r["status"] != "missing"
                     for t in r.get("tests", []) if not t["passed"])
    for (assignment, grade_id), count in failed.most_common(15):
        lines.append(f"| {assignment} | {md_text(grade_id)} | {count} |")
    lines += ["", "## Flags to look at", "", "| student | assignment | status | reason |", "|---|---|---|---|"]
    for record in sorted(records, key=lambda r: (r["assignment"], r["student"])):
        if record["status"] not in ("ok", "missing"):
            lines.append(f"| {md_text(record['student'])} | {record['assignment']} | {record['status']} | "
                         f"{md_text(record['reason'][:300])} |")
    missing = sorted({(r["assignment"], r["student"]) for r in records if r["status"] == "missing"})
    lines += ["", f"Missing work: {len(missing)} notebook(s)."]
    partial = out / ".report.md.partial"
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(partial, out / "report.md")
