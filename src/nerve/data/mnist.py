"""MNIST and Fashion-MNIST from their published IDX files.

Put the four files of a dataset (gzipped as published, or gunzipped) directly
in ``root`` (torchvision's ``root/MNIST/raw`` and ``root/FashionMNIST/raw`` are read
too), or pass ``download=True`` to fetch the ones a split needs from the
official mirrors; each download is checked against its published MD5.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._checks import as_root, check_bool
from ._download import download as _download
from .idx import read_idx_file

__all__ = ["load_mnist", "load_fashion_mnist", "FASHION_MNIST_CLASSES",
           "MNIST_MIRRORS", "MNIST_MD5", "FASHION_MNIST_MIRRORS", "FASHION_MNIST_MD5"]

IMAGES_MAGIC = 0x00000803  # uint8, 3 dimensions
LABELS_MAGIC = 0x00000801  # uint8, 1 dimension
NUM_CLASSES = 10

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_MNIST_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def _split_names(train: bool) -> tuple[str, str]:
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"


def _find(root: Path, published: str) -> Path | None:
    """The file for ``published`` (a .gz name) in root: gzipped, gunzipped, or dotted.
    A folder (or a FIFO, a device) under one of those names is an error, not "missing"."""
    stem = published[: -len(".gz")]
    candidates = [root / name for name in (published, stem, stem.replace("-idx", ".idx", 1))]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    for candidate in candidates:
        if candidate.exists():
            kind = "a folder" if candidate.is_dir() else "not a regular file"
            raise ValueError(f"{candidate} is {kind}; expected the data file {published} "
                             "(gzipped or not)")
    return None


#: The folder torchvision keeps each dataset's IDX files in, under its root.
TORCHVISION_FOLDERS = {"MNIST": "MNIST", "Fashion-MNIST": "FashionMNIST"}


def _torchvision_folder(root: Path, dataset: str, names: tuple[str, ...]) -> Path | None:
    """``root/MNIST/raw`` (torchvision's layout; ``root/raw`` when root is its MNIST folder)
    if it holds both files of the split, else None."""
    name = TORCHVISION_FOLDERS[dataset]
    folders = [root / name / "raw"] + ([root / "raw"] if root.name == name else [])
    for folder in folders:
        if folder.is_dir() and all(_find(folder, name) is not None for name in names):
            return folder
    return None


def _read_checked(path: Path, magic: int, what: str) -> np.ndarray:
    try:
        found, array = read_idx_file(path)
    except ValueError as exc:  # a damaged, truncated or foreign file under that name
        raise ValueError(f"{exc}; if it came from a download, delete it and download it "
                         "again (download=True, or --download on the command line)") from None
    if found != magic:
        raise ValueError(f"{path}: expected {what} (IDX magic number 0x{magic:08X}), "
                         f"found magic number 0x{found:08X} with shape {array.shape}")
    return array


def _load_idx_pair(root: object, train: bool, download: bool, dataset: str,
                   mirrors: tuple[str, ...], md5: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    root = as_root(root)
    check_bool("train", train)
    check_bool("download", download)
    names = _split_names(train)
    paths = [_find(root, name) for name in names]
    missing = [name for name, path in zip(names, paths) if path is None]
    if missing:  # torchvision's layout: the same files in ROOT/MNIST/raw
        raw = _torchvision_folder(root, dataset, names)
        if raw is not None:
            root, missing = raw, []
    if missing and not download:
        raise FileNotFoundError(
            f"{dataset} files not found: put {' and '.join(missing)} (gzipped or not) in "
            f"{root.resolve()}, or call with download=True (--download on the command line) "
            f"to fetch them from {mirrors[0]}")
    for name in missing:
        _download([base + name for base in mirrors], root / name, md5[name])
    paths = [_find(root, name) for name in names]
    images = _read_checked(paths[0], IMAGES_MAGIC, "uint8 images of shape (N, rows, cols)")
    labels = _read_checked(paths[1], LABELS_MAGIC, "uint8 labels of shape (N,)")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{dataset}: {paths[0]} holds {images.shape[0]} images but "
                         f"{paths[1]} holds {labels.shape[0]} labels; they must match")
    if labels.size and labels.max() >= NUM_CLASSES:
        raise ValueError(f"{paths[1]}: labels must be 0..{NUM_CLASSES - 1}, "
                         f"found {int(labels.max())}")
    return images, labels.astype(np.int64)


def load_mnist(root: str | os.PathLike, train: bool = True,
               download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """MNIST handwritten digits: images uint8 (N, 28, 28) in 0..255, labels int64 (N,).

    N is 60,000 for ``train=True`` (train-*) and 10,000 otherwise (t10k-*).
    Scale with ``images.reshape(len(images), -1).astype(np.float32) / 255`` or
    :func:`nerve.data.standardize`.

    >>> # X, y = load_mnist("~/data/mnist", train=True, download=True)
    """
    return _load_idx_pair(root, train, download, "MNIST", MNIST_MIRRORS, MNIST_MD5)


def load_fashion_mnist(root: str | os.PathLike, train: bool = True,
                       download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST (Zalando): same format and shapes as :func:`load_mnist`.

    Label names are in ``FASHION_MNIST_CLASSES``.  Keep it in a different folder
    from MNIST: the file names are the same.
    """
    return _load_idx_pair(root, train, download, "Fashion-MNIST",
                          FASHION_MNIST_MIRRORS, FASHION_MNIST_MD5)
