"""The runs of the lessons: one module per lesson, named as the lesson's notebook.

    course.runs.optimizers        lesson 4 (notebooks/04_optimizers.ipynb)
    course.runs.hyperparameters   lesson 5 (notebooks/05_hyperparameters.ipynb)

A run trains or steps something and returns plain data (NamedTuples of arrays); the plots of
``course.plots`` take that data and never call a run. Model builders shared with the widgets are
in ``course.builders``; MNIST subsets in ``course.datasets.mnist``; stored measurements in
``course.results``.
"""
