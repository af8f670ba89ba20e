"""Learning-rate schedules, stepped once per epoch (PyTorch's semantics).

A scheduler remembers each group's starting rate (``group["initial_lr"]``) and,
on every ``step()``, sets ``group["lr"]`` to its closed form at the new epoch
count ``e`` (``e = 0`` at construction, which already applies the schedule):

    StepLR:             lr_e = lr_0 * gamma ** floor(e / step_size)
    ExponentialLR:      lr_e = lr_0 * gamma ** e
    CosineAnnealingLR:  lr_e = eta_min + (lr_0 - eta_min) * (1 + cos(pi * e / T_max)) / 2

Typical use::

    sched = StepLR(opt, step_size=10, gamma=0.5)
    for epoch in range(epochs):
        train_one_epoch(opt)
        sched.step()
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_number

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR"]


def _check_int(owner: str, name: str, value: Any, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{owner}: {name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{owner}: {name} must be an integer >= {low}, got {value}")
    return int(value)


class LRScheduler:
    """Base class: subclasses define :meth:`lr_at` (the closed form at one epoch)."""

    #: Hyperparameters saved in ``state_dict`` besides the epoch and base rates.
    _hyper: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name} expects a nerve.optim Optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        last_epoch = _check_int(name, "last_epoch", last_epoch, -1)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        elif any("initial_lr" not in group for group in optimizer.param_groups):
            raise ValueError(
                f"{name}: last_epoch={last_epoch} resumes a schedule, but the optimizer's "
                "groups have no 'initial_lr'; build it with last_epoch=-1 or load its state"
            )
        self.base_lrs: list[float] = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The learning rate at ``epoch`` for a group that started at ``base_lr``."""
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The rates for the current epoch, one per parameter group."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    def step(self) -> None:
        """Advance one epoch and write the new rates into the optimizer's groups."""
        self.last_epoch += 1
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = lrs

    def get_last_lr(self) -> list[float]:
        """The rates the last :meth:`step` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """A flat dict of numbers and arrays (savable with ``np.savez``)."""
        sd: dict[str, Any] = {
            "scheduler": type(self).__name__,
            "last_epoch": self.last_epoch,
            "base_lrs": np.array(self.base_lrs, dtype=np.float64),
            "last_lr": np.array(self._last_lr, dtype=np.float64),
        }
        for key in self._hyper:
            sd[key] = getattr(self, key)
        return sd

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (also after ``np.load``)."""
        name = type(self).__name__
        expected = {"scheduler", "last_epoch", "base_lrs", "last_lr", *self._hyper}
        if not isinstance(state_dict, Mapping) or set(state_dict) != expected:
            got = sorted(state_dict) if isinstance(state_dict, Mapping) else type(state_dict)
            raise ValueError(f"{name}.load_state_dict expects keys {sorted(expected)}, got {got}")
        saved_for = str(np.asarray(state_dict["scheduler"]))
        if saved_for != name:
            raise ValueError(f"this state dict was saved from {saved_for}, not {name}")
        base_lrs = np.asarray(state_dict["base_lrs"], dtype=np.float64).ravel()
        if base_lrs.size != len(self.optimizer.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: {base_lrs.size} base rate(s) saved, the optimizer "
                f"has {len(self.optimizer.param_groups)} parameter group(s)"
            )
        for key in self._hyper:
            setattr(self, key, np.asarray(state_dict[key]).item())
        self.last_epoch = int(np.asarray(state_dict["last_epoch"]))
        self.base_lrs = base_lrs.tolist()
        self._last_lr = np.asarray(state_dict["last_lr"], dtype=np.float64).ravel().tolist()


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    ``lr_e = lr_0 * gamma ** (e // step_size)``.
    """

    _hyper = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = _check_int("StepLR", "step_size", step_size, 1)
        self.gamma = check_number("StepLR", "gamma", gamma, 0.0, math.inf)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: ``lr_0 * gamma**e``."""

    _hyper = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = check_number("ExponentialLR", "gamma", gamma, 0.0, math.inf)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from ``lr_0`` down to ``eta_min`` over ``T_max`` epochs.

    ``lr_e = eta_min + (lr_0 - eta_min) * (1 + cos(pi * e / T_max)) / 2``; past
    ``T_max`` the cosine carries on (rising again), as in PyTorch.
    """

    _hyper = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_max = _check_int("CosineAnnealingLR", "T_max", T_max, 1)
        self.eta_min = check_number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        cosine = (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0
        return self.eta_min + (base_lr - self.eta_min) * cosine
