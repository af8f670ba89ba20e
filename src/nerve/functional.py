"""The ``nv.`` functions: each op as a function of tensors (or arrays, made constants)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .ops import elementwise as E
from .ops import linalg as L
from .ops import shape as S
from .random import get_rng
from .tensor_torch import own, share_memory
from .tensor import (
    Tensor, _check_dtype, _check_float_dtype, _check_ints, _Promote, axis_or_dim, check_axis,
    get_default_dtype,
)


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _pair(a, b) -> tuple[Tensor, Tensor]:
    """Two operands as tensors, a constant taking the other's dtype.

    Integer or bool operands with a float one compute in the float dtype (as PyTorch).
    """
    try:
        if isinstance(a, Tensor):
            return a, a._operand(b)
        if isinstance(b, Tensor):
            return b._operand(a), b
        a = Tensor(a)
        return a, a._operand(b)
    except _Promote as p:
        return (p.mine, p.theirs) if isinstance(a, Tensor) else (p.theirs, p.mine)


# Reductions also take PyTorch's dim= and keepdim= (see Tensor.sum, Tensor.max).
def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001 - the API's name
    return _t(x).sum(axis, keepdims, dim=dim, keepdim=keepdim)


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    return _t(x).mean(axis, keepdims, dim=dim, keepdim=keepdim)


def var(x, axis=None, unbiased=None, keepdim=None, *, dim=None, keepdims=False,
        correction=None, ddof=None):
    """Variance over ``axis`` (unbiased by default), in PyTorch's positional order
    ``var(x, dim, unbiased, keepdim)``: see :meth:`Tensor.var`."""
    return _t(x).var(axis, unbiased, keepdim, dim=dim, keepdims=keepdims,
                     correction=correction, ddof=ddof)


def std(x, axis=None, unbiased=None, keepdim=None, *, dim=None, keepdims=False,
        correction=None, ddof=None):
    """Standard deviation over ``axis`` (unbiased by default), in PyTorch's positional
    order ``std(x, dim, unbiased, keepdim)``: see :meth:`Tensor.std`."""
    return _t(x).std(axis, unbiased, keepdim, dim=dim, keepdims=keepdims,
                     correction=correction, ddof=ddof)


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    return _t(x).max(axis, keepdims, dim=dim, keepdim=keepdim)


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    return _t(x).min(axis, keepdims, dim=dim, keepdim=keepdim)


def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the largest entry along ``axis`` (int64, no gradient)."""
    return _t(x).argmax(axis, keepdims, dim=dim, keepdim=keepdim)


def argmin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the smallest entry along ``axis`` (int64, no gradient)."""
    return _t(x).argmin(axis, keepdims, dim=dim, keepdim=keepdim)


def exp(x):
    return _t(x).exp()


def log(x):
    return _t(x).log()


def sqrt(x):
    return _t(x).sqrt()


def abs(x):  # noqa: A001
    return _t(x).abs()


def clip(x, min=None, max=None):  # noqa: A002
    return _t(x).clip(min, max)


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's names
    """PyTorch's name for :func:`clip`: min(max(x, min), max);  derivative 1 inside, else 0."""
    return _t(x).clip(min, max)


def reshape(x, *shape):
    return _t(x).reshape(*shape)


def transpose(x, *axes):
    return _t(x).transpose(*axes)


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """The axes ``start_dim`` to ``end_dim`` merged into one (see :meth:`Tensor.flatten`)."""
    return _t(x).flatten(start_dim, end_dim)


def squeeze(x, dim=None):
    """Drop axes of length 1 (only ``dim``, an int or a tuple, if given)."""
    return _t(x).squeeze(dim)


def unsqueeze(x, dim: int):
    """A new axis of length 1 at position ``dim``."""
    return _t(x).unsqueeze(dim)


def permute(x, *dims):
    """Reorder every axis: ``nv.permute(x, (2, 0, 1))``."""
    return _t(x).permute(*dims)


