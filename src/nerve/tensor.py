"""The Tensor: a NumPy array that remembers how it was computed.

``t.data`` is the array, ``t.grad`` its gradient after ``backward()``. Every
operator below records one op of :mod:`nerve.ops` in the graph when any input
requires a gradient (and grad mode is on); otherwise it is plain NumPy.
"""
from __future__ import annotations

import math
import numbers
from weakref import ref as _weakref
from typing import Any, NamedTuple

import numpy as np

from . import autograd
from .autograd import apply1
from .ops import activation as A
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reduce as R
from .ops import shape as S
from .ops._util import constant
from .ops._util import is_int as _is_int
from .tensor_torch import _OWNED, TorchNames, _writes_through, own, plain_index

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)
FLOAT_DTYPES = (float32, float64)
_default_dtype = float32
_SCALARS = (int, float)  # exact types: bool and NumPy scalars take the general path


def set_default_dtype(dtype) -> None:
    """Set the float dtype new tensors get when none is given (float32 or float64)."""
    global _default_dtype
    _default_dtype = _check_float_dtype(dtype)


def get_default_dtype() -> np.dtype:
    """The float dtype new tensors get when none is given."""
    return _default_dtype


def _check_float_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unsupported dtype {dtype!r}; nerve computes in float32 or "
                        "float64 (nv.float32, nv.float64)") from None
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"unsupported dtype {dt}; nerve computes in float32 or float64 "
                        "(nv.float32, nv.float64)")
    return dt


def _check_dtype(dtype) -> np.dtype:
    """float32/float64 for values, or an integer/bool dtype for labels and masks."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind not in "iub":
        return _check_float_dtype(dtype)
    return dt


def as_array(data: Any, dtype=None) -> np.ndarray:
    """Convert user data to an array nerve accepts.

    Floats become ``dtype`` (default float32); integer and boolean data keep
    their kind (labels, indices, masks) unless a dtype is asked for.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = _check_dtype(dtype)
    arr = data if type(data) is np.ndarray else _plain_array(data, dtype)
    kind = arr.dtype.kind
    if kind in "fiub":
        if dtype is not None:
            return arr if arr.dtype == dtype else arr.astype(dtype)
        if kind == "f" and arr.dtype != _default_dtype:
            return arr.astype(_default_dtype)
        if kind in "iu" and arr.dtype != int64:
            if arr.dtype == np.uint64 and arr.size and int(arr.max()) > np.iinfo(int64).max:
                raise ValueError(f"integer data up to {arr.max()} does not fit in int64, "
                                 "nerve's integer dtype (at most 2**63 - 1); convert it to "
                                 "float first if approximate values will do")
            return arr.astype(int64)
        return arr
    if kind == "c":
        raise TypeError("complex data is not supported; nerve computes in float32 or float64")
    raise TypeError(f"cannot make a tensor from data of dtype {arr.dtype} "
                    f"({type(data).__name__}); expected numbers (float, int or bool), "
                    "e.g. a list of floats or a numeric NumPy array")


def _plain_array(data: Any, dtype) -> np.ndarray:
    """``as_array``'s slow path: anything but an exact ``np.ndarray`` as a plain ndarray.

    A subclass loses its class, as in ``torch.tensor``: ``np.matrix`` (whose ``*`` is a
    matrix product) becomes a 2-D array, a masked array its data with the mask ignored
    (as ``np.asarray`` and ``nv.fit`` read it). Numbers and lists asked to become an
    integer dtype must fit it (NumPy and PyTorch refuse ``[300]`` as uint8 too)."""
    if isinstance(data, np.ndarray):
        return np.asarray(data)
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        raise TypeError("cannot make a tensor from a list of tensors (that would cut "
                        "them off from the graph); to combine tensors use nv.stack([...]) "
                        "or nv.concatenate([...])")
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"cannot make a tensor from {type(data).__name__}: {exc}; "
                        "expected numbers, nested lists of numbers or a NumPy array") from None
    if dtype is not None and dtype.kind in "iu" and arr.dtype.kind in "iuf" and arr.size:
        _check_fits(arr, dtype)
    return arr


def _odd_number(other: Any, dtype: np.dtype) -> np.ndarray:
    """A number operand that ``as_array`` refused, not being a real one: a ``Decimal``
    converts; a complex number gets nerve's message."""
    if isinstance(other, numbers.Complex):
        raise TypeError(f"complex data is not supported ({other!r}); nerve computes in "
                        "float32 or float64") from None
    return np.asarray(other, dtype=dtype)


