"""nbgrader's settings for the course exercises. Run nbgrader from this folder (exercises/).

    nbgrader generate_assignment 01_perceptron --force   source/ -> release/ (student version)
    nbgrader autograde 01_perceptron                     grades submitted/<student>/01_perceptron/

``nbgrader autograde`` grades through the course's jail (``course.gradebook.config.configure``):
the submission's code runs in the jail, the tests outside it, and the grader's verdict reaches
the gradebook as a comment. The batch grader ``python -m course.grading --db`` grades into the
same gradebook.
"""
import os
import sys

# the course package, for configure() (this file lives in <repository>/exercises/)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
from course.gradebook.config import configure  # noqa: E402

c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.course_id = "how-a-neural-network-learns"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The gradebook (sqlite) is created here, next to this file; it is not part of the repository.
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# What a learner finds in place of a solution: the standard nbgrader stub.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# nbgrader autograde: one cell may run this long before it is stopped.
c.ExecutePreprocessor.timeout = 60
c.Execute.timeout = 60

# the jail as nbgrader's executor, hidden tests cleared from feedback, late penalties, export
configure(c, cell_timeout=60)
