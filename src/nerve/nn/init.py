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
``"zeros"``             0                                           shows the symmetry problem
======================  ==========================================  ===================

Biases always start at zero. With ``"zeros"`` every hidden unit computes the
same function and receives the same gradient, so they never become different.
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


def zeros(shape, fan_in, fan_out, rng, dtype) -> np.ndarray:
    """W = 0: every unit of a layer stays identical (the symmetry problem)."""
    return np.zeros(shape, dtype=dtype)


INITS: dict[str, Callable[..., np.ndarray]] = {
    "small": small,
    "xavier": xavier,
    "xavier_uniform": xavier_uniform,
    "he": he,
    "zeros": zeros,
}


def check_init(name: str) -> str:
    """Return ``name`` if it is a known scheme, else raise listing the valid ones."""
    if not isinstance(name, str) or name not in INITS:
        raise ValueError(f"unknown init {name!r}; expected one of {', '.join(INITS)}")
    return name


def initialize(name: str, shape: tuple, fan_in: int, fan_out: int, dtype=None,
               seed=None) -> np.ndarray:
    """Draw a weight array of ``shape`` with the scheme ``name``.

    >>> initialize("he", (4, 3), fan_in=3, fan_out=4, seed=0).shape
    (4, 3)
    """
    check_init(name)
    dt = _check_float_dtype(dtype) if dtype is not None else get_default_dtype()
    return INITS[name](tuple(shape), fan_in, fan_out, get_rng(seed), dt)
