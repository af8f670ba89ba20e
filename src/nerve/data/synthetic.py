"""Small synthetic 2-D classification problems for the lectures' demos.

Every generator returns ``(X, y)`` with ``X`` float32 of shape (N, 2) and ``y``
int64 of shape (N,), examples grouped by class (``xor``: by quadrant), and draws all its randomness
from :func:`nerve.random.get_rng` (``seed=None`` uses the library-wide
generator that :func:`nerve.manual_seed` reseeds; an int gives a fresh one).
"""
from __future__ import annotations

import numpy as np

from nerve.random import get_rng

from ._checks import check_float, check_int, first_non_finite

__all__ = ["spiral", "xor", "moons", "circles", "blobs", "logic_gate", "LOGIC_GATES"]


def _split_evenly(n: int, parts: int) -> np.ndarray:
    """Sizes of ``parts`` groups that add up to ``n`` and differ by at most one."""
    sizes = np.full(parts, n // parts, dtype=np.int64)
    sizes[: n % parts] += 1
    return sizes


def _finish(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(X, dtype=np.float32), np.ascontiguousarray(y, dtype=np.int64)


def spiral(n_per_class: int = 100, classes: int = 3, noise: float = 0.2,
           seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The CS231n spiral: ``classes`` interleaved arms, not linearly separable.

    For class j with n points: r = linspace(0, 1, n), t = linspace(4j, 4(j+1), n)
    + noise * N(0, 1), and x = r * [sin t, cos t].  Returns X (n*classes, 2), y.

    >>> X, y = spiral(100, 3, seed=0)
    >>> X.shape, y.shape
    ((300, 2), (300,))
    """
    n = check_int("n_per_class", n_per_class)
    k = check_int("classes", classes)
    noise = check_float("noise", noise)
    rng = get_rng(seed)
    r = np.linspace(0.0, 1.0, n)
    start = 4.0 * np.arange(k)[:, None]
    t = start + np.linspace(0.0, 4.0, n)[None, :] + rng.standard_normal((k, n)) * noise
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=-1).reshape(k * n, 2)
    y = np.repeat(np.arange(k), n)
    return _finish(X, y)


def xor(n: int = 200, noise: float = 0.15,
        seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Noisy XOR: four Gaussian clouds around the corners of the unit square.

    A point near corner (a, b), a, b in {0, 1}, gets label a XOR b, so no line
    separates the classes.  The corners share the n points as evenly as
    possible; each point is its corner + noise * N(0, I).  Returns X (n, 2), y (n,).
    """
    n = check_int("n", n)
    noise = check_float("noise", noise)
    rng = get_rng(seed)
    # classes alternate around the square, so the corners that get one point more
    # (n % 4 of them, the first ones) are split between the classes
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    labels = np.array([0, 1, 0, 1])
    which = np.repeat(np.arange(4), _split_evenly(n, 4))
    X = corners[which] + rng.standard_normal((n, 2)) * noise
    return _finish(X, labels[which])


def moons(n: int = 200, noise: float = 0.1,
          seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles.

    Class 0: (cos t, sin t) for t in [0, pi]; class 1: (1 - cos t, 0.5 - sin t);
    each point plus noise * N(0, I).  Class 0 gets ceil(n/2) points.
    Returns X (n, 2), y (n,).
    """
    n = check_int("n", n, minimum=2)
    noise = check_float("noise", noise)
    rng = get_rng(seed)
    n0, n1 = _split_evenly(n, 2)
    t0 = np.linspace(0.0, np.pi, n0)
    t1 = np.linspace(0.0, np.pi, n1)
    outer = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    inner = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([outer, inner]) + rng.standard_normal((n, 2)) * noise
    y = np.repeat([0, 1], [n0, n1])
    return _finish(X, y)


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5,
            seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A large circle (class 0, radius 1) around a small one (class 1, radius ``factor``).

    Angles are evenly spaced on each circle; each point gets noise * N(0, I).
    Class 0 gets ceil(n/2) points.  Returns X (n, 2), y (n,).
    """
    n = check_int("n", n, minimum=2)
    noise = check_float("noise", noise)
    factor = check_float("factor", factor)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be strictly between 0 and 1, got {factor}")
    rng = get_rng(seed)
    n0, n1 = _split_evenly(n, 2)
    t0 = np.linspace(0.0, 2.0 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2.0 * np.pi, n1, endpoint=False)
    outer = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    inner = factor * np.stack([np.cos(t1), np.sin(t1)], axis=1)
    X = np.concatenate([outer, inner]) + rng.standard_normal((n, 2)) * noise
    y = np.repeat([0, 1], [n0, n1])
    return _finish(X, y)


def blobs(n: int = 200, centers: int | np.ndarray = 3, std: float = 1.0,
          seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs: class c is centers[c] + std * N(0, I).

    ``centers`` is a count (centres drawn uniformly from the box [-10, 10]^2) or
    an array of shape (k, 2).  The k classes share the n points as evenly as
    possible.  Returns X (n, 2), y (n,).
    """
    n = check_int("n", n)
    std = check_float("std", std)
    rng = get_rng(seed)
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        k = check_int("centers", centers)
        means = rng.uniform(-10.0, 10.0, size=(k, 2))
    else:
        means = np.asarray(centers, dtype=np.float64)
        if means.ndim != 2 or means.shape[1] != 2 or means.shape[0] < 1:
            raise ValueError(
                f"centers must be a positive int or an array of shape (k, 2), "
                f"got shape {means.shape}")
        bad = first_non_finite(means)  # a NaN centre would silently give NaN points
        if bad is not None:
            raise ValueError(f"centers must be finite, got {bad[1]} at index {bad[0]}")
        k = means.shape[0]
    y = np.repeat(np.arange(k), _split_evenly(n, k))
    X = means[y] + rng.standard_normal((n, 2)) * std
    return _finish(X, y)


LOGIC_GATES: dict[str, tuple[int, int, int, int]] = {
    # outputs for inputs (0,0), (0,1), (1,0), (1,1)
    "AND": (0, 0, 0, 1),
    "OR": (0, 1, 1, 1),
    "NAND": (1, 1, 1, 0),
    "NOR": (1, 0, 0, 0),
    "XOR": (0, 1, 1, 0),
}


def logic_gate(name: str, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a two-input gate: X (4, 2) float32, y (4,) int64.

    Rows are the inputs (0,0), (0,1), (1,0), (1,1).  ``name`` is one of "AND",
    "OR", "NAND", "NOR", "XOR", in any case. A truth table draws nothing at random:
    ``seed`` is accepted, like every generator's, and changes nothing.

    >>> X, y = logic_gate("xor")
    >>> y.tolist()
    [0, 1, 1, 0]
    """
    if not isinstance(name, str):
        raise TypeError(f"gate name must be a string, one of {sorted(LOGIC_GATES)}; got {name!r}")
    if seed is not None:
        get_rng(seed)  # checked as every generator checks it
    key = name.strip().upper()
    if key not in LOGIC_GATES:
        raise ValueError(f"unknown logic gate {name!r}; valid names are {sorted(LOGIC_GATES)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array(LOGIC_GATES[key], dtype=np.int64)
    return X, y
