"""Plots for the course: activations, training curves, decision boundaries, confusion
matrices and first-layer weights (matplotlib, the optional extra ``plot``).

Every function returns a :class:`matplotlib.figure.Figure` and, given ``path``,
also saves it there (the format follows the extension: .png, .svg, .pdf).
Figures are built with matplotlib's object API, not pyplot, so no window or
display is needed (rendering uses Agg) and no figure lingers in pyplot's
registry; in a notebook, a returned figure displays itself.
"""
from __future__ import annotations

import math
import os
from typing import Any, Sequence

import numpy as np

from ._extras import require

__all__ = [
    "plot_activations", "plot_history", "plot_decision_boundary", "plot_confusion_matrix",
    "plot_weights", "save_figure", "ACTIVATION_NAMES", "PLOT_PARAMS",
]

#: The elementwise activations drawn by :func:`plot_activations` by default.
ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "identity", "step")


def _figure(width: float, height: float) -> Any:
    figure = require("matplotlib.figure", "plot", "plotting")
    return figure.Figure(figsize=(width, height), layout="constrained")


def _out_path(path: Any) -> str | None:
    """``path`` as a str (None: do not save), checked before any drawing is done."""
    if path is None:
        return None
    from .atomic import check_path
    return check_path(path)


def _finish(fig: Any, path: str | None) -> Any:
    if path is not None:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"cannot save the plot to {path!r}: folder "
                                    f"{folder!r} does not exist")
        save_figure(fig, path, dpi=110)
    return fig


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 100) -> None:
    """``fig.savefig(path)`` atomically (:func:`nerve.atomic.atomic_path`): a failed save
    (a full disk, an unknown format) leaves the previous figure intact. The format
    follows the extension (.png, .svg, .pdf, ...); PNG when there is none."""
    from .atomic import atomic_path, check_path

    path = check_path(path)
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=ext or "png", dpi=dpi)


# ----------------------------------------------------------------------------- activations
#: Parameters :func:`plot_activations` draws with unless told otherwise: leaky ReLU's
#: α = 0.1 (the layer's default 0.01 is too flat to see next to ReLU).
PLOT_PARAMS = {"leaky_relu": {"alpha": 0.1}}

_SYMBOLS = {"alpha": "α"}


def _activation_params(names: Sequence[str], params: Any) -> dict[str, dict[str, Any]]:
    """Each name's keyword parameters: the function's own defaults, then PLOT_PARAMS, then
    the caller's ``params`` ({name: {parameter: value}}), checked against the signature."""
    import inspect
    from .nn import derivatives as D
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise TypeError("plot_activations: params must be a dict {name: {parameter: value}}, "
                        f"e.g. {{'leaky_relu': {{'alpha': 0.01}}}}; got {type(params).__name__}")
    stray = [k for k in params if k not in names]
    if stray:
        raise ValueError(f"plot_activations: params names {stray}, which is not drawn; "
                         f"the drawn activations are {list(names)}")
    chosen: dict[str, dict[str, Any]] = {}
    for name in names:
        signature = inspect.signature(D.FUNCTIONS[name]).parameters
        own = {k: v.default for k, v in signature.items() if k not in ("x", "axis")}
        given = params.get(name, {})
        if not isinstance(given, dict):
            raise TypeError(f"plot_activations: params[{name!r}] must be a dict of "
                            f"parameters, e.g. {{'alpha': 0.01}}; got {given!r}")
        unknown = [k for k in given if k not in own]
        if unknown:
            takes = ", ".join(own) or "no parameters"
            raise ValueError(f"plot_activations: {name} has no parameter {unknown[0]!r}; it "
                             f"takes {takes}")
        chosen[name] = {**own, **PLOT_PARAMS.get(name, {}), **given}
    return chosen


