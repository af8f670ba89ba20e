"""Elementwise arithmetic and math ops (NumPy broadcasting in both directions)."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ._util import as_float, constant, default_float, keep_float, unbroadcast


def _int_scalar(x, c, divide: bool = False):
    """An integer or bool ``x`` with the number ``c``, ready for the op (the rare branch).

    A float ``c``, or a true division, computes in the default float dtype, as PyTorch
    does (int · 0.5 is float32), not in NumPy's float64; int · int stays integer.
    """
    if divide or isinstance(c, (float, np.floating)):
        dt = default_float()
        return x.astype(dt), constant(c, dt)
    return x, c


class Unary(Function):
    """A one-input elementwise op: y has x's shape, and so has dL/dx = g · dy/dx."""

    keeps_shape = True


class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)


class AddScalar(Unary):
    """y = x + c for a constant number c;  dy/dx = 1."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        c = self.c
        k = constant(c, x.dtype)
        if k is c:  # not a float x (those get an array): an integer or bool one
            x, k = _int_scalar(x, c)
        return x + k

    def backward(self, g):
        return (g,)


class MulScalar(Unary):
    """y = c · x for a constant number c;  dy/dx = c."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        c = self.c
        self.k = k = constant(c, x.dtype)
        if k is c:  # an integer or bool x
            x, k = _int_scalar(x, c)
        return x * k

    def backward(self, g):
        return (g * self.k,)


class DivScalar(Unary):
    """y = x / c for a constant number c;  dy/dx = 1/c."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        c = self.c
        self.k = k = constant(c, x.dtype)
        if k is c:  # an integer or bool x: true division gives the default float dtype
            x, k = _int_scalar(x, c, divide=True)
        return x / k

    def backward(self, g):
        return (g / self.k,)


class RSubScalar(Unary):
    """y = c − x for a constant number c;  dy/dx = −1."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        c = self.c
        k = constant(c, x.dtype)
        if k is c:  # an integer or bool x
            x, k = _int_scalar(x, c)
        return k - x

    def backward(self, g):
        return (-g,)


class RDivScalar(Unary):
    """y = c / x for a constant number c;  dy/dx = −c/x² = −y/x."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        c = self.c
        k = constant(c, x.dtype)
        if k is c:  # an integer or bool x: true division gives the default float dtype
            x, k = _int_scalar(x, c, divide=True)
        self.x = x
        self.y = k / x
        return self.y

    def backward(self, g):
        return (-g * self.y / self.x,)


class Sub(Function):
    """y = a − b;  dy/da = 1, dy/db = −1."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(-g, sb)


class Mul(Function):
    """y = a · b;  dy/da = b, dy/db = a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        a, b = self.a, self.b
        pa, pb = self.parents
        return (unbroadcast(g * b, a.shape) if pa.requires_grad else None,
                unbroadcast(g * a, b.shape) if pb.requires_grad else None)


class Div(Function):
    """y = a / b;  dy/da = 1/b, dy/db = −a/b²."""

    def forward(self, a, b):
        self.a, self.b = a, b
        if a.dtype.kind != "f" and b.dtype.kind != "f":
            # integer / integer: the default float dtype (as PyTorch), not NumPy's float64
            dt = default_float()
            return a.astype(dt) / b.astype(dt)
        return a / b

    def backward(self, g):
        a, b = self.a, self.b
        ga = g / b
        return unbroadcast(ga, a.shape), unbroadcast(-ga * a / b, b.shape)


class Pow(Function):
    """y = a ** b;  dy/da = b·a^(b−1) (0 where b = 0), dy/db = y·ln a (0 where a = 0 and
    b ≥ 0; NaN for a < 0, where ln a is undefined) — PyTorch's choices at those points."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = a ** b
        return self.y

    def backward(self, g):
        a, b, y = self.a, self.b, self.y
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ga = g * np.where(b == 0, 0, b * a ** (b - 1))
            gb = g * np.where((a == 0) & (b >= 0), 0, y * np.log(a))
        return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)


class PowScalar(Unary):
    """y = x ** p for a constant p;  dy/dx = p·x^(p−1)."""

    def __init__(self, p):
        self.p = p

    def forward(self, x):
        p = self.p
        if type(p) is not int and x.dtype.kind != "f" and isinstance(p, (float, np.floating)):
            x = x.astype(default_float())  # int ** 0.5: the default float dtype (as PyTorch)
        self.x = x
        return keep_float(x ** p, x)

    def backward(self, g):
        p = self.p
        if p == 0:  # x⁰ = 1 is constant: its slope is 0 everywhere, x = 0 included (not 0·∞)
            return (np.zeros_like(g),)
        return (g * (p * self.x ** (p - 1)),)


def _check_int_divisor(a, b, symbol: str) -> None:
    """Integer division by 0 has no value (NumPy would give 0 with a warning): refuse it,
    as Python and PyTorch do. Float division by 0 gives ±inf or NaN, as theirs."""
    if a.dtype.kind in "iub" and b.dtype.kind in "iub" and not np.all(b):
        raise ZeroDivisionError(f"integer division by zero in {symbol}: the divisor "
                                "holds 0 (convert to float for ±inf)")


