"""Late penalties and extensions through nbgrader's late-submission plugin.

nbgrader stores each submission's timestamp and each assignment's due date; ``AssignLatePenalties``
asks the plugin for the penalty of each notebook. ``PointsPerDay`` takes ``points_per_day`` for
each day or part of a day late (0 by default: late work is marked late but keeps its points).

An extension moves one student's due date for one assignment::

    c.PointsPerDay.extensions = {"s007": {"01_perceptron": 48}}     # hours

``GrantExtensions`` (just before ``AssignLatePenalties`` in the autograde steps, and in the batch
grader) writes it into the gradebook with nbgrader's ``Gradebook.grant_extension``: the
submission's ``extension``, so its ``duedate`` and ``total_seconds_late`` (which formgrader,
``nbgrader export`` and the late penalty read) count from the later date. As with nbgrader's own
extensions, a new one replaces the old, and 0 hours takes it away; an extension not named in the
configuration stays as it was in the gradebook.
"""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict, Float

__all__ = ["PointsPerDay", "GrantExtensions", "penalty", "extension_hours", "grant_extension"]


def penalty(seconds_late: float, score: float, points_per_day: float) -> float:
    """Points taken off for ``seconds_late``: ``points_per_day`` a day started, at most the score."""
    if seconds_late <= 0 or points_per_day <= 0:
        return 0.0
    return float(min(score, math.ceil(seconds_late / 86400) * points_per_day))


def _check_extensions(extensions: dict) -> dict:
    """``{student: {assignment: hours}}`` with hours a number >= 0, or a ValueError saying what is wrong."""
    example = '{"s007": {"01_perceptron": 48}}'
    if not isinstance(extensions, dict):
        raise ValueError(f"extensions must be a dict student -> {{assignment: hours}}, e.g. {example}; "
                         f"got {extensions!r}")
    for student, given in extensions.items():
        if not isinstance(given, dict):
            raise ValueError(f"extensions[{student!r}] must be a dict assignment -> hours, e.g. {example}; "
                             f"got {given!r}")
        for assignment, hours in given.items():
            if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not hours >= 0:
                raise ValueError(f"the extension of {student!r} for {assignment!r} must be a number of hours "
                                 f">= 0 (0 takes it away), e.g. {example}; got {hours!r}")
    return extensions


class PointsPerDay(LateSubmissionPlugin):
    """``points_per_day`` off for each day (or part of one) a notebook was late, counted from the
    student's due date: the assignment's, moved by their extension if they have one."""

    points_per_day = Float(0.0, help="Points off per day late (or part of a day).").tag(config=True)
    extensions = Dict({}, help="student -> {assignment: hours of extension}: each moves that student's "
                               "due date for that assignment (0 takes an extension away).").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return penalty(total_seconds_late, score or 0.0, self.points_per_day)


def extension_hours(extensions: dict, student: str, assignment: str) -> float | None:
    """The hours of ``student``'s extension for ``assignment``, or None where none is configured."""
    hours = _check_extensions(extensions).get(student, {}).get(assignment)
    return None if hours is None else float(hours)


def grant_extension(gradebook, extensions: dict, student: str, assignment: str) -> bool:
    """Write ``student``'s configured extension for ``assignment`` into ``gradebook`` (nbgrader's
    ``grant_extension``; 0 hours takes it away). Returns whether one was configured."""
    hours = extension_hours(extensions, student, assignment)
    if hours is None:
        return False
    gradebook.grant_extension(assignment, student, hours=hours)
    return True


class GrantExtensions(NbGraderPreprocessor):
    """Put the student's extension (``PointsPerDay.extensions``) into the gradebook before
    ``AssignLatePenalties`` reads how late the submission was."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        extensions = PointsPerDay(parent=self).extensions
        if extension_hours(extensions, info["student"], info["assignment"]) is not None:
            with Gradebook(info["db_url"]) as gradebook:
                grant_extension(gradebook, extensions, info["student"], info["assignment"])
        return nb, resources
