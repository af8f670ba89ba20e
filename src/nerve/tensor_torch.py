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
from .ops._util import is_int


class Size(int):
    """``t.size``: NumPy's element count (an int) that, called, is PyTorch's ``t.size()``
    — the shape — or ``t.size(d)``, the length of axis ``d``."""

    def __new__(cls, shape: tuple, count: int) -> "Size":
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


def plain_index(index):
    """An index for the data: a tensor, or tensors inside a tuple, become their arrays."""
    if isinstance(index, TorchNames):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, TorchNames) else i for i in index)
    return index


class TorchNames:
    """The PyTorch-named methods of :class:`nerve.Tensor` (a mixin: no state of its own)."""

    __slots__ = ()

    # ------------------------------------------------------------- sizes, devices
    @property
    def size(self) -> Size:
        return Size(self.data.shape, self.data.size)

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

    def to(self, target=None, *, device=None, dtype=None):
        """``t.to(nv.float64)`` converts (as :meth:`astype`); ``t.to("cpu")`` (or
        ``device="cpu"``) is ``t``: nerve computes on the CPU."""
        dtype = to_dtype(target, device, dtype)
        return self if dtype is None else self.astype(dtype)

    def cuda(self, *args, **kwargs):
        check_device("cuda")

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
        if not is_int(dim) or not -ndim - 1 <= dim <= ndim:
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
        if not is_int(dim) or not -bound <= dim < bound:
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

    def int(self):
        """The data as int32, truncated toward zero as PyTorch's: no gradient."""
        return type(self)._wrap(self.data.astype(np.int32))

    def bool(self):
        """The data as bool (non-zero is True): no gradient."""
        return type(self)._wrap(self.data.astype(np.bool_))

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
        axis = check_axis(axis, what)
        ndim = self.data.ndim
        for a in (axis if isinstance(axis, tuple) else () if axis is None else (axis,)):
            if not -max(ndim, 1) <= a < max(ndim, 1):
                raise ValueError(f"{what}: axis {a} is out of range for a tensor with {ndim} "
                                 "dimension(s)")
        return type(self)._wrap(fn(self.data, axis=axis, keepdims=keepdims))

    # ---------------------------------------------------------------- in place
    # ``p -= lr * p.grad`` changes p itself (as in PyTorch) when nothing is recorded:
    # under no_grad, or when neither side needs a gradient. While the graph records,
    # a non-leaf (or a constant meeting a tensor that needs a gradient) gets Python's
    # out-of-place fallback, p = p - x, which the graph follows; a leaf that requires a
    # gradient is refused, as PyTorch refuses it. Every change is counted
    # (autograd.mark_changed), so a backward through an op that saw the old values
    # refuses to run instead of giving wrong gradients. A constant's data is copied
    # before its first change: nv.tensor(array) shares the caller's array, which an
    # in-place op must not overwrite (nv.from_numpy shares on purpose and writes through).
    def __iadd__(self, other):
        return self._in_place(other, np.add, "+=")

    def __isub__(self, other):
        return self._in_place(other, np.subtract, "-=")

    def __imul__(self, other):
        return self._in_place(other, np.multiply, "*=")

    def __itruediv__(self, other):
        return self._in_place(other, np.divide, "/=")

    def _recorded(self, other) -> bool:
        """Whether writing ``other`` into this tensor would have to go into the graph."""
        return autograd.is_grad_enabled() and (
            self.requires_grad or getattr(other, "requires_grad", False))

    def _in_place(self, other, ufunc, symbol: str, method: bool = False, value=None):
        if self._recorded(other):
            if self.requires_grad and self._ctx is None:
                raise RuntimeError(
                    f"a leaf tensor that requires grad (shape {self.data.shape}) cannot be "
                    f"changed in place ({symbol}) while the graph is recorded: update it "
                    "inside `with nv.no_grad():` (as an optimizer step does) or through t.data")
            if method:
                raise RuntimeError(
                    f"{symbol} would have to record an in-place op in the graph (one side "
                    "requires grad), which nerve does not do: write the out-of-place form "
                    "(t = t + x, t = src.clone()) or change it inside `with nv.no_grad():`")
            return NotImplemented  # Python then runs t = t <op> other
        self._write(ufunc, _plain(other) if value is None else value, symbol)
        return self

    def _write(self, ufunc, value, symbol: str) -> None:
        if value is None or isinstance(value, (str, bytes)):
            raise TypeError(f"cannot change the tensor in place ({symbol}) with {value!r}: "
                            "expected a number, an array or a tensor")
        self._own_data()
        data = self.data
        try:
            if ufunc is None:
                np.copyto(data, value, casting="same_kind")
            else:
                ufunc(data, value, out=data, casting="same_kind")
        except (ValueError, TypeError) as exc:
            raise _in_place_error(data, value, ufunc, symbol, exc) from None
        _mark_changed_with_bases(self)

    def _own_data(self) -> None:
        """Give a constant its own copy of the data before the first in-place change,
        unless it is a view of a tensor whose memory is its own (a parameter, a tensor
        changed in place before, ``nv.from_numpy``): then the change writes through, as
        PyTorch's ``x.detach().zero_()`` and ``w[0].fill_(1)`` under ``no_grad`` do."""
        if not self.requires_grad and id(self) not in _OWNED:
            if not _writes_through(self):
                self.data = np.array(self.data, copy=True)
            own(self)

    def add_(self, other, alpha: float = 1):
        value = None if alpha == 1 else _plain(other) * alpha
        return self._in_place(other, np.add, "add_", method=True, value=value)

    def sub_(self, other, alpha: float = 1):
        value = None if alpha == 1 else _plain(other) * alpha
        return self._in_place(other, np.subtract, "sub_", method=True, value=value)

    def mul_(self, other):
        return self._in_place(other, np.multiply, "mul_", method=True)

    def div_(self, other):
        return self._in_place(other, np.divide, "div_", method=True)

    def copy_(self, src):
        """Overwrite this tensor's values with ``src`` (broadcast to its shape)."""
        return self._in_place(src, None, "copy_", method=True)

    def fill_(self, value):
        if np.ndim(_plain(value)) != 0:
            raise ValueError(f"fill_ takes one number, got an array of shape "
                             f"{np.shape(_plain(value))} (copy_ writes an array)")
        return self._in_place(value, None, "fill_", method=True)

    def zero_(self):
        return self._in_place(0, None, "zero_", method=True)

    def __setitem__(self, index, value) -> None:
        """``t[mask] = 0``: writes into the data, when nothing is recorded (as above)."""
        if self._recorded(value):
            raise RuntimeError(
                f"cannot assign into a tensor while the graph is recorded (shape "
                f"{self.data.shape}, requires_grad={self.requires_grad}): use "
                "nv.where(mask, value, t) for a differentiable version, or assign inside "
                "`with nv.no_grad():` or into t.data")
        index = plain_index(index)
        self._own_data()
        try:
            self.data[index] = _plain(value)
        except (IndexError, ValueError, TypeError) as exc:
            kind = next(k for k in (IndexError, TypeError, ValueError) if isinstance(exc, k))
            raise kind(f"cannot assign into the tensor of shape {self.data.shape} at "
                       f"{index!r}: {exc}") from None
        _mark_changed_with_bases(self)


