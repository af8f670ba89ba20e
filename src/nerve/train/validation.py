"""Checks run before any training work: inputs, labels, the model's shapes, names.

Every check raises ``ValueError`` or ``TypeError`` with a message that says what
was wrong and what was expected, so a mistake never surfaces as a NumPy
traceback from deep inside a forward pass.
"""
from __future__ import annotations

import numbers
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from ..autograd import no_grad
from ..data._checks import first_non_finite, to_numpy
from ..tensor import Tensor

__all__ = [
    "check_positive_int", "check_features", "check_model", "model_dtype", "output_shape",
    "resolve_loss", "resolve_optimizer", "check_optimizer_holds_model", "loss_kind",
    "check_scores_for_loss", "Targets", "prepare_targets", "count_correct", "ignored_label",
    "check_batchnorm_batches", "takes_probabilities",
]


# ----------------------------------------------------------------------------- numbers
def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum`` or raise naming the argument."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


# ----------------------------------------------------------------------------- the model
def check_model(model: Any, trainable: bool = False) -> None:
    """Raise TypeError unless ``model`` is callable (and, if ``trainable``, has parameters)."""
    if not callable(model):
        raise TypeError(f"model must be a callable module (e.g. nn.Sequential), "
                        f"got {type(model).__name__}")
    if trainable and not callable(getattr(model, "parameters", None)):
        raise TypeError(f"model must be a callable module (e.g. nn.Sequential), got "
                        f"{type(model).__name__}; fit trains the module's parameters(), "
                        f"which a {type(model).__name__} does not have")


def model_dtype(model: Any) -> np.dtype:
    """The float dtype of the model's parameters (float32 for a model without any)."""
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    for p in params:
        data = getattr(p, "data", None)
        if isinstance(data, np.ndarray) and data.dtype.kind == "f":
            return data.dtype
    return np.dtype(np.float32)


def _iter_modules(model: Any) -> Iterator[Any]:
    """The model and its sub-modules, depth first in attribute order."""
    if hasattr(model, "modules") and callable(model.modules):
        yield from model.modules()
        return
    stack, seen = [model], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        children = []
        for value in vars(obj).values() if hasattr(obj, "__dict__") else ():
            items = value if isinstance(value, (list, tuple)) else [value]
            children.extend(v for v in items if hasattr(v, "forward"))
        stack.extend(reversed(children))


def module_modes(model: Any) -> list[tuple[Any, bool]]:
    """Every module's training flag (the model's own too), for :func:`restore_modes`."""
    return [(m, m.training) for m in _iter_modules(model)
            if isinstance(getattr(m, "training", None), bool)]


def restore_modes(modes: list[tuple[Any, bool]]) -> None:
    """Put each module back in the mode :func:`module_modes` found it in: one in eval mode
    inside a training model (a frozen BatchNorm, say) stays in eval mode."""
    for module, training in modes:
        module.training = training


#: The models inside :func:`eval_mode` now: ``id(model) -> [model, users, modes]``. An
#: entry lives only while some thread is inside (so an id is never reused meanwhile).
_in_eval: dict[int, list] = {}
_in_eval_lock = threading.Lock()


@contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """The body runs with ``model`` in eval mode; then every module gets its mode back.

    Safe from several threads on one model (``predict``, ``evaluate`` and fit's
    validation at once): the first to enter records the modes and switches to eval
    mode, the last to leave puts the modes back, so no thread's restore runs dropout in
    another's prediction, and the model never ends in a mode it was not in.
    """
    key = id(model)
    with _in_eval_lock:
        entry = _in_eval.get(key)
        if entry is not None and entry[0] is model:
            entry[1] += 1
        else:
            modes = module_modes(model)
            if hasattr(model, "eval") and (not modes or any(t for _, t in modes)):
                model.eval()
            _in_eval[key] = [model, 1, modes]
    try:
        yield
    finally:
        with _in_eval_lock:
            entry = _in_eval[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _in_eval[key]
                restore_modes(entry[2])


def check_batchnorm_batches(model: Any, n: int, batch_size: int) -> None:
    """Refuse, before any training, a split of ``n`` examples into batches of
    ``batch_size`` that leaves a batch of one example when the model has a BatchNorm1d
    layer: in training it cannot estimate a variance from one example, and fit would
    otherwise stop there mid-epoch, after the weights had already been updated."""
    from ..nn.batchnorm import BatchNorm1d

    if batch_size >= 2 and n % batch_size != 1:
        return
    layer = next((m for m in _iter_modules(model) if isinstance(m, BatchNorm1d)), None)
    if layer is None:
        return
    if n < 2:
        raise ValueError(f"the model has a BatchNorm1d layer, which needs at least 2 examples "
                         f"per batch in training, but X has only {n} example")
    if batch_size == 1:
        raise ValueError("the model has a BatchNorm1d layer, which needs at least 2 examples "
                         "per batch in training, but batch_size=1 gives batches of one "
                         "example; use batch_size >= 2")
    better = next(b for d in range(1, n + batch_size) for b in (batch_size - d, batch_size + d)
                  if b >= 2 and n % b != 1)
    raise ValueError(f"the model has a BatchNorm1d layer, which needs at least 2 examples per "
                     f"batch in training, but N={n} examples in batches of batch_size="
                     f"{batch_size} leave a last batch of 1 example ({n} = "
                     f"{n // batch_size}*{batch_size} + 1); choose another batch_size (one "
                     f"where N % batch_size != 1, e.g. {better}) or drop the last sample "
                     f"(X[:-1], y[:-1])")


def _in_features(model: Any) -> int | None:
    """``in_features`` of the first layer that declares it (a Linear), else None — also
    None after a reshaping layer (Flatten), whose input is not that Linear's."""
    from ..nn.flatten import Flatten

    for module in _iter_modules(model):
        if isinstance(module, Flatten):
            return None
        n = getattr(module, "in_features", None)
        if isinstance(n, numbers.Integral) and not isinstance(n, bool):
            return int(n)
    return None


def output_shape(model: Any, X: np.ndarray, name: str = "X") -> tuple[int, ...]:
    """Shape of the model's output for one sample, found by a forward pass on ``X[:1]``.

    Runs in eval mode under ``no_grad`` (no random draw, no running-statistics update),
    then puts the model back in the mode it was in.
    """
    check_model(model)
    n_in = _in_features(model)
    if n_in is not None and (X.ndim != 2 or X.shape[1] != n_in):
        hint = " (flatten it first: X.reshape(len(X), -1))" if X.ndim > 2 else ""
        raise ValueError(f"{name} must have shape (N, {n_in}) for this model, whose first "
                         f"layer takes {n_in} features; got shape {X.shape}{hint}")
    try:
        with eval_mode(model), no_grad():
            out = model(Tensor._wrap(X[:1]))
    except Exception as exc:  # noqa: BLE001 - re-raised with the shapes that matter
        raise ValueError(f"the model could not process {name} of shape {X.shape} "
                         f"(one sample of shape {X.shape[1:]}): {exc}") from exc
    data = getattr(out, "data", out)
    if not isinstance(data, np.ndarray) or data.ndim < 1 or len(data) != 1:
        raise TypeError(f"the model must return a tensor of shape (N, ...); for one sample "
                        f"it returned {type(out).__name__} of shape {np.shape(data)}")
    return tuple(data.shape[1:])


# ----------------------------------------------------------------------------- features
def check_features(X: Any, dtype: np.dtype, name: str = "X") -> np.ndarray:
    """Return ``X`` as an array of ``dtype`` of shape (N, ...), N >= 1, all finite."""
    if isinstance(X, Tensor):
        X = X.data
    X = to_numpy(X, name)
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {X.dtype}")
    _refuse_complex(X, name)
    if X.ndim < 2:
        raise ValueError(f"{name} must have shape (N, features), one row per sample; got "
                         f"shape {X.shape} (for a single feature use {name}.reshape(-1, 1), "
                         f"for a single sample {name}.reshape(1, -1))")
    if len(X) == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}); need at least one sample")
    X = _cast_in_range(X, dtype, name)
    found = first_non_finite(X)
    if found is not None:
        where = found[0]
        value = X[where]
        raise ValueError(f"{name} contains a non-finite value ({value}) at row {where[0]}, "
                         f"column {', '.join(map(str, where[1:]))}; remove or impute "
                         f"missing values first")
    return X


