"""Small 2-D data sets made in code, to watch a network learn a decision boundary.

Every function returns ``(x, y)``:

* ``x`` float32, shape (n_samples, 2): the points;
* ``y`` int64, shape (n_samples,): the class of each point, 0, 1, ...

The classes are as balanced as ``n_samples`` allows and the points come in random
order (so that any slice is a fair mini-batch). The same ``seed`` always gives the same
arrays; another seed gives another sample; ``seed=None`` draws from the course-wide
generator, so it follows ``set_seed``.

================  ======================================  ========================
function          what it looks like                      a straight line can ...
================  ======================================  ========================
make_blobs        two round clouds                        separate them (always)
make_xor          four clouds, opposite corners together  not separate them
make_moons        two interleaved half circles            not separate them
make_circles      a ring around a disc                    not separate them
make_spirals      arms winding around the centre          not separate them
================  ======================================  ========================

Example
-------
>>> x, y = make_moons(n_samples=100, noise=0.1, seed=0)
>>> x.shape, x.dtype, y.shape, y.dtype
((100, 2), dtype('float32'), (100,), dtype('int64'))
>>> int((y == 0).sum()), int((y == 1).sum())
(50, 50)
"""

from __future__ import annotations

import numpy as np

from ..utils import check_int, check_real, get_rng

__all__ = ["make_blobs", "make_circles", "make_moons", "make_spirals", "make_xor"]


# --------------------------------------------------------------------------------------
# Checking the arguments
# --------------------------------------------------------------------------------------


def _check_int(value, name: str, minimum: int, example: int) -> int:
    return check_int(name, value, low=minimum, example=example)


def _check_real(value, name: str, low: float, example: float, strict: bool = False) -> float:
    return check_real(name, value, low=low, low_open=strict, example=example)


def _rng(seed) -> np.random.Generator:
    """A new generator for an int seed; the course-wide one of ``set_seed`` for None."""
    return get_rng(seed)