def _check_fits(arr: np.ndarray, dtype: np.dtype) -> None:
    """Refuse values that the integer ``dtype`` cannot hold (``astype`` would wrap them)."""
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"cannot convert NaN or infinite values to the integer dtype {dtype}")
    info = np.iinfo(dtype)
    low, high = arr.min(), arr.max()
    if arr.dtype.kind == "f":  # floats truncate; int64's max + 1 is 2**63 as a float, exactly
        bad = np.trunc(low) < info.min or np.trunc(high) >= float(info.max) + 1
    else:  # exact Python ints: NumPy 1.24 compares uint64 with int64 as float64
        bad = int(low) < info.min or int(high) > info.max
    if bad:
        raise OverflowError(f"values from {low.item()!r} to {high.item()!r} do not fit in "
                            f"{dtype}, whose range is {info.min} to {info.max} (NumPy's "
                            "astype would wrap them); pass values in range, or "
                            + ("a float dtype" if dtype.itemsize == 8 else
                               "a wider dtype such as nv.int64"))


def _swapped(pair: tuple, ndim: int) -> tuple:
    """The axis order that swaps the two axes of ``pair`` (PyTorch's transpose)."""
    a, b = pair
    if not (-ndim <= a < ndim and -ndim <= b < ndim):
        raise ValueError(f"transpose: axes {pair} are out of range for a tensor with "
                         f"{ndim} dimension(s)")
    order = list(range(ndim))
    order[a], order[b] = order[b], order[a]
    return tuple(order)


def check_axis(axis, what: str, allow_many: bool = True):
    """An axis argument must be an int (or None / a tuple of ints, for reductions)."""
    if axis is None and allow_many:
        return axis
    if _is_int(axis):
        return int(axis)
    if allow_many and isinstance(axis, (tuple, list)) and all(_is_int(a) for a in axis):
        return tuple(int(a) for a in axis)
    kinds = "an int, a tuple of ints or None" if allow_many else "an int"
    raise TypeError(f"{what}: axis must be {kinds}, got {axis!r}")


def check_number(value, what: str) -> float:
    """A scalar hyperparameter (alpha, ...) must be a real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)) \
            or isinstance(value, np.complexfloating):
        raise TypeError(f"{what} must be a number, got {value!r}")
    return float(value)


def _check_ints(values: tuple, what: str, name: str) -> tuple:
    if not all(_is_int(v) for v in values):
        raise TypeError(f"{what}: {name} must be ints, got {values!r}")
    return tuple(int(v) for v in values)


def check_bool(value, what: str) -> bool:
    """A flag must be a real bool (True, False or a NumPy bool): a truthy 'no' is a mistake."""
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"{what} must be True or False, got {value!r}")


def _clip_bound(value, name: str):
    """A bound of clip: None, a number, or a numeric tensor or array."""
    if value is None or type(value) in _SCALARS:
        return value
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiu":
            raise TypeError(f"clip: {name} must be a number or a numeric array, got an "
                            f"array of dtype {value.dtype}")
        return value
    number = check_number(value, f"clip: {name}")  # a NumPy scalar becomes a Python number
    return int(value) if _is_int(value) else number


def _is_float_bound(b) -> bool:
    return type(b) is float or isinstance(b, np.ndarray) and b.dtype.kind == "f"


class _Promote(Exception):
    """``_operand``'s signal that this tensor is integer or bool and the operand is float.

    The op must then run on ``mine`` (this tensor converted to the operand's float
    dtype) and ``theirs`` (the operand as a tensor), as PyTorch computes int · float
    in the float dtype; the caller catches it and applies the op to those two.
    Integer tensors never require gradients, so the conversion loses none.
    """

    def __init__(self, mine: "Tensor", theirs: "Tensor"):
        super().__init__("an integer tensor met a float operand (caught by the operators)")
        self.mine, self.theirs = mine, theirs


class ValuesIndices(NamedTuple):
    """What ``t.max(dim=...)`` and ``t.min(dim=...)`` return, as ``torch.max`` does."""

    values: "Tensor"
    indices: "Tensor"


def axis_or_dim(what: str, axis, dim, default):
    """One axis, given as NumPy's ``axis`` (whose default is ``default``) or as PyTorch's
    ``dim``; giving both is an error."""
    if dim is None:
        return axis
    if axis != default:
        raise TypeError(f"{what}: got both axis={axis!r} and dim={dim!r}; pass one "
                        "(dim is PyTorch's name for axis)")
    return dim


def _torch_axis(what: str, axis, keepdims, dim, keepdim) -> tuple:
    """NumPy's ``(axis, keepdims)`` from a call that may use PyTorch's ``dim``/``keepdim``."""
    axis = axis_or_dim(what, axis, dim, None)
    if keepdim is not None:
        keepdims = check_bool(keepdim, f"{what}: keepdim") or keepdims
    return axis, keepdims


def _keep(keepdims, what: str) -> bool:
    """``keepdims`` of a reduction: True or False (a NumPy bool too), else a clear error."""
    if keepdims is False or keepdims is True:
        return keepdims
    return check_bool(keepdims, f"{what}: keepdims")


def _correction(what: str, correction, unbiased, ddof) -> int:
    """The c of a variance Σ (x − x̄)²/(n − c), from PyTorch's ``correction=`` or
    ``unbiased=`` or NumPy's ``ddof=`` (at most one of them); 1 when none is given."""
    given = [(name, v) for name, v in (("correction", correction), ("unbiased", unbiased),
                                        ("ddof", ddof)) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{what}: pass one of correction=, unbiased= and ddof=, got "
                        f"{' and '.join(name for name, _ in given)}")
    if not given:
        return 1
    name, value = given[0]
    if name == "unbiased":
        return int(check_bool(value, f"{what}: unbiased"))
    if not _is_int(value) or value < 0:
        raise TypeError(f"{what}: {name} must be an integer >= 0, got {value!r}")
    return int(value)


