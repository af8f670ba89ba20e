"""PyTorch's spellings on nerve's Tensor: the names a PyTorch user types first.

nerve's own API follows NumPy where the two differ (``axis=``, ``t.data``); these
methods make ordinary PyTorch code work as its author expects: in-place updates
(``p -= lr * p.grad`` under ``no_grad``), item assignment, ``t.size(0)``,
``view``/``unsqueeze``/``permute``, boolean masks with ``&``/``|``/``~``, and the
device idiom on the CPU. :class:`TorchNames` is a mixin of :class:`nerve.Tensor`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import autograd
from .ops import elementwise as E


class Size(int):
    """``t.size``: NumPy's element count (an int) that, called, is PyTorch's ``t.size()``
    — the shape — or ``t.size(d)``, the length of axis ``d``."""

    def __new__(cls, shape: tuple) -> "Size":
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        self = super().__new__(cls, count)
        self.shape = shape
        return self

    def __call__(self, dim: int | None = None):
        if dim is None:
            return self.shape
        ndim = len(self.shape)
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) \
                or not -ndim <= dim < ndim:
            raise IndexError(f"size({dim!r}): dim must be an int in [{-ndim}, {ndim}) for a "
                             f"tensor of shape {self.shape}")
        return self.shape[dim]


def _plain(value):
    return value.data if isinstance(value, TorchNames) else value


class TorchNames:
    """The PyTorch-named methods of :class:`nerve.Tensor` (a mixin: no state of its own)."""

    __slots__ = ()

    # ------------------------------------------------------------- sizes, devices
    @property
    def size(self) -> Size:
        return Size(self.data.shape)

    def numel(self) -> int:
        """The number of elements (``t.size`` in NumPy's words)."""
        return int(self.data.size)

    def dim(self) -> int:
        """The number of axes (``t.ndim``)."""
        return self.data.ndim

    @property
    def device(self) -> str:
        """Always ``"cpu"``: nerve computes with NumPy."""
        return "cpu"

    def cpu(self):
        return self

    def to(self, target):
        """``t.to(nv.float64)`` converts (as :meth:`astype`); ``t.to("cpu")`` is ``t``."""
        if isinstance(target, str) and not _is_dtype_name(target):
            check_device(target)
            return self
        return self.astype(target)

    @property
    def grad_fn(self):
        """The graph node that made this tensor (None for a leaf or a constant)."""
        return self._ctx

    # ------------------------------------------------------------------ shapes
    def t(self):
        """The transpose of a matrix (a vector or a scalar is returned as it is)."""
        if self.data.ndim > 2:
            raise ValueError(f"t() transposes tensors of at most 2 axes, got shape "
                             f"{self.data.shape}; use transpose(dim0, dim1) or permute")
        return self.T if self.data.ndim == 2 else self

    def view(self, *shape):
        """PyTorch's name for ``reshape`` (here it may copy; the gradient is the same)."""
        return self.reshape(*shape)

    def permute(self, *dims):
        """Reorder every axis: ``t.permute(2, 0, 1)`` (NumPy's ``transpose(axes)``)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if len(dims) != self.data.ndim:
            raise ValueError(f"permute: give every axis of the tensor of shape "
                             f"{self.data.shape} once, got {dims!r}")
        return self.transpose(dims)

    def unsqueeze(self, dim: int):
        """A new axis of length 1 at position ``dim`` (−1 appends one)."""
        ndim = self.data.ndim
        if not _is_index(dim) or not -ndim - 1 <= dim <= ndim:
            raise ValueError(f"unsqueeze: dim must be an int in [{-ndim - 1}, {ndim}] for a "
                             f"tensor of shape {self.data.shape}, got {dim!r}")
        dim = int(dim) % (ndim + 1)
        shape = self.data.shape
        return self.reshape(shape[:dim] + (1,) + shape[dim:])

    def squeeze(self, dim=None):
        """Drop axes of length 1 (only ``dim``, if given and of length 1, as PyTorch)."""
        shape = self.data.shape
        if dim is None:
            return self.reshape(tuple(n for n in shape if n != 1))
        bound = max(len(shape), 1)
        if not _is_index(dim) or not -bound <= dim < bound:
            raise ValueError(f"squeeze: dim must be an int in [{-bound}, {bound}) for a "
                             f"tensor of shape {shape}, got {dim!r}")
        if not shape or shape[dim] != 1:
            return self.reshape(shape)
        dim = int(dim) % len(shape)
        return self.reshape(shape[:dim] + shape[dim + 1:])

    # ------------------------------------------------------------- math names
    def pow(self, exponent):
        """``self ** exponent``."""
        return self ** exponent

    def matmul(self, other):
        """``self @ other``."""
        return self @ other

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        """PyTorch's name for :meth:`clip`."""
        return self.clip(min, max)

    def clone(self):
        """A copy of the data that stays in the graph (its gradient flows back to ``self``)."""
        return E.Copy.apply(self)

    def long(self):
        """The data as int64 (class labels, indices): no gradient, as any integer tensor."""
        return type(self)._wrap(self.data.astype(np.int64))

    # ------------------------------------------------------- boolean masks
    def _logical(self, other, ufunc, symbol: str):
        mine, theirs = self.data, _plain(other)
        if mine.dtype.kind not in "biu" or np.asarray(theirs).dtype.kind not in "biu":
            raise TypeError(f"{symbol} needs bool (or integer) tensors, got {mine.dtype} and "
                            f"{np.asarray(theirs).dtype}; compare first: (t > 0) {symbol} (t < 5)")
        try:
            return type(self)._wrap(ufunc(mine, theirs))
        except ValueError as exc:
            raise ValueError(f"{symbol} of shapes {mine.shape} and {np.shape(theirs)}: "
                             f"{exc}") from None

    def __and__(self, other):
        return self._logical(other, np.bitwise_and, "&")

    def __or__(self, other):
        return self._logical(other, np.bitwise_or, "|")

    def __xor__(self, other):
        return self._logical(other, np.bitwise_xor, "^")

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self):
        if self.data.dtype.kind not in "biu":
            raise TypeError(f"~ needs a bool (or integer) tensor, got {self.data.dtype}")
        return type(self)._wrap(np.invert(self.data))

    def any(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Whether any entry is nonzero (along ``axis``): a bool tensor, no gradient."""
        return self._test(np.any, "any", axis, keepdims, dim, keepdim)

    def all(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Whether every entry is nonzero (along ``axis``): a bool tensor, no gradient."""
        return self._test(np.all, "all", axis, keepdims, dim, keepdim)

    def _test(self, fn, what, axis, keepdims, dim, keepdim):
        from .tensor import _torch_axis, check_axis

        if dim is not None or keepdim is not None:
            axis, keepdims = _torch_axis(what, axis, keepdims, dim, keepdim)
        return type(self)._wrap(fn(self.data, axis=check_axis(axis, what), keepdims=keepdims))

    # ---------------------------------------------------------------- in place
    # ``p -= lr * p.grad`` changes p itself (as in PyTorch) when nothing is recorded:
    # under no_grad, or when neither side needs a gradient. While the graph records,
    # a non-leaf (or a constant meeting a tensor that needs a gradient) gets Python's
    # out-of-place fallback, p = p - x, which the graph follows; a leaf that requires a
    # gradient is refused, as PyTorch refuses it.
    def __iadd__(self, other):
        return self._in_place(other, np.add, "+=")

    def __isub__(self, other):
        return self._in_place(other, np.subtract, "-=")

    def __imul__(self, other):
        return self._in_place(other, np.multiply, "*=")

    def __itruediv__(self, other):
        return self._in_place(other, np.divide, "/=")

    def _in_place(self, other, ufunc, symbol: str, method: bool = False):
        if autograd.is_grad_enabled() and (
                self.requires_grad or getattr(other, "requires_grad", False)):
            if self.requires_grad and self._ctx is None:
                raise RuntimeError(
                    f"a leaf tensor that requires grad (shape {self.data.shape}) cannot be "
                    f"changed in place ({symbol}) while the graph is recorded: update it "
                    "inside `with nv.no_grad():` (as an optimizer step does) or through t.data")
            if method:
                raise RuntimeError(f"{symbol} on a tensor in the graph would change values "
                                   "that backward needs; write the out-of-place form "
                                   "(t = t + x) instead")
            return NotImplemented  # Python then runs t = t <op> other
        self._write(ufunc, _plain(other), symbol)
        return self

    def _write(self, ufunc, value, symbol: str) -> None:
        data = self.data
        try:
            if ufunc is None:
                np.copyto(data, value, casting="same_kind")
            else:
                ufunc(data, value, out=data, casting="same_kind")
        except (ValueError, TypeError) as exc:
            if not data.flags.writeable:
                why = "its data is a read-only array (a broadcast view or a constant)"
            elif not np.can_cast(np.result_type(data, value), data.dtype, "same_kind"):
                why = (f"the result would not fit the tensor's dtype {data.dtype} "
                       f"(the value is {np.asarray(value).dtype})")
            else:
                why = (f"a value of shape {np.shape(value)} does not broadcast to the "
                       f"tensor's shape {data.shape}")
            kind = TypeError if isinstance(exc, TypeError) else ValueError
            raise kind(f"cannot change the tensor in place ({symbol}): {why}") from None

    def add_(self, other, alpha: float = 1):
        return self._in_place(other if alpha == 1 else _plain(other) * alpha, np.add,
                              "add_", method=True)

    def sub_(self, other, alpha: float = 1):
        return self._in_place(other if alpha == 1 else _plain(other) * alpha, np.subtract,
                              "sub_", method=True)

    def mul_(self, other):
        return self._in_place(other, np.multiply, "mul_", method=True)

    def div_(self, other):
        return self._in_place(other, np.divide, "div_", method=True)

    def copy_(self, src):
        """Overwrite this tensor's values with ``src`` (broadcast to its shape)."""
        return self._in_place(src, None, "copy_", method=True)

    def fill_(self, value):
        return self._in_place(value, None, "fill_", method=True)

    def zero_(self):
        return self._in_place(0, None, "zero_", method=True)

    def __setitem__(self, index, value) -> None:
        """``t[mask] = 0``: writes into the data, when nothing is recorded (as above)."""
        if autograd.is_grad_enabled() and (
                self.requires_grad or getattr(value, "requires_grad", False)):
            raise RuntimeError(
                f"cannot assign into a tensor while the graph is recorded (shape "
                f"{self.data.shape}, requires_grad={self.requires_grad}): use "
                "nv.where(mask, value, t) for a differentiable version, or assign inside "
                "`with nv.no_grad():` or into t.data")
        if isinstance(index, TorchNames):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, TorchNames) else i for i in index)
        try:
            self.data[index] = _plain(value)
        except (IndexError, ValueError, TypeError) as exc:
            kind = next(k for k in (IndexError, TypeError, ValueError) if isinstance(exc, k))
            raise kind(f"cannot assign into the tensor of shape {self.data.shape} at "
                            f"{index!r}: {exc}") from None


def check_device(device: Any) -> None:
    """Accept the CPU (the only device nerve computes on); refuse others by name."""
    name = str(device).split(":")[0].strip().lower()
    if name != "cpu":
        raise ValueError(f"device {device!r} is not available: nerve computes on the CPU "
                         "with NumPy (use 'cpu', or leave .to() out)")


def _is_dtype_name(text: str) -> bool:
    try:
        return np.dtype(text).kind in "fiub"
    except TypeError:
        return False


def _is_index(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
