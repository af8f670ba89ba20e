"""Callbacks: code that runs at fixed points of :func:`nerve.fit`, with Keras's hook names.

The loop calls ``on_train_begin(logs)``, then per epoch ``on_epoch_begin(epoch, logs)``,
per minibatch ``on_batch_begin(batch, logs)`` / ``on_batch_end(batch, logs)`` and
Keras's ``on_train_batch_begin`` / ``on_train_batch_end`` (each one a callback defines,
once per batch), then ``on_epoch_end(epoch, logs)``, and finally ``on_train_end(logs)``.
``logs`` holds
``loss`` and ``accuracy`` (training, averaged over the epoch; per batch in the batch
hooks) and ``val_loss`` / ``val_accuracy`` when there is validation data. A callback
stops training after the current epoch by setting ``self.model.stop_training = True``,
and reaches the optimizer as ``self.optimizer`` (set before ``on_train_begin``; also
``self.params["optimizer"]``, and Keras's ``self.model.optimizer`` during the run).
"""
from __future__ import annotations

import math
import os
import string
import sys
from typing import Any, Callable

import numpy as np

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint", "LambdaCallback"]


class Callback:
    """Base class: override the hooks you need; ``self.model``, ``self.params`` and
    ``self.optimizer`` (the one fit trains with, also one it built from a name; unless
    the callback set an optimizer of its own there) are set before ``on_train_begin``."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}
        self.optimizer: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...


#: The hooks every callback must have (a duck-typed one without Keras's
#: ``on_train_batch_*`` names is still accepted).
_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_batch_begin", "on_batch_end")
#: Keras's names for the batch hooks (its primary ones; ``on_batch_*`` are its aliases).
_KERAS_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end")


class CallbackList:
    """Calls a hook on every callback in order; skips batch hooks nobody overrides."""

    def __init__(self, callbacks: list[Callback], model: Any, params: dict[str, Any],
                 optimizer: Any = None) -> None:
        check_callbacks(callbacks)
        for cb in callbacks:
            cb.set_model(model)
            cb.set_params(params)
            if optimizer is not None:
                _give_optimizer(cb, optimizer)
        self.callbacks = list(callbacks)
        # The batch hooks run thousands of times: call only those that do something, as
        # bound methods collected once. nerve's and Keras's names are both honoured.
        self._batch_begin = _batch_hooks(callbacks, "on_batch_begin", "on_train_batch_begin")
        self._batch_end = _batch_hooks(callbacks, "on_batch_end", "on_train_batch_end")

    @property
    def wants_batch_logs(self) -> bool:
        return bool(self._batch_end)

    def train_begin(self, logs: dict) -> None:
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def train_end(self, logs: dict) -> None:
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def epoch_begin(self, epoch: int, logs: dict) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def epoch_end(self, epoch: int, logs: dict) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def batch_begin(self, batch: int, logs: dict) -> None:
        for hook in self._batch_begin:
            hook(batch, logs)

    def batch_end(self, batch: int, logs: dict) -> None:
        for hook in self._batch_end:
            hook(batch, logs)


def _give_optimizer(cb: Any, optimizer: Any) -> None:
    """Set ``cb.optimizer`` to the optimizer fit trains with, unless the callback holds
    another one of its own there (one fit did not set)."""
    current = getattr(cb, "optimizer", None)
    if current is not None and current is not getattr(cb, "_optimizer_from_fit", None):
        return
    try:
        cb.optimizer = optimizer
        cb._optimizer_from_fit = optimizer
    except AttributeError:  # a duck-typed callback with fixed attributes
        pass


def _batch_hooks(callbacks: list[Any], nerve_name: str, keras_name: str) -> list[Callable]:
    """The bound batch hooks to call, in callback order: nerve's ``on_batch_*`` and Keras's
    ``on_train_batch_*`` where a callback overrides them; a callback that makes one name
    an alias of the other (``on_train_batch_end = on_batch_end``) gets one call, not two."""
    hooks = []
    for cb in callbacks:
        mine = [getattr(cb, name) for name in (nerve_name, keras_name) if _overrides(cb, name)]
        if len(mine) == 2 and mine[0] == mine[1]:
            mine = mine[:1]
        hooks.extend(mine)
    return hooks


def as_callback_list(callbacks: Any) -> list[Any]:
    """``callbacks`` as a checked list; None means none.

    A single callback, or a callback class, not wrapped in a list is refused with a
    message that shows how to wrap it.
    """
    if callbacks is None:
        return []
    if isinstance(callbacks, type) or _is_callback(callbacks):
        name = callbacks.__name__ if isinstance(callbacks, type) else type(callbacks).__name__
        raise TypeError(f"callbacks must be a list of Callback objects; wrap it: "
                        f"callbacks=[{name}(...)]")
    if isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        raise TypeError(f"callbacks must be a list of Callback objects, got "
                        f"{type(callbacks).__name__}")
    callbacks = [SchedulerStep(cb) if _is_scheduler(cb) else cb for cb in callbacks]
    check_callbacks(callbacks)
    return callbacks


def _is_scheduler(obj: Any) -> bool:
    from ..optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
    return isinstance(obj, (LRScheduler, ReduceLROnPlateau))


def check_monitors(callbacks: list[Any], has_validation: bool) -> None:
    """Refuse, before any training, a callback that will watch a ``val_`` metric when fit
    has no validation_data (it would fail at the end of the first epoch otherwise)."""
    if has_validation:
        return
    for i, cb in enumerate(callbacks):
        watcher = cb.scheduler if isinstance(cb, SchedulerStep) else cb
        monitor = getattr(watcher, "monitor", None)
        if isinstance(cb, ModelCheckpoint) and not cb.save_best_only:
            continue  # saves every epoch: the monitor is not read
        if isinstance(monitor, str) and monitor.startswith("val_"):
            raise ValueError(f"callbacks[{i}]: {type(watcher).__name__} monitors {monitor!r}, "
                             "which needs validation data: pass validation_data=(X_val, "
                             f"y_val) to fit, or monitor={monitor[4:]!r}")
    for i, cb in enumerate(callbacks):  # a path template that names a val_ metric
        if isinstance(cb, ModelCheckpoint):
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(cb.path) if f]
            except ValueError as exc:
                raise ValueError(f"callbacks[{i}]: the ModelCheckpoint path {cb.path!r} is not "
                                 f"a valid template ({exc}); write a literal brace as {{{{ or "
                                 "}}") from None
            wanted = [f for f in fields if f.split(".")[0].split("[")[0].startswith("val_")]
            if wanted:
                raise ValueError(f"callbacks[{i}]: the ModelCheckpoint path {cb.path!r} uses "
                                 f"{{{wanted[0]}}}, which needs validation data: pass "
                                 "validation_data=(X_val, y_val) to fit, or leave it out of "
                                 "the path")


def check_schedulers(callbacks: list[Any], optimizer: Any) -> None:
    """Refuse a scheduler built on another optimizer than the one fit trains with."""
    for i, cb in enumerate(callbacks):
        if isinstance(cb, SchedulerStep) and cb.scheduler.optimizer is not optimizer:
            raise ValueError(f"callbacks[{i}]: the {type(cb.scheduler).__name__} adjusts "
                             "another optimizer than the one fit trains with; build it on "
                             "the optimizer object you pass as fit(optimizer=...)")


def _is_callback(obj: Any) -> bool:
    return all(hasattr(obj, h) for h in _HOOKS + ("set_model", "set_params"))


def check_callbacks(callbacks: list[Any]) -> None:
    """Raise TypeError naming the first entry that is not a callback."""
    for i, cb in enumerate(callbacks):
        if isinstance(cb, type):
            raise TypeError(f"callbacks[{i}] must be an instance such as {cb.__name__}(...), "
                            f"got the class itself; write callbacks=[{cb.__name__}(...)]")
        if not _is_callback(cb):
            raise TypeError(f"callbacks[{i}] must be a nerve.train.Callback (with the hooks "
                            f"{', '.join(_HOOKS)}), got {type(cb).__name__}")


def _overrides(cb: Any, hook: str) -> bool:
    own = hook in getattr(cb, "__dict__", {})
    method = getattr(type(cb), hook, None)
    if method is None:
        return own and callable(getattr(cb, hook))
    return method is not getattr(Callback, hook) or own


def _better_fn(monitor: str, mode: str, min_delta: float, owner: str
               ) -> tuple[Callable[[float, float], bool], float]:
    """A comparison ``better(current, best)`` and the starting ``best`` for a mode."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if ("acc" in monitor or monitor.startswith("fmeasure")) else "min"
    if mode == "min":
        return (lambda cur, best: cur < best - min_delta), math.inf
    return (lambda cur, best: cur > best + min_delta), -math.inf


