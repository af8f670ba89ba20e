"""Gradient clipping, applied between ``backward()`` and ``step()`` (PyTorch's semantics)."""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor, check_bool, get_default_dtype
from .optimizer import check_number

__all__ = ["clip_grad_norm_", "clip_grad_value_", "NonFiniteNormError"]


class NonFiniteNormError(ValueError, RuntimeError):
    """``clip_grad_norm_(..., error_if_nonfinite=True)`` met a nan or inf norm (a
    ValueError as nerve's other bad values, and the RuntimeError that PyTorch raises)."""


def _grads(params: Any, owner: str) -> list[np.ndarray]:
    """The distinct gradient arrays of ``params`` (one parameter or an iterable), skipping None."""
    if hasattr(params, "grad"):
        params = [params]
    elif not isinstance(params, Iterable):
        raise TypeError(f"{owner}: params must be a parameter or an iterable of parameters, "
                        f"got {type(params).__name__}")
    grads, seen = [], set()
    for k, p in enumerate(params):
        if not hasattr(p, "grad"):
            raise TypeError(f"{owner}: parameter {k} has no .grad attribute "
                            f"({type(p).__name__})")
        g = p.grad
        if g is None or id(g) in seen:
            continue
        if not isinstance(g, np.ndarray):
            raise TypeError(f"{owner}: parameter {k} has a .grad of type {type(g).__name__}, "
                            "expected a NumPy array")
        seen.add(id(g))
        grads.append(g)
    return grads


