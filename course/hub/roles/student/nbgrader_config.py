"""nbgrader for a student's server on the course's hub: the course and its exchange."""
import os

c = get_config()  # noqa: F821 (nbgrader provides get_config)
c.CourseDirectory.course_id = os.environ["COURSE_ID"]
c.Exchange.root = os.environ["COURSE_EXCHANGE"]
