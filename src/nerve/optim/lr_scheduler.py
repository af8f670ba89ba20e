"""Learning-rate schedules, stepped once per epoch (PyTorch's semantics).

A scheduler remembers each group's starting rate (``group["initial_lr"]``); alone,
``group["lr"]`` follows the closed form at the epoch count ``e`` (``e = 0`` at
construction, which already applies the schedule). Each step after the first moves on
from the group's current rate by the same factor (PyTorch's chainable form), so two
schedulers combine and a rate set by hand is kept:

    StepLR:             lr_e = lr_0 * gamma ** floor(e / step_size)
    MultiStepLR:        lr_e = lr_0 * gamma ** (number of milestones <= e)
    ExponentialLR:      lr_e = lr_0 * gamma ** e
    CosineAnnealingLR:  lr_e = eta_min + (lr_0 - eta_min) * (1 + cos(pi * e / T_max)) / 2
    LambdaLR:           lr_e = lr_0 * lr_lambda(e)

:class:`ReduceLROnPlateau` instead watches a metric: ``sched.step(val_loss)``
multiplies the rate by ``factor`` after ``patience`` epochs without improvement.
In ``nv.fit`` any scheduler can go in ``callbacks``: it steps at each epoch's end
(ReduceLROnPlateau on its ``monitor``, ``val_loss`` by default).

Typical use::

    sched = StepLR(opt, step_size=10, gamma=0.5)
    for epoch in range(epochs):
        train_one_epoch(opt)
        sched.step()
"""
from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from numbers import Integral
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_number

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
           "LambdaLR", "ReduceLROnPlateau"]


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
        self._stepped = False  # the first step (here) sets the closed form
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The learning rate at ``epoch`` for a group that started at ``base_lr``."""
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The rates for the current epoch, one per parameter group."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    #: ``chained(lr, base_lr, epoch)``: the next rate from the group's current one, or
    #: None for a schedule that always sets its closed form (LambdaLR, as PyTorch's).
    chained = None

    def step(self) -> None:
        """Advance one epoch and write the new rates into the optimizer's groups.

        After the first step the rate moves on from the group's *current* rate (PyTorch's
        chainable form), so a rate set by hand or by a second scheduler is kept and
        scaled, not overwritten; alone, a schedule follows its closed form (to rounding).
        """
        self.last_epoch += 1
        groups = self.optimizer.param_groups
        if len(groups) > len(self.base_lrs):  # add_param_group since: scheduled from now on
            for group in groups[len(self.base_lrs):]:
                self.base_lrs.append(float(group.setdefault("initial_lr", group["lr"])))
        if self._stepped and self.chained is not None:
            lrs = [self.chained(float(g["lr"]), base, self.last_epoch)
                   for g, base in zip(groups, self.base_lrs)]
        elif self.last_epoch == 0 and self.chained is not None:
            # built at epoch 0: the groups keep their rates, as PyTorch's (an optimizer
            # restored mid-run keeps its scheduled rate, not initial_lr)
            lrs = [float(g["lr"]) for g in groups]
        else:
            lrs = self.get_lr()
        self._stepped = True
        for group, lr in zip(groups, lrs):
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
        where = f"{name}.load_state_dict"
        rates = {}
        for key in ("base_lrs", "last_lr"):
            try:
                values = np.asarray(state_dict[key], dtype=np.float64).ravel()
            except (TypeError, ValueError):
                raise ValueError(f"{where}: {key} must hold numbers") from None
            if values.size != len(self.optimizer.param_groups):
                raise ValueError(f"{where}: {values.size} {key} value(s) saved, the optimizer "
                                 f"has {len(self.optimizer.param_groups)} parameter group(s)")
            if not np.all(np.isfinite(values)) or np.any(values < 0):
                raise ValueError(f"{where}: {key} must be finite rates >= 0, got "
                                 f"{values.tolist()}")
            rates[key] = values.tolist()
        hyper = {}
        for key in self._hyper:  # checked as the constructor checks them
            value = np.asarray(state_dict[key])
            value = value.item() if value.ndim == 0 else tuple(value.tolist())
            if key in ("step_size", "T_max"):
                value = _check_int(where, key, value, 1)
            elif key == "milestones":
                value = tuple(_check_int(where, "a milestone", m, 1)
                              for m in (value if isinstance(value, tuple) else (value,)))
            else:
                value = check_number(where, key, value, 0.0, math.inf)
            hyper[key] = value
        last_epoch = np.asarray(state_dict["last_epoch"])
        if last_epoch.ndim or last_epoch.dtype.kind not in "iu":
            raise ValueError(f"{where}: last_epoch must be an integer, got {last_epoch!r}")
        for key, value in hyper.items():
            setattr(self, key, value)
        self.last_epoch = int(_check_int(where, "last_epoch", last_epoch.item(), -1))
        self._stepped = True
        self.base_lrs = rates["base_lrs"]
        self._last_lr = rates["last_lr"]
        # The rates it last set go back into the groups: the next step chains from them.
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr


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

    def chained(self, lr: float, base_lr: float, epoch: int) -> float:
        return lr * self.gamma if epoch % self.step_size == 0 else lr


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each milestone epoch.

    ``lr_e = lr_0 * gamma ** k``, k = how many of the (increasing) milestones are <= e.
    """

    _hyper = ("milestones", "gamma")

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs, got "
                            f"{type(milestones).__name__}")
        steps = [_check_int("MultiStepLR", "a milestone", m, 1) for m in milestones]
        if steps != sorted(set(steps)):
            raise ValueError(f"MultiStepLR: milestones must increase, got {list(milestones)}")
        self.milestones = tuple(steps)
        self.gamma = check_number("MultiStepLR", "gamma", gamma, 0.0, math.inf)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)

    def chained(self, lr: float, base_lr: float, epoch: int) -> float:
        return lr * self.gamma if epoch in self.milestones else lr


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: ``lr_0 * gamma**e``."""

    _hyper = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = check_number("ExponentialLR", "gamma", gamma, 0.0, math.inf)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** epoch

    def chained(self, lr: float, base_lr: float, epoch: int) -> float:
        return lr * self.gamma


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

    def chained(self, lr: float, base_lr: float, epoch: int) -> float:
        """PyTorch's recurrence: the ratio of successive cosine factors (the closed form's
        step from epoch − 1), with the same fix where the previous factor is 0."""
        t_max, low = self.T_max, self.eta_min
        if (epoch - 1 - t_max) % (2 * t_max) == 0:
            return lr + (base_lr - low) * (1.0 - math.cos(math.pi / t_max)) / 2.0
        ratio = (1.0 + math.cos(math.pi * epoch / t_max)) / \
            (1.0 + math.cos(math.pi * (epoch - 1) / t_max))
        return ratio * (lr - low) + low


class LambdaLR(LRScheduler):
    """The rate at epoch e is ``lr_0 * lr_lambda(e)`` for a function you give (warm-ups,
    custom decays). Its state_dict holds the epoch and rates, not the function."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        if not callable(lr_lambda):
            raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch, got "
                            f"{type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        factor = self.lr_lambda(epoch)
        if isinstance(factor, bool) or not isinstance(factor, (int, float, np.number)) \
                or not math.isfinite(factor):
            raise ValueError(f"LambdaLR: lr_lambda({epoch}) must return a finite number, got "
                             f"{factor!r}")
        return base_lr * float(factor)