def _refuse_complex(a: np.ndarray, name: str) -> None:
    """Refuse complex data, as ``nv.tensor`` does: a cast to float would silently drop the
    imaginary part."""
    if a.dtype.kind == "c":
        raise TypeError(f"{name} has dtype {a.dtype}: complex data is not supported; nerve "
                        "computes in float32 or float64")


# ----------------------------------------------------------------------------- names
def resolve_loss(loss: Any) -> Callable[..., Tensor]:
    """A loss object for ``loss``: a callable ``(scores, targets) -> scalar Tensor`` or a name."""
    if isinstance(loss, str):
        from ..nn import get_loss
        return get_loss(loss.strip())
    if isinstance(loss, type):
        name = _qualified(loss, "nn")
        raise TypeError(f"loss must be an instance such as {name}(), got the class itself; "
                        f"write loss={name}() (or a name such as 'cross_entropy')")
    if loss is None or not callable(loss):
        raise TypeError(f"loss must be a loss module (e.g. nn.CrossEntropyLoss()) or a name "
                        f"such as 'cross_entropy', got {loss!r}")
    return loss


def resolve_optimizer(optimizer: Any, model: Any, lr: float | None) -> Any:
    """An optimizer for ``optimizer``: an object with ``step``/``zero_grad`` or a name.

    A name goes to :func:`nerve.optim.get_optimizer` over ``model.parameters()``;
    ``lr=None`` means 0.01 for the SGD family and the optimizer's own default otherwise.
    """
    if isinstance(optimizer, type):
        from ..optim import OPTIMIZERS
        name = _qualified(optimizer, "optim")
        by_name = optimizer.__name__.lower()
        by_name = by_name if by_name in OPTIMIZERS else "sgd"
        raise TypeError(f"optimizer must be an instance such as {name}(model.parameters(), "
                        f"lr=0.1), got the class itself; or give its name: "
                        f"optimizer={by_name!r}, lr=...")
    if isinstance(optimizer, str):
        from ..optim import get_optimizer
        kwargs: dict[str, Any] = {}
        if lr is not None:
            kwargs["lr"] = lr
        elif optimizer.strip().lower() in ("sgd", "momentum", "nesterov"):
            kwargs["lr"] = 0.01
        return get_optimizer(optimizer, model.parameters(), **kwargs)
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad")):
        raise TypeError(f"optimizer must be an optimizer (e.g. nerve.optim.SGD(model."
                        f"parameters(), lr=0.1)) or a name such as 'sgd', got {optimizer!r}")
    if lr is not None:
        raise TypeError("lr is only used with an optimizer given by name; set the learning "
                        "rate when building the optimizer object instead")
    return optimizer


def check_optimizer_holds_model(optimizer: Any, model: Any) -> None:
    """Raise ValueError if ``optimizer`` holds none of ``model``'s parameters.

    An optimizer built over another model's parameters would step those and leave
    this model untouched. Holding only some of them (the rest frozen on purpose) is
    fine. Optimizers without ``param_groups`` are not checked.
    """
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, (list, tuple)) or not groups:
        return
    try:
        held = {id(p) for group in groups for p in group["params"]}
    except (TypeError, KeyError):
        return
    own = list(model.parameters())
    if own and not any(id(p) in held for p in own):
        name = _qualified(type(optimizer), "optim")
        raise ValueError(f"the optimizer holds none of the model's parameters (it was built "
                         f"over another model's); build it with {name}(model.parameters(), "
                         f"...) for the model you pass to fit")


def _qualified(cls: type, package: str) -> str:
    """``nn.CrossEntropyLoss`` for a nerve class, the bare class name otherwise."""
    return (f"{package}.{cls.__name__}" if cls.__module__.startswith("nerve.")
            else cls.__name__)


