"""The benchmark configurations A-E: an MLP architecture, a batch size and a workload.

Each configuration trains a ReLU MLP ``sizes[0] - ... - sizes[-1]`` with softmax
cross-entropy and SGD (momentum 0.9) on synthetic random data. ``samples`` is the
number of training samples one timed measurement processes in ``--full`` mode,
chosen so that the hand-written NumPy reference takes roughly half a second on a
2-core machine; ``--quick`` divides it (see :func:`workload`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nerve.random import get_rng

# Keep the synthetic training pool below this many bytes of float32 inputs; a
# measurement makes as many passes over the pool as its sample count needs.
POOL_BYTES = 24 * 2**20


@dataclass(frozen=True)
class Config:
    """One benchmark row: layer sizes, batch size and full-mode sample count."""

    name: str
    sizes: tuple[int, ...]
    batch: int
    samples: int

    @property
    def label(self) -> str:
        """Human-readable architecture, e.g. ``"784-256-256-10, 128"``."""
        return "-".join(str(s) for s in self.sizes) + f", {self.batch}"

    @property
    def n_in(self) -> int:
        return self.sizes[0]

    @property
    def n_classes(self) -> int:
        return self.sizes[-1]


CONFIGS: dict[str, Config] = {
    "A": Config("A", (784, 256, 256, 10), 128, 49_152),
    "B": Config("B", (784, 256, 256, 10), 32, 28_672),
    "C": Config("C", (2, 16, 16, 3), 32, 163_840),
    "D": Config("D", (3072, 1024, 10), 256, 5_120),
    "E": Config("E", (64, 128, 10), 64, 327_680),
}


def parse_configs(spec: str | None) -> list[Config]:
    """Turn ``"A,C"`` (or None for all) into a list of configs, rejecting unknown names."""
    if spec is None or spec.strip() == "":
        return list(CONFIGS.values())
    names = [s.strip().upper() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise ValueError(
            f"unknown benchmark config(s) {unknown}; valid names are {sorted(CONFIGS)}"
        )
    return [CONFIGS[n] for n in names]


@dataclass(frozen=True)
class Workload:
    """The data one config trains on: a pool of ``pool`` samples, passed over ``passes`` times."""

    config: Config
    X: np.ndarray  # (pool, n_in) float32
    y: np.ndarray  # (pool,) int64
    passes: int

    @property
    def pool(self) -> int:
        return self.X.shape[0]

    @property
    def samples(self) -> int:
        """Training samples processed by one timed measurement."""
        return self.pool * self.passes

    @property
    def steps_per_pass(self) -> int:
        return self.pool // self.config.batch


def workload(config: Config, samples: int, seed: int = 0) -> Workload:
    """Synthetic data for ``config``: about ``samples`` samples per measurement.

    The sample count is rounded to whole batches and whole passes over a pool whose
    inputs fit in :data:`POOL_BYTES`. Inputs are N(0, 1) float32, labels uniform.
    """
    if samples < config.batch:
        raise ValueError(
            f"samples per measurement must be at least the batch size {config.batch} "
            f"of config {config.name}, got {samples}"
        )
    batch = config.batch
    pool_cap = max(batch, (POOL_BYTES // (4 * config.n_in)) // batch * batch)
    pool = min(pool_cap, samples // batch * batch)
    passes = max(1, round(samples / pool))
    rng = get_rng(seed)
    X = rng.standard_normal((pool, config.n_in), dtype=np.float32)
    y = rng.integers(0, config.n_classes, size=pool, dtype=np.int64)
    return Workload(config, X, y, passes)
