"""The grading engine's API, as this package uses it (``course.grading``)."""
from __future__ import annotations

from course.grading import JailUnavailable, Result, Settings, TestResult, find_jobs, grade_batch, load_templates  # noqa: F401
from course.grading.trusted.runner import UNJAILED, Job, load_template  # noqa: F401
from course.grading.trusted.runner import _feedback as markdown_feedback, _worst as worst_status  # noqa: F401
