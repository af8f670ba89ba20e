"""The training loop: :func:`fit`, :func:`evaluate`, :func:`predict`.

An *epoch* is one shuffled pass over the N training examples without
replacement, in ``ceil(N / batch_size)`` minibatches; an *iteration* is one
minibatch step: forward, loss, backward, optimizer step.
"""
from __future__ import annotations

import math
import types
import warnings
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import no_grad
from ..compile import CaptureError
from ..data._checks import check_bool
from ..data.loader import DataLoader
from ..random import manual_seed, using_generator
from ..tensor import Tensor
from .callbacks import (
    Callback, CallbackList, as_callback_list, check_monitors, check_schedulers,
)
from .averaging import LossAverage
from .history import History
from .progress import Progress
from .validation import (
    Targets, check_batchnorm_batches, check_features, check_model, check_optimizer_holds_model,
    check_positive_int, check_scores_for_loss, count_correct, ignored_label, loss_kind,
    eval_mode, model_dtype, module_modes, output_shape, prepare_targets, resolve_loss,
    resolve_optimizer, restore_modes, takes_probabilities,
)

__all__ = ["fit", "evaluate", "predict", "TrainingDivergedError"]


class TrainingDivergedError(ValueError):
    """The loss or a parameter became NaN or infinite during :func:`fit`.

    ``epoch`` and ``iteration`` (0-based, iteration counted over the whole run)
    say where; ``history`` holds the epochs completed before it happened.
    """

    def __init__(self, message: str, epoch: int, iteration: int, history: History) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.iteration = iteration
        self.history = history


def _advice(optimizer: Any) -> str:
    groups = getattr(optimizer, "param_groups", None)
    lr = f" (now {groups[0]['lr']:g})" if groups and "lr" in groups[0] else ""
    return (f"try a lower learning rate{lr}, gradient clipping (fit(..., clip_grad_norm=1.0)) "
            f"or standardising the inputs (nerve.data.standardize)")


def _loss_call_error(loss_fn: Any, exc: TypeError) -> TypeError:
    """The error for a loss that cannot be called as ``loss(scores, targets)``."""
    return TypeError(f"calling the loss {_describe(loss_fn)} as loss(scores, targets) failed: "
                     f"{exc}; a loss is called with the model's scores (a Tensor of shape "
                     f"(batch, outputs)) and the targets, and returns a scalar Tensor "
                     f"(e.g. nn.CrossEntropyLoss(), or a name such as 'cross_entropy')")


def _loss_value_error(loss_fn: Any, value: Any) -> TypeError:
    """The error for a loss that returned something other than a scalar Tensor."""
    if isinstance(value, Tensor):
        got = f"a Tensor of shape {np.shape(value.data)}"
        fix = " (reduce it, e.g. with .mean())"
    else:
        got, fix = type(value).__name__, ""
    return TypeError(f"loss returned {got}; a loss must return a scalar Tensor{fix} "
                     f"(the loss: {_describe(loss_fn)})")


def _split_off_validation(X: np.ndarray, y: Any, fraction: Any,
                          validation_data: Any) -> tuple[np.ndarray, Any, tuple]:
    """Keras's ``validation_split``: the last ``fraction`` of the samples, before shuffling,
    become the validation data; the rest is trained on."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.floating)) \
            or not 0.0 <= fraction < 1.0:
        raise ValueError(f"validation_split must be a fraction in [0, 1), got {fraction!r}")
    if validation_data is not None:
        raise ValueError("pass validation_data or validation_split, not both")
    split = int(math.floor(len(X) * (1.0 - float(fraction))))  # Keras's split point
    if split < 1 or split >= len(X):
        raise ValueError(f"validation_split={fraction} of {len(X)} samples leaves "
                         f"{split} to train on and {len(X) - split} to validate on; both "
                         "need at least one")
    y = np.asarray(y.data if isinstance(y, Tensor) else y)
    return X[:split], y[:split], (X[split:], y[split:])


def _penalty(regularizer: Callable[[], Any], dtype: np.dtype) -> Any:
    """``regularizer()``, checked: a scalar Tensor of the loss's dtype (or a number)."""
    value = regularizer()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if not isinstance(value, Tensor):
        raise TypeError(f"regularizer returned {type(value).__name__}; it must return the "
                        f"penalty as a scalar Tensor, e.g. 1e-4 * nerve.regularizers.l2("
                        f"model.parameters()) (the regularizer: {_describe(regularizer)})")
    if value.data.size != 1:
        raise TypeError(f"regularizer returned a Tensor of shape {value.data.shape}; it must "
                        f"return a scalar Tensor (sum it, e.g. with .sum()) (the regularizer: "
                        f"{_describe(regularizer)})")
    if value.data.dtype != dtype:
        raise TypeError(f"regularizer returned a {value.data.dtype} Tensor for a {dtype} "
                        f"model; compute the penalty from the model's parameters, or convert "
                        f"it (the regularizer: {_describe(regularizer)})")
    return value.reshape(()) if value.data.ndim else value


