"""Autograding the exercises: self-checks for learners, and a batch grader for instructors.

    course.grading.checks     check_close, check_shape, call, ...: the helpers the exercises'
                              test cells use; they fail with messages a learner can act on
    course.grading.runner     the batch grader (``python -m course.grading --help``): each
                              submission in its own process, scored as nbgrader scores it
    course.grading.assemble   which cells of a submission are run (answers from the learner,
                              tests from the instructor's source notebook)
    course.grading.child      the trusted process that grades one submission: it runs the tests
    course.grading.jail       the submission's kernel under bubblewrap, and the stand-ins
                              (proxies) through which the tests call the learner's functions
    course.grading.kernel     the kernel inside the jail (an IPython shell and a request loop)
    course.grading.plain      plain data across the jail's wall (never pickle)
    course.grading.channel    requests and replies over the jail's pipes
    course.grading.sandbox    the in-process guard of --unsafe-no-jail
    course.grading.adversarial  submissions that misbehave, to check the grader survives them
    course.grading.attacks    submissions that try to cheat or break the grader

Importing this package imports nothing else: the checks need NumPy only, and a learner's
notebook imports them without nbgrader or jupyter_client installed.
"""
