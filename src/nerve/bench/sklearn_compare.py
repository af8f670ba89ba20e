"""nerve.sklearn.MLPClassifier against scikit-learn's MLPClassifier on the 8x8 digits.

Both estimators get the same data (an 80/20 stratified split, features
standardised on the training rows, float32, which scikit-learn keeps as float32)
and the same hyperparameters under the same names: hidden layers, ReLU, Adam at
``learning_rate_init``, ``alpha`` (L2, scaled the same way), ``batch_size``,
``max_iter``, ``tol`` and ``n_iter_no_change`` (the same stopping rule) and
``random_state``. Each fit is timed with ``time.perf_counter`` (fit only), the two
libraries interleaved; the median fit time is reported with the test accuracy and
the epochs run, averaged over a few seeds (each seed its own split and initialisation).
"""
from __future__ import annotations

import contextlib
import statistics
import time
import warnings
from typing import Any

import numpy as np

from nerve._extras import require


def digits_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_test, y_test)``: stratified 80/20, standardised, float32."""
    from nerve.data import load_digits, train_test_split

    X, y = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=seed, stratify=True)
    mean = X_tr.mean(axis=0)
    std = X_tr.std(axis=0)
    std[std == 0] = 1
    scale = lambda a: ((a - mean) / std).astype(np.float32)  # noqa: E731
    return scale(X_tr), y_tr, scale(X_te), y_te


def _timed_fit(est: Any, X: np.ndarray, y: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn when max_iter stops them
        t0 = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - t0


def compare_digits(hidden_layer_sizes: tuple[int, ...] = (100,), max_iter: int = 200,
                   learning_rate_init: float = 0.001, alpha: float = 1e-4,
                   batch_size: int | str = "auto", seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
                   repeats: int = 1, threads: int | None = 1) -> dict[str, Any]:
    """Fit both classifiers on each seed's split (``random_state=seed`` too), ``repeats``
    times each; return mean test accuracies, median fit times and mean epochs.

    Returns ``{"nerve": {"accuracy", "accuracies", "seconds", "epochs"}, "sklearn":
    {...}, "speedup": sklearn seconds / nerve seconds, "config": {...}}``. Accuracy is
    on each split's held-out 20 % (360 digits), averaged over the seeds: one seed's
    difference is a few digits either way. With a fixed seed each library's fits are
    identical, so only the times vary between repeats. ``threads`` caps the BLAS threads
    of both (through threadpoolctl, a scikit-learn dependency; None leaves them alone):
    these matrices are small, and one thread is both the fastest and the steadiest.
    """
    skl = require("sklearn.neural_network", "sklearn", "the scikit-learn comparison")
    from nerve.sklearn import MLPClassifier

    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"threads must be a positive int or None, got {threads!r}")
    config = dict(hidden_layer_sizes=tuple(hidden_layer_sizes), activation="relu",
                  solver="adam", alpha=alpha, batch_size=batch_size,
                  learning_rate_init=learning_rate_init, max_iter=max_iter, tol=1e-4,
                  n_iter_no_change=10)
    seeds = tuple(seeds)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be a non-empty tuple of ints, got {seeds!r}")
    limit = contextlib.nullcontext()
    if threads is not None:
        threadpoolctl = require("threadpoolctl", "sklearn", "limiting BLAS threads")
        limit = threadpoolctl.threadpool_limits(limits=threads, user_api="blas")
    with limit:
        return _compare({"nerve": MLPClassifier, "sklearn": skl.MLPClassifier}, config,
                        seeds, repeats)


def _compare(classes: dict[str, Any], config: dict[str, Any], seeds: tuple[int, ...],
             repeats: int) -> dict[str, Any]:
    runs: dict[str, dict[str, list]] = {k: {"accuracies": [], "times": [], "epochs": []}
                                        for k in classes}
    for seed in seeds:
        X_tr, y_tr, X_te, y_te = digits_split(seed)
        if seed == seeds[0]:  # warm-up: imports and first-call costs stay untimed
            for cls in classes.values():
                _timed_fit(cls(**config, random_state=seed).set_params(max_iter=1),
                           X_tr[:50], y_tr[:50])
        for repeat in range(repeats):
            for name, cls in classes.items():
                est = cls(**config, random_state=seed)
                runs[name]["times"].append(_timed_fit(est, X_tr, y_tr))
                if repeat == 0:  # the fits of one seed are identical
                    runs[name]["accuracies"].append(float(est.score(X_te, y_te)))
                    runs[name]["epochs"].append(int(est.n_iter_))
    result: dict[str, Any] = {}
    for name, run in runs.items():
        result[name] = {"accuracy": statistics.fmean(run["accuracies"]),
                        "accuracies": run["accuracies"],
                        "seconds": statistics.median(run["times"]),
                        "epochs": statistics.fmean(run["epochs"])}
    result["speedup"] = result["sklearn"]["seconds"] / result["nerve"]["seconds"]
    result["config"] = {**config, "seeds": seeds, "train_rows": len(X_tr),
                        "test_rows": len(X_te), "dtype": "float32", "repeats": repeats}
    return result


def format_comparison(result: dict[str, Any]) -> str:
    """A short table of :func:`compare_digits`'s result."""
    cfg = result["config"]
    lines = [f"digits, MLP {cfg['hidden_layer_sizes']}, Adam, max_iter={cfg['max_iter']}, "
             f"mean over seeds {cfg['seeds']}",
             f"{'':10s} {'accuracy':>9s} {'fit (s)':>8s} {'epochs':>7s}"]
    for name in ("nerve", "sklearn"):
        r = result[name]
        lines.append(f"{name:10s} {r['accuracy']:9.4f} {r['seconds']:8.3f} {r['epochs']:7.1f}")
    lines.append(f"nerve fits {result['speedup']:.2f}x as fast as scikit-learn")
    return "\n".join(lines)
