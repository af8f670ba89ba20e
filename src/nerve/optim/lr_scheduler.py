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
    LambdaLR:           lr_e = lr_0 * lr_lambda(e)      (one function, or one per group)
    ConstantLR:         lr_e = lr_0 * factor for e < total_iters, lr_0 from then on
    LinearLR:           lr_e = lr_0 * (s + (f - s) * min(e, total_iters) / total_iters)
    OneCycleLR:         up from max_lr/div_factor to max_lr, then annealed down (per batch)
    SequentialLR:       schedulers[i] from milestones[i-1] on, restarted at its e = 0

:class:`ReduceLROnPlateau` instead watches a metric: ``sched.step(val_loss)``
multiplies the rate by ``factor`` after ``patience`` epochs without improvement.
In ``nv.fit`` any scheduler can go in ``callbacks``: it steps at each epoch's end
(ReduceLROnPlateau on its ``monitor``, ``val_loss`` by default).

The rates live in the optimizer (and its ``state_dict``); a scheduler's
``load_state_dict`` restores the schedule's position, never ``group["lr"]``. To resume,
build the optimizer and the schedulers as at the start, then ``load_state_dict`` the
optimizer and each scheduler (as in PyTorch). A scheduler built with ``last_epoch=K``
on an optimizer whose state was restored keeps the restored rates (PyTorch 2.13).

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

from .optimizer import Optimizer, check_flag, check_number

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
           "LambdaLR", "ConstantLR", "LinearLR", "SequentialLR", "OneCycleLR",
           "ReduceLROnPlateau"]

#: Stands for "no argument given" in ``step`` (so that a metric passed by mistake,
#: even None, gets a clear message).
_NOTHING = object()


def _check_int(owner: str, name: str, value: Any, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise TypeError(f"{owner}: {name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{owner}: {name} must be an integer >= {low}, got {value}")
    return int(value)


def _check_factor(owner: str, name: str, value: Any, zero_ok: bool) -> float:
    """A multiplicative factor in [0, 1] (``zero_ok``) or (0, 1]."""
    value = check_number(owner, name, value, 0.0, 1.0)
    if value == 0.0 and not zero_ok:
        raise ValueError(f"{owner}: {name} must be in (0, 1], got 0.0 (a rate multiplied by "
                         "0 could never be scaled back)")
    return value


def _check_optimizer(owner: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner} expects a nerve.optim Optimizer, got "
                        f"{type(optimizer).__name__}")


def _no_metric(owner: str, metric: Any) -> None:
    if metric is not _NOTHING:
        raise TypeError(f"{owner}.step() takes no argument (it moves the schedule on by one "
                        f"epoch), got {type(metric).__name__}; only ReduceLROnPlateau.step"
                        "(metric) takes the epoch's metric")


# The rates live in the optimizer and its state_dict, and a scheduler's load_state_dict
# leaves them there, in whichever order the optimizer and schedulers are built and loaded.
# Only a scheduler's constructor may have changed a restored rate (LinearLR, ConstantLR,
# LambdaLR, SequentialLR and OneCycleLR set theirs at epoch 0): such a change is undone.
# The optimizer's _loaded_lrs holds the rates to keep (restored, or set by hand since),
# _built_lrs the rates as the last constructor left them.
def _before_build(optimizer: Optimizer) -> None:
    """A scheduler is about to be built: a rate changed since the optimizer's load or the
    last constructor (by hand) is the one to keep."""
    loaded, built = optimizer._loaded_lrs, optimizer._built_lrs
    if loaded:
        for i, group in enumerate(optimizer.param_groups[:len(loaded)]):
            if group["lr"] != built[i]:
                loaded[i] = group["lr"]


def _after_build(optimizer: Optimizer) -> None:
    if optimizer._loaded_lrs:
        optimizer._built_lrs = [group["lr"] for group in optimizer.param_groups]


def _stepping(optimizer: Optimizer) -> None:
    """A scheduler steps: from now on the rates are the schedule's own."""
    if optimizer._loaded_lrs:
        optimizer._loaded_lrs = []


