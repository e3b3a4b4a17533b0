"""The course's grading inside nbgrader's gradebook.

    course.gradebook.executor  JailedExecute: nbgrader's executor replaced by the jailed engine,
                               so ``nbgrader autograde`` (and formgrader's button) grade in the jail;
                               fill_notebook and SaveCourseComments, shared with the batch grader
    course.gradebook.config    configure(c): everything the course sets on an nbgrader config
    course.gradebook.store     the batch grader's writer: one process commits each result
    course.gradebook.cli       ``python -m course.grading``: grade a class into a gradebook

Importing this package imports nothing else.
"""
