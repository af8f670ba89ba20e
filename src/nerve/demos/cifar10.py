"""Demo: the CIFAR-10 pipeline of the lectures, one table of validation accuracies.

Run it as ``nerve demo cifar10 --data-root DIR`` or ``run(root=DIR)``. From the
dataset's binary batches (``DIR/cifar-10-batches-bin/``), the first
images train and the last ``num_val`` training images validate (49,000 / 1,000
by default, as in CS231n). Seven rows over two inputs:

- pixels: the 3,072 values of an image, standardised with the training set's
  per-pixel mean and standard deviation;
- features: HoG (324 values) + colour histogram (10 bins) from
  :func:`nerve.features.extract`, standardised the same way.

Rows: random search on pixels (the best of many random W under the SVM loss);
softmax and SVM linear classifiers (:mod:`nerve.linear`) and a 2-layer ReLU
network trained with SGD + momentum, each on pixels and on features; printed
beside the lectures' reference figures. The linear
classifiers' hyperparameters on pixels are the published CS231n ones (lr 1e-7,
λ 2.5e4 on mean-subtracted 0..255 pixels) rescaled to standardised pixels
(σ ≈ 62: lr·σ² ≈ 4e-4, λ/σ² ≈ 6.5); pass ``params`` to change any of them.
"""
from __future__ import annotations

import os
import time
from typing import Any, TextIO

import numpy as np

from ._common import save_figure, stream_or_stdout

__all__ = ["run", "ROWS", "DEFAULT_PARAMS"]

#: (key, method, input, the lectures' reference figure)
ROWS = (
    ("random_search_pixels", "random search", "pixels", "~15% (lecture: 15.5%)"),
    ("softmax_pixels", "softmax", "pixels", "~38%"),
    ("svm_pixels", "SVM", "pixels", "~38-40%"),
    ("softmax_features", "softmax", "HoG + colour", "-"),
    ("svm_features", "SVM", "HoG + colour", "~44% (assignment)"),
    ("two_layer_pixels", "2-layer net", "pixels", "~50%"),
    ("two_layer_features", "2-layer net", "HoG + colour", "~55-58% (assignment)"),
)

#: Hyperparameters per row; ``run(params={"softmax_pixels": {"lr": 1e-3}})`` overrides.
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "random_search_pixels": {"tries": 1000, "scale": 6e-3, "samples": 1000},
    "softmax_pixels": {"lr": 4e-4, "reg": 6.5, "epochs": 6, "batch_size": 200,
                       "weight_scale": 6e-3},
    "svm_pixels": {"lr": 4e-4, "reg": 6.5, "epochs": 6, "batch_size": 200,
                   "weight_scale": 6e-3},
    "softmax_features": {"lr": 1e-2, "reg": 1e-3, "epochs": 10, "batch_size": 200},
    "svm_features": {"lr": 3e-3, "reg": 1e-3, "epochs": 10, "batch_size": 200},
    "two_layer_pixels": {"hidden": 200, "lr": 2e-3, "momentum": 0.9, "reg": 5e-4,
                         "epochs": 10, "batch_size": 200},
    "two_layer_features": {"hidden": 200, "lr": 1e-2, "momentum": 0.9, "reg": 1e-3,
                           "epochs": 10, "batch_size": 200},
}

_FEATURES = ("hog", ("color_histogram", {"bins": 10}))
_CHUNK = 5000  # images per feature-extraction batch (bounds the temporary arrays)


