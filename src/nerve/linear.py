"""Linear classifiers: the score function s = Wx + b with a softmax or an SVM loss.

For x of shape (D,) and C classes, W has shape (C, D) and b shape (C,), so the
scores of a batch X (N, D) are S = X Wᵀ + b, of shape (N, C). Training minimises

    L(W, b) = (1/N) Σᵢ Lᵢ(Sᵢ, yᵢ) + λ·Σ W²         (the bias is not regularised)

by minibatch SGD, where Lᵢ is the softmax cross-entropy (:class:`SoftmaxClassifier`)
or the multiclass hinge loss (:class:`SVMClassifier`); dL/dW = (dL/dS)ᵀ X + 2λW.
Each row of W is a template that the class scores an image against (a dot
product), so reshaping the rows as images shows what each class "looks for":
see :meth:`LinearClassifier.templates` and :meth:`LinearClassifier.plot_templates`.

>>> from nerve.data import load_digits, standardize
>>> X, y = load_digits()
>>> clf = SoftmaxClassifier(lr=0.1, epochs=5, seed=0).fit(standardize(X)[0], y)
>>> clf.templates((8, 8)).shape
(10, 8, 8)
"""
from __future__ import annotations

import inspect
import math
from numbers import Integral, Real
from typing import Any, Sequence

import numpy as np

from . import functional as F
from . import losses
from .autograd import no_grad
from .data.loader import take_rows
from .ops.loss import softmax_rows
from .optim import SGD
from .random import get_rng
from .regularizers import l2
from .tensor import Tensor

__all__ = ["LinearClassifier", "SoftmaxClassifier", "SVMClassifier", "NotFittedError",
           "plot_templates"]


class NotFittedError(ValueError, AttributeError):
    """A classifier was used before :meth:`~LinearClassifier.fit` was called."""