#: ids of constant tensors whose data is their own (copied before a first in-place change,
#: or shared on purpose by nv.from_numpy); an entry leaves with its tensor.
_OWNED: dict[int, bool] = {}


def _base_of(t):
    """The tensor whose memory ``t``'s data is a view of (see tensor._view_of), or None."""
    ref = getattr(t, "_base", None)
    base = ref() if ref is not None else None  # None too once the base is gone
    if base is not None and np.may_share_memory(t.data, base.data):
        return base
    return None


def _writes_through(t) -> bool:
    """Whether ``t`` views the memory of a tensor whose data is its own (no user array),
    or memory shared on purpose (``nv.from_numpy``)."""
    base = _base_of(t)
    while base is not None:
        if base.requires_grad or id(base) in _OWNED:
            return True
        base = _base_of(base)
    return id(_memory_owner(t.data)) in _SHARED


def _memory_owner(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory (the end of its chain of bases)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


#: ids of the arrays whose memory nv.from_numpy shares on purpose: views of them write
#: through even after the from_numpy tensor itself is gone. An entry leaves with its array.
_SHARED: dict[int, bool] = {}


def share_memory(array: np.ndarray) -> None:
    """Mark ``array``'s memory as shared on purpose (see :data:`_SHARED`)."""
    owner = _memory_owner(array)
    try:
        autograd.track(_SHARED, owner, True)
    except TypeError:  # an array type without weak references: its tensors still write
        pass


def _mark_changed_with_bases(t) -> None:
    """Count an in-place change of ``t`` and of every tensor it is a view of: a graph that
    saved the base's values must see that they changed."""
    while t is not None:
        autograd.mark_changed(t)
        t = _base_of(t)


def own(t) -> None:
    """Mark ``t``'s data as its own: in-place changes write into it, uncopied."""
    autograd.track(_OWNED, t, True)


def _in_place_error(data: np.ndarray, value, ufunc, symbol: str, exc: Exception) -> Exception:
    """The reason an in-place op failed, said plainly."""
    if not data.flags.writeable:
        return ValueError(f"cannot change the tensor in place ({symbol}): its data is a "
                          "read-only array (a broadcast view or a cached constant)")
    if not _broadcasts(np.shape(value), data.shape):
        return ValueError(f"cannot change the tensor in place ({symbol}): a value of shape "
                          f"{np.shape(value)} does not broadcast to the tensor's shape "
                          f"{data.shape}")
    try:
        trial = np.asarray(value) if ufunc is None else ufunc(data, value)
    except (ValueError, TypeError) as again:
        return TypeError(f"cannot change the tensor (shape {data.shape}, dtype {data.dtype}) "
                         f"in place ({symbol}) with {value!r}: {again}")
    if not np.can_cast(trial.dtype, data.dtype, "same_kind"):
        return TypeError(f"cannot change the tensor in place ({symbol}): the result is "
                         f"{trial.dtype}, which does not fit the tensor's dtype {data.dtype} "
                         "(make a float tensor first, e.g. t = t.float())")
    kind = TypeError if isinstance(exc, TypeError) else ValueError
    return kind(f"cannot change the tensor in place ({symbol}): {exc}")


def _broadcasts(shape: tuple, target: tuple) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def to_dtype(target, device, dtype):
    """The dtype a ``.to(...)`` call asks for, or None when it names only the device (the
    CPU, the one there is); refuses other devices, no argument and two dtypes."""
    if target is not None and not _is_dtype_like(target):
        device, target = target, None  # .to("cpu"): a device in the first place
    if device is not None:
        check_device(device)
    if target is not None and dtype is not None:
        raise TypeError("to(): got a dtype twice; pass one")
    dtype = target if dtype is None else dtype
    if dtype is None and device is None:
        raise TypeError("to() needs a dtype (nv.float32, nv.float64) or the device 'cpu'")
    return dtype


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


def _is_dtype_like(target: Any) -> bool:
    """A dtype (nv.float64, np.float32, "float64"), as opposed to a device ("cpu")."""
    if isinstance(target, str):
        return _is_dtype_name(target)
    return isinstance(target, (np.dtype, type)) and not isinstance(target, bool)

