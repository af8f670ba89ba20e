"""Optimizers, learning-rate schedules, gradient clipping and random search.

Each optimizer is a thin stateful class over a pure update function
(``sgd_update``, ``rmsprop_update``, ``adagrad_update``, ``adam_update``) that
changes a NumPy array in place, so the math can be called and tested directly::

    opt = nerve.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss.backward(); opt.step(); opt.zero_grad()

``get_optimizer("adam", params, lr=1e-3)`` builds one by name (see ``OPTIMIZERS``).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from ..registry import lookup, normalize_name
from .adagrad import Adagrad, adagrad_update
from .adam import Adam, AdamW, adam_update
from .clip import clip_grad_norm_, clip_grad_value_
from .lr_scheduler import (
    ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, LRScheduler, MultiStepLR,
    OneCycleLR, ReduceLROnPlateau, SequentialLR, StepLR,
)
from .optimizer import Optimizer, ParamsT
from .rmsprop import RMSProp, RMSprop, rmsprop_update
from .search import random_local_search, random_search
from .sgd import SGD, sgd_update

__all__ = [
    "Optimizer", "SGD", "RMSProp", "RMSprop", "Adagrad", "Adam", "AdamW",
    "sgd_update", "rmsprop_update", "adagrad_update", "adam_update",
    "OPTIMIZERS", "get_optimizer",
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
    "ConstantLR", "LinearLR", "SequentialLR", "OneCycleLR", "ReduceLROnPlateau",
    "clip_grad_norm_", "clip_grad_value_",
    "random_search", "random_local_search",
]

#: Name -> optimizer factory, for the CLI and config files. ``"momentum"`` and
#: ``"nesterov"`` are SGD with ``momentum=0.9`` (overridable) and, for the latter,
#: Nesterov's form.
OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": SGD,
    "momentum": partial(SGD, momentum=0.9),
    "nesterov": partial(SGD, momentum=0.9, nesterov=True),
    "rmsprop": RMSProp,
    "adagrad": Adagrad,
    "adam": Adam,
    "adamw": AdamW,
}


def get_optimizer(name: str, params: ParamsT, **kwargs: Any) -> Optimizer:
    """Build the optimizer registered as ``name`` (case-insensitive) over ``params``.

    >>> opt = get_optimizer("momentum", model.parameters(), lr=0.05)  # doctest: +SKIP
    """
    factory = lookup(OPTIMIZERS, name, "optimizer")
    key = normalize_name(name)
    if key in ("sgd", "momentum", "nesterov") and "lr" not in kwargs:
        raise TypeError(f"optimizer {key!r} needs a learning rate: pass lr=...")
    return factory(params, **kwargs)