# ------------------------------------------------------------------ argument checks
def _check_positive(owner: str, name: str, value: Any, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{owner}: {name} must be a finite number {bound}, got {value}")
    return value


def _check_count(owner: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{owner}: {name} must be a positive int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value}")
    return int(value)


def _check_dtype(owner: str, dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{owner}: dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise TypeError(f"{owner}: dtype must be float32 or float64, got {dt}")
    return dt


def _as_features(owner: str, X: Any, dtype: np.dtype) -> np.ndarray:
    """X as a finite (N, D) array of ``dtype``; raise naming what was wrong otherwise."""
    if isinstance(X, Tensor):
        X = X.data
    X = np.asarray(X)
    if X.dtype == bool or X.dtype.kind not in "iuf":
        raise TypeError(f"{owner}: X must be numeric, got dtype {X.dtype}")
    if X.ndim != 2:
        hint = ("; one sample? make it a row, X.reshape(1, -1)" if X.ndim == 1 else
                "; flatten images first, e.g. X.reshape(len(X), -1)" if X.ndim > 2 else "")
        raise ValueError(f"{owner}: X must have shape (n_samples, n_features), got shape "
                         f"{X.shape}{hint}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{owner}: X must hold at least one sample and one feature, "
                         f"got shape {X.shape}")
    X = X.astype(dtype, copy=False)
    if not np.isfinite(X).all():
        raise ValueError(f"{owner}: X contains NaN or infinite values")
    return X


def _as_labels(owner: str, y: Any, n: int) -> np.ndarray:
    if isinstance(y, Tensor):
        y = y.data
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{owner}: y must be a 1-D array of class labels, got shape {y.shape}")
    if len(y) != n:
        raise ValueError(f"{owner}: X has {n} samples but y has {len(y)} labels")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{owner}: y contains NaN or infinite labels")
        fractional = y[y != np.round(y)]
        if fractional.size:  # scikit-learn's "Unknown label type: continuous"
            raise ValueError(f"{owner}: y holds continuous values (e.g. {fractional[0]:g}); a "
                             "classifier needs class labels (integers or strings), not a "
                             "regression target")
    elif y.dtype.kind not in "iubUSO":
        raise TypeError(f"{owner}: y must hold class labels (integers or strings), got dtype "
                        f"{y.dtype}")
    if y.dtype.kind == "O":
        try:
            np.unique(y)
        except TypeError:
            kinds = sorted({type(v).__name__ for v in y})
            raise TypeError(f"{owner}: y mixes labels of types {', '.join(kinds)} that cannot "
                            "be sorted into classes; use one type (integers or strings)") from None
    return y


def _label_kind(y: np.ndarray) -> str | None:
    """"string" or "number" labels (None for no labels); an object array holds one kind,
    since :func:`_as_labels` could sort it, so its first entry tells."""
    kind = y.dtype.kind
    if kind in "US":
        return "string"
    if kind in "biuf":
        return "number"
    if y.size == 0:
        return None
    return "string" if isinstance(y.flat[0], (str, bytes)) else "number"


# ------------------------------------------------------------------ the classifiers
class LinearClassifier:
    """Base class: scores S = X Wᵀ + b, trained by minibatch SGD on data loss + λ·ΣW².

    Args:
        lr: SGD learning rate (step size).
        reg: λ, the L2 regularisation strength (0 switches it off).
        epochs: passes over the training data; each is ceil(N / batch_size)
            steps over a fresh shuffle.
        batch_size: examples per SGD step (the whole set if larger than N).
        momentum: SGD momentum (0 = plain SGD, the lecture's vanilla update).
        weight_scale: W starts as ``weight_scale · N(0, 1)`` (small, so the first
            softmax loss is about ln C); b starts at 0.
        seed: None draws from nerve's library-wide generator
            (``nerve.manual_seed``); an int makes this classifier reproducible.
        dtype: float32 (default) or float64.

    Attributes after :meth:`fit`: ``W_`` (C, D), ``b_`` (C,), ``classes_`` (C,),
    ``loss_history_`` (one total loss per SGD step, float64), ``n_iter_``.
    """

    def __init__(self, lr: float = 1e-2, reg: float = 1e-4, epochs: int = 20,
                 batch_size: int = 200, momentum: float = 0.0, weight_scale: float = 1e-3,
                 seed: int | None = None, dtype: Any = np.float32):
        owner = type(self).__name__
        self.lr = _check_positive(owner, "lr", lr)
        self.reg = _check_positive(owner, "reg", reg, allow_zero=True)
        self.epochs = _check_count(owner, "epochs", epochs)
        self.batch_size = _check_count(owner, "batch_size", batch_size)
        self.momentum = _check_positive(owner, "momentum", momentum, allow_zero=True)
        if self.momentum >= 1:
            raise ValueError(f"{owner}: momentum must be in [0, 1), got {momentum}")
        self.weight_scale = _check_positive(owner, "weight_scale", weight_scale,
                                            allow_zero=True)
        if seed is not None:
            get_rng(seed)  # validates the seed now rather than at fit time
        self.seed = seed
        self.dtype = _check_dtype(owner, dtype)

    # -------------------------------------------------------------- scikit-learn protocol
    _estimator_type = "classifier"  # what older scikit-learn's is_classifier reads

    @classmethod
    def _param_names(cls) -> list[str]:
        """The keyword arguments of ``__init__``, in order (scikit-learn's convention)."""
        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments as a dict, so that ``sklearn.base.clone``,
        ``GridSearchCV`` and ``cross_val_score`` can copy and tune the classifier
        (``deep`` is accepted for scikit-learn and changes nothing: no sub-estimators)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags (read by ``is_classifier``, hence ``cross_val_score``'s
        stratified folds): a classifier that needs y. Only scikit-learn calls this."""
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags())

    def set_params(self, **params: Any) -> "LinearClassifier":
        """Change constructor arguments, checked as the constructor checks them; returns self.

        A fitted classifier keeps its weights until the next :meth:`fit`.
        """
        valid = self._param_names()
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValueError(f"{type(self).__name__}.set_params: invalid parameter "
                             f"{unknown[0]!r}; valid parameters are {valid}")
        merged = {**self.get_params(), **params}
        checked = type(self)(**merged)  # validates everything before anything changes
        for name in valid:
            setattr(self, name, getattr(checked, name))
        return self

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(lr={self.lr:g}, reg={self.reg:g}, epochs={self.epochs}, "
                f"batch_size={self.batch_size}, momentum={self.momentum:g})")

    # -------------------------------------------------------------- the loss
    def _data_loss(self, scores: Tensor, labels: np.ndarray) -> Tensor:
        """Mean per-example loss of the scores (N, C) for integer labels (N,)."""
        raise NotImplementedError

    def objective(self, W: Tensor, b: Tensor, X: np.ndarray, labels: np.ndarray) -> Tensor:
        """L = (1/N) Σᵢ Lᵢ(X Wᵀ + b, labels) + λ·ΣW², a scalar tensor to backpropagate.

        W (C, D) and b (C,) are tensors, X (N, D) an array, labels (N,) class indices
        0..C−1. dL/dW = (dL/dS)ᵀ X + 2λW and dL/db = Σₙ dL/dS come from autograd.
        """
        loss = self._data_loss(F.linear(X, W.T, b), labels)  # S = X Wᵀ + b
        if self.reg:
            loss = loss + l2(W) * self.reg
        return loss

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """The objective (1/N) Σᵢ Lᵢ + λ·ΣW² on (X, y) at the fitted weights."""
        self._check_fitted()
        Xa = self._check_X(X)
        labels = self._encode(_as_labels(type(self).__name__, y, len(Xa)))
        with no_grad():
            W, b = Tensor(self.W_, dtype=self.dtype), Tensor(self.b_, dtype=self.dtype)
            return self.objective(W, b, Xa, labels).item()

    # -------------------------------------------------------------- training
    def fit(self, X: np.ndarray, y: np.ndarray) -> "LinearClassifier":
        """Train on X (N, D) and labels y (N,) from a fresh start; returns self.

        Each SGD step on a minibatch B computes S = X_B Wᵀ + b, the loss
        L = mean loss(S, y_B) + λ·ΣW² and its gradient by backpropagation, then
        W ← W − lr·dL/dW (with momentum if set). A loss that turns NaN or infinite
        raises ValueError saying what to try (a smaller lr, standardised X).
        """
        owner = type(self).__name__
        X = _as_features(owner, X, self.dtype)
        y = _as_labels(owner, y, len(X))
        classes, labels = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"{owner}: y must contain at least 2 classes, got only "
                             f"{classes.tolist()}")
        n, d = X.shape
        c = len(classes)
        rng = get_rng(self.seed)
        W = Tensor(rng.standard_normal((c, d), dtype=self.dtype) * self.dtype.type(
            self.weight_scale), dtype=self.dtype, requires_grad=True)
        b = Tensor(np.zeros(c, dtype=self.dtype), dtype=self.dtype, requires_grad=True)
        optimizer = SGD([W, b], lr=self.lr, momentum=self.momentum)
        batch = min(self.batch_size, n)
        steps_per_epoch = math.ceil(n / batch)
        history = np.empty(self.epochs * steps_per_epoch, dtype=np.float64)
        step = 0
        for _ in range(self.epochs):
            order = rng.permutation(n)
            for start in range(0, n, batch):
                idx = order[start:start + batch]
                loss = self.objective(W, b, take_rows(X, idx), labels[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                value = loss.item()
                if not math.isfinite(value):
                    raise ValueError(
                        f"{owner}: the loss became {value} at step {step + 1}; the learning "
                        f"rate lr={self.lr:g} is probably too large (try 10x smaller) or the "
                        f"features are badly scaled (standardise X)")
                history[step] = value
                step += 1
        self.W_, self.b_, self.classes_ = W.data, b.data, classes
        self.loss_history_ = history
        self.n_iter_ = step
        self.n_features_in_ = d
        return self

    # -------------------------------------------------------------- inference
    def _check_fitted(self) -> None:
        if not hasattr(self, "W_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call "
                                 f"fit(X, y) first")

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        X = _as_features(type(self).__name__, X, self.dtype)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"{type(self).__name__}: X has {X.shape[1]} features but the "
                             f"classifier was fitted on {self.n_features_in_}")
        return X

    def _encode(self, y: np.ndarray) -> np.ndarray:
        """Labels as indices into ``classes_``; unknown labels are an error."""
        idx = np.clip(np.searchsorted(self.classes_, y), 0, len(self.classes_) - 1)
        unknown = np.asarray(self.classes_[idx] != y, dtype=bool)
        if np.any(unknown):
            raise ValueError(f"{type(self).__name__}: y holds labels not seen in fit: "
                             f"{np.unique(y[unknown]).tolist()[:5]}; known classes are "
                             f"{self.classes_.tolist()}")
        return idx

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The class scores S = X Wᵀ + b, of shape (N, C)."""
        self._check_fitted()
        X = self._check_X(X)
        return X @ self.W_.T + self.b_

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The highest-scoring class of each row of X (N, D): labels of shape (N,)."""
        self._check_fitted()
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        """Accuracy: the fraction of rows of X whose predicted label equals y. Labels
        not seen in fit count as wrong; labels of another kind than ``classes_``
        (numbers against strings, or strings against numbers) are an error, as in
        scikit-learn, rather than an accuracy of 0."""
        pred = self.predict(X)
        y = _as_labels(type(self).__name__, y, len(pred))
        given, known = _label_kind(y), _label_kind(self.classes_)
        if given is not None and known is not None and given != known:
            raise ValueError(f"{type(self).__name__}: y holds {given} labels "
                             f"(e.g. {y[:1].tolist()[0]!r}) but the classes seen in fit "
                             f"are {known}: "
                             f"{self.classes_.tolist()[:5]}; encode y as in fit")
        return float(np.mean(pred == y))

    # -------------------------------------------------------------- templates
    def templates(self, image_shape: Sequence[int] | None = None) -> np.ndarray:
        """Each class's weight row reshaped as an image: (C, *image_shape).

        The score of class c is the dot product of the image with template c
        (plus b_c), so a template shows the image that its class scores highest.
        ``image_shape`` must multiply out to the number of features D, in the
        order the images were flattened (e.g. (32, 32, 3) for CIFAR-10 pixels).
        Left out, it is read off D: square gray images (D = s², e.g. 8 × 8 digits,
        28 × 28 MNIST) or square channels-last RGB images (D = 3s², e.g. CIFAR-10).
        """
        self._check_fitted()
        if image_shape is None:
            image_shape = self._square_image_shape()
        try:
            shape = tuple(int(s) for s in image_shape)
        except TypeError:
            raise TypeError(f"{type(self).__name__}.templates: image_shape must be a tuple "
                            f"of ints, got {image_shape!r}") from None
        if not shape or any(s < 1 for s in shape) or math.prod(shape) != self.W_.shape[1]:
            raise ValueError(f"{type(self).__name__}.templates: image_shape {shape} does not "
                             f"hold the {self.W_.shape[1]} weights of a template; pass a "
                             f"shape whose sizes multiply to {self.W_.shape[1]}")
        return self.W_.reshape((len(self.W_),) + shape).copy()

    def _square_image_shape(self) -> tuple[int, ...]:
        """(s, s) when D = s², (s, s, 3) when D = 3s² (never both); else ask for the shape."""
        d = self.W_.shape[1]
        side = math.isqrt(d)
        if side * side == d:
            return (side, side)
        side = math.isqrt(d // 3)
        if d % 3 == 0 and 3 * side * side == d:
            return (side, side, 3)
        raise ValueError(f"{type(self).__name__}.templates: {d} features are not a square "
                         "image (s × s or s × s × 3); pass image_shape, e.g. (H, W) or "
                         "(H, W, 3)")

    def plot_templates(self, image_shape: Sequence[int] | None = None,
                       class_names: Sequence[str] | None = None,
                       path: str | None = None, cmap: str = "gray"):
        """Draw the templates in one row of images; see :func:`plot_templates`."""
        return plot_templates(self, image_shape, class_names=class_names, path=path, cmap=cmap)


class SoftmaxClassifier(LinearClassifier):
    """Linear classifier with the softmax (cross-entropy) loss.

    Lᵢ = −log(e^{s_yᵢ} / Σⱼ e^{sⱼ});  dLᵢ/ds = softmax(s) − onehot(yᵢ).
    ``predict_proba`` gives the softmax probabilities. See :class:`LinearClassifier`
    for the arguments.

    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0]] * 10); y = np.array([0, 1] * 10)
    >>> SoftmaxClassifier(lr=0.5, epochs=20, seed=0).fit(X, y).score(X, y)
    1.0
    """

    def _data_loss(self, scores: Tensor, labels: np.ndarray) -> Tensor:
        return losses.cross_entropy(scores, labels)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """softmax(X Wᵀ + b) row by row, shape (N, C); columns follow ``classes_``."""
        return softmax_rows(self.decision_function(X))


class SVMClassifier(LinearClassifier):
    """Linear classifier with the multiclass SVM (hinge) loss.

    Lᵢ = Σ_{j≠yᵢ} max(0, sⱼ − s_yᵢ + Δ);  dLᵢ/dsⱼ = 1[margin > 0] for j ≠ yᵢ and
    dLᵢ/ds_yᵢ = −(number of positive margins). ``margin`` is Δ (1 by default);
    the other arguments are those of :class:`LinearClassifier`.
    """

    def __init__(self, lr: float = 1e-2, reg: float = 1e-4, epochs: int = 20,
                 batch_size: int = 200, momentum: float = 0.0, weight_scale: float = 1e-3,
                 seed: int | None = None, dtype: Any = np.float32, margin: float = 1.0):
        super().__init__(lr=lr, reg=reg, epochs=epochs, batch_size=batch_size,
                         momentum=momentum, weight_scale=weight_scale, seed=seed, dtype=dtype)
        self.margin = _check_positive(type(self).__name__, "margin", margin)

    def _data_loss(self, scores: Tensor, labels: np.ndarray) -> Tensor:
        return losses.hinge(scores, labels, margin=self.margin)


# ------------------------------------------------------------------ losses and plots
def _display(image: np.ndarray) -> np.ndarray:
    """Rescale one template to [0, 1] for display (min → 0, max → 1)."""
    lo, hi = float(image.min()), float(image.max())
    return (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)


def plot_templates(classifier: LinearClassifier, image_shape: Sequence[int] | None = None,
                   class_names: Sequence[str] | None = None, path: str | None = None,
                   cmap: str = "gray"):
    """Show each class's template as an image, one panel per class; returns the Figure.

    Each template is rescaled to [0, 1] on its own for display. ``image_shape``
    is (H, W) for grey images or (H, W, 3) for colour (read off a square image's
    feature count when left out, see ``templates``). ``class_names`` (one per
    class) title the panels (default: the class labels). With ``path`` the figure
    is also saved there. Needs matplotlib (``pip install 'nerve[plot]'``).
    """
    from ._extras import require

    if not isinstance(classifier, LinearClassifier):
        raise TypeError(f"plot_templates needs a fitted SoftmaxClassifier or SVMClassifier, "
                        f"got {type(classifier).__name__}")
    images = classifier.templates(image_shape)
    shape = images.shape[1:]
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[-1] not in (1, 3, 4)):
        raise ValueError(f"plot_templates: image_shape must be (H, W) or (H, W, 3), "
                         f"got {tuple(shape)}")
    names = [str(c) for c in classifier.classes_] if class_names is None else list(class_names)
    if len(names) != len(images):
        raise ValueError(f"plot_templates: got {len(names)} class names for "
                         f"{len(images)} classes")
    plt = require("matplotlib.pyplot", "plot", "plotting templates")
    from .plot import save_figure
    c = len(images)
    fig, axes = plt.subplots(1, c, figsize=(1.3 * c, 1.6), squeeze=False)
    for ax, image, name in zip(axes[0], images, names):
        image = _display(image.astype(np.float64))
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        ax.imshow(image, cmap=cmap if image.ndim == 2 else None, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(f"{type(classifier).__name__} templates (rows of W)", fontsize=10)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path, dpi=100)
    return fig
