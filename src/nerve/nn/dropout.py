"""Inverted dropout."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..random import get_rng
from ..tensor import Tensor
from .module import Module


class Dropout(Module):
    """Inverted dropout: in training y = x ⊙ m / (1 − p) with mᵢ ~ Bernoulli(1 − p);
    in eval mode y = x.

    Dividing by the keep probability 1 − p during training keeps E[y] = x, so
    nothing needs rescaling at test time. dy/dx = m / (1 − p). Masks are drawn
    from nerve's generator (``nv.manual_seed`` makes them reproducible).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if inplace is not True and inplace is not False:  # PyTorch's flag: same result here
            raise TypeError(f"Dropout: inplace must be True or False, got {inplace!r}")
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(f"Dropout: p must be a number in [0, 1), got {p!r}")
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p is the probability of dropping a unit and must be "
                             f"in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        keep = 1.0 - self.p
        mask = get_rng().random(x.shape, dtype=x.data.dtype.type) < keep
        scale = mask.astype(x.data.dtype)
        scale *= np.asarray(1.0 / keep, dtype=x.data.dtype)
        return x * scale

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}
