"""Flatten: each example's features in one row, so images can feed a Linear layer."""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .module import Module


class Flatten(Module):
    """(N, d₁, d₂, …) → (N, d₁·d₂·…): a reshape, so its gradient is reshaped back.

    ``nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 100), ...)`` takes (N, 28, 28) images.
    ``start_dim`` (default 1, the batch axis stays) is PyTorch's argument.
    """

    def __init__(self, start_dim: int = 1):
        super().__init__()
        if isinstance(start_dim, bool) or not isinstance(start_dim, int) or start_dim < 0:
            raise ValueError(f"Flatten: start_dim must be an int >= 0, got {start_dim!r}")
        self.start_dim = start_dim

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim <= self.start_dim:
            raise ValueError(f"Flatten(start_dim={self.start_dim}) needs inputs with more than "
                             f"{self.start_dim} axes, got shape {x.shape}")
        return x.flatten(self.start_dim)

    def get_config(self) -> dict[str, Any]:
        return {"start_dim": self.start_dim}
