"""Splitting and scaling: ``train_test_split`` and ``standardize``."""
from __future__ import annotations

import math
import numbers

import numpy as np

from nerve.random import get_rng

from ._checks import as_array, check_bool, first_non_finite

__all__ = ["train_test_split", "standardize"]


def _num_test(test_size: object, n: int) -> int:
    """Number of test examples: ceil(test_size * n) for a fraction, or the count itself."""
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a fraction in (0, 1) or a count in [1, N-1], "
                        f"got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    elif 0.0 < test_size < 1.0:
        n_test = math.ceil(float(test_size) * n)
    else:
        raise ValueError(f"a fractional test_size must be strictly between 0 and 1, "
                         f"got {test_size}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"test_size={test_size!r} gives {n_test} test examples out of {n}; "
                         f"need between 1 and {n - 1} so that both parts are non-empty")
    return n_test


def _stratified_test_index(y: np.ndarray, n_test: int, rng: np.random.Generator) -> np.ndarray:
    """Pick n_test indices so every class gets its share (largest-remainder rounding)."""
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    share = n_test * counts / len(y)
    take = np.floor(share).astype(np.int64)
    remainder = n_test - int(take.sum())
    if remainder:
        # ties between equal fractional parts are broken at random, not by class order
        keys = share - take + rng.uniform(0.0, 1e-9, size=len(classes))
        take[np.argsort(-keys)[:remainder]] += 1
    picked = []
    for c in range(len(classes)):  # loop over classes, not examples
        members = np.flatnonzero(inverse == c)
        picked.append(rng.choice(members, size=take[c], replace=False))
    return np.concatenate(picked)


def _check_strata(y: np.ndarray) -> None:
    """Raise unless y holds class labels with at least 2 members per class (as scikit-learn)."""
    if y.dtype.kind in "fc" and not np.all(y == np.round(y)):
        raise ValueError("stratify needs class labels, got continuous values in y; split "
                         "without stratify=True (or bin the targets into classes first)")
    classes, counts = np.unique(y, return_counts=True)
    single = np.flatnonzero(counts < 2)
    if single.size:
        label = classes[single[0]]
        label = label.item() if hasattr(label, "item") else label
        raise ValueError(f"stratify: class {label!r} has only 1 member; each class needs "
                         f"at least 2 (one for each part)")


def train_test_split(X: np.ndarray, y: np.ndarray | None = None, test_size: float | int = 0.2,
                     seed: int | None = None, stratify: bool = False) -> tuple[np.ndarray, ...]:
    """Shuffle and split into ``(X_train, X_test, y_train, y_test)`` (scikit-learn's order).

    ``test_size`` is a fraction (the test part gets ceil(test_size * N) examples)
    or a count.  ``stratify=True`` keeps each class's share of y in both parts; y
    must then hold class labels, with at least 2 members per class.  Without y,
    returns ``(X_train, X_test)``.  Both parts are in random order; randomness
    comes from :func:`nerve.random.get_rng` (seed).

    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=0)
    >>> X_tr.shape, X_te.shape
    ((8, 2), (2, 2))
    """
    X = as_array("X", X, numeric=False)
    n = len(X)
    if y is not None:
        y = as_array("y", y, numeric=False)
        if len(y) != n:
            raise ValueError(f"X and y must hold the same number of samples: X has {n}, "
                             f"y has {len(y)}")
    check_bool("stratify", stratify)
    if n < 2:
        raise ValueError(f"train_test_split needs at least 2 samples, got {n}")
    n_test = _num_test(test_size, n)
    rng = get_rng(seed)
    if stratify:
        if y is None:
            raise ValueError("stratify=True needs the labels y")
        if y.ndim != 1:
            raise ValueError(f"stratify=True needs 1-D class labels y, got shape {y.shape}")
        _check_strata(y)
        test = rng.permutation(_stratified_test_index(y, n_test, rng))
        is_test = np.zeros(n, dtype=bool)
        is_test[test] = True
        train = rng.permutation(np.flatnonzero(~is_test))
    else:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    if y is None:
        return X[train], X[test]
    return X[train], X[test], y[train], y[test]


def standardize(X: np.ndarray, mean: np.ndarray | None = None, std: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-feature z-scores: X_std = (X - mean) / std, statistics over axis 0.

    Returns ``(X_std, mean, std)`` with mean and std of shape X.shape[1:].  Fit
    on the training data, then pass the returned mean and std to scale test data
    identically.  A constant feature (std 0) gets std 1 (it becomes all zeros rather
    than NaN).  Float input keeps its dtype; integer input (e.g. uint8 pixels)
    becomes float32.  Statistics are accumulated in float64.

    >>> X_train_s, mu, sigma = standardize(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> X_train_s.tolist(), sigma.tolist()
    ([[-1.0, 0.0], [1.0, 0.0]], [1.0, 1.0])
    """
    X = as_array("X", X)
    if len(X) == 0:
        raise ValueError(f"X must have shape (N, ...) with N >= 1, got shape {X.shape}")
    dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.dtype(np.float32)
    finite = np.isfinite(X)
    if not finite.all():  # one NaN would silently turn its whole feature into NaN
        row = int(np.argwhere(~finite)[0][0])
        raise ValueError(f"X contains NaN or inf (first in row {row}); remove or impute "
                         "missing values before standardizing")
    if (mean is None) != (std is None):
        raise ValueError("pass both mean and std (from an earlier standardize call) or neither")
    if mean is None:
        mean64 = X.mean(axis=0, dtype=np.float64)
        std64 = X.std(axis=0, dtype=np.float64)
        # a constant feature can show a round-off std of ~1e-17; treat it as 0 -> 1
        tiny = 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean64), 1.0)
        std64 = np.where(std64 > tiny, std64, 1.0)
        mean, std = mean64.astype(dtype), std64.astype(dtype)
    else:
        try:
            mean = np.asarray(mean, dtype=dtype)
            std = np.asarray(std, dtype=dtype)
        except (TypeError, ValueError):
            raise TypeError(f"standardize: mean and std must be arrays of numbers (those an "
                            f"earlier standardize call returned), got {mean!r:.60} and "
                            f"{std!r:.60}") from None
        for name, stat in (("mean", mean), ("std", std)):
            if stat.shape not in ((), X.shape[1:]):
                raise ValueError(f"{name} has shape {stat.shape} but X has feature shape "
                                 f"{X.shape[1:]}; pass the statistics returned for data "
                                 f"with the same features")
            bad = first_non_finite(stat)  # a NaN mean would silently give a NaN feature
            if bad is not None:
                where = f" at index {bad[0]}" if bad[0] else ""
                raise ValueError(f"{name} must be finite, got {bad[1]}{where}; pass the "
                                 "statistics returned by an earlier standardize call")
        if not np.all(std > 0):
            raise ValueError("std must be positive everywhere (standardize returns std 1 "
                             "for constant features)")
    X_std = (X.astype(dtype, copy=False) - mean) / std
    return X_std.astype(dtype, copy=False), mean, std
