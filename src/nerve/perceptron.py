"""The perceptron: a linear threshold unit and the learning rule that trains it.

A unit with weights w and bias b outputs

    y_hat = step(w . x + b),   step(z) = 1 if z > 0 else 0

(the convention at z = 0 is 0: a point exactly on the boundary is negative).
Rosenblatt's rule nudges the weights after every example,

    w <- w + lr * (y - y_hat) * x,   b <- b + lr * (y - y_hat),

which changes nothing when the prediction is right and, when the classes are
linearly separable, stops after finitely many mistakes. XOR is not separable:
one unit cannot learn it, but three hand-weighted units can (NAND and OR
feeding AND, :func:`xor_network`), and so can one unit on the expanded
features [x1, x2, x1*x2] (:class:`KernelPerceptron`).

>>> import numpy as np
>>> from nerve.perceptron import AND, xor_network
>>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
>>> AND(X), xor_network(X)
(array([0, 0, 0, 1]), array([0, 1, 1, 0]))
>>> AND(1, 1), AND(1, 0)        # or one argument per input
(1, 0)
"""
from __future__ import annotations

import warnings
from itertools import combinations
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from nerve._extras import require
from nerve.random import get_rng

__all__ = [
    "Gate", "AND", "OR", "NAND", "NOR", "GATES", "xor_network",
    "ConvergenceWarning", "Perceptron", "KernelPerceptron", "kernel_perceptron", "expand_features",
    "plot_decision_boundary",
]


# --------------------------------------------------------------------------- validation
def _numbers(X: Any, who: str) -> np.ndarray:
    """X as a NumPy array of numbers (or bools); a TypeError naming ``who`` otherwise."""
    try:
        X = np.asarray(X)
    except Exception:  # ragged lists and other non-arrays
        X = np.asarray(None)
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"{who}: X must be an array of numbers with equal-length rows, got "
                        + (f"dtype {X.dtype}" if X.dtype != object else "a ragged or "
                           "non-numeric sequence"))
    if X.dtype.kind == "c":
        raise TypeError(f"{who}: X has dtype {X.dtype}: complex data is not supported; "
                        "nerve computes in float32 or float64")
    return X


def _as_matrix(X: Any, who: str) -> np.ndarray:
    """X as a finite float (N, D) array; raise naming ``who`` and what was wrong otherwise."""
    X = _numbers(X, who)
    if X.ndim != 2:
        raise ValueError(f"{who}: X must have shape (N, D), got {X.shape}")
    X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{who}: X contains NaN or infinite values")
    return X


def _as_inputs(X: Any, n_inputs: int, who: str) -> np.ndarray:
    """X as a float (N, n_inputs) array; one sample of shape (n_inputs,) becomes (1, n_inputs)."""
    X = _numbers(X, who)
    if X.ndim == 1 and X.shape[0] == n_inputs:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != n_inputs:
        raise ValueError(f"{who}: X must have shape (N, {n_inputs}), got {X.shape}")
    return _as_matrix(X, who)


