"""The 8x8 handwritten digits (UCI "Optical Recognition of Handwritten Digits").

The 1,797 images ship inside nerve as ``digits.npz`` (see DIGITS_LICENSE.txt for
source and licence, CC BY 4.0), so they load offline in milliseconds.
"""
from __future__ import annotations

from importlib import resources

import numpy as np

from ._checks import check_bool

__all__ = ["load_digits"]

_FILE = "digits.npz"
N_DIGITS = 1797


def load_digits(return_images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Load the digits: X float32 with pixel values 0..16 and y int64 labels 0..9.

    X has shape (1797, 64) (each row an 8x8 image read row by row), or
    (1797, 8, 8) with ``return_images=True``; y has shape (1797,).

    >>> X, y = load_digits()
    >>> X.shape, int(X.max()), sorted(set(y.tolist())) == list(range(10))
    ((1797, 64), 16, True)
    """
    check_bool("return_images", return_images)
    source = resources.files(__package__).joinpath(_FILE)
    with source.open("rb") as handle, np.load(handle, allow_pickle=False) as archive:
        images = archive["images"]
        labels = archive["labels"]
    if images.shape != (N_DIGITS, 8, 8) or labels.shape != (N_DIGITS,):
        raise ValueError(
            f"the shipped {_FILE} is damaged: expected images (1797, 8, 8) and labels "
            f"(1797,), found {images.shape} and {labels.shape}; reinstall nerve")
    X = images.astype(np.float32)
    if not return_images:
        X = X.reshape(N_DIGITS, 64)
    return X, labels.astype(np.int64)
