"""Flatten: each example's features in one row, so images can feed a Linear layer."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .linear import layer_input
from .module import Module


def _check_dim(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Flatten: {name} must be an int (negative counts from the end), "
                        f"got {value!r}")
    return int(value)


class Flatten(Module):
    """(N, d₁, d₂, …) → (N, d₁·d₂·…): a reshape, so its gradient is reshaped back.

    ``nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 100), ...)`` takes (N, 28, 28) images.
    PyTorch's arguments: the axes ``start_dim`` (default 1, the batch axis stays) to
    ``end_dim`` (default -1, the last), both included, are merged; negative values
    count from the end.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = _check_dim("start_dim", start_dim)
        self.end_dim = _check_dim("end_dim", end_dim)

    def forward(self, x: Tensor) -> Tensor:
        try:
            shape = x.shape
        except AttributeError:  # a tuple or None: numbers converted, else a TypeError
            return self.forward(layer_input(self, x))
        ndim = len(shape)
        start, end = self.start_dim, self.end_dim
        label = f"Flatten({self.extra_repr()})"
        for name, d in (("start_dim", start), ("end_dim", end)):
            if not -ndim <= d < ndim:
                need = f"more than {d}" if d >= 0 else f"at least {-d}"
                raise ValueError(f"{label} needs inputs with {need} axes ({name}={d}), got "
                                 f"shape {shape}")
        start, end = start % ndim, end % ndim
        if start > end:
            raise ValueError(f"{label}: start_dim (axis {start}) comes after end_dim "
                             f"(axis {end}) for an input of shape {shape}")
        merged = int(np.prod(shape[start:end + 1], dtype=np.int64))
        return x.reshape(shape[:start] + (merged,) + shape[end + 1:])

    def get_config(self) -> dict[str, Any]:
        cfg = {"start_dim": self.start_dim}
        if self.end_dim != -1:
            cfg["end_dim"] = self.end_dim
        return cfg