def _describe(obj: Any) -> str:
    """A short name for ``obj`` in a message: ``function <lambda>``, ``Linear(...)``."""
    if isinstance(obj, (types.FunctionType, types.MethodType, types.BuiltinFunctionType)):
        return f"function {obj.__name__}"
    text = repr(obj)
    return text if len(text) <= 80 else type(obj).__name__


def _check_validation(validation_data: Any, dtype: np.dtype, X: np.ndarray, kind: str,
                      out_shape: tuple[int, ...], ignore: int | None = None,
                      probabilities: bool = False) -> tuple[np.ndarray, Targets]:
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise TypeError("validation_data must be a pair (X_val, y_val), got "
                        f"{type(validation_data).__name__}")
    Xv = check_features(validation_data[0], dtype, name="validation X")
    if Xv.shape[1:] != X.shape[1:]:
        raise ValueError(f"validation X has samples of shape {Xv.shape[1:]} but X has "
                         f"{X.shape[1:]}; they must match")
    tv = prepare_targets(validation_data[1], kind, out_shape, dtype, len(Xv),
                         name="validation y", ignore=ignore, probabilities=probabilities)
    return Xv, tv


def _classes_of(targets: Targets) -> np.ndarray | None:
    """Each example's class (None for regression or several 0/1 targets per example)."""
    values, how = targets.values, targets.accuracy
    if how == "argmax":
        return values if targets.ignore is None else values[values != targets.ignore]
    if how == "onehot":
        return values.argmax(axis=1)
    if how in ("logit", "prob") and values.ndim == 2 and values.shape[1] == 1:
        return values[:, 0] > 0.5
    return None


def _warn_one_class_split(train: Targets, val: Targets, fraction: Any) -> None:
    """Warn when ``validation_split`` held out examples of one class only while the
    training part has several: data sorted by class (nerve's synthetic sets are grouped
    by class) gives a validation score of that one class."""
    held, kept = _classes_of(val), _classes_of(train)
    if held is None or kept is None or not len(held) or not len(kept):
        return
    first = held[0]
    if np.any(held != first) or not np.any(kept != first):
        return
    shown = int(first) if held.dtype.kind in "iub" else first
    warnings.warn(
        f"validation_split={fraction} holds out the last {len(held)} examples, which all "
        f"have class {shown}, while the training part has several classes: the data looks "
        "sorted by class, so val_loss and val_accuracy measure that one class only. Shuffle "
        "the data before splitting it, e.g. X_tr, X_val, y_tr, y_val = "
        f"nv.data.train_test_split(X, y, test_size={fraction}, seed=0) and fit(..., "
        "validation_data=(X_val, y_val)) (fit's shuffle=True shuffles only the training "
        "part, after the split)", UserWarning, stacklevel=3)