def plot_activations(names: Sequence[str] | None = None, x: np.ndarray | None = None,
                     path: str | os.PathLike | None = None,
                     params: dict[str, dict[str, Any]] | None = None) -> Any:
    """Each activation f(x) (left) beside its derivative f'(x) (right), one row per name.

    ``names`` default to :data:`ACTIVATION_NAMES` (any elementwise name of
    :mod:`nerve.nn.derivatives`, e.g. also ``"prelu"``); functions and derivatives are
    those of that module. ``params`` sets their parameters, e.g.
    ``{"leaky_relu": {"alpha": 0.01}, "prelu": {"a": 0.25}}``; unset ones keep the
    function's default, except leaky ReLU, drawn with α = 0.1 (:data:`PLOT_PARAMS`) so
    that the slope shows. Every parameter used is written on its row. ``x`` defaults
    to 401 points on [-5, 5].
    """
    path = _out_path(path)
    from .nn import derivatives as D
    names = list(ACTIVATION_NAMES if names is None else names)
    unknown = [n for n in names if n not in D.FUNCTIONS or n == "softmax"]
    if unknown or not names:
        valid = ", ".join(n for n in D.FUNCTIONS if n != "softmax")
        vector = [n for n in unknown if n in ("softmax", "maxout")]
        why = (f" ({' and '.join(vector)} map a vector to a vector, not a number to a "
               "number, so they have no f(x) curve; see nerve.nn.derivatives."
               "softmax_jacobian and maxout_prime)") if vector else ""
        raise ValueError(f"unknown activation(s) {unknown or names}; valid names: "
                         f"{valid}{why}")
    chosen = _activation_params(names, params)
    x = np.linspace(-5.0, 5.0, 401) if x is None else np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"x must be a 1-D array of at least 2 points, got shape {x.shape}")
    fig = _figure(7.0, 1.9 * len(names))
    axes = fig.subplots(len(names), 2, squeeze=False, sharex=True)
    for row, name in enumerate(names):
        kwargs = chosen[name]
        f, df = D.FUNCTIONS[name](x, **kwargs), D.DERIVATIVES[name](x, **kwargs)
        note = ", ".join(f"{_SYMBOLS.get(k, k)} = {np.format_float_positional(v, trim='-')}"
                         if np.ndim(v) == 0 else f"{_SYMBOLS.get(k, k)} = {np.asarray(v)}"
                         for k, v in kwargs.items())
        for ax, values, label, color in ((axes[row, 0], f, f"{name}(x)", "C0"),
                                         (axes[row, 1], df, f"{name}'(x)", "C3")):
            ax.axhline(0, color="0.8", lw=0.8)
            ax.axvline(0, color="0.8", lw=0.8)
            ax.plot(x, values, color=color, lw=2)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            if note:
                ax.text(0.03, 0.92, note, transform=ax.transAxes, va="top", ha="left",
                        fontsize=9, bbox={"boxstyle": "round,pad=0.2", "fc": "white",
                                          "ec": "0.7", "alpha": 0.9})
    axes[0, 0].set_title("activation f(x)")
    axes[0, 1].set_title("derivative f'(x)")
    axes[-1, 0].set_xlabel("x")
    axes[-1, 1].set_xlabel("x")
    return _finish(fig, path)


# ----------------------------------------------------------------------------- history
def _history_dict(history: Any) -> dict[str, list[float]]:
    raw = getattr(history, "history", history)
    if isinstance(raw, dict) and "history" in raw and isinstance(raw["history"], dict):
        raw = raw["history"]  # the dict of a history.json file
    if not isinstance(raw, dict) or "loss" not in raw:
        raise TypeError("history must be a nerve History or a dict with a 'loss' list, got "
                        f"{type(history).__name__}")
    return {k: [math.nan if v is None else float(v) for v in vals] for k, vals in raw.items()}


def plot_history(history: Any, path: str | os.PathLike | None = None) -> Any:
    """Training curves: loss (left) and accuracy (right, when recorded) per epoch,
    training and validation. ``history`` is a History, its ``.history`` dict, or
    the contents of a history.json file."""
    path = _out_path(path)
    h = _history_dict(history)
    ticker = require("matplotlib.ticker", "plot", "plotting")
    has_acc = "accuracy" in h or "val_accuracy" in h
    fig = _figure(10.0 if has_acc else 5.5, 3.8)
    axes = fig.subplots(1, 2 if has_acc else 1, squeeze=False)[0]
    panels = [("loss", axes[0])] + ([("accuracy", axes[1])] if has_acc else [])
    for metric, ax in panels:
        for key, label, style in ((metric, "train", "-"), (f"val_{metric}", "validation", "--")):
            if h.get(key):
                epochs = np.arange(1, len(h[key]) + 1)
                ax.plot(epochs, h[key], style, marker="o" if len(epochs) < 30 else None,
                        ms=3, label=label)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))  # whole epochs
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    return _finish(fig, path)


