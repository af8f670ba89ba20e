"""Weight initialisation schemes, by name.

Each scheme draws a weight array of a given shape from nerve's generator
(:func:`nerve.random.get_rng`), given the layer's fan-in (inputs per unit) and
fan-out (units):

======================  ==========================================  ===================
name                    distribution                                reference
======================  ==========================================  ===================
``"small"``             0.01 · N(0, 1)                              the lecture's first try
``"xavier"``            N(0, 2 / (fan_in + fan_out))                Glorot & Bengio 2010 (normal form)
``"xavier_uniform"``    U(−a, a), a = √(6 / (fan_in + fan_out))     Glorot & Bengio 2010
``"he"``                N(0, 2 / fan_in)                            He et al. 2015 (for ReLU)
``"he_uniform"``        U(−a, a), a = √(6 / fan_in)                 He et al. 2015
``"zeros"``             0                                           shows the symmetry problem
======================  ==========================================  ===================

Biases always start at zero. The symmetry problem: hidden unit j of h = act(x W1 + b1)
feeding y = h W2 + b2 gets the gradient dL/dh_j = Σ_k W2[j, k] δ_k (δ = dL/dy). If
every unit of a layer has the same incoming weights *and* the same outgoing weights
(row j of W2), all of them compute the same value and get the same gradient, so they
stay identical forever: this happens when all layers start at zero (then W1 gets no
gradient at all with tanh or ReLU units, whose h is 0) or at one constant. Zeroing a
single layer does not: with random outgoing weights the rows W2[j, :] differ, so the
units get different gradients and separate (with tanh or sigmoid units; ReLU units of a
zeroed layer sit at z = 0 where relu′(0) = 0, so they get no gradient and stay dead).
Keras's and PyTorch's names are accepted too (``"kaiming"``, ``"glorot_uniform"``…), and
PyTorch's in-place functions redraw a parameter: ``nn.init.kaiming_normal_(lin.weight)``,
``xavier_uniform_``, ``normal_``, ``uniform_``, ``trunc_normal_``, ``orthogonal_``,
``constant_(w, val)``, ``zeros_``, ``ones_`` (the random ones draw from nerve's
generator, or from ``seed=``).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..random import get_rng
from ..tensor import _check_float_dtype, get_default_dtype


def small(shape, fan_in, fan_out, rng, dtype) -> np.ndarray:
    """W = 0.01 · N(0, 1): fine for small nets, activations vanish in deep ones."""
    return (0.01 * rng.standard_normal(shape)).astype(dtype)


def xavier(shape, fan_in, fan_out, rng, dtype) -> np.ndarray:
    """W ~ N(0, σ²) with σ² = 2 / (fan_in + fan_out): keeps the variance for tanh units."""
    std = math.sqrt(2.0 / (fan_in + fan_out))
    return (std * rng.standard_normal(shape)).astype(dtype)


def xavier_uniform(shape, fan_in, fan_out, rng, dtype) -> np.ndarray:
    """W ~ U(−a, a) with a = √(6 / (fan_in + fan_out)) (the same variance as "xavier")."""
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def he(shape, fan_in, fan_out, rng, dtype) -> np.ndarray:
    """W ~ N(0, 2 / fan_in): keeps the variance through ReLU units (which zero half)."""
    std = math.sqrt(2.0 / fan_in)
    return (std * rng.standard_normal(shape)).astype(dtype)


def he_uniform(shape, fan_in, fan_out, rng, dtype) -> np.ndarray:
    """W ~ U(−a, a) with a = √(6 / fan_in) (the same variance as "he")."""
    bound = math.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


def zeros(shape, fan_in, fan_out, rng, dtype) -> np.ndarray:
    """W = 0: the units of this layer start identical; they stay identical (the symmetry
    problem) only if their outgoing weights are equal too, e.g. all layers zero."""
    return np.zeros(shape, dtype=dtype)


INITS: dict[str, Callable[..., np.ndarray]] = {
    "small": small,
    "xavier": xavier,
    "xavier_uniform": xavier_uniform,
    "he": he,
    "he_uniform": he_uniform,
    "zeros": zeros,
}


#: Other libraries' names for the same schemes (Keras, PyTorch), any letter case.
ALIASES = {
    "kaiming": "he", "kaiming_normal": "he", "he_normal": "he",
    "glorot": "xavier", "glorot_normal": "xavier", "xavier_normal": "xavier",
    "glorot_uniform": "xavier_uniform", "zero": "zeros",
    "kaiming_uniform": "he_uniform",
}


def check_init(name: str) -> str:
    """The scheme's name in :data:`INITS` for ``name`` (or a Keras/PyTorch alias such as
    ``"kaiming"`` or ``"glorot_uniform"``, any case); raise listing the valid ones."""
    key = name.lower() if isinstance(name, str) else None
    key = ALIASES.get(key, key)
    if key not in INITS:
        raise ValueError(f"unknown init {name!r}; expected one of {', '.join(INITS)} "
                         f"(or an alias: {', '.join(ALIASES)})")
    return key


def initialize(name: str, shape: tuple, fan_in: int, fan_out: int, dtype=None,
               seed=None) -> np.ndarray:
    """Draw a weight array of ``shape`` with the scheme ``name``.

    >>> initialize("he", (4, 3), fan_in=3, fan_out=4, seed=0).shape
    (4, 3)
    """
    name = check_init(name)
    dt = _check_float_dtype(dtype) if dtype is not None else get_default_dtype()
    return INITS[name](tuple(shape), fan_in, fan_out, get_rng(seed), dt)


# ------------------------------------------------------------- PyTorch's in-place names
# ``nn.init.kaiming_normal_(layer.weight)`` redraws a parameter in place, as in PyTorch.
# The fans follow nerve's layout: a Linear weight is (in_features, out_features), so
# fan_in = shape[0] and fan_out = shape[1] (PyTorch's (out, in) reads them the other way).
def _target(tensor, what: str):
    """A float tensor (a parameter) to draw into, or a TypeError naming what was given."""
    from ..tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what} draws into a nerve tensor (a layer's weight or bias), got "
                        f"{type(tensor).__name__}")
    if tensor.data.dtype.kind != "f":
        raise TypeError(f"{what} needs a float tensor, got dtype {tensor.data.dtype}")
    return tensor


def _finite(value, what: str, name: str, low: float = -math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not math.isfinite(value) or value < low:
        bound = f" >= {low}" if low > -math.inf else ""
        raise ValueError(f"{what}: {name} must be a finite number{bound}, got {value!r}")
    return float(value)


def _fans(tensor) -> tuple[int, int]:
    shape = tensor.data.shape
    if 0 in shape:
        raise ValueError(f"fan-in and fan-out of an empty weight (shape {shape}) are 0")
    if len(shape) < 2:
        raise ValueError(f"fan-in and fan-out need a weight with 2 or more axes, got shape "
                         f"{shape} (a bias is set with zeros_ or constant_)")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[0] * receptive, shape[1] * receptive


def _fill(tensor, values: np.ndarray, what: str):
    """Write ``values`` into the tensor as its other in-place changes do (counted, so a
    graph that saw the old weights refuses its backward; read-only data is named)."""
    tensor._write(None, values.astype(tensor.data.dtype, copy=False), what)
    return tensor


def calculate_gain(nonlinearity: str = "relu", param: float | None = None) -> float:
    """The factor that keeps the variance through a nonlinearity (PyTorch's values):
    linear/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2 / (1 + a²)) for slope a."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else _finite(param, "calculate_gain", "param")
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected "
                     "'linear', 'sigmoid', 'tanh', 'relu' or 'leaky_relu'")


