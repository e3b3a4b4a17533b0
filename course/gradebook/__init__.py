"""The course's grading inside nbgrader's gradebook.

    course.gradebook.executor  JailedExecute: nbgrader's executor replaced by the jailed engine,
                               so ``nbgrader autograde`` (and formgrader's button) grade in the jail;
                               SaveCourseComments: the grader's verdict as a comment and a flag
    course.gradebook.config    configure(c): everything the course sets on an nbgrader config
    course.gradebook.cli       ``python -m course.grading``: grade a class into a gradebook
    course.gradebook.store     the one process that writes the gradebook: each result as it comes
    course.gradebook.reports   grades.csv, results.json, feedback, regrade.csv, ... from the gradebook
    course.gradebook.feedback  the HTML page a learner reads, one per notebook; the Markdown feedback
    course.gradebook.report    the class report (statistics, histograms, failed tests, flags)
    course.gradebook.export    the LMS table, and nbgrader export's plugin LmsExport
    course.gradebook.late      nbgrader's late-submission plugin PointsPerDay
    course.gradebook.classgen  a generated class (tests and benchmarks/bench_term.py)

Importing this package imports nothing else.
"""