def fit(model: Any, X: Any, y: Any, *, loss: Any, optimizer: Any, epochs: int,
        batch_size: int, validation_data: tuple[Any, Any] | None = None,
        callbacks: Iterable[Callback] = (), progress: bool | str = True,
        seed: int | None = None, lr: float | None = None,
        regularizer: Callable[[], Tensor] | None = None,
        clip_grad_norm: float | None = None, shuffle: bool = True,
        compile: bool | str = "auto", initial_epoch: int = 0,  # noqa: A002
        validation_split: float = 0.0, verbose: int | str | None = None,
        **unsupported: Any) -> History:
    """Train ``model`` on ``(X, y)`` by minibatch gradient descent; return the :class:`History`.

    X: (N, D) features; y: (N,) integer labels for classification losses (for
    cross-entropy also class probabilities (N, C): one-hot rows, as Keras's
    ``to_categorical``, or soft ones; accuracy then compares the highest score with
    the highest target), or targets shaped like the model's output. ``loss`` is a
    loss module or a name ("cross_entropy", "hinge", "mse", ...); ``optimizer`` an
    optimizer or a name ("sgd", "adam", ...) built over ``model.parameters()`` with
    ``lr``. Every
    iteration minimises ``L = data_loss(model(X_batch), y_batch) + regularizer()``
    (``regularizer``, if given, returns the penalty ``λ·R(W)`` as a scalar tensor);
    the logged ``loss`` is that L over the epoch's batches, added up as ``evaluate``
    adds up its loss (the mean over the examples, weighted as the loss weights them;
    the sum for ``reduction="sum"``), so with the weights fixed it equals ``val_loss``
    on the same data. ``accuracy`` is measured on the same forward passes (no second
    pass), ``val_loss`` (with the regularizer's penalty, as ``loss``) and
    ``val_accuracy`` on ``validation_data`` in eval mode after each epoch.
    ``validation_split`` (Keras's) holds out that fraction of (X, y) as the
    validation data instead: the last samples, taken before any shuffling (a warning
    says when they are all of one class while the rest are not: sorted data).

    ``seed`` makes the run reproducible: it reseeds the library-wide generator
    (``nerve.manual_seed(seed)``), from which the shuffling and dropout masks are
    then drawn — in this thread from that generator for the whole run
    (:func:`nerve.random.using_generator`), so fits in several threads stay reproducible. ``progress``: True = a bar (tqdm, on a terminal) or a line per
    epoch on stderr; False = silent; it never changes the result. Keras's ``verbose``
    works too: 0 = silent, 1 or "auto" = the bar, 2 = a line per epoch.

    ``compile``: each iteration can run as a captured step (:func:`nerve.compile`):
    the same numbers, bitwise, with less overhead per step, for a Sequential of
    Linear layers and elementwise activations trained with cross-entropy (no
    ``regularizer`` or ``clip_grad_norm``; use the optimizer's ``weight_decay``).
    ``"auto"`` (the default, like Keras's ``jit_compile``) uses it where it applies
    and the eager graph elsewhere; ``True`` insists (an error names what is not
    supported); ``False`` always runs the eager graph.

    ``initial_epoch`` (as in Keras) resumes a run: epochs ``initial_epoch`` to
    ``epochs - 1`` are trained, and the history, callbacks, progress and error
    messages count epochs and iterations from the start of the whole run (so a
    ModelCheckpoint's ``{epoch}`` goes on where it stopped). Nothing is trained when
    ``initial_epoch >= epochs``.

    A loss that turns NaN/inf (checked every iteration) or a parameter that does
    (checked every epoch) raises :class:`TrainingDivergedError` naming the epoch and
    iteration. The model trains in train mode (a sub-module you put in eval mode inside
    a model in train mode, such as a frozen BatchNorm, stays so) and every module is put
    back in the mode it had. Callbacks run in the order given, then the History (so it
    records what they add to the logs); ``on_train_end`` gets the last epoch's logs.
    Each callback's ``optimizer`` (and ``params["optimizer"]``) is the optimizer fit
    trains with, set before ``on_train_begin``; during the run ``model.optimizer`` is it
    too (Keras's ``self.model.optimizer``) unless the model has an attribute of that
    name already; fit removes it again at the end.

    >>> history = nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1,
    ...                  epochs=10, batch_size=32)            # doctest: +SKIP
    >>> history.history["accuracy"][-1]                       # doctest: +SKIP
    """
    # ---- every check before any work --------------------------------------
    _refuse_unsupported(unsupported)
    if verbose is not None:
        progress = _verbose_to_progress(verbose)
    _check_arrays(X, y)
    epochs = check_positive_int("epochs", epochs)
    initial_epoch = check_positive_int("initial_epoch", initial_epoch, minimum=0)
    batch_size = check_positive_int("batch_size", batch_size)
    check_bool("shuffle", shuffle)
    if regularizer is not None and not callable(regularizer):
        raise TypeError(f"regularizer must be a function returning a scalar tensor, "
                        f"got {regularizer!r}")
    if clip_grad_norm is not None and not (
            isinstance(clip_grad_norm, (int, float, np.integer, np.floating))
            and not isinstance(clip_grad_norm, (bool, np.bool_))
            and 0 < clip_grad_norm < float("inf")):
        raise ValueError(f"clip_grad_norm must be a positive number or None, "
                         f"got {clip_grad_norm!r}")
    callbacks = as_callback_list(callbacks)
    check_model(model, trainable=True)
    loss_fn = resolve_loss(loss)
    # An optimizer object is checked now, before the data; a name is built after them.
    opt = None if isinstance(optimizer, str) else resolve_optimizer(optimizer, model, lr)
    reporter = Progress(progress)
    dtype = model_dtype(model)
    X = check_features(X, dtype)
    n_y = len(y) if hasattr(y, "__len__") else None
    if n_y is not None and n_y != len(X):
        raise ValueError(f"X and y must have the same number of samples: X has {len(X)}, "
                         f"y has {n_y}")
    if validation_split:
        X, y, validation_data = _split_off_validation(X, y, validation_split, validation_data)
    check_batchnorm_batches(model, len(X), batch_size)
    out_shape = output_shape(model, X)
    kind = loss_kind(loss_fn)
    check_scores_for_loss(loss, kind, out_shape)
    ignore = ignored_label(loss_fn)
    soft = takes_probabilities(loss_fn)
    targets = prepare_targets(y, kind, out_shape, dtype, len(X), ignore=ignore,
                              probabilities=soft)
    val = None
    if validation_data is not None:
        val = _check_validation(validation_data, dtype, X, kind, out_shape, ignore, soft)
        if validation_split:
            _warn_one_class_split(targets, val[1], validation_split)
    if opt is None:
        opt = resolve_optimizer(optimizer, model, lr)
    else:
        check_optimizer_holds_model(opt, model)
    check_schedulers(callbacks, opt)
    check_monitors(callbacks, val is not None)
    if targets.ignore is not None and compile in (True, "auto"):  # ignored labels: eager
        if compile is True:
            raise ValueError(f"fit(compile=True): y holds the ignored label {ignore} "
                             "(ignore_index), which the captured step does not skip; use "
                             "compile='auto' or False")
        compile = False  # noqa: A001
    if kind == "index" and targets.values.ndim != 1 and compile in (True, "auto"):
        if compile is True:  # class probabilities: the captured step takes labels only
            raise ValueError("fit(compile=True): y holds class probabilities (N, C), which "
                             "the captured step does not take (it takes integer labels); "
                             "use compile='auto' or False")
        compile = False  # noqa: A001
    captured = _captured_step(compile, model, loss_fn, opt, regularizer, clip_grad_norm)
    # seed: the library-wide generator is reseeded (as before), and this thread draws from
    # that very generator for the whole run even if another thread reseeds meanwhile
    own_rng = using_generator(manual_seed(seed)) if seed is not None else None

    # ---- the loop ----------------------------------------------------------
    loader = DataLoader(X, targets.values, batch_size=batch_size, shuffle=bool(shuffle))
    steps = len(loader)
    history = callbacks[0] if callbacks and isinstance(callbacks[0], History) else History()
    params = {"epochs": epochs, "initial_epoch": initial_epoch, "batch_size": batch_size,
              "steps": steps, "samples": len(X), "seed": seed, "optimizer": opt}
    history.params = dict(params)
    history.optimizer = opt  # the one fit built from a name too: save its state_dict to resume
    # History last, as Keras: it records what the other callbacks added to the logs too.
    cbs = CallbackList([cb for cb in callbacks if cb is not history] + [history], model, params,
                       optimizer=opt)
    parameters = list(model.parameters())
    per_sample = int(np.prod(out_shape)) if targets.accuracy in ("logit", "prob") else 1
    modes = module_modes(model)  # put back at the end, module by module
    if not getattr(model, "training", True):
        model.train()
    train_modes = module_modes(model)  # a module the user keeps in eval mode stays so
    model.stop_training = False
    logs: dict = {}
    iteration = initial_epoch * steps  # counted over the whole run, as the epochs are
    reporter.start(epochs, initial_epoch)
    lent = _lend_optimizer(model, opt)  # Keras's self.model.optimizer, for the run only
    if own_rng is not None:
        own_rng.__enter__()

    def wind_down() -> None:
        """Leave the model, the progress display and the generator as before the run."""
        reporter.close()
        restore_modes(modes)
        if lent:
            _take_back_optimizer(model, opt)
        if own_rng is not None:
            own_rng.__exit__(None, None, None)

    try:
        cbs.train_begin({})
    except BaseException:  # a callback refused to start: leave the model as it was
        wind_down()
        raise
    # Overflow on the way to a NaN is reported by the divergence check below, with advice,
    # rather than as NumPy RuntimeWarnings.
    errstate = np.errstate(over="ignore", invalid="ignore")
    errstate.__enter__()
    try:
        for epoch in range(initial_epoch, epochs):
            restore_modes(train_modes)  # validation ran in eval mode
            cbs.epoch_begin(epoch, {})
            average = LossAverage(loss_fn)
            correct, counted = 0, 0
            for batch, (xb, tb) in enumerate(loader):
                cbs.batch_begin(batch, {"batch": batch, "size": len(xb)})
                n_counted = len(xb) if targets.ignore is None else targets.counted(tb)
                if n_counted == 0:  # every label ignored: no loss to take a step on
                    if cbs.wants_batch_logs:
                        cbs.batch_end(batch, {"batch": batch, "size": len(xb)})
                    iteration += 1
                    continue
                penalty_value = 0.0
                if captured is not None:
                    try:
                        value = captured(xb, tb)  # updates only when the loss is finite
                        score_data = captured.scores
                    except CaptureError:
                        if compile is True:
                            raise
                        # frozen, hooked or changed since fit began: the eager graph from now
                        captured = None
                if captured is None:
                    scores = model(Tensor._wrap(xb))
                    try:
                        L = loss_fn(scores, tb)
                    except TypeError as exc:
                        raise _loss_call_error(loss_fn, exc) from exc
                    if not isinstance(L, Tensor):
                        raise _loss_value_error(loss_fn, L)
                    if regularizer is not None:
                        penalty = _penalty(regularizer, L.data.dtype)
                        L = L + penalty
                        penalty_value = float(getattr(penalty, "data", penalty))
                    try:
                        value = float(L.data)
                    except TypeError:  # not a single number: the loss was not reduced
                        raise _loss_value_error(loss_fn, L) from None
                    score_data = scores.data
                if not math.isfinite(value):  # before the step: NaN never reaches the weights
                    raise TrainingDivergedError(
                        f"training diverged: the loss became {value} at epoch {epoch + 1}/"
                        f"{epochs}, iteration {batch + 1}/{steps} of that epoch ({iteration + 1}"
                        f" overall); {_advice(opt)}", epoch, iteration, history)
                if captured is None:
                    opt.zero_grad()
                    L.backward()
                    if clip_grad_norm is not None:
                        from ..optim import clip_grad_norm_
                        clip_grad_norm_(parameters, clip_grad_norm)
                    opt.step()
                n = len(xb)
                average.add(value, average.share(tb, n_counted), penalty_value)
                counted += n_counted
                hits = 0
                if targets.accuracy is not None:
                    hits = count_correct(score_data, tb, targets.accuracy, targets.ignore)
                    correct += hits
                if cbs.wants_batch_logs:
                    blogs = {"batch": batch, "size": n, "loss": value}
                    if targets.accuracy is not None:
                        blogs["accuracy"] = hits / (n_counted * per_sample)
                    cbs.batch_end(batch, blogs)
                iteration += 1
            _check_parameters(model, epoch, epochs, iteration, opt, history)
            epoch_loss = average.result()
            logs = {"loss": epoch_loss} if epoch_loss is not None else {}
            if targets.accuracy is not None and counted:
                logs["accuracy"] = correct / (counted * per_sample)
            if val is not None:
                vl, va = _score(model, val[0], val[1], loss_fn, max(batch_size, 256))
                if regularizer is not None:  # as in the training loss (and Keras's val_loss)
                    with no_grad():
                        penalty = _penalty(regularizer, dtype)
                    vl += float(getattr(penalty, "data", penalty))
                logs["val_loss"] = vl
                if va is not None:
                    logs["val_accuracy"] = va
            reporter.epoch_end(epoch, logs)
            cbs.epoch_end(epoch, logs)
            if getattr(model, "stop_training", False):
                break
        cbs.train_end(dict(logs))  # the last epoch's logs, as Keras
    finally:
        errstate.__exit__(None, None, None)
        wind_down()
    return history