def _kaiming_std(tensor, what: str, a, mode: str, nonlinearity: str) -> float:
    _target(tensor, what)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{what}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    gain = calculate_gain(nonlinearity, _finite(a, what, "a"))
    return gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", seed=None):
    """He: W ~ N(0, σ²), σ = gain / √fan (PyTorch's arguments); the defaults (a = 0,
    fan_in) give σ² = 2 / fan_in, the ``"he"`` scheme."""
    std = _kaiming_std(tensor, "kaiming_normal_", a, mode, nonlinearity)
    return _fill(tensor, std * get_rng(seed).standard_normal(tensor.data.shape),
                 "kaiming_normal_")


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", seed=None):
    """He, uniform: W ~ U(−b, b), b = √3 · gain / √fan (the same variance as
    kaiming_normal_). PyTorch's Linear starts from ``kaiming_uniform_(w, a=√5)``."""
    std = _kaiming_std(tensor, "kaiming_uniform_", a, mode, nonlinearity)
    bound = math.sqrt(3.0) * std
    return _fill(tensor, get_rng(seed).uniform(-bound, bound, size=tensor.data.shape),
                 "kaiming_uniform_")


def xavier_normal_(tensor, gain: float = 1.0, seed=None):
    """Glorot: W ~ N(0, gain² · 2 / (fan_in + fan_out)), in place (``"xavier"``, gain 1)."""
    fan_in, fan_out = _fans(_target(tensor, "xavier_normal_"))
    std = _finite(gain, "xavier_normal_", "gain", 0.0) * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, std * get_rng(seed).standard_normal(tensor.data.shape),
                 "xavier_normal_")


