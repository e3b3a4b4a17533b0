"""Data sets for the course: MNIST, and small 2-D toy sets made in code.

* :mod:`course.datasets.mnist`: the handwritten digits, loaded like Keras does
  (``mnist.load_data()``), or flattened and scaled for a dense network
  (``mnist.load_flat()``).
* :mod:`course.datasets.toy`: ``make_blobs``, ``make_xor``, ``make_moons``,
  ``make_circles`` and ``make_spirals``, each returning ``(x, y)`` with ``x`` float32
  of shape (n, 2) and ``y`` int64 of shape (n,).

Example
-------
>>> from course.datasets import make_xor, mnist
>>> x, y = make_xor(n_samples=100, seed=0)
>>> x.shape, y.shape
((100, 2), (100,))
>>> (x_train, y_train), (x_test, y_test) = mnist.load_data()   # doctest: +SKIP
"""

from . import mnist
from .toy import make_blobs, make_circles, make_moons, make_spirals, make_xor

__all__ = ["mnist", "make_blobs", "make_circles", "make_moons", "make_spirals", "make_xor"]