def _monitored(logs: dict | None, monitor: str, owner: str) -> float:
    if not logs or monitor not in logs:
        have = ", ".join(logs or {}) or "nothing"
        hint = " (pass validation_data to fit, or monitor 'loss')" if monitor.startswith(
            "val_") else ""
        raise ValueError(f"{owner} monitors {monitor!r}, which is not in the logs "
                         f"(available: {have}){hint}")
    return float(logs[monitor])


def _snapshot(model: Any) -> dict[str, np.ndarray]:
    return {k: np.array(getattr(v, "data", v), copy=True)
            for k, v in model.state_dict().items()}


class SchedulerStep(Callback):
    """Steps a learning-rate scheduler at each epoch's end inside ``fit`` (what a
    scheduler placed in ``callbacks`` becomes); ``ReduceLROnPlateau`` gets its
    ``monitor`` from the logs (``sched.get_last_lr()`` tells the current rate)."""

    def __init__(self, scheduler: Any) -> None:
        super().__init__()
        self.scheduler = scheduler

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        sched = self.scheduler
        if hasattr(sched, "monitor"):  # ReduceLROnPlateau
            sched.step(_monitored(logs, sched.monitor, "ReduceLROnPlateau"))
        else:
            sched.step()


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    ``mode="auto"`` minimises losses and maximises accuracies. With
    ``restore_best_weights=True`` the model ends with the weights of its best epoch.
    After training, ``stopped_epoch`` is the epoch it stopped at (0 if it never
    stopped), ``best`` the best value and ``best_epoch`` where it was reached.

    Both positional orders work: ``EarlyStopping(3, "val_loss")`` (patience first, as
    nerve's API documents) and Keras's ``EarlyStopping("val_loss", 3)``. ``patience``
    defaults to 5 and ``monitor`` to ``"val_loss"``.

    As in Keras, training stops at the end of the ``patience``-th epoch in a row
    without improvement (``patience=0`` stops at the first one, like ``patience=1``).
    Keras's other options: ``baseline``, a value the monitor must beat for an epoch to
    reset the patience (the best epoch is still tracked below it); ``start_from_epoch``,
    the epochs at the start that are not watched (a warm-up); ``verbose=1`` prints the
    epoch it stopped at.
    """

    def __init__(self, monitor: str = "val_loss", patience: int | None = None,
                 min_delta: float = 0.0, mode: str = "auto",
                 restore_best_weights: bool = False, baseline: float | None = None,
                 start_from_epoch: int = 0, verbose: int = 0) -> None:
        super().__init__()
        if isinstance(monitor, int) and not isinstance(monitor, bool):
            # nerve's documented order, EarlyStopping(patience, monitor), beside Keras's
            # EarlyStopping(monitor, patience): a whole number first is the patience.
            if patience is not None and not isinstance(patience, str):
                raise TypeError(f"EarlyStopping: got the patience twice ({monitor!r} and "
                                f"{patience!r}); write EarlyStopping(patience, monitor) or "
                                "EarlyStopping(monitor=..., patience=...)")
            monitor, patience = ("val_loss" if patience is None else patience), monitor
        if patience is None:
            patience = 5
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 0, got {patience!r}")
        if not isinstance(monitor, str):
            raise TypeError(f"EarlyStopping: monitor must be a metric name, got {monitor!r}")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = abs(float(min_delta))
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)
        self._better, self._start = _better_fn(monitor, mode, self.min_delta, "EarlyStopping")
        if baseline is not None and (isinstance(baseline, bool) or not isinstance(
                baseline, (int, float, np.number)) or not math.isfinite(baseline)):
            raise ValueError(f"EarlyStopping: baseline must be a finite number or None, "
                             f"got {baseline!r}")
        self.baseline = None if baseline is None else float(baseline)
        if isinstance(start_from_epoch, bool) or not isinstance(start_from_epoch, int) \
                or start_from_epoch < 0:
            raise ValueError(f"EarlyStopping: start_from_epoch must be an integer >= 0, got "
                             f"{start_from_epoch!r}")
        self.start_from_epoch = start_from_epoch
        self.verbose = verbose
        self.on_train_begin()

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self._start
        self.best_epoch = -1
        self.best_weights: dict[str, np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch < self.start_from_epoch:  # a warm-up epoch: not watched
            return
        current = _monitored(logs, self.monitor, "EarlyStopping")
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = _snapshot(self.model)
            # Keras's rule: an improving epoch never stops training, but only one that also
            # beats the baseline resets the patience.
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            else:
                self.wait += 1
            return
        self.wait += 1
        if self.wait >= self.patience:  # as Keras: stop after `patience` epochs without gain
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.verbose and self.stopped_epoch:  # an epoch > 0: the first always improves
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", file=sys.stderr)
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model to ``path`` after every epoch (or only when ``monitor`` improves).

    ``path`` may hold format fields filled from the epoch (1-based, as Keras) and
    the logs, e.g. ``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``. Saving goes through
    :func:`nerve.io.save` (architecture and weights, read back with ``nv.load``), or
    with ``save_weights_only=True`` (as Keras) through :func:`nerve.io.save_state` of
    ``model.state_dict()`` (read back with ``model.load_state_dict(nv.load_state(p))``),
    which works for any module, also a custom ``nn.Module`` subclass whose
    architecture cannot be written to a file. Both write atomically (never a
    half-written file). Whether the model can be saved the chosen way is checked when
    training begins, so a wrong choice fails before any epoch is trained.
    ``initial_value_threshold`` (Keras's) is the value to beat before the first save
    with ``save_best_only``: pass the best value of an interrupted run when resuming it,
    so its best file is not overwritten by a worse model.
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss",
                 save_best_only: bool = False, mode: str = "auto",
                 save_weights_only: bool = False,
                 initial_value_threshold: float | None = None) -> None:
        super().__init__()
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint: path must be a file path, got {path!r}")
        if os.path.isdir(path):
            raise ValueError(f"ModelCheckpoint: {os.fspath(path)!r} is a folder; give a file "
                             "name inside it, e.g. 'ckpt-{epoch:03d}.npz'")
        folder = os.path.dirname(os.path.abspath(os.fspath(path)))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"ModelCheckpoint: folder {folder!r} does not exist")
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        if not isinstance(save_weights_only, (bool, np.bool_)):
            raise TypeError(f"ModelCheckpoint: save_weights_only must be True or False, "
                            f"got {save_weights_only!r}")
        self.save_weights_only = bool(save_weights_only)
        self._better, self.best = _better_fn(monitor, mode, 0.0, "ModelCheckpoint")
        if initial_value_threshold is not None:  # Keras's: the best so far, e.g. on resume
            if isinstance(initial_value_threshold, bool) or not isinstance(
                    initial_value_threshold, (int, float, np.number)) \
                    or not np.isfinite(initial_value_threshold):
                raise ValueError(f"ModelCheckpoint: initial_value_threshold must be a finite "
                                 f"number, got {initial_value_threshold!r}")
            self.best = float(initial_value_threshold)
        self.saved: list[str] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Check, before any training, that the model can be saved the chosen way."""
        if self.path.lower().endswith(".safetensors"):
            from .._extras import require
            require("safetensors.numpy", "safetensors", "saving .safetensors files")
        if self.save_weights_only:
            from ..io import _state_arrays
            try:
                _state_arrays(self.model.state_dict())
            except (TypeError, ValueError) as exc:
                raise ValueError(f"ModelCheckpoint: cannot save the weights of "
                                 f"{type(self.model).__name__}: {exc}") from None
            return
        from ..nn.registry import to_config
        try:
            to_config(self.model)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"ModelCheckpoint({self.path!r}): cannot save the model with its "
                             f"architecture: {exc}. Pass save_weights_only=True to save only "
                             "model.state_dict() each time (load it back with "
                             "model.load_state_dict(nv.load_state(path)))") from None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not self._better(current, self.best):
                return
            self.best = current
        try:
            target = self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"ModelCheckpoint: cannot fill the path {self.path!r} from epoch "
                             f"and logs ({', '.join(logs)}): {exc}") from None
        from ..io import save, save_state
        if self.save_weights_only:
            save_state(self.model.state_dict(), target)
        else:
            save(self.model, target)
        self.saved.append(target)


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        super().__init__()
        for name, fn in hooks.items():
            if name not in _HOOKS + _KERAS_BATCH_HOOKS:
                raise ValueError(f"LambdaCallback: unknown hook {name!r}; valid: "
                                 f"{', '.join(_HOOKS + _KERAS_BATCH_HOOKS)}")
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {fn!r}")
            setattr(self, name, fn)