def _lend_optimizer(model: Any, opt: Any) -> bool:
    """Set ``model.optimizer = opt`` for the run (Keras's callbacks read
    ``self.model.optimizer``), unless the model has an attribute of that name already
    (a sub-module, or one the user set): True if it was set."""
    try:
        if hasattr(model, "optimizer"):
            return False
        model.optimizer = opt
    except (AttributeError, TypeError):  # a model that takes no new attribute
        return False
    return True


def _take_back_optimizer(model: Any, opt: Any) -> None:
    """Remove the ``model.optimizer`` :func:`_lend_optimizer` set (if still that one)."""
    if getattr(model, "__dict__", {}).get("optimizer") is opt:
        try:
            del model.optimizer
        except AttributeError:
            pass


#: Keras's fit arguments nerve does not take, with what to use instead.
_KERAS_ONLY = {
    "class_weight": "weight the classes in the loss: loss=nn.CrossEntropyLoss(weight=w), "
                    "w an array of one weight per class",
    "sample_weight": "weight the classes in the loss (nn.CrossEntropyLoss(weight=...)), or "
                     "repeat or drop samples in X and y",
    "metrics": "classification losses log 'accuracy' by themselves; compute other metrics "
               "from nerve.predict(model, X) (nerve.train.metrics has accuracy and "
               "confusion_matrix)",
    "validation_freq": "validation runs after every epoch",
    "steps_per_epoch": "an epoch is one pass over X; pass fewer samples for shorter epochs",
    "x": "pass X positionally: fit(model, X, y, ...)",
}


