"""Reductions over axes: sum, mean, variance, max, min, product, p-norm; running sums."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ._util import as_float


def _normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if ndim == 0:  # a scalar: axis 0 or -1 reduces nothing (as PyTorch)
        for a in axes:
            if a not in (0, -1):
                raise ValueError(f"axis {a} is out of range for a 0-d tensor (0 or -1 only)")
        return ()
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    return tuple(out)


def _expand(g, axes, keepdims, shape):
    """Give a reduced gradient back its size-1 axes so it broadcasts over ``shape``."""
    if not keepdims and axes:
        g = np.expand_dims(g, axes)
    return g


class Sum(Function):
    """y = Σ x over axes;  dy/dx = 1 (the upstream gradient is copied back)."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        self.axes = _normalize_axis(self.axis, x.ndim)
        return np.sum(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        g = _expand(g, self.axes, self.keepdims, self.shape)
        return (np.broadcast_to(g, self.shape),)


class Mean(Function):
    """y = (1/n) Σ x over axes;  dy/dx = 1/n."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        self.axes = _normalize_axis(self.axis, x.ndim)
        self.n = int(np.prod([x.shape[a] for a in self.axes])) if self.axes else 1
        if self.n == 0:
            raise ValueError(f"the mean over an empty axis is undefined (tensor of shape "
                             f"{x.shape}, axis {self.axis}); it has no elements to average "
                             "(PyTorch returns nan here, nerve raises)")
        x = as_float(x)  # the mean of integers is fractional: default float, not truncated
        return np.mean(x, axis=self.axes, keepdims=self.keepdims, dtype=x.dtype)

    def backward(self, g):
        g = _expand(g, self.axes, self.keepdims, self.shape)
        return (np.broadcast_to(g / np.asarray(self.n, dtype=g.dtype), self.shape),)


class Var(Function):
    """y = Σ (x − x̄)² / (n − c) over axes (c = ``correction``: 1 unbiased, 0 the
    population variance);  dy/dx = 2(x − x̄)/(n − c) (the x̄ terms sum to zero)."""

    def __init__(self, axis=None, keepdims=False, correction=1):
        self.axis, self.keepdims, self.correction = axis, keepdims, correction

    def forward(self, x):
        self.shape = x.shape
        self.axes = axes = _normalize_axis(self.axis, x.ndim)
        n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        self.dof = dof = n - self.correction
        if dof <= 0:
            hint = " (correction=0 gives the population variance)" if n else ""
            raise ValueError(f"the variance with correction={self.correction} needs more than "
                             f"{self.correction} element(s) along axis {self.axis}, got {n} "
                             f"(tensor of shape {x.shape}); PyTorch returns nan with a warning "
                             f"here, nerve raises{hint}")
        x = as_float(x)
        self.dev = dev = x - np.mean(x, axis=axes, keepdims=True, dtype=x.dtype)
        total = np.sum(dev * dev, axis=axes, keepdims=self.keepdims, dtype=x.dtype)
        return total / np.asarray(dof, dtype=x.dtype)

    def backward(self, g):
        g = _expand(g, self.axes, self.keepdims, self.shape)
        dev = self.dev
        return (dev * (g * np.asarray(2.0 / self.dof, dtype=dev.dtype)),)


class Std(Var):
    """y = √(Σ (x − x̄)² / (n − c));  dy/dx = (x − x̄)/((n − c)·y), and 0 where y = 0
    (constant data: PyTorch's choice of subgradient, where √'s own derivative is infinite)."""

    def forward(self, x):
        self.y = np.sqrt(super().forward(x))
        return self.y

    def backward(self, g):
        g = _expand(g, self.axes, self.keepdims, self.shape)
        y = _expand(self.y, self.axes, self.keepdims, self.shape)
        scale = np.zeros(np.broadcast_shapes(g.shape, y.shape), dtype=self.dev.dtype)
        np.divide(g, y * np.asarray(self.dof, dtype=y.dtype), out=scale, where=y > 0)
        return (self.dev * scale,)


class _Extreme(Function):
    """Shared max/min: the gradient flows to the extreme entries, split evenly on ties;
    the other entries get exactly 0, even for an inf or NaN upstream gradient (as PyTorch)."""

    reduce = staticmethod(np.max)

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x = x
        self.axes = _normalize_axis(self.axis, x.ndim)
        if x.size == 0 and (not self.axes or any(x.shape[a] == 0 for a in self.axes)):
            raise ValueError(f"{type(self).__name__.lower()} over an empty axis is undefined "
                             f"(tensor of shape {x.shape}, axis {self.axis})")
        self.y = self.reduce(x, axis=self.axes, keepdims=True)
        return self.y if self.keepdims else np.squeeze(self.y, axis=self.axes)

    def backward(self, g):
        g = _expand(g, self.axes, self.keepdims, self.x.shape)
        mask = self.x == self.y
        if self.x.dtype.kind == "f" and np.isnan(self.y).any():  # NaN is the extreme there:
            mask |= np.isnan(self.x) & np.isnan(self.y)  # its gradient goes to the NaNs
        count = mask.sum(axis=self.axes, keepdims=True).astype(g.dtype)
        return (np.where(mask, g / count, g.dtype.type(0)),)


class Max(_Extreme):
    """y = max x over axes;  dy/dx = 1/k at the k tied maxima, 0 elsewhere."""

    reduce = staticmethod(np.max)


class Min(_Extreme):
    """y = min x over axes;  dy/dx = 1/k at the k tied minima, 0 elsewhere."""

    reduce = staticmethod(np.min)


class Prod(Function):
    """y = Π x over one axis (all entries when None);  dy/dxᵢ = Π_{j≠i} xⱼ, computed as the
    product of the entries before i times those after it (exact where x has zeros)."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x = x
        self.axes = _normalize_axis(self.axis, x.ndim)
        return np.prod(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        x = self.x
        g = _expand(g, self.axes, self.keepdims, x.shape)
        if x.size == 0 or not self.axes:
            return (np.broadcast_to(g, x.shape).astype(g.dtype),)
        if len(self.axes) == 1:
            axis = self.axes[0]
            rows = np.moveaxis(x, axis, -1)
        else:  # all axes: one row of every entry
            axis, rows = None, x.reshape(-1)
        ones = np.ones(rows.shape[:-1] + (1,), dtype=g.dtype)
        before = np.concatenate([ones, np.cumprod(rows[..., :-1], axis=-1)], axis=-1)
        after = np.concatenate([np.cumprod(rows[..., :0:-1], axis=-1)[..., ::-1], ones], axis=-1)
        others = before * after
        others = others.reshape(x.shape) if axis is None else np.moveaxis(others, -1, axis)
        return (g * others,)


class Norm(Function):
    """y = (Σ |x|ᵖ)^(1/p) over axes (p ≥ 1; p = 2 the Euclidean length);
    dy/dx = sign(x)·|x|^(p−1) / y^(p−1) (x / y for p = 2), and 0 where y = 0 (PyTorch's
    subgradient at the origin)."""

    def __init__(self, p=2.0, axis=None, keepdims=False):
        self.p, self.axis, self.keepdims = p, axis, keepdims

    def forward(self, x):
        self.x = x = as_float(x)
        self.axes = axes = _normalize_axis(self.axis, x.ndim)
        p = self.p
        if p == 2:
            y = np.sqrt(np.sum(x * x, axis=axes, keepdims=True, dtype=x.dtype))
        else:
            y = np.sum(np.abs(x) ** p, axis=axes, keepdims=True, dtype=x.dtype) ** (1 / p)
        self.y = y.astype(x.dtype, copy=False)
        return self.y if self.keepdims else np.squeeze(self.y, axis=axes)

    def backward(self, g):
        x, y, p = self.x, self.y, self.p
        g = _expand(g, self.axes, self.keepdims, x.shape)
        scale = np.zeros(np.broadcast_shapes(g.shape, y.shape), dtype=x.dtype)
        np.divide(g, y if p == 2 else y ** (p - 1), out=scale, where=y > 0)
        if p == 2:
            return (x * scale,)
        return (np.sign(x) * np.abs(x) ** (p - 1) * scale,)


class Cumsum(Function):
    """yᵢ = Σ_{j≤i} xⱼ along an axis;  dL/dxⱼ = Σ_{i≥j} gᵢ (the running sum of g from the end)."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, x):
        return np.cumsum(x, axis=self.axis)

    def backward(self, g):
        axis = self.axis
        return (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),)
