"""Finite-difference gradients: the lecture's "numerical gradient" and a gradient checker.

Central difference: df/dx ≈ (f(x + h) − f(x − h)) / 2h, error O(h²).
"""
from __future__ import annotations

import numbers
import reprlib
import warnings
from typing import Callable

import numpy as np

from .autograd import no_grad
from .tensor import Tensor, float64


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with the finite-difference estimate."""


def _number(value, what: str) -> float:
    """f's result as a float: a number, or a one-element tensor or array."""
    if type(value) is float:
        return value
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fiub":
            if value.size == 1:
                return float(value.reshape(()))
            raise TypeError(f"{what}: f must return a single number, got an array of shape "
                            f"{value.shape}; reduce it first (e.g. .sum())")
    elif isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"{what}: f must return a single number, got {reprlib.repr(value)}")


def _value_dtype(value) -> np.dtype | None:
    """The float dtype f's result was computed in, when it says (a Tensor, array or
    NumPy scalar); None for a Python number."""
    if isinstance(value, Tensor):
        value = value.data
    dtype = getattr(value, "dtype", None)
    return dtype if isinstance(dtype, np.dtype) and dtype.kind == "f" else None


def _warn_if_less_precise(value, x: np.ndarray, h: float) -> None:
    """Warn when the estimate is computed in a float type narrower than float64: f's
    result is float32 (x float64 or not), or f returns a plain number and x is float32.
    The central difference divides f's rounding error (about eps·|f|) by 2h, e.g.
    6e-8 / 2e-5 ≈ 3e-3 for float32 and h = 1e-5: too coarse to check a gradient."""
    dtype = _value_dtype(value)
    if dtype is None:  # a Python number: f computed in x's precision, as far as we know
        dtype = x.dtype
    if dtype.itemsize >= 8:
        return
    size = abs(_number(value, "numerical_gradient")) or 1.0
    error = float(np.finfo(dtype).eps) / 2 * size / (2 * h)
    if x.dtype.itemsize > dtype.itemsize:
        warnings.warn(
            f"numerical_gradient: x is {x.dtype} but f returns a {dtype} value, so the "
            f"estimate has only {dtype}'s precision (absolute errors of about {error:.0e} "
            f"with h={h:g}). nerve turns a float64 NumPy array into a float32 tensor by "
            "default: inside f, wrap the array as nv.tensor(W, dtype=nv.float64) or "
            "nv.from_numpy(W) (or compute f in NumPy float64)", UserWarning, stacklevel=3)
        return
    warnings.warn(
        f"numerical_gradient: x is {x.dtype}, so f is computed in {dtype} and the central "
        f"differences (f(x+h) − f(x−h)) / 2h have absolute errors of about {error:.0e} "
        f"with h={h:g}: {dtype} is too coarse to check gradients (a correct gradient can "
        "show relative errors near 1). Pass a float64 array, "
        "numerical_gradient(f, x.astype(np.float64)), and compute f in float64",
        UserWarning, stacklevel=3)


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """∂f/∂x by central differences, one element at a time ("follow the slope").

    ``f`` maps an array to a scalar (a number, or a one-element array or Tensor);
    ``x`` is perturbed in place and restored. A read-only ``x`` (``np.load(...,
    mmap_mode="r")``, ``np.broadcast_to``) is copied first and ``f`` gets the perturbed
    copy: the same gradient, when ``f`` computes from its argument. The difference is divided by the step
    actually taken, (x+h) − (x−h) as rounded to x's dtype (exactly 2h in float64).
    Works on any NumPy function. Check gradients in float64: when the estimate is
    computed in float32 (``x`` is float32, or ``f`` returns a float32 value, as nerve's
    functions do with a float64 array unless told otherwise), a UserWarning says so, as
    PyTorch's gradcheck does: float32's rounding error divided by 2h (about 3e-3·|f|
    for h = 1e-5) can make a correct gradient look wrong. A float32 ``x`` whose ``f``
    returns a float64 value (NumPy or Tensor) is exact at float32 points: no warning.

    >>> numerical_gradient(lambda w: float((w ** 2).sum()), np.array([1.0, -2.0]))
    array([ 2., -4.])
    """
    if not callable(f):
        raise TypeError(f"numerical_gradient: f must be callable, got {reprlib.repr(f)}")
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient needs a float array, got dtype {x.dtype}")
    if not (isinstance(h, (int, float)) and 0 < h < float("inf")):
        raise ValueError(f"numerical_gradient: the step h must be a positive number, got {h!r}")
    if not x.flags.writeable:
        x = np.array(x)  # a private, writable copy (a broadcast view becomes a full array)
    grad = np.zeros_like(x)
    if x.size == 0:
        return grad
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("numerical_gradient needs a contiguous array it can perturb in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = float(flat[i])  # x + h as stored: rounded to x's dtype (float32 moves it)
        value = f(x)
        f_plus = _number(value, "numerical_gradient")
        flat[i] = old - h
        down = float(flat[i])
        f_minus = _number(f(x), "numerical_gradient")
        flat[i] = old
        if up == down:
            raise ValueError(f"numerical_gradient: the step h={h!r} is lost in rounding at "
                             f"x[{i}] = {float(old)!r} ({x.dtype}); use a larger h or a "
                             "float64 array")
        if i == 0:
            _warn_if_less_precise(value, x, h)
        # the step actually taken, not the nominal 2h
        gflat[i] = (f_plus - f_minus) / (up - down)
    return grad


def _failure_message(failures: list, atol: float, rtol: float) -> str:
    """The GradcheckError text: the worst element over every input (the failing element
    of largest relative error) in full, then the other failing inputs, one clause each."""
    failures = sorted(failures, key=lambda f: -f[0])
    rel, i, k, a, n, shape = failures[0]
    text = (f"gradient of input {i} (shape {shape}) is wrong at index {k}: analytic {a:.8g} "
            f"vs numerical {n:.8g} (relative error {rel:.2e}; atol={atol}, rtol={rtol})")
    if len(failures) > 1:
        others = "; ".join(f"input {i} at index {k} (relative error {rel:.2e})"
                           for rel, i, k, *_ in failures[1:])
        text += f". Also wrong: {others}"
    return text


def gradcheck(fn: Callable[..., Tensor], *inputs, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, seed: int = 0) -> bool:
    """Compare the analytic gradient of ``fn(*inputs)`` with central differences in float64.

    The scalar checked is Σ fn(*inputs) ⊙ R with a fixed random R (a random upstream
    gradient, so transposed or mis-summed gradients cannot cancel out). Inputs are
    tensors or arrays; float ones are copied to float64 and checked, others passed
    as they are. An element fails when |analytic − numerical| > atol + rtol·|numerical|.
    Returns True, or raises :class:`GradcheckError` naming the worst element over all
    inputs (the failing element of largest relative error |a − n| / max(|a|, |n|)), its
    input, index and both values, and listing the other inputs that fail too.
    """
    if not callable(fn):
        raise TypeError(f"gradcheck: fn must be callable, got {reprlib.repr(fn)}")
    if not (isinstance(eps, (int, float)) and 0 < eps < float("inf")):
        raise ValueError(f"gradcheck: the step eps must be a positive number, got {eps!r}")
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)) \
                or not 0 <= tol < float("inf"):
            raise ValueError(f"gradcheck: the tolerance {name} must be a finite number >= 0, "
                             f"got {tol!r}")
    args, checked = [], []
    for i, x in enumerate(inputs):
        if isinstance(x, (Tensor, np.ndarray, float, list)) and \
                np.asarray(x.data if isinstance(x, Tensor) else x).dtype.kind == "f":
            data = np.array(x.data if isinstance(x, Tensor) else x, dtype=float64)
            t = Tensor(data, dtype=float64, requires_grad=True)
            args.append(t)
            checked.append(i)
        else:
            args.append(x)
    if not checked:
        raise ValueError("gradcheck needs at least one float input to differentiate")

    out = fn(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    finite = np.isfinite(out.data)
    if not finite.all():
        k = np.unravel_index(int(np.argmin(finite)), finite.shape)
        raise GradcheckError(
            f"fn's output is not finite at index {tuple(map(int, k))} ({out.data[k]}), so no "
            "gradient can be checked there; check fn at these inputs (a log or sqrt of a "
            "negative number, a division by zero) or move the inputs into its domain")
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    (out * Tensor(upstream, dtype=float64)).sum().backward()

    def scalar() -> float:
        with no_grad():
            return float((fn(*args).data * upstream).sum())

    failures = []  # (relative error, input, index, a, n, shape)
    for i in checked:
        t = args[i]
        analytic = np.zeros_like(t.data) if t.grad is None else t.grad
        numeric = numerical_gradient(lambda _: scalar(), t.data, h=eps)
        bad = ~np.isfinite(analytic) | ~np.isfinite(numeric)
        if bad.any():  # NaN compares as no error at all: name it instead
            k = np.unravel_index(int(np.argmax(bad)), bad.shape)
            raise GradcheckError(
                f"gradient of input {i} (shape {t.shape}) is not finite at index "
                f"{tuple(map(int, k))}: analytic {analytic[k]:.8g} vs numerical "
                f"{numeric[k]:.8g}; check fn at these inputs (a log or sqrt of a negative "
                "number, a division by zero) or move the inputs into its domain")
        diff = np.abs(analytic - numeric)
        failing = diff > atol + rtol * np.abs(numeric)
        if failing.any():  # the worst: the failing element of largest relative error
            rel = np.where(failing, diff / np.maximum(np.maximum(np.abs(analytic),
                                                                 np.abs(numeric)), 1e-12), -1.0)
            k = np.unravel_index(int(np.argmax(rel)), rel.shape)
            failures.append((float(rel[k]), i, tuple(map(int, k)), float(analytic[k]),
                             float(numeric[k]), t.shape))
    if failures:
        raise GradcheckError(_failure_message(failures, atol, rtol))
    return True
