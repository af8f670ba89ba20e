"""Reductions over axes: sum, mean, variance, max, min."""
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
                             f"{x.shape}, axis {self.axis}); it has no elements to average")
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
            raise ValueError(f"the variance with correction={self.correction} needs more than "
                             f"{self.correction} element(s) along axis {self.axis}, got {n} "
                             f"(tensor of shape {x.shape})")
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
    """Shared max/min: the gradient flows to the extreme entries, split evenly on ties."""

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
        return (mask * (g / count),)


class Max(_Extreme):
    """y = max x over axes;  dy/dx = 1/k at the k tied maxima, 0 elsewhere."""

    reduce = staticmethod(np.max)


class Min(_Extreme):
    """y = min x over axes;  dy/dx = 1/k at the k tied minima, 0 elsewhere."""

    reduce = staticmethod(np.min)
