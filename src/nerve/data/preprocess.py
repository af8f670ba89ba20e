"""Splitting and scaling: ``train_test_split`` and ``standardize``."""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from nerve.random import get_rng

from ._checks import as_array, check_bool, first_non_finite

__all__ = ["train_test_split", "standardize"]


def _num_test(test_size: object, n: int, name: str = "test_size") -> int:
    """Examples in a part: ceil(size * n) for a fraction (floor for ``train_size``, as
    scikit-learn rounds), or the count itself."""
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"{name} must be a fraction in (0, 1) or a count in [1, N-1], "
                        f"got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    elif 0.0 < test_size < 1.0:
        n_test = (math.floor if name == "train_size" else math.ceil)(float(test_size) * n)
    else:
        raise ValueError(f"a fractional {name} must be strictly between 0 and 1, "
                         f"got {test_size}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"{name}={test_size!r} gives {n_test} examples out of {n}; "
                         f"need between 1 and {n - 1} so that both parts are non-empty")
    return n_test


def _allocate(counts: np.ndarray, n_pick: int, total: int, rng: np.random.Generator,
              room: np.ndarray | None = None) -> np.ndarray:
    """How many of each class to pick, adding up to ``n_pick``: class k gets its share
    s_k = n_pick · counts_k / total rounded by largest remainder (floor(s_k), then one more
    for the largest fractional parts, ties broken at random, not by class order), and no
    more than ``room_k`` (the members still free) when ``room`` is given."""
    share = n_pick * counts / total
    take = np.floor(share).astype(np.int64)
    if room is not None:
        take = np.minimum(take, room)
    remainder = n_pick - int(take.sum())
    if remainder:
        keys = share - take + rng.uniform(0.0, 1e-9, size=len(counts))
        if room is None:
            take[np.argsort(-keys)[:remainder]] += 1
        while room is not None and remainder > 0:  # each round: one more per free class
            free = np.flatnonzero(take < room)
            if not free.size:  # cannot happen: the room adds up to at least n_pick
                raise ValueError(f"cannot pick {n_pick} examples from {int(room.sum())}")
            best = free[np.argsort(-keys[free])[:remainder]]
            take[best] += 1
            remainder -= len(best)
    return take


def _stratified_test_index(y: np.ndarray, n_test: int, rng: np.random.Generator) -> np.ndarray:
    """Pick n_test indices so every class gets its share (largest-remainder rounding)."""
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    take = _allocate(counts, n_test, len(y), rng)
    picked = []
    for c in range(len(classes)):  # loop over classes, not examples
        members = np.flatnonzero(inverse == c)
        picked.append(rng.choice(members, size=take[c], replace=False))
    return np.concatenate(picked)