def split(x, split_size_or_sections, dim: int = 0):
    """Consecutive pieces along ``dim`` (see :meth:`Tensor.split`)."""
    return _t(x).split(split_size_or_sections, dim)


def chunk(x, chunks: int, dim: int = 0):
    """``chunks`` pieces along ``dim`` (see :meth:`Tensor.chunk`)."""
    return _t(x).chunk(chunks, dim)


def logsumexp(x, dim=None, keepdim: bool = False):
    """log Σ eˣ over ``dim`` without overflow;  derivative softmax(x) along ``dim``."""
    return _t(x).logsumexp(dim, keepdim)


def relu(x):
    """max(0, x);  derivative 1 for x > 0, else 0."""
    return _t(x).relu()


def sigmoid(x):
    """1 / (1 + e⁻ˣ);  derivative σ(1 − σ)."""
    return _t(x).sigmoid()


def tanh(x):
    """tanh x;  derivative 1 − tanh²."""
    return _t(x).tanh()


def leaky_relu(x, alpha: float = 0.01):
    """x for x > 0 else αx;  derivative 1 or α."""
    return _t(x).leaky_relu(alpha)


def elu(x, alpha: float = 1.0):
    """x for x > 0 else α(eˣ − 1);  derivative 1 or α·eˣ."""
    return _t(x).elu(alpha)


def softmax(x, axis: int = -1, *, dim=None):
    """e^xᵢ / Σⱼ e^xⱼ along ``axis`` (shifted by the max for stability)."""
    return _t(x).softmax(axis, dim=dim)


def log_softmax(x, axis: int = -1, *, dim=None):
    """xᵢ − log Σⱼ e^xⱼ along ``axis``, computed with log-sum-exp."""
    return _t(x).log_softmax(axis, dim=dim)


def step(x):
    """1 for x > 0 else 0;  derivative 0 (the perceptron's threshold)."""
    return _t(x).step()


def identity(x):
    """x (the "linear" activation, ``nn.Identity``);  derivative 1. A tensor comes back
    as it is; anything else as a constant tensor."""
    return _t(x)


def maxout(z, pieces: int):
    """yⱼ = maxₖ z[..., k·out + j] for k = 0..pieces−1: the max over ``pieces`` groups of
    the last axis, (..., pieces·out) → (..., out);  derivative 1 for the winning piece,
    0 for the others, tied pieces sharing it evenly.

    ``z`` holds the pieces' pre-activations side by side as ``nn.Maxout`` lays them out
    (piece k in columns k·out … k·out + out − 1), so ``nn.Maxout(...)(x)`` equals
    ``maxout(linear(x, layer.weight, layer.bias), layer.pieces)``. (The NumPy
    ``nn.derivatives.maxout(z, axis)`` takes the pieces along ``axis`` instead.)
    """
    z = _t(z)
    if isinstance(pieces, (bool, np.bool_)) or not isinstance(pieces, (int, np.integer)):
        raise TypeError(f"maxout: pieces must be a positive int (the number of affine "
                        f"pieces per output), got {type(pieces).__name__} {pieces!r}")
    if pieces < 1:
        raise ValueError(f"maxout: pieces must be a positive int (the number of affine "
                         f"pieces per output), got {pieces!r}")
    if z.ndim == 0 or z.shape[-1] % pieces:
        raise ValueError(f"maxout: z must have pieces·out entries on its last axis (piece k "
                         f"in columns k·out … k·out + out − 1, as nn.Maxout lays them out), "
                         f"got shape {z.shape} with pieces={pieces}")
    return _maxout(z, int(pieces))