def _restore_rates(optimizer: Optimizer, last_lr: list[float]) -> None:
    """The rates after a scheduler's load_state_dict: the optimizer's (put back where a
    constructor changed them and nothing else did since), or, if its state was never
    loaded (only the scheduler is restored), this scheduler's last rates."""
    loaded, built = optimizer._loaded_lrs, optimizer._built_lrs
    if loaded is None:
        for group, lr in zip(optimizer.param_groups, last_lr):
            group["lr"] = lr
        return
    for group, lr, was in zip(optimizer.param_groups, loaded, built or ()):
        if group["lr"] == was:
            group["lr"] = lr


def _per_group(owner: str, name: str, value: Any, count: int) -> list[float]:
    """One number >= 0 per parameter group: a list, tuple or 1-D array of ``count`` of
    them, or one number (a 0-d array too, as PyTorch takes it) for every group."""
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim):
        if isinstance(value, np.ndarray) and value.ndim != 1:
            raise ValueError(f"{owner}: {name} must be one number or one per parameter "
                             f"group, got an array of shape {value.shape}")
        if len(value) != count:
            raise ValueError(f"{owner}: {name} lists {len(value)} value(s), the "
                             f"optimizer has {count} parameter group(s); give one per group "
                             "or a single number for all")
        return [check_number(owner, f"{name}[{i}]", v, 0.0, math.inf)
                for i, v in enumerate(value)]
    return [check_number(owner, name, value, 0.0, math.inf)] * count


#: Integer hyperparameters and their smallest values (checked again on load_state_dict).
_INT_HYPER = {"step_size": 1, "T_max": 1, "total_iters": 1, "total_steps": 1}


