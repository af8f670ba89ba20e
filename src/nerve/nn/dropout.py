"""Inverted dropout."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..random import get_rng
from ..tensor import Tensor
from .linear import layer_input
from .module import Module


def _check_p(owner: str, p) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{owner}: p must be a number, the probability of dropping a unit: "
                        f"in [0, 1) (or 1, which drops everything), got {p!r}")
    if not 0 <= p <= 1:
        raise ValueError(f"{owner}: p is the probability of dropping a unit and must be "
                         f"in [0, 1] (1 drops everything), got {p}")
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002 - PyTorch's
            inplace: bool = False) -> Tensor:
    """PyTorch's ``F.dropout``: in training, y = x ⊙ m / (1 − p) with mᵢ ~ Bernoulli(1 − p)
    (p = 1 gives zeros); otherwise y = x (the tensor itself)."""
    p = _check_p("dropout", p)
    if inplace is not True and inplace is not False:  # PyTorch's flag: same result here
        raise TypeError(f"dropout: inplace must be True or False, got {inplace!r}")
    x = input if isinstance(input, Tensor) else Tensor(input)
    if not training or p == 0:
        return x
    dt = x.data.dtype
    if p == 1:  # everything dropped (PyTorch's result), gradient zero
        return x * np.zeros(x.shape, dtype=dt)
    keep = 1.0 - p
    mask = get_rng().random(x.shape, dtype=dt.type) < keep
    scale = mask.astype(dt)
    scale *= np.asarray(1.0 / keep, dtype=dt)
    return x * scale


class Dropout(Module):
    """Inverted dropout: in training y = x ⊙ m / (1 − p) with mᵢ ~ Bernoulli(1 − p);
    in eval mode y = x.

    Dividing by the keep probability 1 − p during training keeps E[y] = x, so
    nothing needs rescaling at test time. dy/dx = m / (1 − p). Masks are drawn
    from nerve's generator (``nv.manual_seed`` makes them reproducible). ``p=1``
    drops everything (zeros in training), as PyTorch.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if inplace is not True and inplace is not False:  # PyTorch's flag: same result here
            raise TypeError(f"Dropout: inplace must be True or False, got {inplace!r}")
        self.p = _check_p("Dropout", p)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):  # a tuple or None: numbers converted, else a TypeError
            x = layer_input(self, x)
        if not self.training or self.p == 0:
            return x
        return dropout(x, self.p, True)

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}
