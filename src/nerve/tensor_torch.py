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

import math

from . import autograd
from .ops import elementwise as E
from .ops import reduce as R
from .ops import shape as S
from .ops._util import default_float, is_int


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


def _axis(dim, ndim: int, what: str, scalar: bool = True) -> int:
    """``dim`` as an axis in [0, ndim); a 0-d tensor takes 0 or -1 when ``scalar``."""
    bound = max(ndim, 1) if scalar else ndim
    if not is_int(dim) or not -bound <= dim < bound:
        raise ValueError(f"{what}: dim must be an int in [{-bound}, {bound}) for a tensor "
                         f"with {ndim} dimension(s), got {dim!r}")
    return int(dim) % bound


def _sizes(sizes: tuple, what: str) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` both mean (2, 3): ints."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not all(is_int(n) for n in sizes):
        raise TypeError(f"{what}: sizes must be ints, got {sizes!r}")
    return tuple(int(n) for n in sizes)


def _scaled(other, alpha, what: str):
    """``alpha · other`` for add/sub (``other`` itself when alpha is 1)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what}: alpha must be a number, got {alpha!r}")
    if alpha == 1:
        return other
    if isinstance(other, TorchNames):
        return other * alpha
    return np.multiply(np.asarray(other), alpha) if np.ndim(other) else other * alpha


def _bool_mask(mask, shape: tuple, what: str) -> np.ndarray:
    m = np.asarray(_plain(mask))
    if m.dtype != np.bool_:
        raise TypeError(f"{what}: the mask must be a bool tensor, got dtype {m.dtype} "
                        "(compare first, e.g. t > 0)")
    if not _broadcasts(m.shape, shape):
        raise ValueError(f"{what}: a mask of shape {m.shape} does not broadcast to the "
                         f"tensor's shape {shape}")
    return m


def _fill_value(value, what: str):
    v = _plain(value)
    if isinstance(v, (str, bytes)) or v is None or np.ndim(v) != 0 \
            or np.asarray(v).dtype.kind not in "fiub":
        raise TypeError(f"{what}: value must be a number (or a one-element 0-d tensor), "
                        f"got {value!r}")
    return value


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

    def to(self, *args, device=None, dtype=None, non_blocking: bool = False,
           copy: bool = False):
        """PyTorch's forms: ``t.to(nv.float64)`` converts (float dtypes keep the gradient,
        integer and bool ones give a constant); ``t.to("cpu")`` (or ``device="cpu"``) is
        ``t``, nerve computing on the CPU; ``t.to("cpu", nv.float64)``; ``t.to(other)``
        takes ``other``'s dtype. ``copy=True`` always gives a new tensor."""
        if len(args) > 2:
            raise TypeError(f"to() takes a dtype, a device, a device and a dtype, or a "
                            f"tensor; got {len(args)} positional arguments")
        if args and isinstance(args[0], TorchNames):
            if len(args) > 1 or dtype is not None:
                raise TypeError("to(other): the other tensor gives the dtype; pass nothing "
                                "else but device=")
            args, dtype = (), args[0].data.dtype
        dtype = to_dtype(args, device, dtype)
        from .tensor import check_bool

        check_bool(non_blocking, "to: non_blocking")
        out = self if dtype is None else self._converted(dtype)
        return out.clone() if check_bool(copy, "to: copy") and out is self else out

    def _converted(self, dtype):
        """This tensor in ``dtype``: a float one through :meth:`astype` (differentiable),
        an integer or bool one as a constant (as PyTorch, no gradient flows through)."""
        from .tensor import _check_dtype

        dt = _check_dtype(dtype)
        if dt.kind == "f":
            return self.astype(dt)
        return self if dt == self.data.dtype else type(self)._wrap(self.data.astype(dt))

    def type(self, dtype=None, non_blocking: bool = False):
        """This tensor in ``dtype``, as PyTorch's ``t.type(torch.float)``: the same as
        ``t.to(dtype)`` (a float dtype keeps the gradient, d(out)/d(t) = 1; an integer or
        bool one gives a constant). Read a tensor's dtype from ``t.dtype``."""
        from .tensor import check_bool

        check_bool(non_blocking, "type: non_blocking")
        if dtype is None:
            raise TypeError("type() needs the dtype to convert to, e.g. t.type(nv.float32); "
                            "to read the tensor's dtype use t.dtype")
        if not _is_dtype_like(dtype):
            raise TypeError(f"type() takes a dtype (nv.float32, nv.float64, nv.int64, "
                            f"nv.bool_ or its name), got {dtype!r}")
        return self._converted(dtype)

    def type_as(self, other):
        """This tensor in ``other``'s dtype (``t.to(other.dtype)``)."""
        if not isinstance(other, TorchNames):
            raise TypeError(f"type_as expects a tensor, got {type(other).__name__}")
        return self._converted(other.data.dtype)

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
        """Drop axes of length 1 (only ``dim``, if given and of length 1, as PyTorch; a
        tuple of dims drops each of them that has length 1)."""
        shape = self.data.shape
        if dim is None:
            return self.reshape(tuple(n for n in shape if n != 1))
        if isinstance(dim, (tuple, list)):
            axes = [_axis(d, len(shape), "squeeze") for d in dim]
            if len(set(axes)) != len(axes):
                raise ValueError(f"squeeze: dims {tuple(dim)} name an axis twice")
            dims = set(axes)
            return self.reshape(tuple(n for i, n in enumerate(shape)
                                      if not (i in dims and n == 1)))
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

    def clip_(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        """Clip the values in place to [min, max] (PyTorch's ``clamp_``); the bounds are
        numbers, arrays or tensors that broadcast to this tensor's shape."""
        from .tensor import _clip_bound

        if min is None and max is None:
            raise ValueError("clamp_ needs at least one of min and max")
        value = np.clip(self.data, _clip_bound(min, "min"), _clip_bound(max, "max"))
        bound = min if getattr(min, "requires_grad", False) else max
        return self._in_place(bound, None, "clamp_", method=True, value=value)

    clamp_ = clip_

    def masked_fill(self, mask, value):
        """``value`` where the bool ``mask`` is True, else this tensor (differentiable:
        the gradient reaches this tensor where the mask is False)."""
        from .functional import where

        fill = _fill_value(value, "masked_fill")
        kind = self.data.dtype.kind
        if isinstance(fill, TorchNames):  # as PyTorch: the value takes this tensor's dtype
            if fill.data.dtype != self.data.dtype:
                fill = fill.to(self.data.dtype) if kind == "f" \
                    else type(self)._wrap(fill.data.astype(self.data.dtype))
        elif kind in "iub":
            fill = type(self)._wrap(np.asarray(_plain(fill)).astype(self.data.dtype))
        return where(_bool_mask(mask, self.data.shape, "masked_fill"), fill, self)

    def masked_fill_(self, mask, value):
        """Write ``value`` in place where the bool ``mask`` (broadcast to this tensor's
        shape) is True."""
        m = _bool_mask(mask, self.data.shape, "masked_fill_")
        fill = _fill_value(value, "masked_fill_")
        plain = np.asarray(_plain(fill))
        if plain.dtype.kind in "fiub" and self.data.dtype.kind in "fiub":
            plain = plain.astype(self.data.dtype)  # as PyTorch: the value takes the dtype
        return self._in_place(fill, None, "masked_fill_", method=True,
                              value=np.where(m, plain, self.data))

    # ------------------------------------------------- arithmetic method names
    def add(self, other, *, alpha=1):
        """``self + alpha · other``;  d/dself = 1, d/dother = alpha."""
        return self + _scaled(other, alpha, "add")

    def sub(self, other, *, alpha=1):
        """``self − alpha · other``;  d/dself = 1, d/dother = −alpha."""
        return self - _scaled(other, alpha, "sub")

    def mul(self, other):
        """``self · other``."""
        return self * other

    def div(self, other, *, rounding_mode=None):
        """``self / other``; ``rounding_mode="floor"`` is ``self // other`` and ``"trunc"``
        rounds toward zero (both with gradient 0, as piecewise-constant functions)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode in ("floor", "trunc"):
            return self._binary(E.FloorDiv, other, trunc=rounding_mode == "trunc")
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got "
                         f"{rounding_mode!r}")

    def neg(self):
        """``−self``."""
        return -self

    def __floordiv__(self, other):
        return self._binary(E.FloorDiv, other)

    def __rfloordiv__(self, other):
        return self._binary(E.FloorDiv, other, reflected=True)

    def __mod__(self, other):
        return self._binary(E.Mod, other)

    def __rmod__(self, other):
        return self._binary(E.Mod, other, reflected=True)

    def _binary(self, op, other, reflected: bool = False, **options):
        """``op`` applied to (self, other), or (other, self) when ``reflected``, with the
        operators' dtype rules (an integer tensor with a float operand computes in float)."""
        from .tensor import _Promote

        try:
            mine, theirs = self, self._operand(other)
        except _Promote as p:
            mine, theirs = p.mine, p.theirs
        a, b = (theirs, mine) if reflected else (mine, theirs)
        return op.apply(a, b, **options)

    def sign(self):
        """−1, 0 or 1 by the sign of each entry;  gradient 0. (A bool's sign is itself.)"""
        if self.data.dtype.kind == "b":
            return type(self)._wrap(self.data.copy())
        return autograd.apply1(E.Sign(), self)

    def square(self):
        """x²;  d/dx = 2x."""
        return self ** 2

    def where(self, condition, other):
        """This tensor where ``condition`` holds, else ``other`` (``nv.where(condition,
        self, other)``)."""
        from .functional import where

        return where(condition, self, other)

    # ----------------------------------------------------- reductions, scans
    def amax(self, dim=(), keepdim: bool = False):
        """The largest entry over ``dim`` (all axes by default); ties share the gradient
        evenly (as PyTorch's ``amax``)."""
        return self._reduce(R.Max, "amax", dim, keepdim)

    def amin(self, dim=(), keepdim: bool = False):
        """The smallest entry over ``dim`` (all axes by default); ties share the gradient."""
        return self._reduce(R.Min, "amin", dim, keepdim)

    def _reduce(self, op, what, dim, keepdim, **options):
        from .tensor import _keep, check_axis

        axis = None if dim is None or (isinstance(dim, (tuple, list)) and not len(dim)) \
            else check_axis(dim, what)
        return op.apply(self, axis=axis, keepdims=_keep(keepdim, what), **options)

    def prod(self, dim=None, keepdim: bool = False):
        """Π of the entries along ``dim`` (all of them when None);
        dy/dxᵢ = Π_{j≠i} xⱼ (exact where some xⱼ are 0)."""
        from .tensor import check_axis

        if dim is not None:
            check_axis(dim, "prod", allow_many=False)
        return self._reduce(R.Prod, "prod", dim, keepdim)

    def cumsum(self, dim):
        """Running sums along ``dim``: yᵢ = Σ_{j≤i} xⱼ;  dL/dxⱼ = Σ_{i≥j} gᵢ."""
        dim = _axis(dim, self.data.ndim, "cumsum")
        if self.data.ndim == 0:
            return self.clone()
        return R.Cumsum.apply(self, axis=dim)

    def logsumexp(self, dim=None, keepdim: bool = False):
        """log Σ eˣ over ``dim`` (all axes when None), computed as m + log Σ e^(x − m)
        with m the max (no overflow);  d/dx = softmax(x) along ``dim``."""
        from .tensor import _keep, check_axis

        keepdim = _keep(keepdim, "logsumexp")
        x = self if self.data.dtype.kind == "f" else \
            type(self)._wrap(self.data.astype(default_float()))
        try:
            axes = R._normalize_axis(check_axis(dim, "logsumexp"), x.data.ndim)
        except ValueError as exc:
            raise ValueError(f"logsumexp: {exc}") from None
        m = np.max(x.data, axis=axes, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0).astype(x.data.dtype)  # all −inf: −inf, not NaN
        total = (x - type(self)._wrap(m)).exp().sum(axes, keepdims=keepdim)
        with np.errstate(divide="ignore"):  # log 0 = −inf: the sum over nothing, or of 0s
            out = total.log()
        return out + (m if keepdim else m.reshape(out.data.shape))

    def norm(self, p="fro", dim=None, keepdim: bool = False):
        """The p-norm (Σ |x|ᵖ)^(1/p) over ``dim`` (all entries when None): p = 2 or 'fro'
        (the default, Euclidean), 1, inf (max |x|), -inf (min |x|), or a real p ≥ 1;
        d/dx = sign(x)|x|^(p−1)/y^(p−1), x/y for p = 2, and 0 at the origin (as PyTorch)."""
        if p == "fro":
            p = 2
        if self.data.dtype.kind != "f":  # integers and bools: the norm in the default float
            return self.float().norm(p, dim, keepdim) if self.data.dtype.kind in "iub" \
                else self._reduce(R.Norm, "norm", dim, keepdim, p=2.0)
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) \
                or math.isnan(p) or p < 1 and p != -math.inf:
            raise ValueError(f"norm: p must be 'fro', inf, -inf or a real number >= 1, got "
                             f"{p!r}")
        if p == math.inf:
            return self.abs().amax(() if dim is None else dim, keepdim)
        if p == -math.inf:
            return self.abs().amin(() if dim is None else dim, keepdim)
        if p == 1:
            return self.abs()._reduce(R.Sum, "norm", dim, keepdim)
        return self._reduce(R.Norm, "norm", dim, keepdim, p=float(p))

    # ------------------------------------------------------------ shape names
    def expand(self, *sizes):
        """A read-only view repeating the axes of length 1 (and new leading axes) to
        ``sizes``; -1 keeps an axis's size. The gradient sums over the copies."""
        from .tensor import _view_of

        sizes = _sizes(sizes, "expand")
        shape = self.data.shape
        lead = len(sizes) - len(shape)
        if lead < 0:
            raise ValueError(f"expand: {len(sizes)} sizes for a tensor of shape {shape}; give "
                             "at least one per axis")
        target = []
        for i, n in enumerate(sizes):
            own_size = shape[i - lead] if i >= lead else None
            if n == -1 and own_size is not None:
                n = own_size
            if n < 0 or own_size not in (None, 1, n):
                raise ValueError(f"expand: cannot expand the tensor of shape {shape} to "
                                 f"{sizes}: a size must be -1, equal to the axis's own, or "
                                 "any size >= 0 where the axis has length 1 or is new")
            target.append(n)
        return _view_of(S.BroadcastTo.apply(self, shape=tuple(target)), self)

    def expand_as(self, other):
        """:meth:`expand` to ``other``'s shape."""
        return self.expand(tuple(np.shape(_plain(other))))

    def repeat(self, *sizes):
        """The tensor tiled ``sizes[i]`` times along axis i (NumPy's ``tile``; extra sizes
        add leading axes). The gradient sums over the tiles."""
        sizes = _sizes(sizes, "repeat")
        shape = self.data.shape
        if len(sizes) < len(shape) or any(n < 0 for n in sizes):
            raise ValueError(f"repeat: give a count >= 0 for each of the {len(shape)} axes of "
                             f"the tensor of shape {shape} (and more for new leading axes), "
                             f"got {sizes}")
        shape = (1,) * (len(sizes) - len(shape)) + shape
        spread = sum(((1, n) for n in shape), ())
        tiled = sum(((r, n) for r, n in zip(sizes, shape)), ())
        x = S.Reshape.apply(self, shape=spread)
        x = S.BroadcastTo.apply(x, shape=tiled)  # (r₀, n₀, r₁, n₁, ...): copies, not data
        x = S.Reshape.apply(x, shape=tuple(r * n for r, n in zip(sizes, shape)))
        # a copy, as PyTorch's (all counts 1 would leave a read-only view of the data)
        return x if x.data.flags.writeable else E.Copy.apply(x)

    def split(self, split_size_or_sections, dim: int = 0):
        """Views of consecutive pieces along ``dim``: of ``split_size`` each (the last may
        be shorter), or of the given list of sizes. Each piece's gradient goes to its part."""
        dim = _axis(dim, self.data.ndim, "split", scalar=False)
        n = self.data.shape[dim]
        sizes = split_size_or_sections
        if is_int(sizes):
            if sizes < 0 or sizes == 0 and n:
                raise ValueError(f"split: split_size must be a positive int, got {sizes}")
            sizes = [min(int(sizes), n - i) for i in range(0, n, int(sizes))] if n else [0]
        elif isinstance(sizes, (tuple, list)) and all(is_int(k) and k >= 0 for k in sizes):
            if sum(sizes) != n:
                raise ValueError(f"split: the sizes {list(sizes)} add up to {sum(sizes)}, not "
                                 f"to the length {n} of axis {dim}")
        else:
            raise TypeError(f"split: expected an int size or a list of sizes >= 0, got "
                            f"{split_size_or_sections!r}")
        lead, start, pieces = (slice(None),) * dim, 0, []
        for k in sizes:
            pieces.append(self[lead + (slice(start, start + int(k)),)])
            start += int(k)
        return tuple(pieces)

    def chunk(self, chunks: int, dim: int = 0):
        """:meth:`split` into ``chunks`` pieces of ⌈n / chunks⌉ (fewer if n runs out)."""
        if not is_int(chunks) or chunks < 1:
            raise ValueError(f"chunk: chunks must be an int >= 1, got {chunks!r}")
        n = self.data.shape[_axis(dim, self.data.ndim, "chunk", scalar=False)]
        if n == 0:
            return self.split([0] * int(chunks), dim)
        return self.split(-(-n // int(chunks)), dim)

    def flip(self, *dims, **keywords):
        """A copy with the order of entries reversed along ``dims``; so is the gradient."""
        if keywords:
            if dims or set(keywords) != {"dims"}:
                raise TypeError(f"flip takes the axes as flip(0, 1), flip((0, 1)) or "
                                f"flip(dims=(0, 1)), got {dims!r} and {sorted(keywords)}")
            dims = keywords["dims"]
            dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        axes = [_axis(d, self.data.ndim, "flip") for d in dims]
        if len(set(axes)) != len(axes):
            raise ValueError(f"flip: dims {dims} name an axis twice")
        index = tuple(slice(None, None, -1) if i in axes else slice(None)
                      for i in range(self.data.ndim))
        return E.Copy.apply(S.GetItem.apply(self, index=index))

    @property
    def mT(self):
        """The last two axes swapped (a batch of matrices transposed)."""
        if self.data.ndim < 2:
            raise ValueError(f"mT needs a tensor of at least 2 axes, got shape "
                             f"{self.data.shape}")
        return self.transpose(-2, -1)

    def gather(self, dim: int, index):
        """out[i][j] = self[index[i][j]][j] for dim = 0 (and so on for other dims): the
        entries picked along ``dim`` by the int64 ``index``, of the index's shape. The
        gradient is added back to the picked positions (repeats add up)."""
        dim = _axis(dim, self.data.ndim, "gather")
        idx = np.asarray(_plain(index))
        shape = self.data.shape
        if idx.dtype.kind not in "iu":
            raise TypeError(f"gather: index must be an integer tensor, got dtype {idx.dtype}")
        if idx.ndim != len(shape) or any(k != dim and idx.shape[k] > shape[k]
                                         for k in range(len(shape))):
            raise ValueError(f"gather: index of shape {idx.shape} does not fit the tensor of "
                             f"shape {shape}: it needs as many axes, none longer except "
                             f"axis {dim}")
        if not shape:
            if idx.size and idx.reshape(-1)[0] != 0:
                raise IndexError(f"gather: index values must be 0 for a 0-d tensor, got "
                                 f"{idx.reshape(-1)[0]}")
            return self.clone()
        if idx.size and (idx.min() < 0 or idx.max() >= shape[dim]):
            raise IndexError(f"gather: index values must be in [0, {shape[dim]}) for axis "
                             f"{dim} of the tensor of shape {shape}, got "
                             f"{idx.min()} to {idx.max()}")
        grid = np.indices(idx.shape, sparse=True)
        return S.GetItem.apply(self, index=tuple(idx if k == dim else grid[k]
                                                 for k in range(len(shape))))

    # ------------------------------------------------- comparisons, sorting
    # PyTorch's method names of the comparison operators: bool tensors, no gradient.
    def eq(self, other):
        """``self == other`` entry by entry: a bool tensor, no gradient."""
        return self == other

    def ne(self, other):
        """``self != other`` entry by entry: a bool tensor, no gradient."""
        return self != other

    def lt(self, other):
        """``self < other``: a bool tensor, no gradient."""
        return self < other

    def le(self, other):
        """``self <= other``: a bool tensor, no gradient."""
        return self <= other

    def gt(self, other):
        """``self > other``: a bool tensor, no gradient."""
        return self > other

    def ge(self, other):
        """``self >= other``: a bool tensor, no gradient."""
        return self >= other

    def view_as(self, other):
        """This tensor reshaped to ``other``'s shape (``view(other.shape)``); the gradient
        is reshaped back."""
        shape = getattr(other, "shape", None)
        if not isinstance(shape, tuple):
            raise TypeError(f"view_as expects a tensor (or an array) whose shape to take, "
                            f"got {type(other).__name__}")
        if int(np.prod(shape)) != self.data.size:
            raise ValueError(f"view_as: cannot view the tensor of shape {self.data.shape} "
                             f"({self.data.size} elements) as shape {shape} "
                             f"({int(np.prod(shape))} elements)")
        return self.reshape(shape)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """The indices that sort the entries along ``dim`` (ascending, or descending):
        an int64 tensor, no gradient. The sort is always stable (equal entries keep their
        order; ``stable`` is accepted for PyTorch) and NaN counts as the largest value."""
        return type(self)._wrap(self._sort_order(dim, descending, stable, "argsort")[1])

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """``(values, indices)`` of the entries sorted along ``dim`` (see :meth:`argsort`):
        values = x gathered at indices, so dvalues/dx routes each gradient entry back to
        the position it came from; indices are int64, with no gradient."""
        axis, order = self._sort_order(dim, descending, stable, "sort")
        return self._values_at(axis, order)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
        """``(values, indices)`` of the ``k`` largest entries along ``dim`` (the smallest
        with ``largest=False``), sorted, largest first (always sorted, whatever
        ``sorted`` says; ties keep their order). values = x gathered at indices, so the
        gradient reaches the picked entries only; indices are int64, with no gradient."""
        from .tensor import check_bool

        check_bool(sorted, "topk: sorted")
        axis, order = self._sort_order(dim, largest, False, "topk", flag="largest")
        n = self.data.shape[axis] if self.data.ndim else 1
        if not is_int(k) or not 0 <= k <= n:
            raise ValueError(f"topk: k must be an int in [0, {n}] (the length of dim "
                             f"{dim}), got {k!r}")
        if self.data.ndim:
            order = order[(slice(None),) * axis + (slice(0, int(k)),)]
        return self._values_at(axis, order)

    def _sort_order(self, dim, descending, stable, what: str, flag: str = "descending"):
        """(axis, int64 indices sorting along it): a stable ascending sort, or a stable
        descending one (equal entries still in their first-to-last order)."""
        from .tensor import check_bool

        axis = _axis(dim, self.data.ndim, what)
        descending = check_bool(descending, f"{what}: {flag}")
        check_bool(stable, f"{what}: stable")
        x = self.data
        if x.ndim == 0:
            return axis, np.zeros((), np.int64)
        if not descending:
            return axis, np.argsort(x, axis=axis, kind="stable").astype(np.int64, copy=False)
        # descending and stable: sort the reversed axis ascending, then read it backwards
        last = x.shape[axis] - 1
        order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
        return axis, (last - np.flip(order, axis)).astype(np.int64, copy=False)

    def _values_at(self, axis: int, order: np.ndarray):
        """``ValuesIndices(x gathered at order along axis, order)``."""
        from .tensor import ValuesIndices

        indices = type(self)._wrap(order)
        if self.data.ndim == 0:
            return ValuesIndices(self.clone(), indices)
        grid = np.indices(order.shape, sparse=True)
        index = tuple(order if d == axis else grid[d] for d in range(self.data.ndim))
        return ValuesIndices(S.GetItem.apply(self, index=index), indices)

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


def to_dtype(args: tuple, device, dtype):
    """The dtype a ``.to(...)`` call asks for, or None when it names only the device (the
    CPU, the one there is), from its positional ``args`` (a dtype, a device, or a device
    then a dtype) and keywords; refuses other devices, no argument and two dtypes."""
    if len(args) == 2:
        if device is not None or dtype is not None:
            raise TypeError("to(device, dtype): got the device or the dtype twice")
        if _is_dtype_like(args[0]) or not _is_dtype_like(args[1]):
            raise TypeError(f"to(device, dtype) takes the device first and a dtype "
                            f"second (e.g. to('cpu', nv.float64)), got {args!r}")
        (device, dtype), args = args, ()
    target = args[0] if args else None
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

