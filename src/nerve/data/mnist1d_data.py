"""MNIST-1D (Greydanus & Steinbach), generated locally with the ``mnist1d`` package.

Each example is a 1-D signal of 40 values made by padding, scaling,
translating, shearing and adding noise to one of ten digit templates.  The
data set is built on this machine from the package's generator; nothing is
downloaded.  Install the extra with ``pip install 'nerve[mnist1d]'``.
"""
from __future__ import annotations

import numbers
import random

import numpy as np

from nerve._extras import require
from nerve.random import get_rng

from ._checks import check_int

__all__ = ["mnist1d"]


def mnist1d(num_samples: int = 5000, train_split: float = 0.8,
            seed: int | np.random.Generator | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Generate MNIST-1D and return ``(X_train, y_train, X_test, y_test)``.

    X are float32 of shape (n, 40), standardised over the whole set by the
    generator; y are int64 labels 0..9.  ``num_samples`` (a multiple of 10) is
    split into the first ``int(train_split * num_samples)`` for training and
    the rest for testing (each part must get at least one example).  ``seed=None``
    (or a NumPy Generator) draws the package's seed from
    :func:`nerve.random.get_rng`; an int is passed on as the package's own seed, so
    ``mnist1d(5000, seed=42)`` is the package's default data set (4,000 train, 1,000 test).
    NumPy's and Python's global random states are restored after.

    >>> # X_train, y_train, X_test, y_test = mnist1d(seed=42)
    """
    n = check_int("num_samples", num_samples, minimum=10)
    if n % 10:
        raise ValueError(f"num_samples must be a multiple of 10 (the same number of each "
                         f"digit), got {n}")
    if isinstance(train_split, bool) or not isinstance(train_split, numbers.Real):
        raise TypeError(f"train_split must be a number in (0, 1), got {train_split!r}")
    train_split = float(train_split)
    if not 0.0 < train_split < 1.0:  # also refuses NaN
        raise ValueError(f"train_split must be strictly between 0 and 1, got {train_split}")
    n_train = int(n * train_split)  # the package's own rule
    if not 0 < n_train < n:
        raise ValueError(f"train_split={train_split} of num_samples={n} gives {n_train} "
                         f"training and {n - n_train} test examples; both parts need at "
                         f"least one: choose train_split so that 1 <= int(train_split * "
                         f"{n}) <= {n - 1}, or more samples")
    if seed is None or isinstance(seed, np.random.Generator):
        seed = int(get_rng(seed).integers(2**31 - 1))  # the package's seed, drawn
    else:
        seed = check_int("seed", seed, minimum=0)

    data_module = require("mnist1d.data", "mnist1d", "generating MNIST-1D")
    utils = require("mnist1d.utils", "mnist1d", "generating MNIST-1D")
    args = data_module.get_dataset_args(as_dict=True)
    args.update(num_samples=n, train_split=float(train_split), seed=seed)

    # The package seeds and draws from NumPy's and Python's global generators;
    # put them back so that generating data has no side effect on the caller.
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    try:
        data = data_module.make_dataset(utils.ObjectView(args))
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)

    return (np.asarray(data["x"], dtype=np.float32), np.asarray(data["y"], dtype=np.int64),
            np.asarray(data["x_test"], dtype=np.float32),
            np.asarray(data["y_test"], dtype=np.int64))
