"""``configure(c)``: everything the course sets on an nbgrader config object.

    c = get_config()
    from course.gradebook.config import configure
    configure(c)

- ``nbgrader autograde`` (command line and formgrader's button) grades through the jailed
  engine (``JailedExecute`` in place of nbgrader's ``Execute``), and stores the grader's verdict
  as a comment and a flag (``SaveCourseComments``);
- ``nbgrader generate_feedback`` clears hidden tests from the feedback (``ClearHiddenTests``);
- late work is penalised by ``course.gradebook.late.PointsPerDay`` (nbgrader's late-submission
  plugin; set ``c.PointsPerDay.points_per_day``, 0 by default), counted from each student's due
  date: ``c.PointsPerDay.extensions = {"s007": {"01_perceptron": 48}}`` gives s007 48 hours more
  (``GrantExtensions`` writes it into the gradebook before ``AssignLatePenalties``);
- ``nbgrader export`` writes the LMS table (``course.gradebook.export.LmsExport``).
"""
from __future__ import annotations

__all__ = ["configure"]


def configure(c, timeout: float = 300.0, cell_timeout: float = 60.0, memory_mb: int = 2048) -> None:
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests,
                                        GetGrades, IgnorePattern, LimitOutput, SaveAutoGrades)

    from .executor import JailedExecute, SaveCourseComments
    from .late import GrantExtensions

    c.Autograde.autograde_preprocessors = [JailedExecute, IgnorePattern, ClearMetadataPreprocessor,
                                           LimitOutput, SaveAutoGrades, SaveCourseComments,
                                           GrantExtensions, AssignLatePenalties, CheckCellMetadata]
    c.JailedExecute.timeout = timeout
    c.JailedExecute.cell_timeout = cell_timeout
    c.JailedExecute.memory_mb = memory_mb
    c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
    c.AssignLatePenalties.plugin_class = "course.gradebook.late.PointsPerDay"
    c.ExportApp.plugin_class = "course.gradebook.export.LmsExport"
