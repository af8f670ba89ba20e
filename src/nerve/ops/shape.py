"""Shape ops: reshape, transpose, broadcast, indexing, concatenate, stack."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ._util import unbroadcast


class Reshape(Function):
    """y = x viewed with a new shape;  dy/dx reshapes the gradient back."""

    def __init__(self, shape):
        self.new_shape = shape

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(self.new_shape)

    def backward(self, g):
        return (g.reshape(self.shape),)


class BroadcastTo(Function):
    """y = x repeated along its axes of length 1 and new leading axes (a read-only view,
    PyTorch's ``expand``);  dL/dx sums the gradient over those copies."""

    def __init__(self, shape):
        self.new_shape = shape

    def forward(self, x):
        self.shape = x.shape
        return np.broadcast_to(x, self.new_shape)

    def backward(self, g):
        return (unbroadcast(g, self.shape),)


class Transpose(Function):
    """y = x with its axes permuted;  the gradient is permuted back."""

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        axes = self.axes if self.axes is not None else tuple(reversed(range(x.ndim)))
        if any(not -max(x.ndim, 1) <= int(a) < max(x.ndim, 1) for a in axes) \
                or sorted(int(a) % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"axes {tuple(axes)} are not a permutation of a {x.ndim}-d tensor's")
        self.axes = tuple(int(a) % max(x.ndim, 1) for a in axes)  # argsort needs them >= 0
        return np.transpose(x, self.axes)

    def backward(self, g):
        return (np.transpose(g, np.argsort(self.axes)),)


def _is_advanced(index) -> bool:
    """Whether an index uses arrays or lists (so positions may repeat)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (list, tuple, np.ndarray)) and not np.ndim(p) == 0 or
               isinstance(p, np.ndarray) and p.dtype == bool for p in parts)


class GetItem(Function):
    """y = x[index];  dy/dx scatters the gradient back, adding where positions repeat."""

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.shape, self.dtype = x.shape, x.dtype
        try:
            out = x[self.index]
            if type(out) is not np.ndarray:  # one element: a 0-d view, as PyTorch's x[0]
                index = self.index if isinstance(self.index, tuple) else (self.index,)
                out = x[index + (Ellipsis,)]
            return out
        except IndexError as exc:
            raise IndexError(f"index {self.index!r} is invalid for a tensor of shape {x.shape}: "
                             f"{exc}") from None

    def backward(self, g):
        out = np.zeros(self.shape, dtype=g.dtype)
        if _is_advanced(self.index):
            np.add.at(out, self.index, g)
        else:
            out[self.index] = g
        return (out,)


class Concatenate(Function):
    """y = [x₁, x₂, ...] joined along an axis;  each xᵢ gets its slice of the gradient."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        try:
            self.sizes = [x.shape[self.axis] for x in xs]
            return np.concatenate(xs, axis=self.axis)
        except (IndexError, ValueError):  # the error path only: say which tensor differs
            _check_join(xs, self.axis, "concatenated along dim")
            raise

    def backward(self, g):
        cuts = np.cumsum(self.sizes)[:-1]
        return tuple(np.split(g, cuts, axis=self.axis))


class Stack(Function):
    """y = [x₁, x₂, ...] stacked along a new axis;  each xᵢ gets its index of the gradient."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        try:
            return np.stack(xs, axis=self.axis)
        except ValueError:  # the error path only: say which tensor differs
            _check_join(xs, None, "stacked along a new dim")
            raise

    def backward(self, g):
        n = g.shape[self.axis]
        return tuple(np.take(g, i, axis=self.axis) for i in range(n))


def _check_join(xs, axis, how: str) -> None:
    """Raise a ValueError naming the first tensor whose shape does not fit tensor 0's:
    the same number of dimensions and the same sizes (except along ``axis`` if given)."""
    first = xs[0].shape
    for i, x in enumerate(xs[1:], 1):
        if x.ndim != len(first):
            raise ValueError(f"tensor {i} has shape {x.shape} and tensor 0 has shape {first}: "
                             f"tensors {how}{'' if axis is None else f' {axis}'} must have "
                             f"the same number of dimensions (got {x.ndim} and {len(first)})")
        if axis is None and x.shape != first:
            raise ValueError(f"tensor {i} has shape {x.shape} and tensor 0 has shape {first}: "
                             f"tensors {how} must all have the same shape")
        bad = [d for d in range(len(first)) if d != axis and x.shape[d] != first[d]]
        if bad:
            raise ValueError(f"tensor {i} has shape {x.shape} and tensor 0 has shape {first}: "
                             f"tensors {how} {axis} must have the same size in every other "
                             f"dim (they differ in dim {bad[0]})")
