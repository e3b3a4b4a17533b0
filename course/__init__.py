"""How a neural network learns: the course library.

The core (everything imported here) needs NumPy only. Plots, widgets and the PyTorch
equivalents live in their own modules (``course.plots``, ``course.widgets``, ``course.torch``)
and import matplotlib, ipywidgets or torch when you use them.

The names follow Keras, so the textbook's code runs with only its imports changed:

    from course.models import Sequential        # keras.models
    from course.layers import Dense             # keras.layers
    from course.optimizers import SGD           # keras.optimizers
    from course.utils import to_categorical     # keras.utils
    from course.datasets import mnist           # keras.datasets
"""
from . import activations, initializers, losses, metrics
from .callbacks import BatchLossLogger, EarlyStopping, History, LearningRateScheduler
from .layers import Dense
from .models import Sequential
from .utils import set_seed, to_categorical

__version__ = "0.1.0"

__all__ = [
    "activations", "initializers", "losses", "metrics", "Dense", "Sequential", "set_seed",
    "to_categorical", "History", "BatchLossLogger", "EarlyStopping", "LearningRateScheduler",
]
