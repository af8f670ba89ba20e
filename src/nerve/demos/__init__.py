"""The ``nerve demo NAME`` lessons, each an importable function.

Every demo prints its lesson to ``stream`` (stdout by default), writes its
figures into ``out`` when given and matplotlib is installed, and returns a dict
of the numbers it showed, so that tests can check them.

>>> from nerve.demos import backprop
>>> results = backprop(stream=io.StringIO())        # doctest: +SKIP
>>> results["add_mul"]["dx"]                        # doctest: +SKIP
-4.0
"""
from __future__ import annotations

from typing import Any, Callable

from .activations import activations
from .backprop import backprop
from .spiral import spiral
from .xor import xor

__all__ = ["DEMOS", "run_demo", "activations", "backprop", "xor", "spiral"]

#: name -> (function, one-line description)
DEMOS: dict[str, tuple[Callable[..., dict[str, Any]], str]] = {
    "activations": (activations, "each activation's values and derivatives, and a plot"),
    "backprop": (backprop, "the lectures' worked backprop examples, every gradient"),
    "xor": (xor, "a single layer cannot learn XOR; one hidden layer can"),
    "spiral": (spiral, "linear softmax (~50%) vs a 2-layer ReLU net (~98%) on the spiral"),
}


def run_demo(name: str, **kwargs: Any) -> dict[str, Any]:
    """Run the demo called ``name``; unknown names list the valid ones."""
    if name not in DEMOS:
        raise ValueError(f"unknown demo {name!r}; valid demos: {', '.join(DEMOS)}")
    return DEMOS[name][0](**kwargs)
