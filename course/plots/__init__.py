"""Plot functions for the lessons. Each takes data and returns a matplotlib Figure with a
title, labelled axes and, where several lines share an axis, a legend."""
from . import descent, initialization, training
from .activations import plot_activation, plot_activations, plot_softmax
from .backprop import (plot_backprop_step, plot_error_shares, plot_gradient_check, plot_gradient_norms,
                       plot_losses_vs_prediction)
from .network import plot_decision_regions, plot_going_and_return, plot_network
from .perceptron import (plot_boundaries_per_epoch, plot_dataset, plot_errors_per_epoch, plot_learning_loop,
                         plot_neuron, plot_perceptron_state)
from .style import COLORS, light_figure, new_figure

__all__ = [
    "COLORS", "new_figure", "light_figure", "descent", "initialization", "training",
    "plot_activation", "plot_activations", "plot_softmax", "plot_backprop_step", "plot_error_shares",
    "plot_gradient_check", "plot_gradient_norms", "plot_losses_vs_prediction", "plot_decision_regions",
    "plot_going_and_return", "plot_network", "plot_boundaries_per_epoch", "plot_dataset",
    "plot_errors_per_epoch", "plot_learning_loop", "plot_neuron", "plot_perceptron_state",
]