def _is_flag(value) -> bool:
    return value is True or value is False or isinstance(value, np.bool_)


def _var_args(what: str, axis, unbiased, keepdim, dim, keepdims, correction, ddof) -> tuple:
    """(axis, keepdims, c) of a var/std call in PyTorch's order ``(dim, unbiased, keepdim)``:
    a bool in first place is ``unbiased`` (PyTorch's ``var(unbiased)``)."""
    if _is_flag(axis):
        if unbiased is not None:
            raise TypeError(f"{what}: got unbiased twice ({axis!r} in first place, as "
                            f"PyTorch's {what}(unbiased), and {unbiased!r})")
        axis, unbiased = None, axis
    if unbiased is not None and (correction is not None or ddof is not None):
        raise TypeError(f"{what}: pass one of correction=, unbiased= and ddof=; note that "
                        f"the second positional argument is PyTorch's unbiased "
                        f"({what}(dim, unbiased, keepdim)), so give keepdim= by keyword")
    if unbiased is not None and not _is_flag(unbiased):
        raise TypeError(f"{what}: unbiased (the second positional argument, as PyTorch's "
                        f"{what}(dim, unbiased, keepdim)) must be True or False, got "
                        f"{unbiased!r}")
    axis, keepdims = _torch_axis(what, axis, keepdims, dim, keepdim)
    return (check_axis(axis, what), _keep(keepdims, what),
            _correction(what, correction, unbiased, ddof))


def _finite(value, what: str) -> float:
    """A hyperparameter that must be a finite real number (an activation's alpha)."""
    number = check_number(value, what)
    if not math.isfinite(number):
        raise TypeError(f"{what} must be a finite number, got {value!r}")
    return number


def _own_before_learning(t: "Tensor") -> None:
    """A constant about to require a gradient gets its own copy of the data unless that
    is nerve's or shared on purpose, as ``nv.tensor(a, requires_grad=True)`` copies ``a``:
    its in-place changes (and those through its views) must not reach the caller's array."""
    if id(t) not in _OWNED and not _writes_through(t):
        t.data = t.data.copy()
        own(t)


def _view_of(out: "Tensor", src: "Tensor") -> "Tensor":
    """Remember that ``out``'s data is a view of ``src``'s memory (detach, basic indexing,
    reshape, transpose), so that an in-place change through ``out`` writes into ``src``
    and counts as a change of ``src`` too (PyTorch's views share their base's storage
    and version). A weak reference: a kept ``loss.detach()`` must not keep the graph
    behind ``loss`` (and its arrays) alive."""
    if out.data.base is not None or out.data is src.data:
        ref = getattr(src, "_base", None)  # a view of a view: point at the first base,
        root = ref() if ref is not None else None  # which outlives the temporary between
        out._base = ref if root is not None and np.may_share_memory(root.data, out.data) \
            else _weakref(src)
    return out


def _python_exponent(p: numbers.Number) -> int | float:
    """A constant exponent as a Python int or float: a NumPy scalar (np.float64(2)) or a
    Fraction would otherwise make NumPy promote a float32 tensor to float64 (or object)."""
    if type(p) is int or type(p) is float:
        return p
    if isinstance(p, numbers.Integral):
        return int(p)
    if isinstance(p, numbers.Real):
        return float(p)
    raise TypeError(f"the exponent must be a real number, got {p!r} ({type(p).__name__})")


