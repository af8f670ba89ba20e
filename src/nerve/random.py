"""One random generator for all of nerve.

Every random choice in the library (initialisation, dropout masks, shuffling,
data generators, random search) draws from :func:`get_rng`, so a single
``nerve.manual_seed(seed)`` makes a whole run reproducible.
"""
from __future__ import annotations

import json
from typing import Any

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


def get_rng_state() -> np.ndarray:
    """The library-wide generator's state as a uint8 array (PyTorch's
    ``torch.get_rng_state()``), which ``nv.save_state`` can write; give it back to
    :func:`set_rng_state` to continue the same random stream (an exact resume)."""
    text = json.dumps(_rng.bit_generator.state)
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8).copy()


def set_rng_state(state: Any) -> None:
    """Put back a state from :func:`get_rng_state` into the library-wide generator."""
    global _rng
    arr = np.asarray(state)
    if arr.ndim != 1 or arr.dtype != np.uint8:
        raise TypeError(f"set_rng_state expects the uint8 array get_rng_state() returned, got "
                        f"an array of dtype {arr.dtype} and shape {arr.shape}")
    try:
        saved = json.loads(arr.tobytes().decode("ascii"))
        kind = getattr(np.random, saved["bit_generator"])
        if not (isinstance(kind, type) and issubclass(kind, np.random.BitGenerator)):
            raise TypeError(kind)
        if type(_rng.bit_generator) is not kind:
            _rng = np.random.Generator(kind())
        _rng.bit_generator.state = saved
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise ValueError("set_rng_state: this array is not a state that get_rng_state() "
                         "returned (corrupt or from elsewhere)") from None
