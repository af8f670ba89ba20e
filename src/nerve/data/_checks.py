"""Argument checks shared by the data helpers, fit and the estimators (clear errors, raised
up front)."""
from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np


def first_non_finite(a: np.ndarray) -> tuple[tuple[int, ...], str] | None:
    """``(index, "NaN" | "inf" | "-inf")`` of the first (C order) NaN or infinite element
    of the float array ``a``, or None when every element is finite (one isfinite pass)."""
    finite = np.isfinite(a)
    if finite.all():
        return None
    flat = int(np.argmin(finite.reshape(-1)))  # the first False
    index = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    value = a[index]
    return index, "NaN" if np.isnan(value) else "inf" if value > 0 else "-inf"


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_float(name: str, value: object, minimum: float = 0.0) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number >= {minimum}, got {value!r}")
    value = float(value)
    if not minimum <= value < float("inf"):  # also rejects NaN and inf
        raise ValueError(f"{name} must be a finite real number >= {minimum}, got {value}")
    return value


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is a bool, else raise TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def as_array(name: str, value: object, numeric: bool = True) -> np.ndarray:
    """``value`` as a NumPy array with a sample axis; tensors are unwrapped via ``.numpy()``.

    Raises TypeError for non-numeric data when ``numeric`` (labels may be strings)
    and ValueError for a 0-d array.
    """
    if not isinstance(value, np.ndarray) and callable(getattr(value, "numpy", None)):
        value = value.numpy()
    array = to_numpy(value, name)
    if numeric and not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must hold numbers, got an array of dtype {array.dtype}")
    if numeric and array.dtype.kind == "c":
        raise TypeError(f"{name} has dtype {array.dtype}: complex data is not supported; "
                        "nerve computes in float32 or float64")
    if array.ndim == 0:
        raise ValueError(f"{name} must have a first (sample) axis, got a 0-d array")
    return array


def to_numpy(value: object, name: str) -> np.ndarray:
    """``np.asarray(value)``, with an error that says what happened when ``value`` is a
    tuple or list of arrays of different shapes: most often an ``(X, y)`` pair (or a
    function's tuple result) passed where one array belongs. An ndarray subclass becomes
    a plain array (``np.matrix`` a 2-D one, a masked array its data, the mask ignored)."""
    if type(value) is np.ndarray:
        return value
    if isinstance(value, np.ndarray):
        return np.asarray(value)
    try:
        return np.asarray(value)
    except ValueError as exc:
        if isinstance(value, (tuple, list)) and value and all(
                hasattr(v, "shape") for v in value):
            shapes = ", ".join(str(tuple(np.shape(v))) for v in value[:4])
            more = ", ..." if len(value) > 4 else ""
            raise ValueError(
                f"{name} must be one array with the samples first, got a "
                f"{type(value).__name__} of {len(value)} arrays of shapes {shapes}{more}; "
                "pass X and y as two arguments, as in fit(model, X, y) or DataLoader(X, y), "
                "and unpack a function's tuple result first") from None
        raise ValueError(f"{name} must be a rectangular array of numbers: {exc}") from None


def as_root(root: object) -> Path:
    """A dataset folder given as str or os.PathLike, with ``~`` expanded."""
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder path (str or os.PathLike), "
                        f"got {type(root).__name__}")
    path = Path(root).expanduser()
    if path.is_file():
        raise ValueError(f"root must be the folder that holds the dataset's files, got the "
                         f"file {str(path)!r}; pass its folder, {str(path.parent)!r}")
    return path


def check_regular_file(path: Path, what: str) -> None:
    """Raise unless ``path`` is a regular file (opening a FIFO or a device could block
    for ever, and a folder is no data file); FileNotFoundError when it does not exist."""
    if path.is_file():
        return
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file (expected {what})")
    kind = "a folder" if path.is_dir() else "not a regular file (a FIFO, socket or device)"
    raise ValueError(f"{path} is {kind}; expected {what}")