def _stratified_split(labels: np.ndarray, n_test: int, rng: np.random.Generator,
                      n_train: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` indices, each in random order, each part keeping every class's
    share of ``labels``: the test part is drawn first; the train part is the rest, or,
    with ``n_train`` (both sizes given), n_train of the rest drawn class by class, class k
    getting its share n_train · counts_k / N of the whole (as scikit-learn's
    StratifiedShuffleSplit), not the first rows of the shuffled rest."""
    test = rng.permutation(_stratified_test_index(labels, n_test, rng))
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[test] = True
    if n_train is None:
        return rng.permutation(np.flatnonzero(~is_test)), test
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    room = counts - np.bincount(inverse[test], minlength=len(classes))
    take = _allocate(counts, n_train, len(labels), rng, room)
    picked = []
    for c in range(len(classes)):  # loop over classes, not examples
        members = np.flatnonzero((inverse == c) & ~is_test)
        picked.append(rng.choice(members, size=take[c], replace=False))
    return rng.permutation(np.concatenate(picked)), test


def _check_strata(y: np.ndarray) -> tuple[np.ndarray, int]:
    """``(class index of each sample, number of classes)`` of the labels ``y``: 1-D class
    labels, or rows (one-hot or multi-label y, each distinct row one class, as
    scikit-learn); raise unless each class has at least 2 members (as scikit-learn)."""
    if y.dtype.kind in "fc" and not np.all(y == np.round(y)):
        raise ValueError("stratify needs class labels, got continuous values in y; split "
                         "without stratify=True (or bin the targets into classes first)")
    rows = y.ndim > 1
    if rows and y.dtype == object:
        raise TypeError(f"stratify: label rows (shape {y.shape}) must hold numbers or "
                        "strings of one type, got dtype object")
    try:
        if rows:
            # Rows sorted by their last column first, so the one-hot row e_k (1 in column k)
            # is class k, as the integer label k is: y and np.eye(C)[y] split alike.
            flipped = y.reshape(len(y), -1)[:, ::-1]
            classes, inverse, counts = np.unique(flipped, axis=0, return_inverse=True,
                                                 return_counts=True)
            classes = classes[:, ::-1]
        else:
            classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    except TypeError:  # object labels of types that do not sort together (1 and "a")
        kinds = ", ".join(sorted({type(v).__name__ for v in y.ravel().tolist()}))
        raise TypeError(f"stratify: the labels mix types {kinds} that cannot be sorted "
                        "into classes; use one type (integers or strings)") from None
    single = np.flatnonzero(counts < 2)
    if single.size:
        label = classes[single[0]]
        label = label.tolist() if hasattr(label, "tolist") else label
        what = "label row" if rows else "class"
        raise ValueError(f"stratify: {what} {label!r} has only 1 member; each class needs "
                         f"at least 2 (one for each part)")
    return inverse.reshape(-1), len(classes)


def train_test_split(*arrays, test_size: float | int | None = None,
                     train_size: float | int | None = None, seed: int | None = None,
                     stratify: Any = False, shuffle: bool = True,
                     random_state: int | None = None) -> list[np.ndarray]:
    """Split arrays into train and test parts: ``X_train, X_test, y_train, y_test``.

    scikit-learn's function: any number of arrays of the same length, returned as
    (train, test) pairs in order; ``test_size`` a fraction (the test part gets
    ceil(test_size · N) examples) or a count, ``train_size`` the complement, 0.25 when
    neither is given; ``shuffle=False`` takes the last examples as the test part.
    ``stratify`` keeps each class's share in both parts (class k gets about
    size · N_k / N of each, also in the train part when both sizes are given): the labels
    to stratify by (an array, as scikit-learn's; 2-D one-hot or multi-label rows are
    stratified row by row, one-hot rows giving the same split as their integer labels), or
    True for the second array (y); each class needs at least 2 members, and each part at
    least one example per class. ``seed`` (or scikit-learn's ``random_state``) seeds the
    shuffle, drawn from :func:`nerve.random.get_rng`.

    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=0)
    >>> X_tr.shape, X_te.shape
    ((8, 2), (2, 2))
    """
    if not arrays:
        raise TypeError("train_test_split needs at least one array to split")
    for i, a in enumerate(arrays):
        if a is None and i == 1 and len(arrays) == 2:
            continue  # train_test_split(X, None): X alone, as before
        if isinstance(a, (numbers.Number, str)):
            raise TypeError(f"train_test_split: argument {i + 1} is {a!r}, not an array; "
                            "test_size, seed and stratify are keyword arguments "
                            "(train_test_split(X, y, test_size=0.2))")
    arrays = tuple(a for i, a in enumerate(arrays) if not (a is None and i == 1))
    parts = [as_array("X" if i == 0 else "y" if i == 1 else f"array {i + 1}", a, numeric=False)
             for i, a in enumerate(arrays)]
    n = len(parts[0])
    for i, a in enumerate(parts[1:], start=1):
        if len(a) != n:
            name = "y" if i == 1 else f"array {i + 1}"
            raise ValueError(f"X and {name} must hold the same number of samples: X has {n}, "
                             f"{name} has {len(a)}")
    if seed is not None and random_state is not None:
        raise TypeError("pass seed or random_state (its scikit-learn name), not both")
    seed = random_state if seed is None else seed
    check_bool("shuffle", shuffle)
    if n < 2:
        raise ValueError(f"train_test_split needs at least 2 samples, got {n}")
    n_train = None
    if test_size is None and train_size is None:
        n_test = _num_test(0.25, n)  # scikit-learn's default
    elif test_size is None:
        n_test = n - _num_test(train_size, n, "train_size")
    else:
        n_test = _num_test(test_size, n)
        if train_size is not None:  # both: the rest of the examples is left out
            n_train = _num_test(train_size, n, "train_size")
            if n_train + n_test > n:
                raise ValueError(f"train_size and test_size give {n_train} + {n_test} "
                                 f"examples, more than the {n} there are")
    labels = None
    if isinstance(stratify, (bool, np.bool_)):
        if stratify:
            if len(parts) < 2:
                raise ValueError("stratify=True needs the labels y")
            labels = parts[1]
    elif isinstance(stratify, (str, bytes, numbers.Number)):
        raise TypeError(f"stratify must be True, False or an array of class labels (as "
                        f"scikit-learn's stratify=y), got {stratify!r}")
    elif stratify is not None:
        labels = as_array("stratify", stratify, numeric=False)
        if len(labels) != n:
            raise ValueError(f"stratify must hold one label per sample ({n}), got "
                             f"{len(labels)}")
    if labels is not None:
        if not shuffle:
            raise ValueError("stratify needs shuffle=True (as scikit-learn's)")
        labels, n_classes = _check_strata(labels)  # one class index per sample
        n_kept = n - n_test if n_train is None else n_train
        for part, count in (("test", n_test), ("train", n_kept)):
            if count < n_classes:  # a part too small to hold every class (scikit-learn)
                raise ValueError(f"stratify: the {part} part gets {count} examples, fewer "
                                 f"than the {n_classes} classes, so some class would be "
                                 f"missing from it; make the {part} part at least "
                                 f"{n_classes} examples")
    rng = get_rng(seed)
    if labels is not None:
        train, test = _stratified_split(labels, n_test, rng, n_train)
    elif shuffle:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        train, test = np.arange(n - n_test), np.arange(n - n_test, n)
    if n_train is not None and labels is None:
        train = train[:n_train]
    out = []
    for a in parts:
        out += [a[train], a[test]]
    return out


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
        # A constant feature can show a round-off variance; treat it as 0 -> std 1. The
        # test is scikit-learn's, relative to the feature's own scale (var <= n·eps·var +
        # (n·|mean|·eps)²), so features of a tiny scale (1e-16 charges) are still scaled.
        eps, count = np.finfo(np.float64).eps, len(X)
        var64 = std64 * std64
        constant = var64 <= count * eps * var64 + (count * np.abs(mean64) * eps) ** 2
        std64 = np.where(constant, 1.0, std64)
        mean, std = mean64.astype(dtype), std64.astype(dtype)
        std = np.where(std > 0, std, np.ones_like(std))  # a std below dtype's range
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