def _split(n_samples: int, n_groups: int) -> np.ndarray:
    """Labels 0..n_groups-1 for n_samples points, as balanced as possible.

    Example: _split(5, 2) -> array([0, 0, 0, 1, 1])
    """
    counts = [n_samples // n_groups + (k < n_samples % n_groups) for k in range(n_groups)]
    return np.repeat(np.arange(n_groups), counts)


def _finish(x: np.ndarray, y: np.ndarray, rng: np.random.Generator):
    """Shuffle the points and give them the promised dtypes."""
    order = rng.permutation(len(y))
    return x[order].astype(np.float32), y[order].astype(np.int64)


# --------------------------------------------------------------------------------------
# The data sets
# --------------------------------------------------------------------------------------


#: The least distance between a point of :func:`make_blobs` and the line x1 + x2 = 0.
BLOBS_MARGIN = 0.1


def make_blobs(n_samples: int = 200, noise: float = 0.5, seed=0):
    """Two round clouds of points that a straight line always separates.

    Class 0 is centred on (-1, -1), class 1 on (1, 1). Each point is its centre plus
    gaussian noise of standard deviation ``noise`` in each coordinate, except that the
    noise across the line ``x1 + x2 = 0`` is clipped: every point stays at least
    :data:`BLOBS_MARGIN` away from that line (up to float32 rounding), on its own side.
    So the classes are linearly separable for every noise level: ``y == (x1 + x2 > 0)``.

    Parameters
    ----------
    n_samples : int
        Number of points (> 0), half in each class.
    noise : float
        Standard deviation of the noise (>= 0).
    seed : int or None
        Seed of the random numbers; None draws from the generator of ``set_seed``.

    Returns
    -------
    x : float32, shape (n_samples, 2)
    y : int64, shape (n_samples,), 0 or 1

    Example
    -------
    >>> x, y = make_blobs(n_samples=6, seed=0)
    >>> bool(np.all((x.sum(axis=1) > 0) == (y == 1)))
    True
    """
    n_samples = _check_int(n_samples, "n_samples", 1, 200)
    noise = _check_real(noise, "noise", 0.0, 0.5)
    rng = _rng(seed)
    y = _split(n_samples, 2)
    side = np.where(y == 1, 1.0, -1.0)[:, None]          # (n, 1): which side of the line
    centres = side * np.array([1.0, 1.0])                 # (n, 2)
    normal = np.array([1.0, 1.0]) / np.sqrt(2.0)          # unit vector across the line
    offsets = noise * rng.standard_normal((n_samples, 2))
    across = offsets @ normal                             # (n,): noise across the line
    along = offsets - across[:, None] * normal            # (n, 2): noise along the line
    # Distance of a centre from the line is sqrt(2); keep every point BLOBS_MARGIN away.
    lowest = BLOBS_MARGIN - np.sqrt(2.0)
    across = side[:, 0] * np.maximum(side[:, 0] * across, lowest)
    x = centres + along + across[:, None] * normal
    return _finish(x, y, rng)


def make_xor(n_samples: int = 200, noise: float = 0.2, seed=0):
    """Four clouds at the corners of a square, labelled like XOR: no line separates them.

    The clouds are centred on (-1, -1), (-1, 1), (1, -1), (1, 1). A point's label is 1
    when its two coordinates have different signs, i.e. ``(x1 > 0) XOR (x2 > 0)``. The
    gaussian noise (standard deviation ``noise``) is clipped so that no point leaves its
    quadrant (each coordinate stays at least 0.05 from the axes), so that rule holds for
    every point.

    Parameters
    ----------
    n_samples : int
        Number of points (> 0), a quarter in each cloud.
    noise : float
        Standard deviation of the noise (>= 0).
    seed : int or None
        Seed of the random numbers; None draws from the generator of ``set_seed``.

    Returns
    -------
    x : float32, shape (n_samples, 2)
    y : int64, shape (n_samples,), 0 or 1

    Example
    -------
    >>> x, y = make_xor(n_samples=8, seed=0)
    >>> bool(np.all(y == ((x[:, 0] > 0) ^ (x[:, 1] > 0))))
    True
    """
    n_samples = _check_int(n_samples, "n_samples", 1, 200)
    noise = _check_real(noise, "noise", 0.0, 0.2)
    rng = _rng(seed)
    cloud = _split(n_samples, 4)                          # (n,): 0, 1, 2, 3
    corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    signs = corners[cloud]                                # (n, 2), also the centres
    offsets = noise * rng.standard_normal((n_samples, 2))
    # Measured away from the axes, an offset below 0.05 - 1 would cross an axis: clip it.
    x = signs + signs * np.maximum(signs * offsets, 0.05 - 1.0)
    y = (signs[:, 0] != signs[:, 1]).astype(np.int64)
    return _finish(x, y, rng)


def make_moons(n_samples: int = 200, noise: float = 0.1, seed=0):
    """Two interleaving half circles ("moons").

    Class 0 lies on the upper half of the unit circle centred on (0, 0); class 1 on the
    lower half of the unit circle centred on (1, 0.5). Each point is at a random angle
    on its half circle, plus gaussian noise of standard deviation ``noise``.

    Parameters
    ----------
    n_samples : int
        Number of points (> 0), half in each moon.
    noise : float
        Standard deviation of the noise (>= 0).
    seed : int or None
        Seed of the random numbers; None draws from the generator of ``set_seed``.

    Returns
    -------
    x : float32, shape (n_samples, 2)
    y : int64, shape (n_samples,), 0 or 1

    Example
    -------
    >>> x, y = make_moons(n_samples=4, noise=0.0, seed=0)
    >>> x.shape
    (4, 2)
    """
    n_samples = _check_int(n_samples, "n_samples", 1, 200)
    noise = _check_real(noise, "noise", 0.0, 0.1)
    rng = _rng(seed)
    y = _split(n_samples, 2)
    angle = rng.uniform(0.0, np.pi, n_samples)            # (n,)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    x = np.where((y == 0)[:, None], upper, lower)
    x = x + noise * rng.standard_normal((n_samples, 2))
    return _finish(x, y, rng)


def make_circles(n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, seed=0):
    """A ring (class 0, radius 1) around a smaller ring (class 1, radius ``factor``).

    Each point is at a random angle on its circle, plus gaussian noise of standard
    deviation ``noise``.

    Parameters
    ----------
    n_samples : int
        Number of points (> 0), half on each circle.
    noise : float
        Standard deviation of the noise (>= 0).
    factor : float
        Radius of the inner circle, between 0 and 1 (both excluded).
    seed : int or None
        Seed of the random numbers; None draws from the generator of ``set_seed``.

    Returns
    -------
    x : float32, shape (n_samples, 2)
    y : int64, shape (n_samples,), 0 (outer) or 1 (inner)

    Example
    -------
    >>> x, y = make_circles(n_samples=4, noise=0.0, seed=0)
    >>> np.round(np.hypot(x[:, 0], x[:, 1]), 3)[np.argsort(y)]
    array([1. , 1. , 0.5, 0.5], dtype=float32)
    """
    n_samples = _check_int(n_samples, "n_samples", 1, 200)
    noise = _check_real(noise, "noise", 0.0, 0.05)
    factor = _check_real(factor, "factor", 0.0, 0.5, strict=True)
    if factor >= 1.0:
        raise ValueError(
            f"factor must be below 1 (the outer radius), got {factor}. Pass e.g. factor=0.5."
        )
    rng = _rng(seed)
    y = _split(n_samples, 2)
    radius = np.where(y == 0, 1.0, factor)                # (n,)
    angle = rng.uniform(0.0, 2.0 * np.pi, n_samples)      # (n,)
    x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = x + noise * rng.standard_normal((n_samples, 2))
    return _finish(x, y, rng)


def make_spirals(n_samples: int = 300, noise: float = 0.02, n_classes: int = 2, seed=0):
    """Arms winding out of the centre, one per class, like a pinwheel.

    Arm ``k`` starts at the centre at angle ``2 pi k / n_classes``; a point at distance
    ``r`` (0..1, drawn at random) from the centre sits ``1.5 pi r`` further round, so
    each arm makes three quarters of a turn. Gaussian noise of standard deviation
    ``noise`` is added to each coordinate.

    Parameters
    ----------
    n_samples : int
        Number of points (> 0), shared as evenly as possible among the arms.
    noise : float
        Standard deviation of the noise (>= 0).
    n_classes : int
        Number of arms, one per class (>= 2).
    seed : int or None
        Seed of the random numbers; None draws from the generator of ``set_seed``.

    Returns
    -------
    x : float32, shape (n_samples, 2), inside the unit disc give or take the noise
    y : int64, shape (n_samples,), 0 .. n_classes - 1

    Example
    -------
    >>> x, y = make_spirals(n_samples=300, n_classes=3, seed=0)
    >>> np.bincount(y)
    array([100, 100, 100])
    """
    n_samples = _check_int(n_samples, "n_samples", 1, 300)
    noise = _check_real(noise, "noise", 0.0, 0.02)
    n_classes = _check_int(n_classes, "n_classes", 2, 3)
    rng = _rng(seed)
    y = _split(n_samples, n_classes)
    r = rng.uniform(0.0, 1.0, n_samples)                  # (n,) distance from the centre
    angle = 2.0 * np.pi * y / n_classes + 1.5 * np.pi * r
    x = r[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = x + noise * rng.standard_normal((n_samples, 2))
    return _finish(x, y, rng)
