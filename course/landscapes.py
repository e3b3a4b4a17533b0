"""Loss landscapes: small functions of one or two weights, to watch optimizers move on them.

Each landscape has

    value(p)   the loss at p; p has shape (..., dim), the result shape (...) (one value per point)
    grad(p)    the analytic gradient dL/dp, shape (..., dim)
    bounds     a sensible plotting range, one (low, high) pair per coordinate
    minima     the known local minima, shape (k, dim), global minimum first
    grid(n)    the values on an n-point (1-D) or n-by-n (2-D) grid, ready for a line or contour plot

    bowl()            0.5 * (x**2 + y**2): convex, round, one minimum at the origin
    valley()          0.5 * (x**2 + 20 * y**2): an elongated (ill-conditioned) bowl
    rosenbrock()      (1 - x)**2 + 100 * (y - x**2)**2: a curved, flat-bottomed valley, minimum (1, 1)
    wavy()            x**2 / 10 + 1 - cos(2x): 1-D, a global minimum at 0 and local ones beside it
    six_hump_camel()  2-D, two global and four local minima

``run_optimizer(optimizer, landscape, start, steps)`` moves a point with any optimizer of
``course.optimizers`` (the same objects that train networks) and returns its path.

>>> from course.optimizers import SGD
>>> path, losses = run_optimizer(SGD(lr=0.1), bowl(), start=[1.0, 2.0], steps=2)
>>> path                      # each SGD step multiplies the point by 1 - lr = 0.9
array([[1.  , 2.  ],
       [0.9 , 1.8 ],
       [0.81, 1.62]])
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import optimizers
from .utils import check_int

__all__ = [
    "Landscape", "Quadratic", "Rosenbrock", "WavyBowl", "SixHumpCamel", "bowl", "valley",
    "rosenbrock", "wavy", "six_hump_camel", "LANDSCAPES", "Trajectory", "run_optimizer",
    "divergence_step",
]


class Landscape:
    """Base class: a loss L(p) of ``dim`` coordinates with its gradient.

    Subclasses set ``name``, ``bounds`` and ``minima`` and define ``_value(p)`` and
    ``_grad(p)`` for p of shape (..., dim), already checked.
    """

    name: str = "landscape"
    bounds: tuple[tuple[float, float], ...] = ()
    minima: np.ndarray = np.zeros((0, 0))

    @property
    def dim(self) -> int:
        """Number of coordinates (1 or 2)."""
        return len(self.bounds)

    @property
    def global_minimum(self) -> np.ndarray:
        """The point of lowest loss (the first of ``minima``), shape (dim,)."""
        return self.minima[0]

    def _points(self, p) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        if self.dim == 1 and p.ndim == 0:
            p = p.reshape(1)
        if p.ndim == 0 or p.shape[-1] != self.dim:
            hint = " For many x values of a 1-D landscape pass x[:, None]." if self.dim == 1 else ""
            raise ValueError(f"{self.name}: points must have shape (..., {self.dim}), one row of "
                             f"{self.dim} coordinate(s) per point; got shape {p.shape}.{hint}")
        return p

    def value(self, p) -> np.ndarray:
        """The loss at p (shape (..., dim)); returns shape (...)."""
        return self._value(self._points(p))

    def grad(self, p) -> np.ndarray:
        """The gradient dL/dp at p (shape (..., dim)); returns shape (..., dim)."""
        return self._grad(self._points(p))

    def __call__(self, p) -> np.ndarray:
        return self.value(p)

    def grid(self, n: int = 201):
        """The loss on a regular grid over ``bounds``, for plotting.

        1-D: returns (x, values), both of shape (n,).
        2-D: returns (X, Y, Z), each of shape (n, n), as ``plt.contour(X, Y, Z)`` expects
        (rows follow y, columns follow x).
        """
        check_int("grid(n)", n, low=2)
        axes = [np.linspace(low, high, int(n)) for low, high in self.bounds]
        if self.dim == 1:
            return axes[0], self.value(axes[0][:, None])
        X, Y = np.meshgrid(*axes)
        return X, Y, self.value(np.stack([X, Y], axis=-1))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, bounds={self.bounds})"


class Quadratic(Landscape):
    """L(p) = 0.5 * sum_i curvature_i * q_i**2, with q the coordinates p turned by ``angle``.

    The gradient is A @ p with A = R diag(curvatures) R^T (R the rotation by ``angle`` degrees):
    with curvatures (1, 1), dL/dp = p. The ratio of the curvatures is the condition number:
    plain gradient descent needs lr < 2 / max(curvature) not to diverge, and then crawls along
    the flattest direction. One minimum, at the origin.

    curvatures: one or two positive numbers. angle: degrees, 2-D only.
    """

    def __init__(self, curvatures=(1.0, 1.0), angle: float = 0.0, bounds=None, name: str = "quadratic"):
        curvatures = np.atleast_1d(np.asarray(curvatures, dtype=float))
        if curvatures.ndim != 1 or len(curvatures) not in (1, 2) or not np.all(curvatures > 0) \
                or not np.all(np.isfinite(curvatures)):
            raise ValueError(f"Quadratic needs one or two positive curvatures, got {curvatures.tolist()}.")
        if len(curvatures) == 1 and angle != 0:
            raise ValueError("a 1-D quadratic cannot be rotated: leave angle at 0.")
        theta = math.radians(angle)
        rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
        rotation = rotation[:len(curvatures), :len(curvatures)]
        self.curvatures = curvatures
        self.angle = float(angle)
        self.matrix = rotation @ np.diag(curvatures) @ rotation.T  # (dim, dim), symmetric
        self.name = name
        self.bounds = tuple(bounds) if bounds is not None else ((-2.0, 2.0),) * len(curvatures)
        self.minima = np.zeros((1, len(curvatures)))

    def _value(self, p):
        return 0.5 * np.einsum("...i,ij,...j->...", p, self.matrix, p)

    def _grad(self, p):
        return p @ self.matrix  # A is symmetric: (A p)^T = p^T A


class Rosenbrock(Landscape):
    """L(x, y) = (a - x)**2 + b * (y - x**2)**2, one minimum at (a, a**2) where L = 0.

        dL/dx = -2 (a - x) - 4 b x (y - x**2)
        dL/dy = 2 b (y - x**2)

    The minimum sits at the bottom of a long, curved, almost flat valley: easy to find the
    valley, slow to follow it. Defaults a = 1, b = 100.
    """

    def __init__(self, a: float = 1.0, b: float = 100.0):
        self.a, self.b = float(a), float(b)
        self.name = "rosenbrock"
        self.bounds = ((-2.0, 2.0), (-1.0, 3.0))
        self.minima = np.array([[self.a, self.a ** 2]])

    def _value(self, p):
        x, y = p[..., 0], p[..., 1]
        return (self.a - x) ** 2 + self.b * (y - x ** 2) ** 2

    def _grad(self, p):
        x, y = p[..., 0], p[..., 1]
        dx = -2 * (self.a - x) - 4 * self.b * x * (y - x ** 2)
        dy = 2 * self.b * (y - x ** 2)
        return np.stack([dx, dy], axis=-1)


class WavyBowl(Landscape):
    """L(x) = x**2 / 10 + 1 - cos(2x): a bowl with ripples, in one dimension.

        dL/dx = x / 5 + 2 sin(2x)

    The global minimum is x = 0 (L = 0). Local minima, where a ball without momentum stops:
    x = +-2.98978 (L = 0.93962) and x = +-5.96370 (L = 3.75386). Between 0 and 2.98978 lies a
    bump of height 2.25976 at x = 1.65387.
    """

    def __init__(self):
        self.name = "wavy"
        self.bounds = ((-7.0, 7.0),)
        self.minima = np.array([[0.0], [2.9897818149298603], [-2.9897818149298603],
                                [5.963699682921448], [-5.963699682921448]])

    def _value(self, p):
        x = p[..., 0]
        return x ** 2 / 10 + 1 - np.cos(2 * x)

    def _grad(self, p):
        x = p[..., 0]
        return (x / 5 + 2 * np.sin(2 * x))[..., None]


class SixHumpCamel(Landscape):
    """L(x, y) = (4 - 2.1 x**2 + x**4 / 3) x**2 + x y + (4 y**2 - 4) y**2.

        dL/dx = 8 x - 8.4 x**3 + 2 x**5 + y
        dL/dy = x - 8 y + 16 y**3

    Six minima: two global, +-(0.08984, -0.71266) with L = -1.03163, and four local,
    +-(1.70361, -0.79608) with L = -0.21546 and +-(1.60710, 0.56865) with L = 2.10425.
    """

    def __init__(self):
        self.name = "six_hump_camel"
        self.bounds = ((-2.0, 2.0), (-1.0, 1.0))
        glob = [0.08984201310031807, -0.7126564030207396]
        low = [1.7036067149699805, -0.7960835686726251]
        high = [1.6071047529201976, 0.5686514548841313]
        self.minima = np.array([glob, np.negative(glob), low, np.negative(low), high, np.negative(high)])

    def _value(self, p):
        x, y = p[..., 0], p[..., 1]
        return (4 - 2.1 * x ** 2 + x ** 4 / 3) * x ** 2 + x * y + (4 * y ** 2 - 4) * y ** 2

    def _grad(self, p):
        x, y = p[..., 0], p[..., 1]
        dx = 8 * x - 8.4 * x ** 3 + 2 * x ** 5 + y
        dy = x - 8 * y + 16 * y ** 3
        return np.stack([dx, dy], axis=-1)


def bowl(dim: int = 2) -> Quadratic:
    """0.5 * (x**2 + y**2) (or 0.5 * x**2 for dim=1): the gradient is the point itself."""
    if dim not in (1, 2):
        raise ValueError(f"bowl(dim) takes dim 1 or 2, got {dim!r}.")
    return Quadratic((1.0,) * dim, name="bowl")


def valley(condition: float = 20.0, angle: float = 0.0) -> Quadratic:
    """0.5 * (x**2 + condition * y**2), turned by ``angle`` degrees: steep across, flat along.

    With the default condition 20, plain gradient descent needs lr < 2/20 = 0.1 and then
    takes about 1/lr steps per e-fold along x: momentum and Adam do much better.
    """
    return Quadratic((1.0, condition), angle=angle, bounds=((-3.0, 3.0), (-1.5, 1.5)), name="valley")


def rosenbrock() -> Rosenbrock:
    """The Rosenbrock function (a = 1, b = 100), minimum at (1, 1)."""
    return Rosenbrock()


def wavy() -> WavyBowl:
    """The 1-D bowl with ripples x**2 / 10 + 1 - cos(2x) (local minima at +-2.99, +-5.96)."""
    return WavyBowl()


def six_hump_camel() -> SixHumpCamel:
    """The 2-D six-hump camel function: two global and four local minima."""
    return SixHumpCamel()


#: The landscapes by name.
LANDSCAPES = {"bowl": bowl, "valley": valley, "rosenbrock": rosenbrock, "wavy": wavy,
              "six_hump_camel": six_hump_camel}


class Trajectory(NamedTuple):
    """What ``run_optimizer`` returns."""

    path: np.ndarray    # (steps + 1, dim): the start, then the point after each step
    losses: np.ndarray  # (steps + 1,): the loss at each of those points


def run_optimizer(optimizer, landscape: Landscape, start, steps: int = 100) -> Trajectory:
    """Move a point from ``start`` for ``steps`` updates of ``optimizer`` on ``landscape``.

    Each step computes g = landscape.grad(point) and calls
    ``optimizer.apply_gradients([point], [g])``, exactly as a model does with its weights.

    optimizer: an optimizer object (use a fresh one per run: it keeps state), or a name or
    dict as accepted by ``course.optimizers.get``. start: dim numbers. The point is float64.

    Returns Trajectory(path, losses): path (steps + 1, dim), losses (steps + 1,). If the
    point stops being finite (the optimizer diverged), the run stops there and the remaining
    rows are NaN.
    """
    optimizer = optimizers.get(optimizer)
    if not isinstance(landscape, Landscape):
        raise TypeError(f"landscape must be a Landscape such as bowl() or rosenbrock(), got "
                        f"{type(landscape).__name__}.")
    check_int("steps", steps, low=0)
    point = np.array(start, dtype=np.float64).reshape(-1)
    if point.shape != (landscape.dim,) or not np.all(np.isfinite(point)):
        raise ValueError(f"start must be {landscape.dim} finite number(s) for {landscape.name}, "
                         f"got {start!r}.")
    path = np.full((steps + 1, landscape.dim), np.nan)
    losses = np.full(steps + 1, np.nan)
    path[0], losses[0] = point, landscape.value(point)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(1, steps + 1):
            optimizer.apply_gradients([point], [landscape.grad(point)])
            if not np.all(np.isfinite(point)):
                break
            path[k], losses[k] = point, landscape.value(point)
    return Trajectory(path, losses)


def divergence_step(losses, factor: float = 1e8) -> int | None:
    """The first step where a run counts as diverged, or None.

    Diverged: the loss is not finite, or above ``factor`` times the starting loss (at least 1).

    >>> divergence_step([2.0, 1.0, 5e9, np.inf])
    2
    """
    losses = np.asarray(losses, dtype=float)
    limit = factor * max(abs(float(losses[0])), 1.0)
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~(np.abs(losses) <= limit))
    return int(bad[0]) if bad.size else None
