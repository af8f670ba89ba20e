"""One random generator for all of nerve.

Every random choice in the library (initialisation, dropout masks, shuffling,
data generators, random search) draws from :func:`get_rng`, so a single
``nerve.manual_seed(seed)`` makes a whole run reproducible.
"""
from __future__ import annotations

import numpy as np

_rng: np.random.Generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the library-wide generator and return it."""
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expects an integer seed, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"manual_seed expects a non-negative seed, got {seed}")
    _rng = np.random.default_rng(int(seed))
    return _rng


def get_rng(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """The generator to draw from.

    ``seed=None`` gives the library-wide generator (seeded by ``manual_seed``);
    an integer gives a fresh, independent generator seeded with it; a Generator
    is returned as it is.
    """
    if seed is None:
        return _rng
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.default_rng(int(seed))
