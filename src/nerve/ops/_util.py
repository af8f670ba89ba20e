"""Shared helpers of the ops: undo NumPy broadcasting in a gradient; scalar constants."""
from __future__ import annotations

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: over prepended axes and over axes that were 1.

    Broadcasting copies a value along an axis; the copies fan out, so their
    gradients add up.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def is_int(v) -> bool:
    """A Python or NumPy integer, not a bool: what an axis, a size or an index must be."""
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def default_float() -> np.dtype:
    """nerve's default float dtype (float32 unless set otherwise): what integer data
    computes in when an op needs a float (as PyTorch, never NumPy's float64)."""
    from ..tensor import get_default_dtype  # here: nerve.tensor imports the ops

    return get_default_dtype()


def as_float(x: np.ndarray) -> np.ndarray:
    """``x`` itself when it is a float array, else ``x`` in the default float dtype: an op
    whose result is fractional (eˣ, √x, a mean) computes integer data in float32, as
    PyTorch does, rather than in NumPy's float64 or, worse, rounded back to integers."""
    return x if x.dtype.kind == "f" else x.astype(default_float())


#: NumPy before 2.0 promotes by value: a 0-d float32 array with a Python number gives
#: float64 (NEP 50 made NumPy 2 keep float32).
LEGACY_PROMOTION = np.lib.NumpyVersion(np.__version__) < "2.0.0"


def keep_float(out: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``out`` in the float dtype of ``like`` where NumPy 1 upcast a 0-d result to float64
    (a 0-d float32 ``x`` in ``np.maximum(x, 0)``, ``x ** 3``, ``1 - t``); on NumPy 2 (and
    for any result NumPy did not upcast) ``out`` itself."""
    if LEGACY_PROMOTION and out.dtype != like.dtype and like.dtype.kind == "f" \
            and out.dtype.kind == "f" and out.ndim == 0:
        return out.astype(like.dtype)
    return out


# Per float dtype: Python number -> that number as a read-only 0-d array of the dtype.
_constants: dict = {np.dtype(np.float32): {}, np.dtype(np.float64): {}}


def constant(c, dtype: np.dtype):
    """The Python number ``c`` as a 0-d array of the float ``dtype`` (cached).

    ``x * constant(c, x.dtype)`` equals ``x * c`` bit for bit (NumPy casts a Python
    number to the array's dtype anyway) but skips that conversion on every call.
    Other dtypes get ``c`` back unchanged, keeping NumPy's promotion (int · 0.5).
    """
    table = _constants.get(dtype)
    if table is None:
        return c
    arr = table.get(c)
    if arr is None:
        arr = np.asarray(c, dtype=dtype)
        # Not cached: zeros (0.0 and -0.0 are equal keys with different values) and
        # non-finite values (a cast that overflows then warns on every call, as NumPy's).
        if arr != 0 and np.isfinite(arr):
            if len(table) >= 256:
                table.clear()
            arr.flags.writeable = False
            table[c] = arr
    return arr


_zeros: dict = {}


def zero(dtype: np.dtype):
    """0 as a read-only 0-d array of the float ``dtype`` (cached; ``0`` itself for other
    dtypes): ``np.maximum(x, zero(x.dtype))`` equals ``np.maximum(x, 0)`` bit for bit and
    skips the scalar conversion, about 0.7 µs of each small call."""
    z = _zeros.get(dtype)
    if z is None:
        if dtype not in _constants:
            return 0
        z = _zeros[dtype] = np.zeros((), dtype=dtype)
        z.flags.writeable = False
    return z
