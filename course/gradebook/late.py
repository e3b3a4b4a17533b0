"""Late penalties through nbgrader's late-submission plugin.

nbgrader stores each submission's timestamp and each assignment's due date; ``AssignLatePenalties``
asks the plugin for the penalty of each notebook. ``PointsPerDay`` takes ``points_per_day`` for
each day or part of a day late (0 by default: late work is marked late but keeps its points).
An extension is a later due date for that student: nbgrader's ``extension`` is not per student,
so give the student's submission a ``timestamp.txt`` within the extension, or set
``c.PointsPerDay.extensions = {"student": {"assignment": hours}}``.
"""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Dict, Float

__all__ = ["PointsPerDay", "penalty"]


def penalty(seconds_late: float, score: float, points_per_day: float) -> float:
    """Points taken off for ``seconds_late``: ``points_per_day`` a day started, at most the score."""
    if seconds_late <= 0 or points_per_day <= 0:
        return 0.0
    return float(min(score, math.ceil(seconds_late / 86400) * points_per_day))


class PointsPerDay(LateSubmissionPlugin):
    """``points_per_day`` off for each day (or part of one) a notebook was late."""

    points_per_day = Float(0.0, help="Points off per day late (or part of a day).").tag(config=True)
    extensions = Dict({}, help="student -> {assignment: hours of extension}").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return penalty(total_seconds_late, score or 0.0, self.points_per_day)