class LRScheduler:
    """Base class: subclasses define :meth:`lr_at` (the closed form at one epoch) and,
    for the chainable form, :meth:`chained` (the step from epoch e - 1 to e)."""

    #: Hyperparameters saved in ``state_dict`` besides the epoch and base rates.
    _hyper: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        _check_optimizer(name, optimizer)
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
        _before_build(optimizer)
        self._initial_step()
        _after_build(optimizer)

    def _initial_step(self) -> None:
        """The constructor's step: sets the rates of epoch ``last_epoch + 1``."""
        self._stepped = False
        self._advance()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The learning rate at ``epoch`` for a group that started at ``base_lr``."""
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The closed-form rates for the current epoch, one per parameter group."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    #: ``chained(lr, base_lr, epoch)``: the next rate from the group's current one, or
    #: None for a schedule that always sets its closed form (LambdaLR, as PyTorch's).
    chained = None

    def _initial_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        """The rate the constructor's step sets (PyTorch's ``_is_initial`` step); the
        chained step unless a schedule keeps the group's rate there."""
        return self.chained(lr, base_lr, epoch)

    def step(self, metric: Any = _NOTHING) -> None:
        """Advance one epoch and write the new rates into the optimizer's groups.

        After the first step the rate moves on from the group's *current* rate (PyTorch's
        chainable form), so a rate set by hand or by a second scheduler is kept and
        scaled, not overwritten; alone, a schedule follows its closed form (to rounding).
        """
        _no_metric(type(self).__name__, metric)
        _stepping(self.optimizer)
        self._advance()

    def _sync_groups(self) -> list[dict]:
        groups = self.optimizer.param_groups
        if len(groups) > len(self.base_lrs):  # add_param_group since: scheduled from now on
            for group in groups[len(self.base_lrs):]:
                self.base_lrs.append(float(group.setdefault("initial_lr", group["lr"])))
        return groups

    def _advance(self) -> None:
        self.last_epoch += 1
        groups = self._sync_groups()
        epoch = self.last_epoch
        if self.chained is None:
            lrs = self.get_lr()
        elif self._stepped:
            lrs = [self.chained(float(g["lr"]), base, epoch)
                   for g, base in zip(groups, self.base_lrs)]
        else:
            lrs = [self._initial_lr(float(g["lr"]), base, epoch)
                   for g, base in zip(groups, self.base_lrs)]
        self._set(groups, lrs)

    def _restart(self) -> None:
        """Set the closed form at epoch 0 (SequentialLR handing over at a milestone)."""
        self.last_epoch = 0
        groups = self._sync_groups()
        self._set(groups, self.get_lr())

    def _set(self, groups: list[dict], lrs: list[float]) -> None:
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
            value = getattr(self, key)
            sd[key] = np.array(value, dtype=np.float64) if isinstance(value, list) else value
        return sd

    def _check_hyper(self, where: str, key: str, value: Any) -> Any:
        """A hyperparameter read back by :meth:`load_state_dict`, checked as the
        constructor checks it."""
        if key in _INT_HYPER:
            return _check_int(where, key, value, _INT_HYPER[key])
        if key == "milestones":
            return tuple(_check_int(where, "a milestone", m, 1)
                         for m in (value if isinstance(value, tuple) else (value,)))
        return check_number(where, key, value, 0.0, math.inf)

    def _after_load(self) -> None:
        """Rebuild what depends on the hyperparameters (after load_state_dict)."""

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (also after ``np.load``).

        The position in the schedule: the rates themselves are restored by the
        optimizer's ``load_state_dict`` (as in PyTorch), so a rate that a second
        scheduler, ReduceLROnPlateau or a hand edit set after this scheduler's last step
        is kept, in whichever order the optimizer and schedulers are built and loaded.
        Only if the optimizer's state is not loaded at all do the groups get this
        scheduler's last rates. Nothing changes if the dict does not fit.
        """
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
            hyper[key] = self._check_hyper(where, key, value)
        last_epoch = np.asarray(state_dict["last_epoch"])
        if last_epoch.ndim or last_epoch.dtype.kind not in "iu":
            raise ValueError(f"{where}: last_epoch must be an integer, got {last_epoch!r}")
        last_epoch = _check_int(where, "last_epoch", last_epoch.item(), -1)
        for key, value in hyper.items():
            setattr(self, key, value)
        self._after_load()
        self.last_epoch = last_epoch
        self._stepped = True
        self.base_lrs = rates["base_lrs"]
        self._last_lr = rates["last_lr"]
        _restore_rates(self.optimizer, self._last_lr)


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
        return lr * self.gamma if epoch and epoch % self.step_size == 0 else lr


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

    def _initial_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        return lr  # built with last_epoch=K on a restored optimizer: keep its rate


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

    def _initial_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        return lr  # built with last_epoch=K on a restored optimizer: keep its rate


class LambdaLR(LRScheduler):
    """The rate at epoch e is ``lr_0 * lr_lambda(e)`` for a function you give (warm-ups,
    custom decays), or one function per parameter group (a list). Its state_dict holds
    the epoch and rates, not the functions."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        _check_optimizer("LambdaLR", optimizer)
        count = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != count:
                raise ValueError(f"LambdaLR: lr_lambda lists {len(lr_lambda)} function(s), "
                                 f"the optimizer has {count} parameter group(s); give one "
                                 "function per group, or a single one for all")
            for i, fn in enumerate(lr_lambda):
                if not callable(fn):
                    raise TypeError(f"LambdaLR: lr_lambda[{i}] must be a function of the "
                                    f"epoch, got {type(fn).__name__}")
            self.lr_lambdas = list(lr_lambda)
        elif callable(lr_lambda):
            self.lr_lambdas = [lr_lambda] * count
        else:
            raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch (or a list "
                            f"of them, one per parameter group), got "
                            f"{type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int, group: int = 0) -> float:
        factor = self.lr_lambdas[group](epoch)
        if isinstance(factor, bool) or not isinstance(factor, (int, float, np.number)) \
                or not math.isfinite(factor):
            where = f"lr_lambda[{group}]" if isinstance(self.lr_lambda, (list, tuple)) \
                else "lr_lambda"
            raise ValueError(f"LambdaLR: {where}({epoch}) must return a finite number, got "
                             f"{factor!r}")
        return base_lr * float(factor)

    def get_lr(self) -> list[float]:
        missing = len(self.base_lrs) - len(self.lr_lambdas)
        if missing > 0:  # add_param_group since
            if isinstance(self.lr_lambda, (list, tuple)):
                raise ValueError(f"LambdaLR: the optimizer now has {len(self.base_lrs)} "
                                 f"parameter groups, lr_lambda lists {len(self.lr_lambdas)} "
                                 "function(s) (one per group it had when built)")
            self.lr_lambdas += [self.lr_lambda] * missing
        return [self.lr_at(base, self.last_epoch, i) for i, base in enumerate(self.base_lrs)]


class ConstantLR(LRScheduler):
    """Multiply the starting rate by ``factor`` until epoch ``total_iters`` (a warm-up).

    ``lr_e = lr_0 * factor`` for ``e < total_iters``, ``lr_0`` from then on.
    """

    _hyper = ("factor", "total_iters")

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        self.factor = _check_factor("ConstantLR", "factor", factor, zero_ok=False)
        self.total_iters = _check_int("ConstantLR", "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * (self.factor + (epoch >= self.total_iters) * (1 - self.factor))

    def chained(self, lr: float, base_lr: float, epoch: int) -> float:
        if epoch == 0:
            return lr * self.factor
        if epoch != self.total_iters:
            return lr
        return lr * (1.0 / self.factor)

    def _check_hyper(self, where: str, key: str, value: Any) -> Any:
        if key == "factor":
            return _check_factor(where, key, value, zero_ok=False)
        return super()._check_hyper(where, key, value)


class LinearLR(LRScheduler):
    """Scale the starting rate by a factor going linearly from ``start_factor`` (s) to
    ``end_factor`` (f) over ``total_iters`` epochs (a linear warm-up or decay).

    ``lr_e = lr_0 * (s + (f - s) * min(e, total_iters) / total_iters)``.
    """

    _hyper = ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor = _check_factor("LinearLR", "start_factor", start_factor,
                                          zero_ok=False)
        self.end_factor = _check_factor("LinearLR", "end_factor", end_factor, zero_ok=True)
        self.total_iters = _check_int("LinearLR", "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                          * min(self.total_iters, epoch) / self.total_iters)

    def chained(self, lr: float, base_lr: float, epoch: int) -> float:
        """PyTorch's recurrence: the ratio of successive factors of the closed form."""
        start, end = self.start_factor, self.end_factor
        if epoch == 0:
            return lr * start
        if epoch > self.total_iters:
            return lr
        return lr * (1.0 + (end - start) / (self.total_iters * start + (epoch - 1) * (end - start)))

    def _initial_lr(self, lr: float, base_lr: float, epoch: int) -> float:
        # built with last_epoch=K on a restored optimizer: keep its rate
        return lr * self.start_factor if epoch == 0 else lr

    def _check_hyper(self, where: str, key: str, value: Any) -> Any:
        if key in ("start_factor", "end_factor"):
            return _check_factor(where, key, value, zero_ok=key == "end_factor")
        return super()._check_hyper(where, key, value)


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped once per *batch*: the rate rises from
    ``max_lr / div_factor`` to ``max_lr`` over ``pct_start * total_steps`` steps, then
    falls to ``max_lr / div_factor / final_div_factor`` by step ``total_steps - 1``
    (momentum, or Adam's beta1, goes the other way between ``max_momentum`` and
    ``base_momentum``). Within a phase running from a to b, at fraction p of it:
    ``cos``: ``b + (a - b) * (1 + cos(pi * p)) / 2``; ``linear``: ``a + (b - a) * p``.
    ``three_phase`` comes back down to ``max_lr / div_factor`` before the final fall.
    """

    _hyper = ("total_steps", "pct_start", "anneal_strategy", "cycle_momentum", "div_factor",
              "final_div_factor", "three_phase", "use_beta1", "max_lrs", "min_lrs",
              "max_momentums", "base_momentums")

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1) -> None:
        name = "OneCycleLR"
        _check_optimizer(name, optimizer)
        if total_steps is not None:
            total = _check_int(name, "total_steps", total_steps, 1)
        elif epochs is not None and steps_per_epoch is not None:
            total = _check_int(name, "epochs", epochs, 1) * \
                _check_int(name, "steps_per_epoch", steps_per_epoch, 1)
        else:
            raise ValueError(f"{name}: give total_steps, or epochs and steps_per_epoch "
                             "(then total_steps = epochs * steps_per_epoch)")
        self.total_steps = total
        self.pct_start = check_number(name, "pct_start", pct_start, 0.0, 1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{name}: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self.cycle_momentum = check_flag(name, "cycle_momentum", cycle_momentum)
        self.three_phase = check_flag(name, "three_phase", three_phase)
        self.div_factor = self._positive(name, "div_factor", div_factor)
        self.final_div_factor = self._positive(name, "final_div_factor", final_div_factor)
        count = len(optimizer.param_groups)
        self.max_lrs = _per_group(name, "max_lr", max_lr, count)
        self.max_momentums = _per_group(name, "max_momentum", max_momentum, count)
        self.base_momentums = _per_group(name, "base_momentum", base_momentum, count)
        self.min_lrs = [m / self.div_factor / self.final_div_factor for m in self.max_lrs]
        self.use_beta1 = "betas" in optimizer.defaults
        if self.cycle_momentum and "momentum" not in optimizer.defaults \
                and not self.use_beta1:
            raise ValueError(f"{name}: cycle_momentum=True needs an optimizer with momentum "
                             f"or betas, and {type(optimizer).__name__} has neither; pass "
                             "cycle_momentum=False")
        self._after_load()  # the phases (refuses one of no steps)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, self.max_lrs):
                group["initial_lr"] = top / self.div_factor
            if self.cycle_momentum:
                for group, top in zip(optimizer.param_groups, self.max_momentums):
                    self._set_momentum(group, top)
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _positive(owner: str, name: str, value: Any) -> float:
        value = check_number(owner, name, value, 0.0, math.inf)
        if value == 0.0:
            raise ValueError(f"{owner}: {name} must be > 0, got 0.0")
        return value

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _after_load(self) -> None:
        total, pct = self.total_steps, self.pct_start
        if self.three_phase:
            self._phases = [
                (float(pct * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct * total) - 2, "max_lr", "initial_lr", "base_momentum",
                 "max_momentum"),
                (total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._phases = [
                (float(pct * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        # A phase of no length that some step 0..total_steps would land in divides by 0.
        start, latest = 0.0, -math.inf
        for k, (end, *_) in enumerate(self._phases):
            # the first step past the earlier phases
            first = 0 if latest == -math.inf else max(0, math.floor(latest) + 1)
            last = k == len(self._phases) - 1
            if end == start and first <= total and (last or first <= end):
                raise ValueError(f"OneCycleLR: with total_steps={total}, pct_start={pct} and "
                                 f"three_phase={self.three_phase}, phase {k + 1} would have no "
                                 "steps; choose another pct_start")
            start, latest = end, max(latest, end)

    def _check_hyper(self, where: str, key: str, value: Any) -> Any:
        count = len(self.optimizer.param_groups)
        if key in ("max_lrs", "min_lrs", "max_momentums", "base_momentums"):
            return _per_group(where, key, list(value if isinstance(value, tuple)
                                                    else (value,)), count)
        if key == "pct_start":
            return check_number(where, key, value, 0.0, 1.0)
        if key in ("div_factor", "final_div_factor"):
            return self._positive(where, key, value)
        if key in ("cycle_momentum", "three_phase", "use_beta1"):
            return check_flag(where, key, value)
        if key == "anneal_strategy":
            if value not in ("cos", "linear"):
                raise ValueError(f"{where}: anneal_strategy must be 'cos' or 'linear', got "
                                 f"{value!r}")
            return value
        return super()._check_hyper(where, key, value)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, but total_steps is "
                             f"{self.total_steps}; step it once per batch and give the "
                             "number of batches of the whole run")
        groups = self.optimizer.param_groups
        if len(groups) > len(self.max_lrs):
            raise ValueError(f"OneCycleLR: the optimizer now has {len(groups)} parameter "
                             f"groups, the schedule was built for {len(self.max_lrs)}")
        lrs = []
        for i, group in enumerate(groups):
            values = {"initial_lr": self.base_lrs[i], "max_lr": self.max_lrs[i],
                      "min_lr": self.min_lrs[i], "max_momentum": self.max_momentums[i],
                      "base_momentum": self.base_momentums[i]}
            start = 0.0
            for k, (end, lr_a, lr_b, mom_a, mom_b) in enumerate(self._phases):
                if step <= end or k == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(values[lr_a], values[lr_b], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(values[mom_a], values[mom_b],
                                                               pct))
                    break
                start = end
        return lrs


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until epoch ``milestones[0]``, then ``schedulers[1]``
    (restarted at its epoch 0, in closed form) until ``milestones[1]``, and so on (a
    warm-up followed by a decay, say): epoch e is ``schedulers[i]``'s epoch
    ``e - milestones[i - 1]``, ``i`` = how many milestones are <= e.
    """

    def __init__(self, optimizer: Optimizer, schedulers, milestones,
                 last_epoch: int = -1) -> None:
        name = "SequentialLR"
        _check_optimizer(name, optimizer)
        if isinstance(schedulers, (str, bytes, Mapping)) or not hasattr(schedulers, "__iter__"):
            raise TypeError(f"{name}: schedulers must be a list of schedulers, got "
                            f"{type(schedulers).__name__}")
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{name} expects at least one scheduler, got none")
        for i, sched in enumerate(schedulers):
            if isinstance(sched, ReduceLROnPlateau):
                raise ValueError(f"{name}: schedulers[{i}] is a ReduceLROnPlateau, whose step "
                                 "needs the epoch's metric; step it on its own instead")
            if not isinstance(sched, LRScheduler):
                raise TypeError(f"{name}: schedulers[{i}] must be a nerve.optim scheduler, "
                                f"got {type(sched).__name__}")
            if isinstance(sched, SequentialLR):
                raise ValueError(f"{name}: schedulers[{i}] is a SequentialLR; list its "
                                 "schedulers in this one instead")
            if sched.optimizer is not optimizer:
                raise ValueError(f"{name}: schedulers[{i}] ({type(sched).__name__}) adjusts "
                                 "another optimizer; all must adjust this one")
        if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
            raise TypeError(f"{name}: milestones must be a list of epochs, got "
                            f"{type(milestones).__name__}")
        steps = [_check_int(name, "a milestone", m, 1) for m in milestones]
        if len(steps) != len(schedulers) - 1:
            raise ValueError(f"{name}: {len(schedulers)} scheduler(s) need "
                             f"{len(schedulers) - 1} milestone(s), got {len(steps)}")
        if steps != sorted(set(steps)):
            raise ValueError(f"{name}: milestones must increase, got {list(milestones)}")
        if _check_int(name, "last_epoch", last_epoch, -1) != -1:
            raise ValueError(f"{name}: last_epoch must be -1; to resume, build it as at the "
                             "start and call load_state_dict")
        self.optimizer = optimizer
        self._schedulers = schedulers
        self.milestones = tuple(steps)
        self.last_epoch = 0
        _before_build(optimizer)
        for group in optimizer.param_groups:  # undo what the schedulers' constructors did
            group["lr"] = group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [float(g["initial_lr"]) for g in optimizer.param_groups]
        for sched in schedulers:
            sched.last_epoch -= 1
        schedulers[0]._initial_step()  # only the first one starts at epoch 0
        _after_build(optimizer)
        self._stepped = True
        self._last_lr = schedulers[0].get_last_lr()

    @property
    def schedulers(self) -> list[LRScheduler]:
        """The schedulers, in the order they run."""
        return list(self._schedulers)

    def step(self, metric: Any = _NOTHING) -> None:
        """Advance one epoch: step the scheduler whose turn it is (restart it at a milestone)."""
        _no_metric("SequentialLR", metric)
        _stepping(self.optimizer)
        self.last_epoch += 1
        index = bisect.bisect_right(self.milestones, self.last_epoch)
        sched = self._schedulers[index]
        if index > 0 and self.milestones[index - 1] == self.last_epoch:
            sched._restart()
        else:
            sched._advance()
        self._last_lr = sched.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """Its epoch, milestones and last rates, and each scheduler's state under
        ``"schedulers.<i>.<key>"`` (a flat dict, savable with ``np.savez``)."""
        sd: dict[str, Any] = {"scheduler": "SequentialLR", "last_epoch": self.last_epoch,
                              "milestones": np.array(self.milestones, dtype=np.int64),
                              "last_lr": np.array(self._last_lr, dtype=np.float64)}
        for i, sched in enumerate(self._schedulers):
            for key, value in sched.state_dict().items():
                sd[f"schedulers.{i}.{key}"] = value
        return sd

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s epoch and each scheduler's state (nothing changes
        if the dict does not fit)."""
        where = "SequentialLR.load_state_dict"
        own = {"scheduler", "last_epoch", "milestones", "last_lr"}
        if not isinstance(state_dict, Mapping) or not own <= set(state_dict):
            raise ValueError(f"{where} expects keys {sorted(own)} and schedulers.<i>.<key>")
        if str(np.asarray(state_dict["scheduler"])) != "SequentialLR":
            raise ValueError(f"this state dict was saved from "
                             f"{np.asarray(state_dict['scheduler'])}, not SequentialLR")
        parts: list[dict[str, Any]] = [{} for _ in self._schedulers]
        for key in set(state_dict) - own:
            bits = key.split(".", 2)
            if len(bits) != 3 or bits[0] != "schedulers" or not bits[1].isdigit() \
                    or int(bits[1]) >= len(parts):
                raise ValueError(f"{where}: unexpected key {key!r} (this SequentialLR has "
                                 f"{len(parts)} scheduler(s))")
            parts[int(bits[1])][bits[2]] = state_dict[key]
        milestones = np.asarray(state_dict["milestones"]).ravel()
        if milestones.dtype.kind not in "iu" or milestones.tolist() != list(self.milestones):
            raise ValueError(f"{where}: the state dict's milestones {milestones.tolist()} are "
                             f"not this SequentialLR's {list(self.milestones)}")
        last_epoch = np.asarray(state_dict["last_epoch"])
        if last_epoch.ndim or last_epoch.dtype.kind not in "iu":
            raise ValueError(f"{where}: last_epoch must be an integer, got {last_epoch!r}")
        last_epoch = _check_int(where, "last_epoch", last_epoch.item(), 0)
        last_lr = np.asarray(state_dict["last_lr"], dtype=np.float64).ravel().tolist()
        if len(last_lr) != len(self.optimizer.param_groups):
            raise ValueError(f"{where}: {len(last_lr)} last_lr value(s) saved, the optimizer "
                             f"has {len(self.optimizer.param_groups)} parameter group(s)")
        saved = [dict(sched.__dict__) for sched in self._schedulers]
        try:
            for sched, part in zip(self._schedulers, parts):
                sched.load_state_dict(part)
        except (TypeError, ValueError):
            for sched, before in zip(self._schedulers, saved):
                sched.__dict__.clear()
                sched.__dict__.update(before)
            raise
        self.last_epoch = last_epoch
        self._last_lr = last_lr
        _restore_rates(self.optimizer, last_lr)


class ReduceLROnPlateau:
    """Multiply every group's rate by ``factor`` when ``metric`` has not improved for
    ``patience`` epochs (``mode="min"`` for losses, ``"max"`` for accuracies).

    ``mode="auto"`` (the default) minimises unless ``monitor`` names an accuracy.
    Improvement means beating the best by more than ``threshold`` (relative, or absolute
    with ``threshold_mode="abs"``). After a reduction, ``cooldown`` epochs pass before
    counting again; rates never go below ``min_lr`` (one number for every group, or a
    list of one per group, as PyTorch's; kept in ``min_lrs``), and a change smaller than
    ``eps`` is skipped (PyTorch's floor, so the rate stops shrinking). Call
    ``sched.step(val_loss)`` once per epoch; in ``nv.fit`` callbacks it reads
    ``monitor`` from the epoch's logs.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "auto", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0.0, eps: float = 1e-8,
                 monitor: str = "val_loss") -> None:
        name = "ReduceLROnPlateau"
        _check_optimizer(name, optimizer)
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
        count = len(optimizer.param_groups)
        self.min_lrs = _per_group(name, "min_lr", min_lr, count)
        per_group = isinstance(min_lr, (list, tuple)) or np.ndim(min_lr) != 0
        #: the one floor for every group (groups added later get it), or None for a list
        self._default_min_lr = None if per_group else self.min_lrs[0]
        self.min_lr = list(self.min_lrs) if per_group else self.min_lrs[0]
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

    def step(self, metric: Any = _NOTHING) -> None:
        """Record one epoch's ``metric``; reduce the rates if it has stalled."""
        if metric is _NOTHING:
            raise TypeError(f"ReduceLROnPlateau.step(metric) needs the epoch's metric (its "
                            f"{self.monitor}): call sched.step(val_loss); the other "
                            "schedulers' step() takes no argument")
        value = getattr(metric, "item", lambda: metric)() if np.size(metric) == 1 else metric
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"ReduceLROnPlateau.step(metric) takes one number (the epoch's "
                            f"{self.monitor}), got {metric!r}")
        value = float(value)
        if math.isnan(value):
            raise ValueError("ReduceLROnPlateau.step: the metric is NaN")
        _stepping(self.optimizer)
        self.last_epoch += 1
        if self._better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            groups = self.optimizer.param_groups
            if len(groups) != len(self.min_lrs):
                if self._default_min_lr is None:
                    raise ValueError(
                        f"ReduceLROnPlateau: the optimizer now has {len(groups)} parameter "
                        f"groups, min_lr lists {len(self.min_lrs)} (one per group when the "
                        "scheduler was built); set sched.min_lrs to one value per group")
                self.min_lrs = [self._default_min_lr] * len(groups)
            for group, floor in zip(groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, floor)
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
        floors = self.min_lrs
        if self._default_min_lr is None or any(m != self._default_min_lr for m in floors):
            sd["min_lr"] = np.array(floors, dtype=np.float64)  # one per group
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
                settings[key] = str(value) if value.dtype.kind in "US" else \
                    value.tolist() if value.ndim else value.item()  # min_lr: one per group
            checked = ReduceLROnPlateau(self.optimizer, **settings)
            for key in self._settings:
                setattr(self, key, getattr(checked, key))
            self.min_lrs, self._default_min_lr = checked.min_lrs, checked._default_min_lr
            last_lr = np.asarray(state_dict["last_lr"], dtype=np.float64).ravel()
            if last_lr.size != len(self.optimizer.param_groups):
                raise ValueError(f"ReduceLROnPlateau.load_state_dict: {last_lr.size} last_lr "
                                 f"value(s) saved, the optimizer has "
                                 f"{len(self.optimizer.param_groups)} parameter group(s)")
            self._last_lr = last_lr.tolist()
            _restore_rates(self.optimizer, self._last_lr)
        else:
            self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]
        self.best = float(np.asarray(state_dict["best"]))
        for key in ("num_bad_epochs", "cooldown_counter", "last_epoch"):
            setattr(self, key, int(np.asarray(state_dict[key])))