def _refuse_unsupported(unsupported: dict) -> None:
    """Refuse arguments fit does not take, naming nerve's way for Keras's ones."""
    for name in unsupported:
        hint = _KERAS_ONLY.get(name)
        if hint is not None:
            raise TypeError(f"fit() does not take {name}= (a Keras argument); {hint}")
        raise TypeError(f"fit() got an unexpected keyword argument {name!r}")


def _verbose_to_progress(verbose: Any) -> bool | str:
    """Keras's ``verbose`` as fit's ``progress``: 0 silent, 1/"auto" a bar, 2 lines."""
    table = {0: False, 1: True, 2: "lines", "auto": True}
    if isinstance(verbose, bool) or verbose not in table:
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto' (Keras's), got {verbose!r}")
    return table[verbose]


def _check_arrays(X: Any, y: Any) -> None:
    """Refuse a dataset or loader where arrays belong, and a missing y, saying what to pass."""
    from ..data.dataset import Subset, TensorDataset

    for name, value in (("X", X), ("y", y)):
        if isinstance(value, (DataLoader, TensorDataset, Subset)):
            kind = type(value).__name__
            raise TypeError(f"fit takes the arrays themselves, got a {kind} as {name}: pass "
                            "X and y (for a TensorDataset ds: fit(model, *ds.arrays, ...)); "
                            "fit shuffles and batches them itself (shuffle=, batch_size=)")
    if y is None:
        raise TypeError("fit needs the targets: fit(model, X, y, ...), y holding one label "
                        "(or target row) per sample of X")