def _split(n: int, max_train: int | None, num_val: int) -> tuple[slice, slice]:
    """Training slice (the first images) and validation slice (the last ``num_val``)."""
    num_val = min(num_val, n // 5) if n < 5 * num_val else num_val
    if num_val < 1 or n - num_val < 2:
        raise ValueError(f"cifar10 demo: {n} images are too few to split into training and "
                         f"validation sets; need at least 10")
    n_train = n - num_val if max_train is None else min(max_train, n - num_val)
    return slice(0, n_train), slice(n - num_val, n)


def _features(images: np.ndarray) -> np.ndarray:
    from ..features import extract
    parts = [extract(images[i:i + _CHUNK], list(_FEATURES))
             for i in range(0, len(images), _CHUNK)]
    return np.concatenate(parts)


def _random_search(X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
                   seed: int, tries: int, scale: float, samples: int) -> float:
    """The best of ``tries`` random W (C, D + 1) under the SVM loss on ``samples`` examples."""
    import nerve as nv
    from .. import losses
    from ..optim import random_search
    from ..random import get_rng
    pick = get_rng(seed).permutation(len(X))[:samples]
    Xs = np.hstack([X[pick], np.ones((len(pick), 1), dtype=X.dtype)])  # bias trick
    ys = y[pick]

    def svm_loss(W: np.ndarray) -> float:
        with nv.no_grad():
            return losses.hinge(nv.tensor(Xs @ W.T), ys).item()

    W, _ = random_search(svm_loss, (10, Xs.shape[1]), tries=tries, scale=scale, seed=seed)
    scores = X_val @ W[:, :-1].T + W[:, -1]
    return float(np.mean(scores.argmax(axis=1) == y_val))


def _linear(kind: str, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
            seed: int, params: dict[str, Any]) -> tuple[float, Any]:
    from ..linear import SoftmaxClassifier, SVMClassifier
    cls = SoftmaxClassifier if kind == "softmax" else SVMClassifier
    clf = cls(seed=seed, **params).fit(X, y)
    return clf.score(X_val, y_val), clf


def _two_layer(X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, seed: int,
               params: dict[str, Any], progress: bool) -> float:
    import nerve as nv
    from .. import nn
    from ..optim import SGD
    from ..regularizers import l2
    from ..train import fit, predict
    params = dict(params)
    hidden, reg = params.pop("hidden"), params.pop("reg")
    epochs, batch_size = params.pop("epochs"), params.pop("batch_size")
    nv.manual_seed(seed)
    model = nn.Sequential(nn.Linear(X.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, 10))
    weights = [model[0].weight, model[2].weight]
    fit(model, X, y, loss="cross_entropy", optimizer=SGD(model.parameters(), **params),
        epochs=epochs, batch_size=batch_size, progress=progress, seed=seed,
        regularizer=lambda: l2(weights) * reg)
    return float(np.mean(predict(model, X_val).argmax(axis=1) == y_val))


def _merge(params: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    merged = {key: dict(value) for key, value in DEFAULT_PARAMS.items()}
    if params is None:
        return merged
    if not isinstance(params, dict):
        raise TypeError(f"cifar10 demo: params must be a dict of row -> settings, got "
                        f"{type(params).__name__}")
    for key, value in params.items():
        if key not in merged:
            raise ValueError(f"cifar10 demo: unknown row {key!r} in params; rows are "
                             f"{', '.join(merged)}")
        if not isinstance(value, dict) or not set(value) <= set(merged[key]):
            raise ValueError(f"cifar10 demo: params[{key!r}] must be a dict with keys among "
                             f"{', '.join(merged[key])}, got {value!r}")
        merged[key].update(value)
    return merged


def run(root: str | os.PathLike | None = None, out_dir: str | os.PathLike | None = None, *,
        max_train: int | None = None, num_val: int = 1000,
        params: dict[str, dict[str, Any]] | None = None, seed: int = 0,
        progress: bool = False, stream: TextIO | None = None,
        out: str | os.PathLike | None = None, download: bool = False) -> dict[str, Any]:
    """Train every row of :data:`ROWS` on CIFAR-10 and print their validation accuracies.

    Args:
        root: folder holding ``cifar-10-batches-bin/`` (or the .bin files themselves).
        out_dir: folder for ``cifar10_templates.png`` (the softmax classifier's ten
            pixel templates); needs matplotlib.
        max_train: use at most this many training images (None: all but the
            validation images), for a quick run.
        num_val: validation images, taken from the end of the training batches
            (fewer when the files hold under 5·num_val images).
        params: per-row overrides of :data:`DEFAULT_PARAMS`.
        seed: makes every row reproducible; progress: show the networks' training.
        stream: where the table goes (stdout by default); out: same as ``out_dir``
            (the keyword ``nerve demo`` passes). download: fetch the binary version
            into ``root`` when its files are missing (needs the internet).

    Returns ``{"accuracy": {row key: validation accuracy}, "rows": [dicts with key,
    method, input, val_accuracy, reference, seconds], "n_train", "n_val", "table",
    "figure"}``.
    """
    from ..data import load_cifar10, standardize
    from ..data.cifar10 import CIFAR10_CLASSES

    if root is None:
        raise ValueError("the cifar10 demo needs the dataset folder: nerve demo cifar10 "
                         "--data-root DIR (or run(root=DIR)), with DIR holding "
                         "cifar-10-batches-bin/ (the binary version, cifar-10-binary.tar.gz, "
                         "unpacked)")
    out_dir = out_dir if out is None else out
    if max_train is not None and (isinstance(max_train, bool) or not isinstance(max_train, int)
                                  or max_train < 2):
        raise ValueError(f"cifar10 demo: max_train must be an int >= 2 or None, got "
                         f"{max_train!r}")
    if isinstance(num_val, bool) or not isinstance(num_val, int) or num_val < 1:
        raise ValueError(f"cifar10 demo: num_val must be a positive int, got {num_val!r}")
    settings = _merge(params)
    stream = stream_or_stdout(stream)
    images, labels = load_cifar10(root, train=True, download=download)
    train, val = _split(len(images), max_train, num_val)
    y, y_val = labels[train], labels[val]
    stream.write(f"CIFAR-10: {len(y)} training and {len(y_val)} validation images\n")

    start = time.perf_counter()
    pixels, mean, std = standardize(images[train].reshape(len(y), -1).astype(np.float32))
    pixels_val, _, _ = standardize(images[val].reshape(len(y_val), -1).astype(np.float32),
                                   mean, std)
    feats, mean, std = standardize(_features(images[train]))
    feats_val, _, _ = standardize(_features(images[val]), mean, std)
    stream.write(f"features: {feats.shape[1]} per image (HoG + colour histogram), "
                 f"{time.perf_counter() - start:.1f} s\n\n")
    inputs = {"pixels": (pixels, pixels_val), "HoG + colour": (feats, feats_val)}

    rows, accuracy, templates_clf = [], {}, None
    for key, method, source, reference in ROWS:
        X, X_val = inputs[source]
        setting = settings[key]
        tic = time.perf_counter()
        if method == "random search":
            acc = _random_search(X, y, X_val, y_val, seed, **setting)
        elif method in ("softmax", "SVM"):
            acc, clf = _linear(method.lower(), X, y, X_val, y_val, seed, setting)
            if key == "softmax_pixels":
                templates_clf = clf
        else:
            acc = _two_layer(X, y, X_val, y_val, seed, setting, progress)
        seconds = time.perf_counter() - tic
        rows.append({"key": key, "method": method, "input": source, "val_accuracy": acc,
                     "reference": reference, "seconds": seconds})
        accuracy[key] = acc
        stream.write(f"  {method} on {source}: {acc:.3f} ({seconds:.1f} s)\n")

    table = _table(rows, len(y), len(y_val))
    stream.write("\n" + table)
    figure = None
    if templates_clf is not None:
        figure = save_figure(
            out_dir, "cifar10_templates.png",
            lambda path: _plot_templates(templates_clf, list(CIFAR10_CLASSES), path), stream)
    return {"accuracy": accuracy, "rows": rows, "n_train": len(y), "n_val": len(y_val),
            "table": table, "figure": figure}


def _table(rows: list[dict[str, Any]], n_train: int, n_val: int) -> str:
    lines = [f"CIFAR-10 validation accuracy ({n_train} training, {n_val} validation images)",
             "", f"{'method':<14} {'input':<13} {'val acc':>8}  {'lectures':<22} {'seconds':>8}"]
    for row in rows:
        lines.append(f"{row['method']:<14} {row['input']:<13} {row['val_accuracy']:>8.3f}  "
                     f"{row['reference']:<22} {row['seconds']:>8.1f}")
    note = "(chance: 10%)" if n_train >= 49000 else \
        "(chance: 10%; the lectures' figures are for the full 49,000 training images)"
    lines += ["", note, ""]
    return "\n".join(lines) + "\n"


def _plot_templates(clf: Any, class_names: list[str], path: str) -> None:
    from .._extras import require
    plt = require("matplotlib.pyplot", "plot", "the CIFAR-10 templates")
    names = [class_names[int(c)] for c in clf.classes_]
    fig = clf.plot_templates((32, 32, 3), class_names=names, path=path)
    plt.close(fig)