def _maxout(z: Tensor, pieces: int) -> Tensor:
    """:func:`maxout` without the argument checks (``nn.Maxout``'s forward)."""
    shape = z.shape
    return z.reshape(*shape[:-1], pieces, shape[-1] // pieces).max(axis=-2)


def matmul(a, b):
    a, b = _pair(a, b)
    return a @ b


def linear(x, weight, bias=None):
    """x @ weight + bias as one fused op (x: (N, in), weight: (in, out), bias: (out,))."""
    x, weight = _pair(x, weight)
    if bias is None:
        return L.Linear.apply(x, weight)
    return L.Linear.apply(x, weight, weight._operand(bias))


def maximum(a, b):
    """Elementwise max; at ties the gradient is split evenly."""
    return E.Maximum.apply(*_pair(a, b))


def minimum(a, b):
    """Elementwise min; at ties the gradient is split evenly."""
    return E.Minimum.apply(*_pair(a, b))


def where(condition, a, b):
    """a where condition holds, else b (no gradient through the condition)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    a, b = _pair(a, b)
    try:
        return E.Where.apply(a, b, cond=cond)
    except ValueError:
        try:  # the error path only: name the condition's shape too
            np.broadcast_shapes(cond.shape, a.shape, b.shape)
        except ValueError:
            raise ValueError(f"where: the condition's shape {cond.shape} and the values' "
                             f"shapes {a.shape} and {b.shape} cannot be broadcast together "
                             "(each trailing dimension must be equal or 1)") from None
        raise


def _many(tensors: Sequence) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError("expected a non-empty sequence of tensors")
    # A constant (array, list) takes the dtype of the first float tensor given, as in a
    # binary op, not the default float: [float64 tensor, float64 array] stays float64.
    first = next((t for t in tensors if isinstance(t, Tensor) and t.dtype.kind == "f"), None)
    ts = [t if isinstance(t, Tensor) else first._operand(t) if first is not None else _t(t)
          for t in tensors]
    first = next((t for t in ts if t.dtype.kind == "f"), ts[0])
    return [first._operand(t) if t is not first else t for t in ts]


def _join_axis(axis, ts: list[Tensor], what: str, extra: int) -> int:
    axis = check_axis(axis, what, allow_many=False)
    ndim = ts[0].ndim + extra
    if not -ndim <= axis < ndim:
        raise ValueError(f"{what}: axis {axis} is out of range for tensors with "
                         f"{ts[0].ndim} dimensions")
    return axis % ndim


def concatenate(tensors: Sequence, axis: int = 0, *, dim: int | None = None):
    """Join tensors along an existing axis; each gets its slice of the gradient.
    (``dim`` is PyTorch's name for ``axis``; :func:`cat` is its name for this function.)"""
    ts = _many(tensors)
    axis = axis_or_dim("concatenate", axis, dim, 0)
    return S.Concatenate.apply(*ts, axis=_join_axis(axis, ts, "concatenate", 0))


def stack(tensors: Sequence, axis: int = 0, *, dim: int | None = None):
    """Stack tensors along a new axis; each gets its index of the gradient."""
    ts = _many(tensors)
    axis = axis_or_dim("stack", axis, dim, 0)
    return S.Stack.apply(*ts, axis=_join_axis(axis, ts, "stack", 1))


def cat(tensors: Sequence, dim: int = 0, *, axis: int | None = None):
    """PyTorch's name for :func:`concatenate` (``dim`` is the axis)."""
    if axis is not None:
        if dim != 0:
            raise TypeError(f"cat: got both dim={dim!r} and axis={axis!r}; pass one")
        dim = axis
    return concatenate(tensors, dim)


def _shape(shape: tuple, what: str) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` both mean shape (2, 3): non-negative ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = _check_ints(shape, what, "the shape")
    if any(n < 0 for n in shape):
        raise ValueError(f"{what}: the shape must be non-negative integers, got {shape}")
    return shape


def _dtype_or_default(dtype) -> np.dtype:
    return get_default_dtype() if dtype is None else _check_dtype(dtype)


def zeros(*shape, dtype=None, requires_grad=False) -> Tensor:
    dt = _dtype_or_default(dtype)
    return Tensor(np.zeros(_shape(shape, "zeros"), dtype=dt), dtype=dt,
                  requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False) -> Tensor:
    dt = _dtype_or_default(dtype)
    return Tensor(np.ones(_shape(shape, "ones"), dtype=dt), dtype=dt,
                  requires_grad=requires_grad)


def zeros_like(x, dtype=None, requires_grad=False) -> Tensor:
    """Zeros of ``x``'s shape and dtype (or ``dtype``)."""
    x = _t(x)
    return zeros(x.shape, dtype=x.dtype if dtype is None else dtype, requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad=False) -> Tensor:
    """Ones of ``x``'s shape and dtype (or ``dtype``)."""
    x = _t(x)
    return ones(x.shape, dtype=x.dtype if dtype is None else dtype, requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False) -> Tensor:
    """A tensor of ``shape`` holding ``fill_value`` everywhere (default float dtype)."""
    shape = _shape(shape if isinstance(shape, (tuple, list)) else (shape,), "full")
    if not _is_number(fill_value):
        raise TypeError(f"full: fill_value must be a number, got {fill_value!r}")
    dt = _dtype_or_default(dtype)
    return Tensor(np.full(shape, fill_value, dtype=dt), dtype=dt, requires_grad=requires_grad)


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.number, np.bool_))  # bool is an int


def eye(n: int, m: int | None = None, dtype=None) -> Tensor:
    """The identity matrix (n × m, m = n by default)."""
    rows, cols = _shape((n, n if m is None else m), "eye")
    dt = _dtype_or_default(dtype)
    return Tensor(np.eye(rows, cols, dtype=dt), dtype=dt)


def arange(start, end=None, step=1, dtype=None) -> Tensor:
    """Evenly spaced values in [start, end), as NumPy's and PyTorch's arange: int64 for
    whole-number arguments, else the default float dtype."""
    bounds = (start, step) if end is None else (start, end, step)
    if not all(_is_number(v) and not isinstance(v, (bool, np.bool_)) and np.isfinite(v)
               for v in bounds):
        raise TypeError(f"arange: start, end and step must be finite numbers, got "
                        f"{', '.join(map(repr, bounds))}")
    if step == 0:
        raise ValueError("arange: step must not be 0")
    first, last = (0, start) if end is None else (start, end)
    span = (last - first) / step  # (the module's own max/min shadow the builtins here)
    count = int(np.ceil(span)) if span > 0 else 0
    if count > 1 << 31:
        raise ValueError(f"arange: {count} values is more than nerve will allocate at once")
    values = np.arange(first, last, step)
    return Tensor(values, dtype=dtype)


def rand(*shape, dtype=None, requires_grad=False, seed=None) -> Tensor:
    """Uniform samples in [0, 1) from nerve's generator."""
    dt = get_default_dtype() if dtype is None else _check_float_dtype(dtype)
    return Tensor(get_rng(seed).random(_shape(shape, "rand"), dtype=dt.type),
                  dtype=dt, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A constant tensor sharing ``array``'s memory and keeping its dtype (float64 stays
    float64, unlike :func:`nerve.tensor`, which makes floats the default dtype)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a NumPy array, got {type(array).__name__}")
    t = Tensor(array, dtype=array.dtype)
    own(t)  # in-place changes write through to ``array``, as PyTorch's from_numpy
    share_memory(array)  # and so do changes through views of it
    return t


def randn(*shape, dtype=None, requires_grad=False, seed=None) -> Tensor:
    """Standard normal samples from nerve's generator."""
    dt = get_default_dtype() if dtype is None else _check_float_dtype(dtype)
    return Tensor(get_rng(seed).standard_normal(_shape(shape, "randn"), dtype=dt.type),
                  dtype=dt, requires_grad=requires_grad)


__all__ = [n for n in dir() if not n.startswith("_") and n not in
           ("annotations", "Sequence", "np", "E", "L", "S", "Tensor", "check_axis",
            "get_default_dtype", "get_rng")]
