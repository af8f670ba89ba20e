"""Name → object tables (activations, losses, optimizers, ...) and their one lookup rule."""
from __future__ import annotations

from typing import Any, Mapping


def normalize_name(name: Any) -> Any:
    """Case-insensitive, surrounding spaces ignored, ``-`` read as ``_``."""
    return name.strip().lower().replace("-", "_") if isinstance(name, str) else name


def lookup(table: Mapping[str, Any], name: Any, what: str) -> Any:
    """``table[name]`` after :func:`normalize_name`; an unknown name raises listing the valid ones.

    >>> lookup({"relu": 1}, "ReLU", "activation")
    1
    """
    if not isinstance(name, str):
        raise TypeError(f"{what} name must be a string, got {type(name).__name__}")
    key = normalize_name(name)
    if key not in table:
        raise ValueError(f"unknown {what} {name!r}; valid names: {', '.join(table)}")
    return table[key]
