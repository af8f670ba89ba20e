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

import importlib
from typing import Any, Callable

from .activations import activations
from .backprop import backprop
from .spiral import spiral
from .xor import xor

__all__ = ["DEMOS", "NEEDS_DATA_ROOT", "run_demo", "activations", "backprop", "xor", "spiral"]


def _lazy(module: str) -> Callable[..., dict[str, Any]]:
    """``nerve.demos.<module>.run``, imported only when the demo runs."""
    def call(**kwargs: Any) -> dict[str, Any]:
        return importlib.import_module(f"{__name__}.{module}").run(**kwargs)
    call.__name__ = module
    return call


#: name -> (function, one-line description); each function takes ``out=`` (a folder for
#: figures) and ``stream=``.
DEMOS: dict[str, tuple[Callable[..., dict[str, Any]], str]] = {
    "activations": (activations, "each activation's values and derivatives, and a plot"),
    "backprop": (backprop, "the lectures' worked backprop examples, every gradient"),
    "xor": (xor, "a single layer cannot learn XOR; one hidden layer can"),
    "spiral": (spiral, "linear softmax (~50%) vs a 2-layer ReLU net (~98%) on the spiral"),
    "capacity": (_lazy("capacity"), "hidden units x regularization strength on the spiral"),
    "optimization": (_lazy("optimization"), "random search vs numerical vs analytic "
                     "gradient descent"),
    "optimizers": (_lazy("optimizers"), "SGD, momentum, Nesterov, Adagrad, RMSprop and "
                   "Adam on 2-D loss surfaces (a ravine, Rosenbrock)"),
    "cifar10": (_lazy("cifar10"), "the CIFAR-10 pipeline: random search, softmax, SVM, "
                "2-layer nets on pixels and features (needs --data-root)"),
}

#: Demos that read a dataset from files: ``nerve demo NAME --data-root DIR`` passes ``root``.
NEEDS_DATA_ROOT = frozenset({"cifar10"})


def run_demo(name: str, **kwargs: Any) -> dict[str, Any]:
    """Run the demo called ``name``; unknown names list the valid ones."""
    if name not in DEMOS:
        raise ValueError(f"unknown demo {name!r}; valid demos: {', '.join(DEMOS)}")
    return DEMOS[name][0](**kwargs)