def ignored_label(loss_fn: Any) -> int | None:
    """The label a cross-entropy loss ignores (its ``ignore_index``), else None."""
    from ..nn import CrossEntropyLoss

    return int(loss_fn.ignore_index) if isinstance(loss_fn, CrossEntropyLoss) else None


def loss_kind(loss_fn: Any) -> str:
    """What the loss expects as targets: 'index', 'logit', 'prob', 'regression' or 'other'."""
    name = type(loss_fn).__name__.lower()
    if "crossentropy" in name or "hinge" in name or "svm" in name or "softmax" in name:
        return "index"
    if "bcewithlogits" in name:
        return "logit"
    if "bce" in name:
        return "prob"
    if "mse" in name or "l2loss" in name or "l1loss" in name or "huber" in name:
        return "regression"
    return "other"


def check_scores_for_loss(loss: Any, kind: str, out_shape: tuple[int, ...]) -> None:
    """Raise if a classification loss (cross-entropy, hinge) gets fewer than 2 scores.

    With one score per example softmax gives probability 1 to it whatever the input,
    so the loss is 0 and nothing trains. ``loss`` is what the user passed (a name or
    an object), used in the message.
    """
    if kind != "index":
        return
    n_out = int(np.prod(out_shape)) if out_shape else 1
    if n_out < 2:
        name = loss.strip() if isinstance(loss, str) else type(loss).__name__
        raise ValueError(f"{name} needs at least 2 output scores per example, the model "
                         f"gives {n_out}; for a binary task use loss='bce_with_logits' with "
                         f"0/1 targets, or give the last layer one output per class")


# ----------------------------------------------------------------------------- targets
@dataclass
class Targets:
    """The targets handed to the loss, and how to score accuracy against them.

    ``accuracy`` is ``"argmax"`` (integer labels vs the highest score), ``"onehot"``
    (one-hot rows vs the highest score), ``"logit"`` / ``"prob"`` (0/1 targets vs a
    logit > 0 / a probability > 0.5), or ``None`` (regression: no accuracy).
    """

    values: np.ndarray
    accuracy: str | None
    ignore: int | None = None  # the label the loss ignores (cross-entropy's ignore_index)

    def counted(self, values: np.ndarray) -> int:
        """How many of ``values`` (a batch of these targets) count: not the ignored label."""
        if self.ignore is None:
            return len(values)
        return int(np.count_nonzero(values != self.ignore))


def _labels(y: np.ndarray, n_out: int, name: str, ignore: int | None = None) -> np.ndarray:
    """Integer class labels in [0, n_out) (or ``ignore``, the loss's ignore_index), checked."""
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of integer class labels, got shape "
                         f"{y.shape}")
    if y.dtype.kind == "f":
        found = first_non_finite(y)
        if found is not None:
            (i,), what = found
            raise ValueError(f"{name} contains {what} at row {i}; class labels must be "
                             f"integers in 0..{n_out - 1}")
        if np.any(y != np.round(y)):
            raise TypeError(f"{name} must hold integer class labels, got non-integer floats")
        huge = np.flatnonzero(np.abs(y) > 2.0 ** 53)  # int64 would garble these
        if huge.size:
            i = int(huge[0])
            raise _label_error(name, i, f"{y[i]:g}", n_out)
    elif y.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    labels = y.astype(np.int64)
    outside = (labels < 0) | (labels >= n_out)
    if ignore is not None:
        outside &= labels != ignore
    bad = np.flatnonzero(outside)
    if bad.size:
        i = int(bad[0])
        raise _label_error(name, i, str(labels[i]), n_out,
                           "; resize the last layer or fix the labels")
    return labels


def _label_error(name: str, i: int, shown: str, n_out: int, advice: str = "") -> ValueError:
    """The error for ``name[i]``, shown as ``shown``, outside the model's classes."""
    return ValueError(f"{name}[{i}] = {shown} is not a valid label for a model with {n_out} "
                      f"output{'s' if n_out != 1 else ''} (labels must be in 0..{n_out - 1})"
                      f"{advice}")


