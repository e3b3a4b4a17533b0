"""Grades out: the LMS table (``nbgrader export``'s plugin ``LmsExport``) and its rows.

One row per rostered student (nbgrader's students: ``nbgrader db student import roster.csv``
with columns id, first_name, last_name, email, lms_user_id), one column per assignment in due
order with the score after late penalties (missing work: 0), and the total. Every cell is text
a spreadsheet will not run, on one line (``inert.csv_cell``: control characters removed, a
leading = + - @ gets an apostrophe).
"""
from __future__ import annotations

import csv
import io

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin

from course.grading.trusted.inert import csv_cell

__all__ = ["LmsExport", "lms_rows", "lms_csv"]


def _points(value: float) -> str:
    return f"{round(float(value), 2):g}"


def lms_rows(gradebook) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the LMS table, from the gradebook."""
    assignments = sorted(gradebook.assignments, key=lambda a: (a.duedate is None, a.duedate, a.name))
    header = ["student_id", "last_name", "first_name", "email", "lms_user_id",
              *[a.name for a in assignments], "total", "max_total"]
    rows = []
    for student in sorted(gradebook.students, key=lambda s: s.id):
        scores = []
        for assignment in assignments:
            try:
                submission = gradebook.find_submission(assignment.name, student.id)
            except MissingEntry:
                scores.append(0.0)  # missing work
                continue
            scores.append(max(0.0, submission.score - (submission.late_submission_penalty or 0.0)))
        rows.append([csv_cell(student.id), csv_cell(student.last_name), csv_cell(student.first_name),
                     csv_cell(student.email), csv_cell(student.lms_user_id),
                     *[_points(s) for s in scores], _points(sum(scores)),
                     _points(sum(a.max_score for a in assignments))])
    return header, rows


def lms_csv(gradebook) -> str:
    header, rows = lms_rows(gradebook)
    handle = io.StringIO()
    writer = csv.writer(handle)
    writer.writerow(header)
    writer.writerows(rows)
    return handle.getvalue()


class LmsExport(ExportPlugin):
    """``nbgrader export``: the LMS table, one row per student (to ``--to``, default grades-lms.csv)."""

    def export(self, gradebook) -> None:
        path = self.to or "grades-lms.csv"
        self.log.info("Exporting the LMS table to %s", path)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            handle.write(lms_csv(gradebook))