class Tensor(TorchNames):
    """An n-dimensional array with reverse-mode automatic differentiation.

    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward(); x.grad
    array([2., 4.], dtype=float32)
    """

    # _base (set only on views, see _view_of): a weak reference to the tensor whose
    # memory this one's data is
    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_retain", "_seq", "_base",
                 "__weakref__")
    __array_ufunc__ = None  # make NumPy defer to our reflected operators

    def __init__(self, data: Any, dtype=None, requires_grad: bool = False):
        if not (requires_grad is False or requires_grad is True):
            requires_grad = check_bool(requires_grad, "requires_grad")
        arr = as_array(data, dtype)
        if requires_grad and dtype is None and arr.dtype.kind in "iub":
            arr = arr.astype(_default_dtype)  # tensor(3, requires_grad=True) means 3.0
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(f"only float tensors can require gradients, got dtype {arr.dtype}; "
                            "pass dtype=nv.float32 or nv.float64")
        self.data = arr
        self.grad = None
        self.requires_grad = requires_grad  # a bool: checked above
        self._ctx = None
        self._retain = False
        self._seq = autograd.next_seq()

    # ----------------------------------------------------------------- basics
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def op(self) -> str:
        """The name of the op that made this tensor ('' for a leaf)."""
        ctx = self._ctx
        return "" if ctx is None else getattr(ctx, "op", None) or type(ctx).__name__

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        # Without it Python iterates by indexing until IndexError: a 0-d tensor
        # would silently give nothing.
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != _default_dtype:
            extra += f", dtype={self.data.dtype}"
        if self.requires_grad:
            extra += ", requires_grad=True" if self._ctx is None else f", op={self.op}"
        return f"tensor({body}{extra})"

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() or .all() on .data")
        return bool(self.data)

    __hash__ = object.__hash__

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        return self._one("item()")

    def _one(self, what: str):
        if self.data.size != 1:
            raise ValueError(f"{what} needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self._one("float(tensor)"))

    def __int__(self) -> int:
        return int(self._one("int(tensor)"))

    def __getstate__(self):
        """The slots to pickle or deep-copy, without ``_base`` (a weak reference, and a copy
        has memory of its own anyway)."""
        state = {}
        for cls in type(self).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if name not in ("_base", "__weakref__", "__dict__") and hasattr(self, name):
                    state[name] = getattr(self, name)
        return None, state

    def __index__(self) -> int:
        """A one-element integer tensor as an index (``x[:n]``, ``range(n)``), as PyTorch."""
        if self.data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors of one element can be used as an index, "
                            f"got dtype {self.data.dtype}")
        return int(self._one("an index"))

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor's value; no spec gives ``str(t)``."""
        if not spec:
            return str(self)
        if self.data.size != 1:
            raise TypeError(f"format spec {spec!r} needs a one-element tensor, got shape "
                            f"{self.shape}; format t.data (or t.item()) instead")
        return format(self.data.item(), spec)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(t)`` is ``t.data`` (as ``t.numpy()``); copied if ``copy=True`` or if
        ``dtype`` asks for another dtype."""
        data = np.asarray(self.data)
        if dtype is not None and np.dtype(dtype) != data.dtype:
            if copy is False:
                raise ValueError(f"np.asarray(tensor, dtype={np.dtype(dtype)}, copy=False): the "
                                 f"tensor's data is {data.dtype}, so converting needs a copy")
            return data.astype(dtype)
        return data.copy() if copy else data

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut off from the graph: an in-place change of
        it changes this tensor too (PyTorch's ``detach``)."""
        return _view_of(Tensor._wrap(self.data), self)

    def astype(self, dtype) -> "Tensor":
        """This tensor in another float dtype (differentiable)."""
        dt = _check_float_dtype(dtype)
        return self if dt == self.data.dtype else E.Cast.apply(self, dtype=dt)

    def float(self) -> "Tensor":
        return self.astype(float32)

    def double(self) -> "Tensor":
        return self.astype(float64)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        flag = check_bool(flag, "requires_grad_: flag")
        if not flag and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) on a tensor an op made (not a leaf) "
                               "would silently cut its part of the graph; use t.detach() for "
                               "a copy without history, as in PyTorch")
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"only float tensors can require gradients, got dtype {self.dtype}")
        if flag and not self.requires_grad and self._ctx is None \
                and not hasattr(type(self), "_grad_buffer"):  # a Parameter's data is the model's
            _own_before_learning(self)
        self.requires_grad = flag
        return self

    def retain_grad(self) -> "Tensor":
        """Keep this intermediate tensor's gradient after backward (leaves always keep it)."""
        self._retain = True
        return self

    def backward(self, grad: Any = None, retain_graph: bool = False, *,
                 gradient: Any = None) -> None:
        """Backpropagate from this tensor: fills ``.grad`` of every leaf that requires one.

        A scalar needs no ``grad`` (dL/dL = 1); any other tensor needs the
        upstream gradient dL/dself of its own shape (``gradient=``, PyTorch's name,
        works too).
        """
        if gradient is not None:
            if grad is not None:
                raise TypeError("backward: pass the upstream gradient once, as grad or as "
                                "gradient, not both")
            grad = gradient
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no input "
                               "of the computation had requires_grad=True (or it ran under "
                               "no_grad())")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a scalar, but this "
                                   f"tensor has shape {self.shape}; pass grad= of that shape "
                                   "or reduce it first (e.g. .sum())")
            # dL/dL = 1, the cached read-only 0-d one: no op writes into its upstream
            # gradient, and a leaf given a read-only gradient stores a copy of it.
            g = constant(1, self.data.dtype)
            if self.data.ndim:
                g = g.reshape(self.data.shape)
        else:
            g = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
            if g.dtype.kind not in "fiub":
                raise TypeError(f"backward(grad): grad must be numeric (an array of shape "
                                f"{self.shape}), got {type(grad).__name__} of dtype {g.dtype}")
            g = np.array(g, dtype=self.dtype)
            if g.shape != self.shape:
                raise ValueError(f"backward(grad): grad has shape {g.shape} but the tensor has "
                                 f"shape {self.shape}; they must match")
        autograd.backward(self, g, retain_graph=retain_graph)

    @staticmethod
    def _wrap(arr: np.ndarray) -> "Tensor":
        t = Tensor.__new__(Tensor)
        t.data = arr if type(arr) is np.ndarray else np.asarray(arr)  # a 0-d array, not a scalar
        t.grad = None
        t.requires_grad = False
        t._ctx = None
        t._retain = False
        t._seq = autograd.next_seq()
        return t

    def _operand(self, other) -> "Tensor":
        """Turn a Python number or array into a constant tensor of this tensor's dtype.

        Integer and bool operands of a float tensor take its dtype. A float operand
        of an integer or bool tensor raises :class:`_Promote` instead: the op then
        runs in the float dtype (float32 for numbers and arrays), as in PyTorch.
        Two different float dtypes are an error: nerve never upcasts silently.
        """
        if isinstance(other, Tensor):
            if other.data.dtype != self.data.dtype:
                return self._mixed(other)
            return other
        mine = self.data.dtype
        # Real, not Number: a complex number (Python's or NumPy's) goes to as_array,
        # which refuses it, instead of NumPy's cast that drops the imaginary part.
        number = isinstance(other, numbers.Real) and not isinstance(other, bool)
        if mine.kind == "f":
            try:
                return Tensor._wrap(np.asarray(other, dtype=mine) if number
                                    else as_array(other, mine))
            except TypeError:
                if not isinstance(other, numbers.Number):
                    raise
                return Tensor._wrap(_odd_number(other, mine))
        arr = np.asarray(other) if number else as_array(other)
        if arr.dtype.kind == "f":
            arr = arr if arr.dtype == _default_dtype else arr.astype(_default_dtype)
            raise _Promote(Tensor._wrap(self.data.astype(_default_dtype)), Tensor._wrap(arr))
        return Tensor._wrap(arr)

    def _mixed(self, other: "Tensor") -> "Tensor":
        """``_operand`` for a tensor of another dtype (the rare branch, kept off the fast path)."""
        mine, theirs = self.data.dtype, other.data.dtype
        if mine.kind == "f":
            if theirs.kind == "f":
                raise TypeError(f"operands have dtypes {mine} and {theirs}; "
                                "nerve does not upcast silently: convert one with "
                                ".float() or .double()")
            # Integer or bool data (labels, masks) never need a gradient: a constant.
            return Tensor._wrap(other.data.astype(mine))
        if theirs.kind == "f":
            raise _Promote(Tensor._wrap(self.data.astype(theirs)), other)
        return other  # integer with bool: NumPy's promotion (int64 + bool -> int64)

    # -------------------------------------------------------------- arithmetic
    # A Python number is a constant: the *Scalar ops skip its gradient altogether.
    # One-input ops go through autograd.apply1, Function.apply's fast path.
    # ``except _Promote``: an integer tensor meets a float operand (costs nothing otherwise).
    def __add__(self, other):
        if type(other) in _SCALARS:
            return apply1(E.AddScalar(other), self)
        try:
            return E.Add.apply(self, self._operand(other))
        except _Promote as p:
            return E.Add.apply(p.mine, p.theirs)

    def __radd__(self, other):
        if type(other) in _SCALARS:
            return apply1(E.AddScalar(other), self)
        try:
            return E.Add.apply(self._operand(other), self)
        except _Promote as p:
            return E.Add.apply(p.theirs, p.mine)

    def __sub__(self, other):
        if type(other) in _SCALARS:
            return apply1(E.AddScalar(-other), self)
        try:
            return E.Sub.apply(self, self._operand(other))
        except _Promote as p:
            return E.Sub.apply(p.mine, p.theirs)

    def __rsub__(self, other):
        if type(other) in _SCALARS:
            return apply1(E.RSubScalar(other), self)
        try:
            return E.Sub.apply(self._operand(other), self)
        except _Promote as p:
            return E.Sub.apply(p.theirs, p.mine)

    def __mul__(self, other):
        if type(other) in _SCALARS:
            return apply1(E.MulScalar(other), self)
        try:
            return E.Mul.apply(self, self._operand(other))
        except _Promote as p:
            return E.Mul.apply(p.mine, p.theirs)

    def __rmul__(self, other):
        if type(other) in _SCALARS:
            return apply1(E.MulScalar(other), self)
        try:
            return E.Mul.apply(self._operand(other), self)
        except _Promote as p:
            return E.Mul.apply(p.theirs, p.mine)

    def __truediv__(self, other):
        if type(other) in _SCALARS:
            return apply1(E.DivScalar(other), self)
        try:
            return E.Div.apply(self, self._operand(other))
        except _Promote as p:
            return E.Div.apply(p.mine, p.theirs)

    def __rtruediv__(self, other):
        if type(other) in _SCALARS:
            return apply1(E.RDivScalar(other), self)
        try:
            return E.Div.apply(self._operand(other), self)
        except _Promote as p:
            return E.Div.apply(p.theirs, p.mine)

    def __pow__(self, other):
        if isinstance(other, numbers.Number) and not isinstance(other, bool):
            return E.PowScalar.apply(self, p=_python_exponent(other))
        try:
            return E.Pow.apply(self, self._operand(other))
        except _Promote as p:
            return E.Pow.apply(p.mine, p.theirs)

    def __rpow__(self, other):
        try:
            return E.Pow.apply(self._operand(other), self)
        except _Promote as p:
            return E.Pow.apply(p.theirs, p.mine)

    def __matmul__(self, other):
        try:
            return L.MatMul.apply(self, self._operand(other))
        except _Promote as p:
            return L.MatMul.apply(p.mine, p.theirs)

    def __rmatmul__(self, other):
        try:
            return L.MatMul.apply(self._operand(other), self)
        except _Promote as p:
            return L.MatMul.apply(p.theirs, p.mine)

    def __neg__(self):
        return apply1(E.Neg(), self)

    def __pos__(self):
        return self

    # ------------------------------------------------- comparisons (no gradient)
    def _compare(self, other, ufunc) -> "Tensor":
        o = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor._wrap(ufunc(self.data, o))
        except (ValueError, TypeError) as exc:
            if getattr(type(o), "__array_ufunc__", True) is None:
                return NotImplemented  # it opts out of ufuncs (pytest.approx): ask it
            raise ValueError(f"cannot compare a tensor of shape {self.shape} with "
                             f"{np.shape(o)}: {exc}") from None

    def __eq__(self, other):  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other):  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    # ---------------------------------------------------------------- indexing
    def __getitem__(self, index):
        return _view_of(S.GetItem.apply(self, index=plain_index(index)), self)

    # -------------------------------------------------------------- reductions
    # ``dim=`` and ``keepdim=`` are PyTorch's spellings of NumPy's ``axis`` and ``keepdims``.
    def sum(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> "Tensor":
        """Σ over ``axis`` (all axes when None)."""
        if dim is not None or keepdim is not None:
            axis, keepdims = _torch_axis("sum", axis, keepdims, dim, keepdim)
        return R.Sum.apply(self, axis=check_axis(axis, "sum"), keepdims=_keep(keepdims, "sum"))

    def mean(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> "Tensor":
        """Average Σ x / n over ``axis`` (all axes when None); dmean/dx = 1/n.

        Over an empty axis (n = 0) it raises ValueError, where PyTorch returns nan.
        """
        if dim is not None or keepdim is not None:
            axis, keepdims = _torch_axis("mean", axis, keepdims, dim, keepdim)
        return R.Mean.apply(self, axis=check_axis(axis, "mean"), keepdims=_keep(keepdims, "mean"))

    def var(self, axis=None, unbiased=None, keepdim=None, *, dim=None, keepdims: bool = False,
            correction=None, ddof=None) -> "Tensor":
        """Variance Σ (x − x̄)²/(n − c) over ``axis``; dvar/dx = 2(x − x̄)/(n − c).

        As in PyTorch, c = 1 (the unbiased estimate) unless ``correction=``,
        ``unbiased=False`` (c = 0) or NumPy's ``ddof=`` says otherwise. The positional
        order is PyTorch's ``var(dim, unbiased, keepdim)`` (and ``var(unbiased)``);
        ``keepdims=`` is keyword-only. Unlike PyTorch, n − c <= 0 (say ``x.var(0)`` of a
        batch of one) raises ValueError: PyTorch returns nan with a warning there.
        """
        axis, keepdims, c = _var_args("var", axis, unbiased, keepdim, dim, keepdims,
                                      correction, ddof)
        return R.Var.apply(self, axis=axis, keepdims=keepdims, correction=c)

    def std(self, axis=None, unbiased=None, keepdim=None, *, dim=None, keepdims: bool = False,
            correction=None, ddof=None) -> "Tensor":
        """Standard deviation √var (see :meth:`var`: c = 1 unless told otherwise, and the
        same argument order); dstd/dx = (x − x̄)/((n − c)·std), 0 for constant data
        (std = 0), as PyTorch. Unlike PyTorch, n − c <= 0 (say ``x.std(0)`` of a batch of
        one) raises ValueError: PyTorch returns nan with a warning there."""
        axis, keepdims, c = _var_args("std", axis, unbiased, keepdim, dim, keepdims,
                                      correction, ddof)
        return R.Std.apply(self, axis=axis, keepdims=keepdims, correction=c)

    def max(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Largest entry over ``axis``; ties share the gradient evenly.

        With PyTorch's ``dim=``, the result is PyTorch's too: ``(values, indices)``.
        """
        if dim is not None or keepdim is not None:
            return self._extreme_with_index("max", R.Max, axis, keepdims, dim, keepdim)
        return R.Max.apply(self, axis=check_axis(axis, "max"), keepdims=_keep(keepdims, "max"))

    def min(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None):
        """Smallest entry over ``axis``; ties share the gradient evenly.

        With PyTorch's ``dim=``, the result is PyTorch's too: ``(values, indices)``.
        """
        if dim is not None or keepdim is not None:
            return self._extreme_with_index("min", R.Min, axis, keepdims, dim, keepdim)
        return R.Min.apply(self, axis=check_axis(axis, "min"), keepdims=_keep(keepdims, "min"))

    def _extreme_with_index(self, what, op, axis, keepdims, dim, keepdim):
        axis, keepdims = _torch_axis(what, axis, keepdims, dim, keepdim)
        if isinstance(axis, (tuple, list)):
            raise TypeError(f"{what}(dim=...) takes one axis and gives (values, indices) along "
                            f"it, as PyTorch; for the {what} over several axes write "
                            f"{what}(axis={tuple(axis)})")
        values = op.apply(self, axis=check_axis(axis, what), keepdims=_keep(keepdims, what))
        if axis is None:
            return values
        indices = self.argmax(axis, keepdims) if what == "max" else self.argmin(axis, keepdims)
        return ValuesIndices(values, indices)

    def argmax(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> "Tensor":
        """Index of the largest entry along ``axis`` (of the flattened tensor when None);
        an int64 tensor with no gradient. The first one wins a tie."""
        return self._arg("argmax", np.argmax, axis, keepdims, dim, keepdim)

    def argmin(self, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> "Tensor":
        """Index of the smallest entry along ``axis`` (see :meth:`argmax`)."""
        return self._arg("argmin", np.argmin, axis, keepdims, dim, keepdim)

    def _arg(self, what, fn, axis, keepdims, dim, keepdim) -> "Tensor":
        if dim is not None or keepdim is not None:
            axis, keepdims = _torch_axis(what, axis, keepdims, dim, keepdim)
        axis = check_axis(axis, what, allow_many=axis is None)
        keepdims = check_bool(keepdims, f"{what}: keepdims")
        if self.data.ndim == 0 and axis in (0, -1):
            axis = None  # a scalar: axis 0 or -1 is the whole of it (as PyTorch)
        if axis is not None and not -self.data.ndim <= axis < self.data.ndim:
            raise ValueError(f"{what}: axis {axis} is out of range for a tensor with "
                             f"{self.data.ndim} dimension(s)")
        if self.data.size == 0 and (axis is None or self.data.shape[axis] == 0):
            # only an empty reduced axis is undefined: along a non-empty one of a tensor
            # with no rows, there is one (no) index per row, as PyTorch gives
            where = "" if axis is None else f" along axis {axis}"
            raise ValueError(f"{what} of an empty tensor (shape {self.shape}){where} is "
                             "undefined")
        return Tensor._wrap(np.asarray(fn(self.data, axis=axis, keepdims=keepdims),
                                       dtype=int64))

    # ------------------------------------------------------------------- math
    def exp(self) -> "Tensor":
        return apply1(E.Exp(), self)

    def log(self) -> "Tensor":
        return apply1(E.Log(), self)

    def sqrt(self) -> "Tensor":
        return apply1(E.Sqrt(), self)

    def abs(self) -> "Tensor":
        return apply1(E.Abs(), self)

    __abs__ = abs

    def clip(self, min=None, max=None) -> "Tensor":  # noqa: A002 - NumPy's names
        if min is None and max is None:
            raise ValueError("clip needs at least one of min and max")
        x = self
        if not ((min is None or type(min) in _SCALARS) and (max is None or type(max) in _SCALARS)
                and x.data.dtype.kind == "f"):
            if autograd._grad_enabled() and any(isinstance(b, Tensor) and b.requires_grad
                                              for b in (min, max)):
                return x._clip_by_tensors(min, max)
            x, min, max = x._clip_args(min, max)  # noqa: A001 - the checked bounds
        return E.Clip.apply(x, lo=min, hi=max)

    def _clip_by_tensors(self, lo, hi) -> "Tensor":
        """clip with a bound that needs a gradient (PyTorch's clamp): y = lo where x < lo,
        hi where x > hi, else x; each of x, lo and hi gets the gradient where it is y.
        A NaN bound gives y = NaN there with gradient 0 to all three (as PyTorch, and as
        the constant-bound path, np.clip)."""
        from .functional import where

        low, high = _clip_bound(lo, "min"), _clip_bound(hi, "max")  # checked, as arrays
        y, nan = self, False
        if lo is not None:
            y = where(self.data < low, lo, y)
            nan = np.isnan(low)
        if hi is not None:  # min(max(x, lo), hi): hi wins where lo > hi, as np.clip
            y = where(y.data > high, hi, y)
            nan = nan | np.isnan(high)
        if np.any(nan):  # x < NaN is False: without this the NaN bound would be dropped
            y = where(nan, y.data.dtype.type(np.nan), y)
        return y

    def _clip_args(self, lo, hi) -> tuple:
        """clip when a bound is not a Python number or the tensor is not float (slow path)."""
        lo, hi = _clip_bound(lo, "min"), _clip_bound(hi, "max")
        x, dt = self, self.data.dtype
        if dt.kind != "f" and (_is_float_bound(lo) or _is_float_bound(hi)):
            # As PyTorch: an integer tensor clipped to 0.5 computes in the default float dtype.
            dt = _default_dtype
            x = Tensor._wrap(x.data.astype(dt))
        if dt.kind == "f":  # array bounds take the tensor's dtype: no silent upcast
            if isinstance(lo, np.ndarray) and lo.dtype != dt:
                lo = lo.astype(dt)
            if isinstance(hi, np.ndarray) and hi.dtype != dt:
                hi = hi.astype(dt)
        return x, lo, hi

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = _check_ints(shape, "reshape", "the shape")
        if any(n < -1 for n in shape) or shape.count(-1) > 1:
            raise ValueError(f"reshape: the shape {shape} may hold one -1 (to be inferred) and "
                             "otherwise sizes >= 0")
        return _view_of(S.Reshape.apply(self, shape=shape), self)

    def transpose(self, *axes) -> "Tensor":
        """No axes: reverse them (``t.T``). Two axes, ``t.transpose(0, 1)``: swap those two,
        as PyTorch's ``transpose(dim0, dim1)``. Three or more, or one tuple
        ``t.transpose((2, 0, 1))``: NumPy's whole new order (also :meth:`permute`)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = _check_ints(tuple(axes[0]), "transpose", "axes")
        else:
            axes = _check_ints(axes, "transpose", "axes")
            if len(axes) == 2:
                axes = _swapped(axes, self.data.ndim)
        return _view_of(S.Transpose.apply(self, axes=axes or None), self)

    @property
    def T(self) -> "Tensor":
        return _view_of(S.Transpose.apply(self), self)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """The axes ``start_dim`` to ``end_dim`` (both included) merged into one (all of
        them by default), as PyTorch; a 0-d tensor becomes a 1-element vector."""
        shape = self.data.shape
        bound = max(len(shape), 1)
        for name, d in (("start_dim", start_dim), ("end_dim", end_dim)):
            if not _is_int(d) or not -bound <= d < bound:
                raise ValueError(f"flatten: {name} must be an int in [{-bound}, {bound}) for "
                                 f"a tensor of shape {shape}, got {d!r}")
        start, end = int(start_dim) % bound, int(end_dim) % bound
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                             f"(tensor of shape {shape})")
        merged = int(np.prod(shape[start:end + 1], dtype=np.int64))
        return self.reshape(shape[:start] + (merged,) + shape[end + 1:])

    # ------------------------------------------------------------ activations
    def relu(self) -> "Tensor":
        return apply1(A.ReLU(), self)

    def sigmoid(self) -> "Tensor":
        return apply1(A.Sigmoid(), self)

    def tanh(self) -> "Tensor":
        return apply1(A.Tanh(), self)

    def leaky_relu(self, alpha: float = 0.01) -> "Tensor":
        return A.LeakyReLU.apply(self, alpha=_finite(alpha, "leaky_relu: alpha"))

    def elu(self, alpha: float = 1.0) -> "Tensor":
        return A.ELU.apply(self, alpha=_finite(alpha, "elu: alpha"))

    def softmax(self, axis: int = -1, *, dim=None) -> "Tensor":
        axis = axis_or_dim("softmax", axis, dim, -1)
        return A.Softmax.apply(self, axis=check_axis(axis, "softmax", allow_many=False))

    def log_softmax(self, axis: int = -1, *, dim=None) -> "Tensor":
        axis = axis_or_dim("log_softmax", axis, dim, -1)
        return A.LogSoftmax.apply(self, axis=check_axis(axis, "log_softmax", allow_many=False))

    def step(self) -> "Tensor":
        return apply1(A.Step(), self)


autograd._Tensor = Tensor


def tensor(data: Any, dtype=None, requires_grad: bool = False) -> Tensor:
    """Make a tensor from numbers, nested lists or a NumPy array (float32 unless told).

    A tensor that requires a gradient gets its own copy of a NumPy array's data
    (optimizers update it in place, which must not change the caller's array);
    a constant may share it.

    >>> tensor([[1, 2], [3, 4]], dtype=float64, requires_grad=True).shape
    (2, 2)
    """
    # ``requires_grad is False``, not ``not requires_grad``: any other value ('', 'no',
    # 0) goes on to Tensor(), which accepts only real bools.
    if type(data) is np.ndarray and dtype is None and requires_grad is False \
            and data.dtype == _default_dtype:
        return Tensor._wrap(data)  # the training loop's common case: nothing to convert
    if isinstance(data, Tensor) and dtype is None:
        data = data.data.copy()
    t = Tensor(data, dtype=dtype, requires_grad=requires_grad)
    shared = isinstance(data, np.ndarray) and np.may_share_memory(t.data, data)
    if requires_grad and shared and np.shares_memory(t.data, data):
        t.data = t.data.copy()
        shared = False
    if not shared:  # an array nerve made (from a list, converted, or copied): in-place
        own(t)  # changes, also through views, write into it, as in PyTorch
    return t