def _captured_step(compile: bool | str, model: Any, loss_fn: Any, opt: Any,  # noqa: A002
                   regularizer: Any, clip_grad_norm: Any) -> Any:
    """The CompiledStep fit runs, or None for the eager graph (see fit's ``compile``)."""
    if compile is False:
        return None
    if compile is not True and compile != "auto":
        raise ValueError(f"compile must be True, False or 'auto', got {compile!r}")
    from ..compile import CompiledStep

    if regularizer is not None or clip_grad_norm is not None:
        if compile == "auto":
            return None
        raise ValueError("fit(compile=True) does not support regularizer or "
                         "clip_grad_norm; use the optimizer's weight_decay, or compile=False")
    try:
        return CompiledStep(model, loss_fn, opt)
    except ValueError:
        if compile == "auto":
            return None
        raise


def _check_parameters(model: Any, epoch: int, epochs: int, iteration: int, opt: Any,
                      history: History) -> None:
    """Raise if any parameter holds NaN or inf (once per epoch: one pass over the weights)."""
    for name, p in model.named_parameters():
        data = p.data
        if not np.isfinite(data).all():
            raise TrainingDivergedError(
                f"training diverged: parameter {name!r} holds NaN or inf after epoch "
                f"{epoch + 1}/{epochs} (iteration {iteration}); {_advice(opt)}",
                epoch, iteration, history)


def _batched_outputs(model: Any, X: np.ndarray, batch_size: int) -> Iterable[tuple[slice,
                                                                                   np.ndarray]]:
    for start in range(0, len(X), batch_size):
        index = slice(start, start + batch_size)
        yield index, model(Tensor._wrap(X[index])).data