def xavier_uniform_(tensor, gain: float = 1.0, seed=None):
    """Glorot, uniform: W ~ U(−b, b), b = gain · √(6 / (fan_in + fan_out)), in place."""
    fan_in, fan_out = _fans(_target(tensor, "xavier_uniform_"))
    bound = _finite(gain, "xavier_uniform_", "gain", 0.0) * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, get_rng(seed).uniform(-bound, bound, size=tensor.data.shape),
                 "xavier_uniform_")


def normal_(tensor, mean: float = 0.0, std: float = 1.0, seed=None):
    """W ~ N(mean, std²), in place."""
    _target(tensor, "normal_")
    mean, std = _finite(mean, "normal_", "mean"), _finite(std, "normal_", "std", 0.0)
    return _fill(tensor, get_rng(seed).normal(mean, std, size=tensor.data.shape), "normal_")


def uniform_(tensor, a: float = 0.0, b: float = 1.0, seed=None):
    """W ~ U(a, b), in place."""
    _target(tensor, "uniform_")
    a, b = _finite(a, "uniform_", "a"), _finite(b, "uniform_", "b")
    if not a <= b:
        raise ValueError(f"uniform_: the bounds must satisfy a <= b, got a={a}, b={b}")
    return _fill(tensor, get_rng(seed).uniform(a, b, size=tensor.data.shape), "uniform_")


_MISSING = object()


def constant_(tensor, val: float = _MISSING, *, value: float = _MISSING):
    """Every entry = ``val``, in place (PyTorch's name; ``value=`` is accepted too)."""
    if val is _MISSING and value is _MISSING:
        raise TypeError("constant_: missing the value to fill with: constant_(tensor, val)")
    if val is not _MISSING and value is not _MISSING:
        raise TypeError("constant_: got both val and value; pass one (val is PyTorch's name)")
    val = value if val is _MISSING else val
    _target(tensor, "constant_")
    return _fill(tensor, np.asarray(_finite(val, "constant_", "value")), "constant_")