def takes_probabilities(loss_fn: Any) -> bool:
    """Whether a classification loss takes class-probability targets (N, C) beside labels:
    nerve's CrossEntropyLoss does (as PyTorch's); its other classification losses (hinge)
    do not; a loss of the user's (say a soft-target cross-entropy) is given them."""
    from ..nn import CrossEntropyLoss

    if isinstance(loss_fn, CrossEntropyLoss):
        return True
    return not type(loss_fn).__module__.startswith("nerve.")


def _probability_targets(y: np.ndarray, out_shape: tuple[int, ...], dtype: np.dtype,
                         name: str) -> Targets:
    """Class probabilities (N, C): one-hot rows (Keras's ``to_categorical``) or soft ones
    (label smoothing, mixup), checked finite and in [0, 1], scored argmax vs argmax."""
    if y.shape[1:] != out_shape:
        raise ValueError(f"{name} has shape {y.shape}: class-probability targets must have "
                         f"the model's output shape (N, {', '.join(map(str, out_shape))}) "
                         f"(one column per class), and integer labels shape (N,)")
    values = _cast_in_range(y, dtype, name) if y.dtype.kind == "f" else y.astype(dtype)
    found = first_non_finite(values)
    if found is not None:
        (i, *_), what = found
        raise ValueError(f"{name} contains {what} at row {i}; class-probability targets must "
                         f"be finite numbers in [0, 1]")
    outside = np.flatnonzero(((values < 0) | (values > 1)).any(axis=tuple(range(1, y.ndim))))
    if outside.size:
        i = int(outside[0])
        raise ValueError(f"{name} row {i} holds values from {values[i].min():g} to "
                         f"{values[i].max():g}; class-probability targets must be in [0, 1] "
                         f"(one-hot or soft rows; for integer labels pass shape (N,))")
    return Targets(values, "onehot")