# ----------------------------------------------------------------------------- 2-D data
_ESTIMATOR_METHODS = ("predict", "decision_function", "predict_proba")


def _is_estimator(model: Any) -> bool:
    """A fitted classifier object (scikit-learn's protocol) rather than a nerve module."""
    from .nn import Module
    return not isinstance(model, Module) and any(
        callable(getattr(model, name, None)) for name in _ESTIMATOR_METHODS)


def _module_labels(model: Any, grid: np.ndarray) -> np.ndarray:
    """The class a nerve module gives each row, read from its last layer as ``nerve
    predict`` reads it: Sigmoid p > 0.5 (several columns: the most probable), Softmax,
    LogSoftmax and logits argmax (one column of logits: z > 0)."""
    from .train.outputs import labels_or_proba, output_kind
    from .train import predict
    scores = predict(model, grid)
    if scores.ndim != 2:
        raise ValueError(f"the model's output has shape {scores.shape}; "
                         "plot_decision_boundary expects one row of class scores per "
                         "point, shape (N, classes)")
    labels = labels_or_proba(scores, output_kind(model), proba=False)
    return scores.argmax(axis=1) if labels.ndim == 2 else labels  # multi-label sigmoid


def _estimator_labels(model: Any, grid: np.ndarray) -> np.ndarray:
    """The class an estimator gives each row: its own ``predict``, else the argmax of
    ``decision_function`` or ``predict_proba`` (one column / 1-D scores: score > 0 or
    p > 0.5 is the second class), mapped through ``classes_`` when it has them."""
    if callable(getattr(model, "predict", None)):
        return np.asarray(model.predict(grid))
    from .train.outputs import labels_or_proba
    method = "decision_function" if callable(getattr(model, "decision_function", None)) \
        else "predict_proba"
    scores = np.asarray(getattr(model, method)(grid), dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    # the CLI's rule: scores as logits; probabilities as a softmax's (one column: σ's)
    kind = "logits" if method == "decision_function" else \
        "sigmoid" if scores.shape[1] == 1 else "softmax"
    index = labels_or_proba(scores, kind, proba=False)
    classes = getattr(model, "classes_", None)
    return np.asarray(classes)[index] if classes is not None else index


def _is_index(labels: np.ndarray) -> bool:
    """Labels that are already colour indices: whole numbers >= 0."""
    if labels.dtype.kind == "b":
        return True
    if labels.dtype.kind in "iu":
        return labels.size == 0 or labels.min() >= 0
    if labels.dtype.kind == "f":
        return bool(np.all(np.isfinite(labels)) and np.all(labels == np.round(labels))
                    and (labels.size == 0 or labels.min() >= 0))
    return False


def _one_per_point(labels: Any, n: int, who: str = "") -> np.ndarray:
    """The model's labels of the ``n`` grid points, checked: one per point."""
    labels = np.asarray(labels)
    if labels.shape not in ((n,), (n, 1)):
        raise ValueError(f"{who}the model labelled {n} grid points with an array of shape "
                         f"{labels.shape}; expected one label per point, shape ({n},)")
    return labels


def _class_indices(y: np.ndarray, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """Labels ``y`` and predicted ``regions`` as colour indices 0..k-1, with the k labels.

    Whole numbers >= 0 are their own index (class 3 is always the 4th colour); any
    other labels (strings, −1/+1) are numbered in sorted order of all labels seen.
    """
    y, regions = np.asarray(y).ravel(), np.asarray(regions).ravel()
    if _is_index(y) and _is_index(regions):
        yi, ri = y.astype(np.int64), regions.astype(np.int64)
        k = int(max(yi.max(initial=0), ri.max(initial=0))) + 1
        return yi, ri, list(range(k))
    try:
        classes = np.unique(np.concatenate([y, regions]))
    except TypeError:  # labels of mixed kinds (numbers and strings) do not sort
        raise ValueError(f"the labels y ({y.dtype}) and the model's predictions "
                         f"({regions.dtype}) are of different kinds; give y in the "
                         "model's classes") from None
    return (np.searchsorted(classes, y), np.searchsorted(classes, regions),
            classes.tolist())


def plot_decision_boundary(model: Any, X: np.ndarray, y: np.ndarray,
                           path: str | os.PathLike | None = None, resolution: int = 200,
                           title: str | None = None) -> Any:
    """The regions a 2-D classifier assigns to each class, with the data (X (N, 2), y (N,)).

    The model labels a ``resolution`` × ``resolution`` grid covering the data with a
    margin, and each grid point is coloured by its class. ``model`` is

    * a nerve module (e.g. ``nn.Sequential``), read by its last layer as ``nerve
      predict`` reads it: Sigmoid → p > 0.5 (several columns: the most probable);
      Softmax, LogSoftmax or raw scores → argmax (one column of logits: z > 0);
    * or a fitted classifier with ``predict``, ``decision_function`` or
      ``predict_proba`` (as scikit-learn's ``DecisionBoundaryDisplay.from_estimator``):
      nerve's ``SoftmaxClassifier``/``SVMClassifier``, ``nerve.sklearn`` and
      scikit-learn estimators, perceptrons. Its own ``predict`` gives the regions;
      without one, the argmax of the scores (1-D scores: s > 0, or p > 0.5).

    Labels that are whole numbers >= 0 pick colour number label; other labels (strings,
    −1/+1) are numbered in sorted order and named in a legend.
    """
    path = _out_path(path)
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D points, X of shape (N, 2); got "
                         f"shape {X.shape}")
    if y.shape != (len(X),):
        raise ValueError(f"y must have shape ({len(X)},), got {y.shape}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    estimator = _is_estimator(model)
    if not estimator and not callable(model):
        raise TypeError("model must be a nerve module (e.g. nn.Sequential) or a fitted "
                        "classifier with predict, decision_function or predict_proba "
                        "(e.g. nerve.linear.SoftmaxClassifier, a scikit-learn estimator); "
                        f"got {type(model).__name__}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-3)
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    xx, yy = np.meshgrid(gx, gy)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
    labels = _estimator_labels(model, grid) if estimator else _module_labels(model, grid)
    y_index, regions, classes = _class_indices(y, _one_per_point(labels, len(grid)))
    k = len(classes)
    fig = _figure(5.5, 5.0)
    ax = fig.subplots()
    cmap = "tab10" if k <= 10 else "tab20"
    top = (10 if k <= 10 else 20) - 0.5
    ax.contourf(xx, yy, regions.reshape(xx.shape), levels=np.arange(k + 1) - 0.5, cmap=cmap,
                vmin=-0.5, vmax=top, alpha=0.35)
    points = ax.scatter(X[:, 0], X[:, 1], c=y_index, cmap=cmap, vmin=-0.5, vmax=top,
                        s=14, edgecolors="k", linewidths=0.4)
    if classes != list(range(k)) and k <= 20:  # labels that are not colour numbers
        colours = points.cmap(points.norm(np.arange(k)))
        for colour, name in zip(colours, classes):
            ax.scatter([], [], color=colour, edgecolors="k", linewidths=0.4, s=14,
                       label=str(name))
        ax.legend(title="class", loc="best", fontsize=8)
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title or "decision boundary")
    return _finish(fig, path)


# ----------------------------------------------------------------------------- confusion
def plot_confusion_matrix(y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None,
                          normalize: bool = False, path: str | os.PathLike | None = None
                          ) -> Any:
    """The confusion matrix C[i, j] = #(true i, predicted j) as a heat map with counts.

    ``normalize=True`` divides each row by its total (per-class recall on the diagonal).
    """
    path = _out_path(path)
    from .train.metrics import confusion_matrix
    if isinstance(class_names, (str, bytes, os.PathLike)):
        raise TypeError(f"plot_confusion_matrix: class_names must be a list of names, got "
                        f"{class_names!r}; to save the figure pass path={class_names!r}")
    k = None if class_names is None else len(class_names)
    try:
        cm = confusion_matrix(y_true, y_pred, k)
    except ValueError as exc:
        if k is None:
            raise
        raise ValueError(f"plot_confusion_matrix: class_names lists {k} names, so labels "
                         f"must be in 0..{k - 1}: {exc}") from None
    k = cm.shape[0]
    values = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    fig = _figure(1.0 + 0.5 * max(k, 6), 0.6 + 0.5 * max(k, 6))
    ax = fig.subplots()
    image = ax.imshow(values, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    names = [str(i) for i in range(k)] if class_names is None else list(class_names)
    ax.set_xticks(range(k), names, rotation=45 if k > 10 else 0)
    ax.set_yticks(range(k), names)
    if k <= 20:
        top = values.max() if values.size else 0
        for i in range(k):
            for j in range(k):
                text = f"{values[i, j]:.2f}" if normalize else str(int(values[i, j]))
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if values[i, j] > 0.6 * top else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(f"confusion matrix (accuracy {accuracy:.3f})")
    return _finish(fig, path)


# ----------------------------------------------------------------------------- weights
def _first_weight(model_or_weights: Any) -> np.ndarray:
    if isinstance(model_or_weights, np.ndarray):
        return model_or_weights
    if hasattr(model_or_weights, "named_parameters"):
        for _, p in model_or_weights.named_parameters():
            if p.data.ndim == 2:
                return p.data
        raise ValueError("the model has no weight matrix to draw")
    data = getattr(model_or_weights, "data", None)
    if isinstance(data, np.ndarray):
        return data
    raise TypeError(f"expected a model or a weight array, got {type(model_or_weights).__name__}")


def plot_weights(model_or_weights: Any, image_shape: tuple[int, ...] = (8, 8),
                 path: str | os.PathLike | None = None, max_units: int = 64) -> Any:
    """The first layer's weights, one image per hidden unit (the templates it learned).

    Takes a model (its first 2-D weight, shape (features, units) as ``nn.Linear``
    stores it) or a weight array of shape (units, features). Each unit's weights are
    reshaped to
    ``image_shape`` (e.g. (8, 8) for the digits, (32, 32, 3) for CIFAR-10) and
    scaled to its own min..max. At most ``max_units`` units are drawn.
    """
    path = _out_path(path)
    if isinstance(image_shape, (str, bytes, os.PathLike)):
        raise TypeError(f"plot_weights: image_shape must be a tuple such as (8, 8) or "
                        f"(32, 32, 3), got {image_shape!r}; to save the figure pass "
                        f"path={image_shape!r}")
    W = np.asarray(_first_weight(model_or_weights), dtype=np.float64)
    if not isinstance(model_or_weights, np.ndarray):
        W = W.T  # a model's Linear weight is (features, units): one unit per column
    shape = tuple(int(s) for s in image_shape)
    if W.ndim != 2 or W.shape[1] != int(np.prod(shape)):
        raise ValueError(f"weights of shape {W.shape} cannot be drawn as {shape} images: "
                         f"each row must have {int(np.prod(shape))} values")
    total = len(W)
    W = W[:max_units]
    n = len(W)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    # One mosaic image (CS231n's visualize_grid): units side by side, 1-pixel gaps.
    lo, hi = W.min(axis=1, keepdims=True), W.max(axis=1, keepdims=True)
    tiles = ((W - lo) / np.maximum(hi - lo, 1e-12)).reshape((n,) + shape)
    h, w = shape[0], shape[1]
    channels = shape[2:]
    mosaic = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1) + channels, 1.0)
    for i in range(n):
        r, c = divmod(i, cols)
        mosaic[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = tiles[i]
    fig = _figure(min(1.0 + 0.7 * cols, 12.0), min(1.0 + 0.7 * rows, 12.0))
    ax = fig.subplots()
    ax.imshow(mosaic, cmap=None if channels else "gray", interpolation="nearest")
    ax.axis("off")
    units = f"{n} units" if n == total else f"first {n} of {total} units"
    ax.set_title(f"first-layer weights: {units} as {'x'.join(map(str, shape))} images")
    return _finish(fig, path)