def zeros_(tensor):
    """Every entry 0, in place (for the weights of every layer: the symmetry problem)."""
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Every entry 1, in place."""
    return constant_(tensor, 1.0)


def orthogonal_(tensor, gain: float = 1.0, seed=None):
    """A (semi-)orthogonal W, in place (Saxe et al. 2014, PyTorch's algorithm): the QR of
    A ~ N(0, 1) of shape (rows, cols) = (shape[0], the rest flattened), taken on Aᵀ when
    rows < cols, with Q's columns signed by diag(R) so Q is uniform (Haar); W = gain · Q.
    So WᵀW = gain²·I when rows >= cols and WWᵀ = gain²·I otherwise: the smaller side holds
    orthonormal vectors, the same property in nerve's (in, out) layout as in PyTorch's
    (out, in), and ‖xW‖ = gain·‖x‖ for a square W."""
    what = "orthogonal_"
    _target(tensor, what)
    gain = _finite(gain, what, "gain")
    shape = tensor.data.shape
    if len(shape) < 2 or 0 in shape:
        raise ValueError(f"{what}: needs a weight with 2 or more axes and no empty one, got "
                         f"shape {shape}")
    rows = shape[0]
    cols = int(np.prod(shape[1:]))
    a = get_rng(seed).standard_normal((rows, cols))
    if rows < cols:
        a = a.T
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diagonal(r))  # column j times sign(R_jj): the Haar measure
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(shape), what)


_SQRT2 = math.sqrt(2.0)


def _normal_cdf(z: float) -> float:
    """Φ(z) = ½·erfc(−z/√2), exact in the lower tail."""
    return 0.5 * math.erfc(-z / _SQRT2)


def _normal_quantile(p: np.ndarray) -> np.ndarray:
    """Φ⁻¹(p) for p in (0, 1], elementwise: Acklam's rational approximation (relative error
    below 1.2e-9, far finer than float32 weights), a rational function of p − ½ in the
    middle and of √(−2 log p) in the tails."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
         3.754408661907416e+00)
    low = 0.02425
    out = np.empty_like(p)
    tail = (p < low) | (p > 1 - low)
    mid = ~tail
    q = p[mid] - 0.5
    r = q * q
    out[mid] = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    pt = p[tail]
    sign = np.where(pt < 0.5, 1.0, -1.0)  # the upper tail mirrors the lower one
    q = np.sqrt(-2 * np.log(np.minimum(pt, 1 - pt)))
    out[tail] = sign * (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    return out


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, seed=None):
    """W ~ N(mean, std²) truncated to [a, b], in place (PyTorch's arguments: a and b are
    values, not multiples of std; trunc_normal_(w, std=0.02) leaves a = −2, b = 2, which cut
    nothing). Drawn by the inverse CDF: W = mean + std·Φ⁻¹(U), U ~ U(Φ(α), Φ(β)) with
    α = (a − mean)/std, β = (b − mean)/std, worked in the lower tail for accuracy and
    clipped to [a, b]; the density is φ((w − mean)/std) / (std·(Φ(β) − Φ(α))) on [a, b]."""
    what = "trunc_normal_"
    _target(tensor, what)
    mean, std = _finite(mean, what, "mean"), _finite(std, what, "std", 0.0)
    a, b = _finite(a, what, "a"), _finite(b, what, "b")
    if std == 0.0:
        raise ValueError(f"{what}: std must be > 0, got 0")
    if not a < b:
        raise ValueError(f"{what}: the bounds must satisfy a < b, got a={a}, b={b}")
    alpha, beta = (a - mean) / std, (b - mean) / std
    flip = alpha > -beta  # the interval lies mostly above the mean: draw −W, in the lower tail
    if flip:
        alpha, beta = -beta, -alpha
    lo, hi = _normal_cdf(alpha), _normal_cdf(beta)
    if not hi > lo:
        raise ValueError(f"{what}: [a, b] = [{a}, {b}] lies too far out in the tail of "
                         f"N({mean}, {std}²) to draw from (beyond about 37 std from the "
                         "mean, where the normal CDF underflows)")
    u = get_rng(seed).uniform(lo, hi, size=tensor.data.shape)
    z = _normal_quantile(np.maximum(u, 5e-324))  # (u = 0 only where Φ(α) underflows)
    if flip:
        z = -z
    return _fill(tensor, np.clip(mean + std * z, a, b), what)