def prepare_targets(y: Any, kind: str, out_shape: tuple[int, ...], dtype: np.dtype,
                    n: int, name: str = "y", ignore: int | None = None,
                    probabilities: bool = False) -> Targets:
    """Check ``y`` against the loss kind and the model's output shape; return the targets.

    ``n`` is the number of samples in X; ``out_shape`` the output shape of one sample;
    ``ignore`` a label the loss ignores (cross-entropy's ``ignore_index``), allowed in y.
    ``probabilities``: a classification loss that also takes class probabilities (N, C)
    (cross-entropy); y of that shape is then given to it as they are (float), and
    accuracy compares the highest score with the highest target.
    """
    if isinstance(y, Tensor):
        y = y.data
    y = np.asarray(y)
    if y.ndim == 0:
        raise ValueError(f"{name} must have one entry per sample, got a scalar")
    if len(y) != n:
        raise ValueError(f"X and {name} must have the same number of samples: X has {n}, "
                         f"{name} has {len(y)}")
    if y.dtype == object or not (np.issubdtype(y.dtype, np.number) or y.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {y.dtype}")
    _refuse_complex(y, name)
    n_out = int(np.prod(out_shape)) if out_shape else 1
    is_int = y.dtype.kind in "iub"
    if kind == "index" and probabilities and y.ndim >= 2 \
            and not (is_int and y.shape[1:] == (1,)):  # a column of labels: _labels says so
        return _probability_targets(y, out_shape, dtype, name)
    if kind == "index" and y.ndim == 2 and y.shape[1:] == out_shape and n_out > 1:
        raise ValueError(f"{name} has shape {y.shape}, class probabilities (one-hot rows), "
                         "which this loss does not take (cross-entropy does); pass integer "
                         f"class labels of shape (N,), e.g. {name}.argmax(axis=1)")
    if kind == "index" or (kind == "other" and is_int and y.ndim == 1 and n_out > 1):
        labels = _labels(y, n_out, name, ignore)
        present = ignore is not None and bool(np.any(labels == ignore))
        return Targets(labels, "argmax", ignore if present else None)
    if kind == "regression" and is_int and y.ndim == 1 and n_out > 1:
        labels = _labels(y, n_out, name)
        return Targets(np.eye(n_out, dtype=dtype)[labels], "onehot")
    if kind == "other":  # a loss of the user's: y goes to it as it is (NaN may mark a
        return Targets(y, None)  # missing target that the loss masks out)
    values = _cast_in_range(y, dtype, name)
    _check_finite(values, name)
    if values.ndim == 1 and out_shape == (1,):
        values = values.reshape(-1, 1)
    if values.shape[1:] != out_shape:
        raise ValueError(f"{name} has shape {y.shape} but the model outputs shape "
                         f"(N, {', '.join(map(str, out_shape))}); they must match")
    if kind in ("logit", "prob"):
        if np.any((values < 0) | (values > 1)):
            raise ValueError(f"{name} must hold targets in [0, 1] for a binary cross-entropy "
                             f"loss, got values from {values.min()} to {values.max()}")
        binary = bool(np.all((values == 0) | (values == 1)))
        return Targets(values, kind if binary else None)
    return Targets(values, None)


def _cast_in_range(a: np.ndarray, dtype: np.dtype, name: str) -> np.ndarray:
    """``a`` as ``dtype``; a finite value too large for it is an error naming the value
    (the cast would make it inf, then reported as if the data held inf). A value that is
    already inf or NaN is left for the non-finite check, which names its row and column."""
    if a.dtype == dtype:
        return a
    if a.dtype.kind == "f" and np.dtype(dtype).kind == "f" \
            and np.finfo(a.dtype).max > np.finfo(dtype).max and a.size:
        limit = float(np.finfo(dtype).max)
        where = _first_too_big(a, limit)
        if where is not None:
            raise ValueError(f"{name} holds {a[where]:g} at row {where[0]}, which does not fit "
                             f"in the model's {np.dtype(dtype).name} (largest {limit:g}); "
                             "rescale the data (nerve.data.standardize) or use a float64 "
                             "model (model.double())")
    return a.astype(dtype, copy=False)


#: Elements per chunk when :func:`_first_too_big` has to look value by value.
_CHUNK = 1 << 16


def _first_too_big(a: np.ndarray, limit: float) -> tuple[int, ...] | None:
    """The index of the first finite value of ``a`` with ``|value| > limit``, or None.

    The largest and smallest values (``fmax``/``fmin`` reductions skip NaN) settle the
    usual case without any array the size of ``a``; only when one of them is beyond the
    limit (a value too large, or an inf left for the non-finite check) is ``a`` searched,
    a chunk of rows at a time."""
    a = a if a.ndim else a.reshape(1)
    with np.errstate(invalid="ignore"):
        high, low = np.fmax.reduce(a, axis=None), np.fmin.reduce(a, axis=None)
    if -limit <= low and high <= limit:
        return None  # (all NaN also lands below: NaN compares False, and nothing is found)
    rows = max(1, _CHUNK // max(1, a[:1].size))
    for start in range(0, len(a), rows):
        part = a[start:start + rows]
        with np.errstate(invalid="ignore"):
            too_big = np.isfinite(part) & (np.abs(part) > limit)
        if too_big.any():
            first = np.argwhere(too_big)[0]
            return (start + int(first[0]), *(int(i) for i in first[1:]))
    return None


def _check_finite(values: np.ndarray, name: str) -> None:
    found = first_non_finite(values)
    if found is not None:
        raise ValueError(f"{name} contains a non-finite value at row {found[0][0]}")


def count_correct(scores: np.ndarray, targets: np.ndarray, how: str | None,
                  ignore: int | None = None) -> int:
    """Number of correct predictions in a batch (for 'logit'/'prob': of correct entries);
    labels equal to ``ignore`` (the loss's ignore_index) never count."""
    if how == "argmax":
        hits = scores.argmax(axis=1) == targets
        if ignore is not None:
            hits &= targets != ignore
        return int(np.count_nonzero(hits))
    if how == "onehot":
        return int(np.count_nonzero(scores.argmax(axis=1) == targets.argmax(axis=1)))
    if how == "logit":
        return int(np.count_nonzero((scores > 0) == (targets > 0.5)))
    if how == "prob":
        return int(np.count_nonzero((scores > 0.5) == (targets > 0.5)))
    return 0
