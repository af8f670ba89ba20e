"""The lecture's gradient-free baselines: random search and random local search.

Both treat the loss as a black box ``loss_fn(W) -> float`` and return
``(best_W, history)``, where ``history[i]`` is the lowest loss seen after
``i + 1`` tries (a non-increasing float64 array of length ``tries`` / ``steps``),
ready to plot against the gradient-descent curve.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral
from typing import Any

import numpy as np

from ..random import get_rng
from .optimizer import check_number

__all__ = ["random_search", "random_local_search"]

LossFn = Callable[[np.ndarray], float]


def _count(owner: str, name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{owner}: {name} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{owner}: {name} must be >= 1, got {value}")
    return int(value)


def _evaluate(owner: str, loss_fn: LossFn, W: np.ndarray) -> float:
    """``loss_fn(W)`` as a float, with NaN read as +inf so that it never wins a comparison."""
    value = loss_fn(W)
    try:
        loss = float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"{owner}: loss_fn must return a single number, got {type(value).__name__}"
            + (f" of shape {np.shape(value)}" if hasattr(value, "shape") else "")
        ) from None
    return math.inf if math.isnan(loss) else loss


def _float_dtype(owner: str, dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{owner}: dtype must be float32 or float64, got {dtype}")
    return dtype


def random_search(loss_fn: LossFn, shape: int | tuple[int, ...], tries: int = 1000,
                  scale: float = 0.001, seed: int | np.random.Generator | None = None,
                  dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Try ``tries`` random weight matrices ``W = scale * N(0, 1)`` of ``shape``; keep the best.

    Returns ``(best_W, history)``: ``best_W`` has ``shape`` and ``dtype``;
    ``history[i]`` is the best loss after ``i + 1`` tries. A NaN loss counts as +inf.

    >>> W, hist = random_search(lambda W: float(((W - 1) ** 2).sum()), (3,), tries=50, seed=0)
    >>> bool(hist[-1] <= hist[0])
    True
    """
    owner = "random_search"
    if not callable(loss_fn):
        raise TypeError(f"{owner}: loss_fn must be callable, got {type(loss_fn).__name__}")
    shape = (shape,) if isinstance(shape, Integral) else tuple(shape)
    if not all(isinstance(n, Integral) and n >= 1 for n in shape):
        raise ValueError(f"{owner}: shape must be positive integers, got {shape}")
    tries = _count(owner, "tries", tries)
    scale = check_number(owner, "scale", scale)
    dtype = _float_dtype(owner, dtype)
    rng = get_rng(seed)
    history = np.empty(tries, dtype=np.float64)
    best_W, best = None, math.inf
    for i in range(tries):
        W = rng.standard_normal(shape, dtype=dtype)
        W *= scale
        loss = _evaluate(owner, loss_fn, W)
        if best_W is None or loss < best:
            best_W, best = W, loss
        history[i] = best
    return best_W, history


def random_local_search(loss_fn: LossFn, W0: np.ndarray, steps: int = 1000,
                        step_size: float = 0.0001,
                        seed: int | np.random.Generator | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Perturb ``W`` by ``step_size * N(0, 1)`` each step; keep the move if the loss drops.

    Starts from a copy of ``W0`` (float arrays keep their dtype, others become
    float32). Returns ``(best_W, history)``: ``history[i]`` is the loss of the
    current (best) ``W`` after step ``i + 1``. A NaN loss counts as +inf.

    >>> W, hist = random_local_search(lambda W: float((W ** 2).sum()), np.ones(3),
    ...                               steps=100, step_size=0.1, seed=0)
    >>> bool(hist[-1] < 3.0)
    True
    """
    owner = "random_local_search"
    if not callable(loss_fn):
        raise TypeError(f"{owner}: loss_fn must be callable, got {type(loss_fn).__name__}")
    W = np.array(W0, copy=True)
    if W.dtype not in (np.float32, np.float64):
        if not (np.issubdtype(W.dtype, np.integer) or np.issubdtype(W.dtype, np.floating)):
            raise TypeError(f"{owner}: W0 must be a numeric array, got dtype {W.dtype}")
        W = W.astype(np.float32)
    steps = _count(owner, "steps", steps)
    step_size = check_number(owner, "step_size", step_size)
    rng = get_rng(seed)
    best = _evaluate(owner, loss_fn, W)
    history = np.empty(steps, dtype=np.float64)
    for i in range(steps):
        candidate = rng.standard_normal(W.shape, dtype=W.dtype)
        candidate *= step_size
        candidate += W
        loss = _evaluate(owner, loss_fn, candidate)
        if loss < best:
            W, best = candidate, loss
        history[i] = best
    return W, history
