"""Time to 97 % test accuracy on the 8x8 digits: nerve vs the NumPy reference vs scikit-learn.

Same network for all (64-100-10, ReLU), same split (80/20, fixed seed), same
standardised features, SGD with momentum 0.9, learning rate 0.05, batch 32, shuffled
epochs. After every epoch the test accuracy is measured; the clock (training and
evaluation both) stops at the first epoch reaching the target. Each run is repeated
over a few seeds and the median time is reported, with the epochs it took.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from nerve.bench import nerve_impl, sklearn_ref
from nerve.bench.common import Unavailable, describe_error, optional_import
from nerve.bench.reference_numpy import NumpyMLP
from nerve.random import get_rng

SIZES = (64, 100, 10)
LR = 0.05
BATCH = 32
TARGET = 0.97


def load_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Standardised digits split 80/20: ``(Xtr, ytr, Xte, yte, source)``.

    Uses ``nerve.data.load_digits`` when it exists, else scikit-learn's copy.
    """
    try:
        from nerve.data import load_digits

        X, y = load_digits()[:2]
        source = "nerve.data.load_digits"
    except (ImportError, AttributeError):
        datasets = optional_import("sklearn.datasets", "digits data until nerve.data lands")
        X, y = datasets.load_digits(return_X_y=True)
        source = "sklearn.datasets.load_digits"
    X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
    y = np.asarray(y, dtype=np.int64)
    order = get_rng(seed).permutation(len(X))
    n_test = len(X) // 5
    te, tr = order[:n_test], order[n_test:]
    mean, std = X[tr].mean(axis=0), X[tr].std(axis=0) + np.float32(1e-6)
    return (X[tr] - mean) / std, y[tr], (X[te] - mean) / std, y[te], source


def _epochs(epoch_fn: Callable[[], None], accuracy_fn: Callable[[], float],
            max_epochs: int) -> dict:
    t0 = time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        epoch_fn()
        acc = accuracy_fn()
        if acc >= TARGET:
            return {"seconds": time.perf_counter() - t0, "epochs": epoch, "accuracy": acc}
    return {"seconds": None, "epochs": max_epochs, "accuracy": acc}


def _numpy_run(data, seed: int, max_epochs: int) -> dict:
    Xtr, ytr, Xte, yte = data
    net = NumpyMLP(SIZES, lr=LR, seed=seed)
    rng = get_rng(seed)

    def epoch():
        order = rng.permutation(len(Xtr))
        for s in range(0, len(Xtr), BATCH):
            idx = order[s:s + BATCH]
            net.train_step(Xtr[idx], ytr[idx])

    return _epochs(epoch, lambda: float(np.mean(net.forward(Xte).argmax(1) == yte)), max_epochs)


def _nerve_run(data, seed: int, max_epochs: int) -> dict:
    """One ``nv.fit`` call, as a user would write it: the test split as validation data
    and a callback that stops training once its accuracy reaches the target."""
    Xtr, ytr, Xte, yte = data
    nv, nn, optim = nerve_impl.modules()
    fit = nerve_impl.fit_function(nv)
    model = nerve_impl.build_mlp(SIZES, seed)
    opt = optim.SGD(model.parameters(), lr=LR, momentum=0.9)

    def stop_at_target(epoch, logs):
        if logs["val_accuracy"] >= TARGET:
            model.stop_training = True

    t0 = time.perf_counter()
    history = fit(model, Xtr, ytr, loss=nn.CrossEntropyLoss(), optimizer=opt,
                  epochs=max_epochs, batch_size=BATCH, validation_data=(Xte, yte),
                  callbacks=[nv.LambdaCallback(on_epoch_end=stop_at_target)], progress=False)
    seconds = time.perf_counter() - t0
    accuracy = history.history["val_accuracy"][-1]
    return {"seconds": seconds if accuracy >= TARGET else None,
            "epochs": len(history.epoch), "accuracy": accuracy}


def _sklearn_run(data, seed: int, max_epochs: int) -> dict:
    Xtr, ytr, Xte, yte = data
    clf = sklearn_ref.make_classifier(SIZES[1:-1], BATCH, lr=LR, seed=seed, shuffle=True)
    classes = np.arange(SIZES[-1])
    return _epochs(lambda: clf.partial_fit(Xtr, ytr, classes=classes),
                   lambda: float(clf.score(Xte, yte)), max_epochs)


RUNNERS = {"numpy": _numpy_run, "nerve": _nerve_run, "sklearn": _sklearn_run}


def time_to_accuracy(seeds: tuple[int, ...] = (0, 1, 2), max_epochs: int = 100,
                     skip: tuple[str, ...] = ()) -> dict:
    """``{"source", "target", "results": {impl: {"seconds": median, "epochs": ..., ...}}}``."""
    try:
        *data, source = load_split(0)
    except Unavailable as exc:
        return {"unavailable": str(exc)}
    results: dict[str, dict] = {}
    for impl, runner in RUNNERS.items():
        if impl in skip:
            continue
        try:
            runs = [runner(data, seed, max_epochs) for seed in seeds]
        except Unavailable as exc:
            results[impl] = {"unavailable": str(exc)}
            continue
        except Exception as exc:
            results[impl] = {"unavailable": f"failed: {describe_error(exc)}"}
            continue
        reached = [r for r in runs if r["seconds"] is not None]
        if len(reached) < len(runs):
            results[impl] = {"unavailable": f"reached {TARGET:.0%} in only {len(reached)} of "
                             f"{len(runs)} seeds within {max_epochs} epochs"}
            continue
        results[impl] = {"seconds": statistics.median(r["seconds"] for r in runs),
                         "epochs": statistics.median(r["epochs"] for r in runs),
                         "runs": runs}
    return {"source": source, "target": TARGET, "seeds": list(seeds), "results": results}