def clip_grad_norm_(params: Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale all gradients together so that their joint norm is at most ``max_norm``.

    ``total = (sum_i ||g_i||_p ** p) ** (1/p)`` over every gradient (``p = inf``:
    the largest ``|g|``); if ``total > max_norm``, each ``g_i`` is multiplied in
    place by ``max_norm / (total + 1e-6)``. Returns ``total`` (before clipping) as a
    0-d tensor of the gradients' dtype, as PyTorch: ``total.item()`` and ``float(total)``
    give the number (0 when no parameter has a gradient).
    The norm is computed in float64 without overflow or underflow: where ``|g|ᵖ`` would
    overflow (a large ``p``, or float64 gradients above about 1e154) or underflow, it is
    ``s·(Σ (|g|/s)ᵖ)^(1/p)`` with ``s = max |g|``, so finite gradients are always clipped
    (PyTorch overflows to inf there and zeroes them); a total beyond the gradients'
    dtype comes back as inf. A gradient with nan or inf makes the total nan or inf: that
    raises :class:`NonFiniteNormError` (a ValueError and PyTorch's RuntimeError) if
    ``error_if_nonfinite``, else it is returned and the gradients are left as they are
    (PyTorch would scale them by max_norm / inf = 0, or turn them all into nan). A
    total beyond the gradients' dtype (float32: about 3.4e38; float64: about 1e308) raises
    the same with ``error_if_nonfinite``, as PyTorch, else it is returned as inf and the
    gradients are clipped. ``foreach`` (None, True or False, PyTorch's choice of kernel) is accepted
    and changes nothing here.
    """
    owner = "clip_grad_norm_"
    if foreach is not None:
        check_bool(foreach, f"{owner}: foreach (PyTorch's choice of kernel; None, True or "
                            "False)")
    error_if_nonfinite = check_bool(error_if_nonfinite, f"{owner}: error_if_nonfinite")
    max_norm = check_number(owner, "max_norm", max_norm, allow_inf=True)
    if isinstance(norm_type, str) and norm_type.strip().lower() in ("inf", "infinity"):
        norm_type = math.inf  # PyTorch takes the string too
    norm_type = check_number(owner, "norm_type", norm_type, 0.0, math.inf, allow_inf=True)
    if norm_type == 0.0:
        raise ValueError(f"{owner}: norm_type must be > 0 (or inf), got 0")
    grads = _grads(params, owner)
    if not grads:
        return Tensor(np.zeros((), dtype=get_default_dtype()))
    dtype = np.result_type(*grads)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
        return _clip(grads, total, max_norm, norm_type, error_if_nonfinite, dtype)
    with np.errstate(over="ignore"):  # |g|ᵖ may overflow: caught below, no raw warning
        norms = [float(np.linalg.norm(g.ravel().astype(np.float64), ord=norm_type))
                 for g in grads]
    try:
        powered = math.fsum(n ** norm_type for n in norms)  # Σ ||g_i||ᵖ
    except OverflowError:
        powered = math.inf
    if not _TINY <= powered < math.inf:
        # |g|ᵖ overflowed (a large p, huge gradients), underflowed, or a gradient is nan
        # or inf: recompute as s·(Σ (|g|/s)ᵖ)^(1/p), s = max|g|, unless s is nan or inf
        scale = float(np.max([np.max(np.abs(g)) if g.size else 0.0 for g in grads]))
        if scale == 0.0:
            return _clip(grads, 0.0, max_norm, norm_type, error_if_nonfinite, dtype)
        if math.isfinite(scale):
            root = _scaled_root(grads, scale, norm_type)
            return _clip(grads, scale * root, max_norm, norm_type, error_if_nonfinite, dtype,
                         scale, root)
    return _clip(grads, powered ** (1.0 / norm_type), max_norm, norm_type,
                 error_if_nonfinite, dtype)


#: The smallest normal float64: a sum of powers below it lost digits to underflow.
_TINY = float(np.finfo(np.float64).tiny)


def _scaled_root(grads: list[np.ndarray], scale: float, p: float) -> float:
    """(Σ (|g|/s)ᵖ)^(1/p) over every gradient entry, s = ``scale`` = max|g| > 0: each power
    is at most 1, so nothing overflows, and the result lies in [1, count^(1/p)]."""
    parts = []
    for g in grads:
        if g.size:
            x = np.abs(g.ravel().astype(np.float64))
            x /= scale
            if p == 2.0:
                parts.append(float(np.dot(x, x)))
            else:
                with np.errstate(under="ignore"):
                    np.power(x, p, out=x)
                parts.append(float(x.sum()))
    return math.fsum(parts) ** (1.0 / p)


def _clip(grads: list[np.ndarray], total: float, max_norm: float, norm_type: float,
          error_if_nonfinite: bool, dtype: np.dtype, scale: float | None = None,
          root: float = 1.0) -> Tensor:
    """Multiply the gradients by c = ``max_norm / (total + 1e-6)`` where c < 1, and return
    ``total`` as a 0-d tensor of ``dtype`` (inf where it exceeds that dtype's range).
    ``total = scale·root`` when ``scale`` (max|g|) is given: finite gradients are then
    clipped by c = ``max_norm / (scale·root)`` even where that product exceeds float64."""
    owner = "clip_grad_norm_"
    if error_if_nonfinite and math.isfinite(total) and total > float(np.finfo(dtype).max):
        # returned as a 0-d tensor of the gradients' dtype, the total would be inf
        raise NonFiniteNormError(
            f"{owner}: the total gradient norm (of order {norm_type}) is {total:g}, beyond "
            f"the largest {np.dtype(dtype).name} ({float(np.finfo(dtype).max):g}), so as a "
            f"{np.dtype(dtype).name} it is inf (try a smaller learning rate or check the "
            "loss); the gradients were not clipped")
    if not math.isfinite(total):
        if error_if_nonfinite:
            if scale is not None:
                cause = (f"every gradient is finite (the largest |g| is {scale:g}), but "
                         "their norm exceeds the largest float64")
            else:
                cause = "the gradients contain nan or inf"
            raise NonFiniteNormError(
                f"{owner}: the total gradient norm (of order {norm_type}) is {total}; "
                f"{cause} (try a smaller learning rate or check the loss), so they cannot "
                "be clipped"
            )
        if scale is None:
            # nothing sensible to rescale by; the gradients are left as they are
            return _total(total, dtype)
        denom, numer = scale, max_norm / root
    else:
        denom, numer = total + 1e-6, max_norm
    coef = numer / denom
    if coef < 1.0:
        for g in grads:
            if coef >= np.finfo(g.dtype).tiny:  # the common case
                g *= coef
            elif g.size:
                # c would be 0 or subnormal in g's dtype (digits lost): g·c = (g/s)·(c·s),
                # s = max|g| <= denom, both factors normal
                s = float(np.max(np.abs(g)))
                if s > 0.0:
                    g /= s
                    g *= numer * (s / denom)
    return _total(total, dtype)


def _total(total: float, dtype: np.dtype) -> Tensor:
    """``total`` as a 0-d tensor of ``dtype`` (a float64 norm beyond float32's range: inf)."""
    with np.errstate(over="ignore"):
        return Tensor(np.asarray(total, dtype=dtype), dtype=dtype)


def clip_grad_value_(params: Any, clip_value: float) -> None:
    """Clip every gradient element into ``[-clip_value, clip_value]``, in place."""
    owner = "clip_grad_value_"
    clip_value = check_number(owner, "clip_value", clip_value)
    for g in _grads(params, owner):
        np.clip(g, -clip_value, clip_value, out=g)