def _score(model: Any, X: np.ndarray, targets: Targets, loss_fn: Any | None,
           batch_size: int) -> tuple[float | None, float | None]:
    """Loss and accuracy over (X, targets), in eval mode, without a graph.

    The loss adds up over the batches as :class:`~nerve.train.averaging.LossAverage`
    says: the mean over the examples (PyTorch's weighted mean for a cross-entropy with
    class weights), or the sum over all of them for ``reduction="sum"``; ``batch_size``
    only sets the memory used (the result differs at most by float rounding).
    """
    average = LossAverage(loss_fn) if loss_fn is not None else None
    correct, counted = 0, 0
    with eval_mode(model), no_grad():
        for index, scores in _batched_outputs(model, X, batch_size):
            tb = targets.values[index]
            n_counted = targets.counted(tb)
            counted += n_counted
            if average is not None:
                share = average.share(tb, n_counted)
                if share > 0:
                    average.add(float(loss_fn(Tensor._wrap(scores), tb).data), share)
            if targets.accuracy is not None:
                correct += count_correct(scores, tb, targets.accuracy, targets.ignore)
    loss_value = None
    if average is not None:
        loss_value = average.result()
        if loss_value is None:
            raise ValueError("every label here is ignored or has class weight 0: the loss's "
                             "mean over these examples is undefined")
    accuracy = correct / targets.values.size if targets.accuracy in ("logit", "prob") \
        else (correct / counted if counted else math.nan) \
        if targets.accuracy is not None else None
    return loss_value, accuracy


def evaluate(model: Any, X: Any, y: Any, loss: Any = None, batch_size: int = 1024
             ) -> dict[str, float]:
    """Loss and accuracy of ``model`` on ``(X, y)``, in eval mode, without a graph.

    Returns ``{"loss": ..., "accuracy": ...}``; "loss" only when ``loss`` is given
    (a module or a name), "accuracy" only for classification. Without a loss, y
    must be integer class labels (the prediction is the highest score; with one
    output column, a logit > 0) or class probabilities (N, C) such as one-hot rows
    (then the highest score is compared with the highest target), which a
    cross-entropy loss takes too. "loss" is the mean over the examples, or the sum
    over all of them for a loss with ``reduction="sum"``; ``batch_size`` only sets
    how many examples go through the model at once (the result differs at most by
    float rounding).
    """
    batch_size = check_positive_int("batch_size", batch_size)
    loss_fn = resolve_loss(loss) if loss is not None else None
    dtype = model_dtype(model)
    X = check_features(X, dtype)
    out_shape = output_shape(model, X)
    if loss_fn is not None:
        kind = loss_kind(loss_fn)
        check_scores_for_loss(loss, kind, out_shape)
        soft = takes_probabilities(loss_fn)
    else:
        kind = "logit" if out_shape == (1,) else "index"
        y_arr = np.asarray(getattr(y, "data", y))
        # one-hot or soft rows of the output's shape: accuracy is argmax vs argmax
        soft = kind == "index" and y_arr.ndim >= 2 and y_arr.shape[1:] == out_shape
        if not soft and y_arr.dtype.kind == "f" and not np.all(y_arr == np.round(y_arr)):
            raise ValueError("evaluate without a loss measures classification accuracy and "
                             "needs integer labels y (or class probabilities of the model's "
                             "output shape); pass loss= (e.g. 'mse') for regression")
    targets = prepare_targets(y, kind, out_shape, dtype, len(X),
                              ignore=ignored_label(loss_fn) if loss_fn is not None else None,
                              probabilities=soft)
    loss_value, accuracy = _score(model, X, targets, loss_fn, batch_size)
    result: dict[str, float] = {}
    if loss_value is not None:
        result["loss"] = loss_value
    if accuracy is not None:
        result["accuracy"] = accuracy
    return result


def predict(model: Any, X: Any, batch_size: int = 1024) -> np.ndarray:
    """The model's outputs for X (N, D) as a NumPy array (N, ...), in eval mode, batched.

    These are the raw scores (logits); ``predict(model, X).argmax(axis=1)`` gives
    class labels. The model is put back in the mode it was in.
    """
    batch_size = check_positive_int("batch_size", batch_size)
    X = check_features(X, model_dtype(model))
    output_shape(model, X)
    with eval_mode(model), no_grad():
        parts = [scores for _, scores in _batched_outputs(model, X, batch_size)]
    return np.concatenate(parts, axis=0)
