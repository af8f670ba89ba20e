"""One random generator for all of nerve.

Every random choice in the library (initialisation, dropout masks, shuffling,
data generators, random search) draws from :func:`get_rng`, so a single
``nerve.manual_seed(seed)`` makes a whole run reproducible.

:func:`using_generator` swaps that generator for one of your own in the current
thread (or asyncio task) only, for a block: a run in one thread then stays
reproducible while other threads draw from nerve's generator.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import numpy as np

_rng: np.random.Generator = np.random.default_rng()

#: The generator that :func:`using_generator` put in effect for the current thread (and
#: asyncio task), or None: the library-wide ``_rng``. A new thread starts with None.
_context_rng: ContextVar[np.random.Generator | None] = ContextVar("nerve_rng", default=None)
_context_get = _context_rng.get  # get_rng calls this bound method: one C call


@contextlib.contextmanager
def using_generator(rng: int | np.random.Generator | None) -> Iterator[np.random.Generator]:
    """Make every nerve draw in this thread (or asyncio task) come from ``rng`` for the
    block: ``get_rng()`` — so initialisation, dropout masks, shuffling and the data
    generators — returns it. Other threads keep drawing from the generator they had.

    ``rng``: a Generator (drawn from, and so advanced, as it is), an int seed (a fresh
    ``np.random.default_rng(seed)``), or None (no change: the block draws from the
    generator already in effect). Yields the generator in effect. Blocks nest; on exit
    the generator in effect before the block is back, untouched. Like
    ``torch.random.fork_rng``, nothing done to the random state inside the block leaks
    out: ``manual_seed(s)`` and ``set_rng_state`` inside it replace the block's generator
    (the library-wide one and the ``rng`` object passed in are left as they were), and
    ``get_rng_state`` reads the block's generator. Threads started inside the block do
    not inherit it (a new thread starts on the library-wide generator).

    >>> with using_generator(0):            # doctest: +SKIP
    ...     model = nn.Linear(4, 2)          # the same weights every time, in any thread
    """
    if rng is None:
        yield get_rng()
        return
    gen = get_rng(rng)  # an int -> a fresh generator; a Generator as it is; else an error
    token = _context_rng.set(gen)
    try:
        yield gen
    finally:
        _context_rng.reset(token)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the library-wide generator and return it; inside a :func:`using_generator`
    block, reseed only that block's generator (a fresh one, in effect until the block ends)."""
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expects an integer seed, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"manual_seed expects a non-negative seed, got {seed}")
    gen = np.random.default_rng(int(seed))
    if _context_get() is not None:
        _context_rng.set(gen)
    else:
        _rng = gen
    return gen


def get_rng(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """The generator to draw from.

    ``seed=None`` gives the library-wide generator (seeded by ``manual_seed``), or
    the one a :func:`using_generator` block put in effect in this thread; an integer
    gives a fresh, independent generator seeded with it; a Generator is returned as it is.
    """
    if seed is None:
        rng = _context_get()
        return _rng if rng is None else rng
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
    :func:`set_rng_state` to continue the same random stream (an exact resume).
    Inside a :func:`using_generator` block: the block's generator's state."""
    text = json.dumps(get_rng().bit_generator.state)
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8).copy()


def set_rng_state(state: Any) -> None:
    """Put back a state from :func:`get_rng_state` into the library-wide generator
    (inside a :func:`using_generator` block: into a new generator for the rest of the
    block; the generator object the block was given is not changed)."""
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
        block = _context_get() is not None
        if block or type(_rng.bit_generator) is not kind:
            gen = np.random.Generator(kind())
        else:
            gen = _rng
        gen.bit_generator.state = saved
        if block:
            _context_rng.set(gen)
        else:
            _rng = gen
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise ValueError("set_rng_state: this array is not a state that get_rng_state() "
                         "returned (corrupt or from elsewhere)") from None