class ReduceLROnPlateau:
    """Multiply every group's rate by ``factor`` when ``metric`` has not improved for
    ``patience`` epochs (``mode="min"`` for losses, ``"max"`` for accuracies).

    ``mode="auto"`` (the default) minimises unless ``monitor`` names an accuracy.
    Improvement means beating the best by more than ``threshold`` (relative, or absolute
    with ``threshold_mode="abs"``). After a reduction, ``cooldown`` epochs pass before
    counting again; rates never go below ``min_lr``, and a change smaller than ``eps``
    is skipped (PyTorch's floor, so the rate stops shrinking). Call ``sched.step(val_loss)`` once
    per epoch; in ``nv.fit`` callbacks it reads ``monitor`` from the epoch's logs.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "auto", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float = 0.0, eps: float = 1e-8,
                 monitor: str = "val_loss") -> None:
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name} expects a nerve.optim Optimizer, got "
                            f"{type(optimizer).__name__}")
        if mode not in ("min", "max", "auto"):
            raise ValueError(f"{name}: mode must be 'min', 'max' or 'auto', got {mode!r}")
        if not isinstance(monitor, str):
            raise TypeError(f"{name}: monitor must be a metric name, got {monitor!r}")
        if mode == "auto":  # as EarlyStopping: accuracies rise, losses fall
            mode = "max" if "acc" in monitor else "min"
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        self.optimizer, self.mode, self.threshold_mode = optimizer, mode, threshold_mode
        self.factor = check_number(name, "factor", factor, 0.0, 1.0, high_open=True)
        if self.factor == 0.0:
            raise ValueError(f"{name}: factor must be in (0, 1), got {factor}")
        self.patience = _check_int(name, "patience", patience, 0)
        self.threshold = check_number(name, "threshold", threshold, 0.0, math.inf)
        self.cooldown = _check_int(name, "cooldown", cooldown, 0)
        self.min_lr = check_number(name, "min_lr", min_lr, 0.0, math.inf)
        self.eps = check_number(name, "eps", eps, 0.0, math.inf)
        self.monitor = monitor
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [float(g["lr"]) for g in optimizer.param_groups]

    def _better(self, value: float) -> bool:
        best, t = self.best, self.threshold
        if self.mode == "min":
            return value < (best * (1 - t) if self.threshold_mode == "rel" else best - t)
        return value > (best * (1 + t) if self.threshold_mode == "rel" else best + t)

    def step(self, metric) -> None:
        """Record one epoch's ``metric``; reduce the rates if it has stalled."""
        value = getattr(metric, "item", lambda: metric)() if np.size(metric) == 1 else metric
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"ReduceLROnPlateau.step(metric) takes one number (the epoch's "
                            f"{self.monitor}), got {metric!r}")
        value = float(value)
        if math.isnan(value):
            raise ValueError("ReduceLROnPlateau.step: the metric is NaN")
        self.last_epoch += 1
        if self._better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group in self.optimizer.param_groups:
                old = float(group["lr"])
                new = max(old * self.factor, self.min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    #: Settings saved in the state dict, as PyTorch saves them (strings and numbers).
    _settings = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown",
                 "min_lr", "eps", "monitor")

    def state_dict(self) -> dict[str, Any]:
        """The counters, the best value, the last rates and the settings (a flat dict)."""
        sd = {"scheduler": "ReduceLROnPlateau", "best": self.best,
              "num_bad_epochs": self.num_bad_epochs,
              "cooldown_counter": self.cooldown_counter, "last_epoch": self.last_epoch,
              "last_lr": np.array(self._last_lr, dtype=np.float64)}
        sd.update({key: getattr(self, key) for key in self._settings})
        return sd

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s counters, best value, last rates and settings (a
        state dict from before the settings were saved restores the counters only)."""
        required = {"scheduler", "best", "num_bad_epochs", "cooldown_counter", "last_epoch"}
        full = required | {"last_lr", *self._settings}
        if not isinstance(state_dict, Mapping) or set(state_dict) not in (required, full):
            raise ValueError(f"ReduceLROnPlateau.load_state_dict expects keys "
                             f"{sorted(full)}")
        if "mode" in state_dict:  # checked as the constructor checks them
            settings = {}
            for key in self._settings:
                value = np.asarray(state_dict[key])
                settings[key] = str(value) if value.dtype.kind in "US" else value.item()
            checked = ReduceLROnPlateau(self.optimizer, **settings)
            for key in self._settings:
                setattr(self, key, getattr(checked, key))
            last_lr = np.asarray(state_dict["last_lr"], dtype=np.float64).ravel()
            if last_lr.size != len(self.optimizer.param_groups):
                raise ValueError(f"ReduceLROnPlateau.load_state_dict: {last_lr.size} last_lr "
                                 f"value(s) saved, the optimizer has "
                                 f"{len(self.optimizer.param_groups)} parameter group(s)")
            self._last_lr = last_lr.tolist()
        else:
            self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]
        self.best = float(np.asarray(state_dict["best"]))
        for key in ("num_bad_epochs", "cooldown_counter", "last_epoch"):
            setattr(self, key, int(np.asarray(state_dict[key])))
