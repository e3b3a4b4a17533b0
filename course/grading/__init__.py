"""Autograding the exercises: self-checks for learners, and a batch grader for instructors.

    course.grading.checks     check_close, check_shape, call, ...: the helpers the exercises'
                              test cells use; they fail with messages a learner can act on
    course.grading.runner     the batch grader (``python -m course.grading --help``): each
                              submission in its own process, scored as nbgrader scores it
    course.grading.assemble   which cells of a submission are run (answers from the learner,
                              tests from the instructor's source notebook)
    course.grading.child      the process that grades one submission
    course.grading.sandbox    what a submission's code may touch while it is graded
    course.grading.adversarial  submissions that misbehave, to check the grader survives them

Importing this package imports nothing else: the checks need NumPy only, and a learner's
notebook imports them without nbgrader or jupyter_client installed.
"""
