"""The record of a training run: per-epoch metrics (Keras's ``History``) and per-step loss."""
from __future__ import annotations

import json
import math
import os
from typing import Any

from ..atomic import atomic_write_bytes, check_path, check_readable_file
from .callbacks import Callback

__all__ = ["History"]


class History(Callback):
    """Per-epoch metrics of a run, returned by :func:`nerve.fit`.

    ``history.history`` is a dict ``{"loss": [...], "accuracy": [...], "val_loss":
    [...], "val_accuracy": [...]}`` (one float per epoch; a key appears only when
    measured) and ``history.epoch`` the matching epoch indices (0-based, Keras's
    convention). ``history.iteration_loss`` holds the training loss of every
    minibatch step (the noisy curve of the lectures). The metric lists are also
    attributes: ``history.loss``, ``history.val_accuracy``... After ``fit``,
    ``history.optimizer`` is the optimizer it trained with (also one it built from a
    name such as "adam"), whose ``state_dict()`` a resume needs.

    >>> h = History(); h.on_epoch_end(0, {"loss": 0.5}); h.loss
    [0.5]
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.iteration_loss: list[float] = []
        self.params: dict[str, Any] = {}
        self.optimizer: Any = None

    # -- hooks ---------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        # A second fit with the same History continues it (as Keras does).
        pass

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(int(epoch))
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if logs and "loss" in logs:
            self.iteration_loss.append(float(logs["loss"]))

    # -- access --------------------------------------------------------------
    def __getattr__(self, name: str) -> list[float]:
        # Only reached when normal lookup fails: metric names read as lists.
        if name.startswith("_") or name in ("history", "epoch"):
            raise AttributeError(name)
        history = self.__dict__.get("history", {})
        if name in history:
            return history[name]
        if name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            return []
        raise AttributeError(f"History has no metric {name!r}; recorded: "
                             f"{', '.join(history) or 'none yet'}")

    def __getitem__(self, key: str) -> list[float]:
        try:
            return self.history[key]
        except (KeyError, TypeError):
            raise KeyError(self._missing(key)) from None

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def get(self, key: str, default: Any = None) -> Any:
        """The values of metric ``key``, or ``default`` if it was not recorded (as dict.get)."""
        return self.history.get(key, default)

    def _missing(self, key: Any) -> str:
        recorded = ", ".join(self.history) or "none yet"
        hint = ""
        if isinstance(key, str) and key.startswith("val_"):
            hint = f" (pass validation_data to fit to get {key})"
        return f"no metric {key!r} recorded; recorded: {recorded}{hint}"

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History(epochs={len(self.epoch)}{', ' + last if last else ''})"

    def best(self, monitor: str = "val_loss", mode: str = "auto") -> tuple[int, float]:
        """``(epoch, value)`` of the best epoch for ``monitor`` (min for losses, else max)."""
        if monitor not in self.history or not self.history[monitor]:
            raise KeyError(self._missing(monitor))
        values = self.history[monitor]
        lower = mode == "min" or (mode == "auto" and "acc" not in monitor)
        pick = min if lower else max
        i = pick(range(len(values)), key=values.__getitem__)
        return self.epoch[i], values[i]

    # -- files ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``history``, ``epoch``, ``iteration_loss``, ``params`` (without
        the ``"optimizer"`` entry fit puts in ``params``: it is ``self.optimizer``).

        Strict JSON has no infinities or NaN: NaN is written as ``null`` and
        ``inf``/``-inf`` as the strings ``"inf"``/``"-inf"``, which :meth:`load` reads
        back as they were (a run that diverged to inf does not come back as NaN).
        """
        return {
            "history": {k: [_encode(v) for v in vals] for k, vals in self.history.items()},
            "epoch": list(self.epoch),
            "iteration_loss": [_encode(v) for v in self.iteration_loss],
            "params": {k: v for k, v in self.params.items() if k != "optimizer"},
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as JSON to ``path`` (atomically)."""
        path = check_path(path)
        text = json.dumps(self.to_dict(), indent=2)
        atomic_write_bytes(path, (text + "\n").encode("utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "History":
        """Read a History written by :meth:`save`."""
        path = check_path(path)
        check_readable_file(path, f"no history file at {path!r}",
                            "a history file (the JSON that History.save writes)")
        try:
            with open(path, encoding="utf-8") as fh:
                raw = json.load(fh)
            h = cls()
            history = raw["history"]
            if not isinstance(history, dict):
                raise TypeError(f"'history' must be a dict of lists, got "
                                f"{type(history).__name__}")
            h.epoch = [_integer(e) for e in _as_list(raw["epoch"], "epoch")]
            for key, vals in history.items():
                values = [_decode(v) for v in _as_list(vals, key)]
                if len(values) > len(h.epoch):
                    raise ValueError(f"metric {key!r} has {len(values)} values for "
                                     f"{len(h.epoch)} epoch{'s' * (len(h.epoch) != 1)}")
                h.history[key] = values
            h.iteration_loss = [_decode(v) for v in
                                _as_list(raw.get("iteration_loss", []), "iteration_loss")]
            h.params = dict(raw.get("params", {}))
        except RecursionError:
            raise ValueError(f"{path!r} is not a nerve history file: its JSON is nested too "
                             "deeply") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path!r} is not a nerve history file: {exc}") from None
        return h


#: How :meth:`History.to_dict` writes the values strict JSON has no literal for.
_SPECIAL = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _encode(value: float) -> float | str | None:
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _decode(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, str) and value in _SPECIAL:
        return _SPECIAL[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, null, \"inf\" or \"-inf\", got {value!r:.40}")
    return float(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"epoch indices must be integers, got {value!r:.40}")
    return value


def _as_list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise TypeError(f"{what!r} must be a list, got {type(value).__name__}")
    return value