def _as_labels(y: Any, n: int, who: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (n,):
        raise ValueError(f"{who}: y must have shape ({n},) to match X, got {y.shape}")
    if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():  # not complex, str, object
        raise ValueError(f"{who}: y must hold the labels 0 and 1, got values {np.unique(y)[:5]}")
    return y.astype(np.int64)


def _format_boundary(bias: float, weights: np.ndarray, names: Sequence[str]) -> str:
    """'b + w1*x1 + w2*x2 = 0' with signs folded in, e.g. '-1.5 + 1*x1 + 1*x2 = 0'."""
    text = f"{bias:.4g}"
    for w, name in zip(weights, names):
        sign = "-" if w < 0 else "+"
        text += f" {sign} {abs(w):.4g}*{name}"
    return text + " = 0"


# --------------------------------------------------------------------------- threshold unit
class _ThresholdUnit:
    """What every linear threshold unit shares: z = X @ w + b, y_hat = [z > 0]."""

    _n_inputs: int
    _w: np.ndarray
    _b: float

    @property
    def n_inputs(self) -> int:
        """Number of raw inputs D that X must have, (N, D)."""
        return self._n_inputs

    @property
    def weights(self) -> np.ndarray:
        """The weight vector w, shape (n_inputs,) (a copy)."""
        return self._w.copy()

    @property
    def bias(self) -> float:
        """The bias b (the threshold is -b)."""
        return float(self._b)

    def _features(self, X: Any, who: str) -> np.ndarray:
        return _as_inputs(X, self.n_inputs, who)

    def _who(self, method: str) -> str:
        """'AND.predict' for a gate, 'Perceptron.predict' for a perceptron: for error messages."""
        return f"{getattr(self, 'name', type(self).__name__)}.{method}"

    def _feature_names(self) -> list[str]:
        return [f"x{i + 1}" for i in range(self.n_inputs)]

    def decision_function(self, X: Any) -> np.ndarray:
        """The pre-activation z = X @ w + b, shape (N,); X is (N, n_inputs).

        Computed in the weights' dtype, as during training.
        """
        return self._decision(X, self._who("decision_function"))

    def _decision(self, X: Any, who: str) -> np.ndarray:
        features = self._features(X, who).astype(self._w.dtype, copy=False)
        return features @ self._w + self._w.dtype.type(self._b)

    def predict(self, X: Any) -> np.ndarray:
        """Step activation: 1 where X @ w + b > 0, else 0 (also 0 on the boundary); (N,) ints."""
        return (self._decision(X, self._who("predict")) > 0).astype(np.int64)

    def __call__(self, *inputs: Any) -> Any:
        """``unit(X)`` with X of shape (N, n_inputs) (or one sample of shape (n_inputs,)),
        or, as a convenience, one argument per input: ``AND(1, 0)`` -> 0 and
        ``AND(x1, x2)`` with (N,) arrays -> (N,) ints. For a one-input unit (NOT) a
        number or an (N,) vector is that one input: ``NOT(0)`` -> 1, ``NOT([0, 1])`` -> [1, 0]."""
        if len(inputs) == 1:
            if self.n_inputs == 1 and np.ndim(inputs[0]) <= 1:
                return self._predict_inputs(inputs[0])
            return self.predict(inputs[0])
        if len(inputs) != self.n_inputs:
            who = getattr(self, "name", type(self).__name__)
            example = ", ".join(["1"] + ["0"] * (self.n_inputs - 1))
            raise TypeError(
                f"{who} takes one array of shape (N, {self.n_inputs}), e.g. "
                f"{who}([[{example}]])" + (f", or {self.n_inputs} inputs, e.g. {who}({example})"
                                           if self.n_inputs > 1 else "")
                + f"; got {len(inputs)} arguments")
        return self._predict_inputs(*inputs)

    def _predict_inputs(self, *inputs: Any) -> Any:
        """Predict from one scalar or (N,) array per input (all scalars give an int)."""
        who = getattr(self, "name", type(self).__name__)
        arrays = []
        for i, x in enumerate(inputs):
            try:
                a = np.asarray(x)
            except Exception:  # ragged lists and other non-arrays
                a = np.asarray(None)
            if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
                raise TypeError(f"{who}: input x{i + 1} must be a number or a vector of "
                                f"numbers, got {x!r}")
            if a.ndim > 1:
                raise ValueError(f"{who}: input x{i + 1} must be a number or a vector of "
                                 f"shape (N,), got shape {a.shape}; pass one (N, "
                                 f"{self.n_inputs}) array instead")
            arrays.append(a)
        try:
            columns = np.broadcast_arrays(*arrays)
        except ValueError:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(f"{who}: the inputs must have the same length, got shapes "
                             f"{shapes}") from None
        scalar = columns[0].ndim == 0
        X = np.stack([np.atleast_1d(c) for c in columns], axis=1)
        result = self.predict(X)
        return int(result[0]) if scalar else result

    def decision_boundary(self) -> str:
        """The line (hyperplane) where the output flips, e.g. '-1.5 + 1*x1 + 1*x2 = 0'."""
        return _format_boundary(self._b, self._w, self._feature_names())


class Gate(_ThresholdUnit):
    """A threshold unit with fixed, hand-chosen weights: ``Gate("AND", [1, 1], -1.5)``."""

    def __init__(self, name: str, weights: Sequence[float], bias: float) -> None:
        try:
            w = np.asarray(weights, dtype=np.float64)
        except (TypeError, ValueError):
            w = None
        numeric_bias = isinstance(bias, (int, float, np.number)) and not isinstance(bias, bool)
        if w is None or w.ndim != 1 or w.size == 0 or not np.isfinite(w).all() \
                or not numeric_bias or not np.isfinite(bias):
            raise ValueError(f"Gate {name!r}: weights must be a non-empty vector of finite "
                             f"numbers and bias a finite number, got {weights!r}, {bias!r}")
        self.name = name
        self._n_inputs = w.size
        self._w = w
        self._w.setflags(write=False)
        self._b = float(bias)

    def __repr__(self) -> str:
        return f"Gate({self.name!r}, weights={self._w.tolist()}, bias={self._b:g})"


AND = Gate("AND", [1.0, 1.0], -1.5)    # fires only when both inputs are on: 1 + 1 > 1.5
OR = Gate("OR", [1.0, 1.0], -0.5)      # fires when at least one is on
NAND = Gate("NAND", [-1.0, -1.0], 1.5)  # AND with every sign flipped
NOR = Gate("NOR", [-1.0, -1.0], 0.5)    # OR with every sign flipped
GATES: dict[str, Gate] = {"AND": AND, "OR": OR, "NAND": NAND, "NOR": NOR}


def xor_network(X: Any) -> np.ndarray:
    """XOR from three threshold units: AND(NAND(x1, x2), OR(x1, x2)); X (N, 2) -> (N,) ints.

    The hidden layer maps the four corners to (1, 0), (1, 1), (1, 1), (0, 1),
    where the two classes are linearly separable, and AND separates them.
    """
    X = _as_inputs(X, 2, "xor_network")
    hidden = np.stack([NAND(X), OR(X)], axis=1)
    return AND(hidden)


# --------------------------------------------------------------------------- learning
class ConvergenceWarning(UserWarning):
    """Training stopped at its epoch limit without converging (scikit-learn's name):
    for a perceptron, mistakes were still made, e.g. because the classes are not
    linearly separable (XOR)."""


class Perceptron(_ThresholdUnit):
    """A single threshold unit trained by the perceptron learning rule.

    Args:
        n_inputs: number of input features D.
        lr: learning rate (the step of the rule), > 0.
        max_epochs: passes over the data before giving up.
        seed: seed for the small random initial weights, U(-0.05, 0.05)
            (None: the library-wide generator, see ``nerve.manual_seed``).
        dtype: float32 (default) or float64 for the weights.

    Attributes after ``fit``: ``errors_`` (mistakes per epoch), ``converged_``
    (True when an epoch made no mistakes), ``n_epochs_``. When ``max_epochs`` runs out
    with mistakes still made, ``fit`` warns with :class:`ConvergenceWarning`.

    Before ``fit`` the unit already predicts, from its random initial weights: an
    untrained perceptron, the rule's starting point (its answers are guesses).
    Unlike scikit-learn's ``Perceptron`` it does not raise ``NotFittedError``;
    ``n_epochs_ == 0`` tells that it has not been trained yet.
    """

    def __init__(self, n_inputs: int = 2, lr: float = 1.0, max_epochs: int = 100,
                 seed: Optional[int] = None, *, dtype: Any = np.float32) -> None:
        if isinstance(n_inputs, bool) or not isinstance(n_inputs, (int, np.integer)) \
                or n_inputs < 1:
            raise ValueError(f"n_inputs must be a positive int, got {n_inputs!r}")
        if isinstance(max_epochs, bool) or not isinstance(max_epochs, (int, np.integer)) \
                or max_epochs < 1:
            raise ValueError(f"max_epochs must be a positive int, got {max_epochs!r}")
        if not isinstance(lr, (int, float, np.number)) or not np.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a positive finite number, got {lr!r}")
        try:
            ok = np.dtype(dtype) in (np.float32, np.float64)
        except TypeError:
            ok = False
        if not ok:
            raise TypeError(f"dtype must be float32 or float64, got {dtype!r}")
        self.lr = float(lr)
        self.max_epochs = int(max_epochs)
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self.errors_: list[int] = []
        self.converged_ = False
        self.n_epochs_ = 0
        self._n_inputs = int(n_inputs)
        self._init_weights()

    def _init_weights(self) -> None:
        rng = get_rng(self.seed)
        n_weights = len(self._feature_names())
        self._w = rng.uniform(-0.05, 0.05, size=n_weights).astype(self.dtype)
        self._b = float(self.dtype.type(rng.uniform(-0.05, 0.05)))

    def fit(self, X: Any, y: Any) -> "Perceptron":
        """Train on X (N, n_inputs) and labels y (N,) in {0, 1}; returns self.

        One epoch visits the examples in order and, after each, applies
        w += lr*(y - y_hat)*x, b += lr*(y - y_hat). Training stops after the
        first epoch without mistakes or after ``max_epochs``; in the second case a
        :class:`ConvergenceWarning` says so (the data may not be linearly separable,
        as XOR). The rule is online (each update changes the next prediction), hence
        the loop over examples.
        """
        Xf = self._features(X, "Perceptron.fit").astype(self.dtype)
        y = _as_labels(y, Xf.shape[0], "Perceptron.fit")
        if Xf.shape[0] == 0:
            raise ValueError("Perceptron.fit needs at least one example, got X of shape "
                             f"{np.shape(X)}")
        self._init_weights()
        w, b, lr = self._w, self.dtype.type(self._b), self.dtype.type(self.lr)
        self.errors_, self.converged_ = [], False
        for _ in range(self.max_epochs):
            mistakes = 0
            for x_i, y_i in zip(Xf, y.tolist()):
                error = y_i - int(x_i @ w + b > 0)  # -1, 0 or +1
                if error:
                    w += (lr * error) * x_i
                    b += lr * error
                    mistakes += 1
            self.errors_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
        self._b = float(b)
        self.n_epochs_ = len(self.errors_)
        if not self.converged_:
            name = type(self).__name__
            hint = ("in the expanded features" if isinstance(self, KernelPerceptron) else
                    "(a line cannot split XOR: see xor_network and KernelPerceptron)")
            warnings.warn(
                f"{name}.fit: reached max_epochs={self.max_epochs} with {self.errors_[-1]} "
                f"mistake(s) still made in the last epoch (of {len(y)} examples); the data "
                f"may not be linearly separable {hint}, or it needs more epochs (raise "
                "max_epochs). converged_ is False.", ConvergenceWarning, stacklevel=2)
        return self

    def score(self, X: Any, y: Any) -> float:
        """Accuracy, the fraction of examples classified correctly."""
        predictions = self.predict(X)
        return float(np.mean(predictions == _as_labels(y, predictions.shape[0], "score")))

    def __repr__(self) -> str:
        return (f"Perceptron(n_inputs={self.n_inputs}, lr={self.lr:g}, "
                f"max_epochs={self.max_epochs}, seed={self.seed!r})")


def expand_features(X: Any) -> np.ndarray:
    """phi(x) = [x_1, ..., x_D, x_i * x_j for i < j]; (N, D) -> (N, D + D(D-1)/2).

    For two inputs this is [x1, x2, x1*x2], in which XOR is linearly separable
    (x1 + x2 - 2*x1*x2 > 0.5).
    """
    X = _as_matrix(X, "expand_features")
    pairs = [X[:, i] * X[:, j] for i, j in combinations(range(X.shape[1]), 2)]
    return np.column_stack([X, *pairs]) if pairs else X


class KernelPerceptron(Perceptron):
    """A perceptron on the expanded features [x, x_i*x_j] (see :func:`expand_features`).

    Same rule, same arguments as :class:`Perceptron`; ``n_inputs`` counts the raw
    inputs, ``weights`` has one entry per expanded feature (x1, x2, x1*x2 for
    two inputs), and ``decision_boundary()`` names them.
    """

    def _features(self, X: Any, who: str) -> np.ndarray:
        return expand_features(_as_inputs(X, self.n_inputs, who))

    def _feature_names(self) -> list[str]:
        raw = [f"x{i + 1}" for i in range(self.n_inputs)]
        return raw + [f"{a}*{b}" for a, b in combinations(raw, 2)]

    def __repr__(self) -> str:
        return "Kernel" + super().__repr__()


def kernel_perceptron(X: Any, y: Any, lr: float = 1.0, max_epochs: int = 100,
                      seed: Optional[int] = None) -> KernelPerceptron:
    """Fit a :class:`KernelPerceptron` to X (N, D), y (N,) in {0, 1} and return it."""
    X = _as_matrix(X, "kernel_perceptron")
    if X.shape[1] == 0:
        raise ValueError(f"kernel_perceptron: X must have shape (N, D) with D >= 1, got "
                         f"{X.shape}")
    return KernelPerceptron(X.shape[1], lr, max_epochs, seed).fit(X, y)


# --------------------------------------------------------------------------- plotting
Classifier = Union[_ThresholdUnit, Callable[[np.ndarray], np.ndarray]]


def plot_decision_boundary(model: Classifier, X: Any, y: Any, ax: Any = None, *,
                           resolution: int = 200) -> Any:
    """Plot 2-D points coloured by label over the regions a classifier assigns.

    ``model`` is a Perceptron, a Gate, a KernelPerceptron or any function
    mapping (N, 2) inputs to (N,) labels (such as :func:`xor_network`, or a
    classifier's ``predict``). For a linear unit the line w1*x1 + w2*x2 + b = 0 is
    drawn (label "decision boundary"); for others the contour where the prediction
    changes. Every class is drawn, its region and its points, whatever the labels
    (0/1, several classes, −1/+1, strings). Needs matplotlib
    (``pip install 'nerve[plot]'``). Returns the matplotlib Axes.
    """
    plt = require("matplotlib.pyplot", "plot", "plotting decision boundaries")
    from nerve.plot import _class_indices, _one_per_point
    X = _as_inputs(X, 2, "plot_decision_boundary")
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"plot_decision_boundary: y must have shape ({X.shape[0]},), "
                         f"got {y.shape}")
    if isinstance(model, _ThresholdUnit):
        if model.n_inputs != 2:
            raise ValueError(f"plot_decision_boundary needs a model with 2 inputs, "
                             f"got {model.n_inputs}")
        predict = model.predict
    elif callable(model):
        predict = model
    else:
        raise TypeError(f"model must be a perceptron, a gate or a callable, "
                        f"got {type(model).__name__}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))

    pad = 0.5
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    labels = _one_per_point(predict(grid), len(grid), "plot_decision_boundary: ")
    y_index, region_index, classes = _class_indices(y, labels)
    k = len(classes)
    regions = region_index.reshape(g1.shape)
    if k <= 2:  # the perceptron's two classes: light/dark blue and orange
        fills, dots = ["#9ecae1", "#fdae6b"][:k], ["#3182bd", "#e6550d"][:k]
    else:
        cmap = plt.get_cmap("tab10" if k <= 10 else "tab20")
        dots = [cmap(i % cmap.N) for i in range(k)]
        fills = dots
    ax.contourf(g1, g2, regions, levels=np.arange(k + 1) - 0.5, colors=fills, alpha=0.35)

    linear = isinstance(model, _ThresholdUnit) and model.weights.shape == (model.n_inputs,)
    if linear:
        w, b = model.weights, model.bias
        if w[1] != 0:
            xs = np.array([lo[0], hi[0]])
            ax.plot(xs, -(w[0] * xs + b) / w[1], "k-", label="decision boundary")
        elif w[0] != 0:
            ax.plot([-b / w[0]] * 2, [lo[1], hi[1]], "k-", label="decision boundary")
    elif regions.min() != regions.max():
        ax.contour(g1, g2, regions, levels=np.arange(k - 1) + 0.5, colors="k",
                   linewidths=1)
        ax.plot([], [], "k-", label="decision boundary")  # a legend entry for the contour

    for index, (name, colour) in enumerate(zip(classes, dots)):
        mask = y_index == index
        ax.scatter(X[mask, 0], X[mask, 1], color=colour, edgecolors="k", label=f"y = {name}",
                   zorder=3)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    if isinstance(model, _ThresholdUnit):
        ax.set_title(model.decision_boundary())
    ax.legend(loc="best")
    return ax
