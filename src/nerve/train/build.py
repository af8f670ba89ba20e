"""Datasets and networks by name: what ``nerve train --dataset digits --hidden 100`` builds.

:func:`load_dataset` returns a :class:`Dataset` (train/validation/test splits,
standardised with the training statistics); :func:`build_mlp` a fully connected
``nn.Sequential``; :func:`l2_penalty` / :func:`l1_penalty` the regularizers ``fit``
adds to the loss.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..tensor import Tensor

__all__ = ["DATASETS", "Dataset", "load_dataset", "build_mlp", "fold_standardization",
           "l2_penalty", "l1_penalty"]

#: Dataset name -> (kind, image shape of one sample or None). "2d" sets are toy
#: problems in the plane; "root" sets are read from --data-root.
DATASETS: dict[str, tuple[str, tuple[int, ...] | None]] = {
    "spiral": ("2d", None), "xor": ("2d", None), "moons": ("2d", None),
    "circles": ("2d", None), "blobs": ("2d", None),
    "digits": ("shipped", (8, 8)), "mnist1d": ("generated", None),
    "mnist": ("root", (28, 28)), "fashion_mnist": ("root", (28, 28)),
    "cifar10": ("root", (32, 32, 3)),
}


@dataclass
class Dataset:
    """Standardised splits of one dataset. ``X_test`` is None when there is no test set."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    std: np.ndarray = field(default_factory=lambda: np.ones(0, np.float32))
    image_shape: tuple[int, ...] | None = None

    @property
    def num_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def num_classes(self) -> int:
        top = max(self.y_train.max(), self.y_val.max() if len(self.y_val) else 0)
        return int(top) + 1

    @property
    def is_2d(self) -> bool:
        return DATASETS[self.name][0] == "2d"


def _raw(name: str, root: str | None, seed: int, download: bool = False) -> tuple[np.ndarray, np.ndarray,
                                                             np.ndarray | None, np.ndarray | None]:
    """Unprocessed (X, y, X_test, y_test); X flattened to (N, D)."""
    from .. import data
    kind = DATASETS[name][0]
    if kind == "2d":
        generator = {"spiral": data.spiral, "xor": data.xor, "moons": data.moons,
                     "circles": data.circles, "blobs": data.blobs}[name]
        X, y = generator(seed=seed)
        return X, y, None, None
    if name == "digits":
        X, y = data.load_digits()
        return X, y, None, None
    if name == "mnist1d":
        X, y, Xt, yt = data.mnist1d(seed=seed)
        return X, y, Xt, yt
    if root is None:
        raise ValueError(f"dataset {name!r} is read from files: pass --data-root DIR (the "
                         f"folder holding the published {name} files)")
    given, root = root, os.path.expanduser(root)  # a TOML config has no shell to expand ~
    if os.path.exists(root) and not os.path.isdir(root):
        raise FileNotFoundError(f"--data-root {given!r} is not a folder")
    if not download and not os.path.isdir(root):  # --download creates it
        raise FileNotFoundError(f"--data-root {given!r} is not a folder (pass --download to "
                                f"create it and fetch the published {name} files)")
    loader = {"mnist": data.load_mnist, "fashion_mnist": data.load_fashion_mnist,
              "cifar10": data.load_cifar10}[name]
    X, y = loader(root, train=True, download=download)
    Xt, yt = loader(root, train=False, download=download)
    return X.reshape(len(X), -1), y, Xt.reshape(len(Xt), -1), yt


def load_dataset(name: str, root: str | None = None, val_split: float = 0.2,
                 seed: int = 0, dtype: Any = np.float32, standardized: bool = True,
                 download: bool = False) -> Dataset:
    """Load ``name``, hold out ``val_split`` of the training data (stratified), and
    standardise every split with the training split's per-feature mean and std
    (``standardized=False`` returns the raw splits, with the statistics alongside).
    ``download``: fetch a file-based dataset (MNIST, Fashion-MNIST, CIFAR-10) into ``root``
    when its files are missing."""
    from ..data import standardize, train_test_split
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    if not 0.0 < val_split < 1.0:
        raise ValueError(f"the validation split must be strictly between 0 and 1, "
                         f"got {val_split}")
    X, y, Xt, yt = _raw(name, root, seed, download)
    X = np.asarray(X).reshape(len(X), -1).astype(dtype)
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=val_split, seed=seed,
                                                stratify=True)
    if Xt is not None:
        Xt = np.asarray(Xt).reshape(len(Xt), -1).astype(dtype)
    X_std, mean, std = standardize(X_tr)
    if standardized:
        X_tr = X_std
        X_val, _, _ = standardize(X_val, mean, std)
        if Xt is not None:
            Xt, _, _ = standardize(Xt, mean, std)
    return Dataset(name, X_tr, y_tr.astype(np.int64), X_val, y_val.astype(np.int64), Xt,
                   None if yt is None else np.asarray(yt, dtype=np.int64), mean, std,
                   DATASETS[name][1])


def build_mlp(in_features: int, hidden: list[int], out_features: int,
              activation: str = "relu", dropout: float = 0.0, batchnorm: bool = False,
              init: str = "he") -> Any:
    """``Linear -> [BatchNorm1d] -> act -> [Dropout]`` per hidden size, then a Linear
    to ``out_features`` scores. ``hidden=[]`` gives the linear (softmax/SVM) classifier."""
    from .. import nn
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    layers: list[Any] = []
    width = in_features
    for size in hidden:
        layers.append(nn.Linear(width, size, init=init))
        if batchnorm:
            layers.append(nn.BatchNorm1d(size))
        layers.append(nn.get_activation(activation))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, out_features, init=init))
    return nn.Sequential(*layers)


def fold_standardization(model: Any, mean: np.ndarray, std: np.ndarray) -> None:
    """Fold ``x_std = (x - mean) / std`` into the model's first Linear layer, in place.

    With y = x_std W + b = x (W / std) + (b − (mean / std) W), dividing row i of W
    (input feature i) by std_i, the layer takes raw
    inputs afterwards and the saved model needs no separate preprocessing file.
    """
    first = next((m for m in model.modules() if hasattr(m, "in_features")), None)
    if first is None or first.weight.data.ndim != 2:
        raise ValueError("the model has no first Linear layer to fold the standardization into")
    W = first.weight.data.astype(np.float64)
    scale = 1.0 / np.asarray(std, dtype=np.float64).reshape(-1)
    shift = np.asarray(mean, dtype=np.float64).reshape(-1) * scale
    dtype = first.weight.data.dtype
    if first.bias is not None:
        first.bias.data[...] = (first.bias.data.astype(np.float64) - shift @ W).astype(dtype)
    elif np.any(shift != 0):
        raise ValueError("cannot fold a non-zero mean into a Linear layer without a bias")
    first.weight.data[...] = (W * scale[:, None]).astype(dtype)


def l2_penalty(model: Any, strength: float) -> Callable[[], Tensor]:
    """A function returning ``strength · Σ W²`` over the model's weights (not biases)."""
    from ..regularizers import l2
    return lambda: l2(model) * strength


def l1_penalty(model: Any, strength: float) -> Callable[[], Tensor]:
    """A function returning ``strength · Σ |W|`` over the model's weights (not biases)."""
    from ..regularizers import l1
    return lambda: l1(model) * strength
