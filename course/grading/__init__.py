"""Autograding the exercises: self-checks for learners, and a batch grader for instructors.

The package is laid out by side of the wall that the security model depends on:

    course.grading.checks      check_close, check_shape, call, ...: the helpers the exercises'
                               test cells use; they fail with messages a learner can act on
    course.grading.trusted     the grader's side: nothing of a submission runs here
        runner                 the batch grader's engine: each submission in its own process,
                               scored as nbgrader scores it (its command line,
                               ``python -m course.grading``, is ``course.gradebook.cli``)
        assemble               which cells of a submission are run (answers from the learner,
                               tests from the instructor's source notebook)
        child                  the trusted process that grades one submission: it runs the tests
        jail                   the launcher of the submission's kernel, and the stand-ins
                               (proxies) through which the tests call the learner's functions
        clock                  a cell's limit in the submission's own CPU time (no cgroup)
    course.grading.jailed      what runs inside the jail, with the learner's code: nothing here
                               is believed
        kernel                 the kernel (an IPython shell and a request loop)
    course.grading.wire        plain data and the channel across the wall (never pickle)
        plain                  the values that cross
        channel                requests and replies over the jail's pipes
        job                    GradingJob: one submission's grading and its limits, one type
                               in every process, crossing as JSON of its fields

The engine's API, importable from here: ``Settings``, ``load_templates``, ``load_template``,
``find_jobs``, ``grade_batch``, ``check_launcher`` (and ``Job``, ``Result``, ``TestResult``, ``JailUnavailable``).
It writes no file: the gradebook (``course.gradebook``) records the results and makes the reports.

Importing this package imports nothing else: the checks need NumPy only, and a learner's
notebook imports them without nbgrader or jupyter_client installed. The engine's names are
loaded on first use.
"""
__all__ = ["Settings", "Job", "Result", "TestResult", "JailUnavailable", "load_template",
           "load_templates", "find_jobs", "grade_batch", "check_launcher"]


def __getattr__(name):
    if name in __all__:
        from .trusted import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'course.grading' has no attribute {name!r}")