class FloorDiv(Function):
    """y = ⌊a / b⌋ (``a // b``; with ``trunc``, a / b rounded toward zero);  dy/da = dy/db = 0
    (y is piecewise constant: 0 wherever it is differentiable)."""

    def __init__(self, trunc=False):
        self.trunc = trunc

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        _check_int_divisor(a, b, "//")
        y = np.floor_divide(a, b)
        if self.trunc:  # floor and trunc differ where the quotient is negative, not whole
            y = y + ((np.remainder(a, b) != 0) & ((a < 0) != (b < 0)))
        return y

    def backward(self, g):
        sa, sb = self.shapes
        return np.zeros(sa, dtype=g.dtype), np.zeros(sb, dtype=g.dtype)


class Mod(Function):
    """y = a mod b = a − b·⌊a / b⌋ (``a % b``: the sign of b, as Python and PyTorch's
    ``remainder``);  dy/da = 1, dy/db = −⌊a / b⌋."""

    def forward(self, a, b):
        self.a, self.b = a, b
        _check_int_divisor(a, b, "%")
        return np.remainder(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        pa, pb = self.parents
        return (unbroadcast(g, a.shape) if pa.requires_grad else None,
                unbroadcast(-g * np.floor_divide(a, b), b.shape) if pb.requires_grad else None)


class Sign(Unary):
    """y = sign(x) (−1, 0 or 1);  dy/dx = 0 (0 everywhere it is differentiable, as PyTorch)."""

    def forward(self, x):
        return np.sign(x)

    def backward(self, g):
        return (np.zeros_like(g),)


class Neg(Unary):
    """y = −x;  dy/dx = −1."""

    def forward(self, x):
        return -x

    def backward(self, g):
        return (-g,)


class Copy(Unary):
    """y = x, in a new array;  dy/dx = 1 (``t.clone()``)."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return (g,)


class Exp(Unary):
    """y = eˣ;  dy/dx = y."""

    def forward(self, x):
        self.y = y = np.exp(x)
        if y.dtype is not x.dtype:  # integer x: eˣ in the default float, not float64
            self.y = y = np.exp(as_float(x))
        return y

    def backward(self, g):
        return (g * self.y,)


class Log(Unary):
    """y = ln x;  dy/dx = 1/x."""

    def forward(self, x):
        self.x = x = as_float(x)
        return np.log(x)

    def backward(self, g):
        return (g / self.x,)


class Sqrt(Unary):
    """y = √x;  dy/dx = 1 / (2y)."""

    def forward(self, x):
        self.y = np.sqrt(as_float(x))
        return self.y

    def backward(self, g):
        return (g / (2 * self.y),)


class Abs(Unary):
    """y = |x|;  dy/dx = sign(x), 0 at x = 0."""

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, g):
        return (g * np.sign(self.x),)


class Clip(Unary):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo ≤ x ≤ hi, else exactly 0.

    Exactly 0 even for an inf or NaN upstream gradient (as PyTorch's clamp), so
    ``x.clamp(min=0).sqrt()`` at x ≤ 0 gives 0, not 0 · inf = NaN.
    An array bound may broadcast x to a bigger shape: the copies of x fan out, so
    their gradients are summed back to x's shape (which keeps ``keeps_shape`` true).
    """

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        self.x = x
        return keep_float(np.clip(x, self.lo, self.hi), x)

    def backward(self, g):
        x, inside = self.x, True
        if self.lo is not None:
            inside = x >= self.lo
        if self.hi is not None:
            inside = inside & (x <= self.hi)
        return (unbroadcast(np.where(inside, g, g.dtype.type(0)), x.shape),)


class Maximum(Function):
    """y = max(a, b) elementwise;  the gradient goes to the larger, split evenly on ties."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        share = (a > b) + 0.5 * (a == b)
        ga = g * share.astype(g.dtype, copy=False)
        return unbroadcast(ga, a.shape), unbroadcast(g - ga, b.shape)


class Minimum(Function):
    """y = min(a, b) elementwise;  the gradient goes to the smaller, split evenly on ties."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        share = (a < b) + 0.5 * (a == b)
        ga = g * share.astype(g.dtype, copy=False)
        return unbroadcast(ga, a.shape), unbroadcast(g - ga, b.shape)


class Where(Function):
    """y = a where cond else b;  dy/da = cond, dy/db = not cond (cond has no gradient)."""

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return np.where(self.cond, a, b)

    def backward(self, g):
        zero = np.zeros((), dtype=g.dtype)
        sa, sb = self.shapes
        return (unbroadcast(np.where(self.cond, g, zero), sa),
                unbroadcast(np.where(self.cond, zero, g), sb))


class Cast(Unary):
    """y = x converted to another float dtype;  dy/dx = 1 (cast back)."""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.src = x.dtype
        return x.astype(self.dtype)

    def backward(self, g):
        return (g.astype(self.src),)
