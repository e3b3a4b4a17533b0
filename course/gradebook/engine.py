"""The grading engine's API, as this package uses it (``course.grading``)."""
from __future__ import annotations

try:
    from course.grading import Settings, find_jobs, grade_batch, load_templates  # noqa: F401
except ImportError:  # the engine's functions live in its runner module
    from course.grading.runner import Settings, find_jobs, grade_batch, load_templates  # noqa: F401
from course.grading.runner import UNJAILED, JailUnavailable, Job, Result, TestResult, load_template  # noqa: F401,E402
from course.grading.runner import _feedback as markdown_feedback, _worst as worst_status  # noqa: F401,E402
