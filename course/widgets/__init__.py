"""Interactive dashboards (ipywidgets) for the lessons.

Each builder returns a ``Dashboard`` (see ``dashboard.py``): display it in a notebook cell, or
drive it from Python with ``dash.set(name=value)``.

    lesson 01  perceptron_dashboard()   learning rate, epochs, data set -> boundary and errors
    lesson 02  activation_explorer()    function, input range -> the function and its slope
    lesson 03  backprop_stepper()       one training step at a time, each layer's gradient
    lesson 04  descent_dashboard()      optimizer, learning rate, momentum, ... -> path and loss
    lesson 05  training_dashboard()     units, activation, initialiser, ... -> live curves
"""
from .activations import activation_explorer
from .backprop import BackpropStepper, backprop_stepper
from .dashboard import Dashboard, LatestOnly, describe, figure_to_png
from .descent import DescentDashboard, descent_dashboard
from .perceptron import perceptron_dashboard
from .training import TrainingDashboard, training_dashboard

__all__ = [
    "Dashboard", "LatestOnly", "describe", "figure_to_png", "perceptron_dashboard", "activation_explorer", "BackpropStepper",
    "backprop_stepper", "DescentDashboard", "descent_dashboard", "TrainingDashboard", "training_dashboard",
]
