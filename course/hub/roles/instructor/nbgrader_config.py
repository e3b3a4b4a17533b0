"""nbgrader for the instructor's server on the course's hub: the private course's own settings
(its nbgrader_config.py: the exchange, the gradebook, jailed autograding)."""
import os

c = get_config()  # noqa: F821 (nbgrader provides get_config)
c.CourseDirectory.course_id = os.environ["COURSE_ID"]
c.Exchange.root = os.environ["COURSE_EXCHANGE"]
c.CourseDirectory.root = os.environ["COURSE_ROOT"]
load_subconfig(os.path.join(os.environ["COURSE_ROOT"], "nbgrader_config.py"))  # noqa: F821
