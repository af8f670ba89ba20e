"""``MLPClassifier``: a scikit-learn classifier trained by nerve."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ..ops.loss import row_max, softmax_rows
from ..tensor import Tensor
from . import _config as C
from ._base import BaseMLP
from ._loop import Trainer, forward_eval

PARAMETERS_DOC = """
    Parameters (scikit-learn's names and defaults where the concept matches)
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        Units per hidden layer.
    activation : str or sequence of str, default "relu"
        Hidden activation, one name for all layers or one per layer: any of
        ``nerve.nn.ACTIVATIONS`` ("relu", "tanh", "sigmoid", "leaky_relu", "prelu",
        "elu", "softmax", "identity", "step"), "maxout" (a two-piece Maxout layer) or
        scikit-learn's "logistic" (the sigmoid).
    solver : str, default "adam"
        Any ``nerve.optim.OPTIMIZERS`` name: "sgd" (with ``momentum`` and
        ``nesterovs_momentum``, as scikit-learn), "momentum", "nesterov", "rmsprop",
        "adagrad", "adam", "adamw" (with ``beta_1``, ``beta_2``, ``epsilon``).
    alpha, penalty, l1_ratio : float, {"l2", "l1", "elasticnet", None}, float
        Penalty strength and kind; per batch of B rows the loss gains
        ``alpha/B · ((1 − r)/2 ‖W‖² + r ‖W‖₁)`` over the weight matrices, with
        r = 0 ("l2", scikit-learn's MLP), 1 ("l1") or ``l1_ratio`` ("elasticnet").
    batch_size : int or "auto"
        Rows per minibatch; "auto" = min(200, n_samples).
    learning_rate, learning_rate_init, learning_rate_params : str, float, dict
        Per-epoch schedule "constant", "step", "exponential" or "cosine" (nerve's
        StepLR, ExponentialLR, CosineAnnealingLR; arguments in ``learning_rate_params``)
        starting from ``learning_rate_init``.
    max_iter, tol, n_iter_no_change : int, float, int
        At most ``max_iter`` epochs; stop when the training loss (or the validation
        score) has not improved by ``tol`` for more than ``n_iter_no_change`` epochs.
    early_stopping, validation_fraction : bool, float
        Hold out this fraction of the rows; stop on its score and keep the best weights.
    dropout : float or sequence of float, default 0
        Dropout probability after each hidden activation.
    batch_norm : bool, default False
        BatchNorm1d after each hidden Linear layer (before its activation).
    init : str, default "xavier_uniform"
        Weight initialisation, any ``nerve.nn.INITS`` name; the default is Glorot's
        uniform scheme, as scikit-learn's MLP ("he" suits deep ReLU networks).
    callbacks : list of nerve.train.Callback, optional
        Called with Keras's hooks; ``logs`` hold ``loss``, ``accuracy`` (classifier) and,
        with early stopping, ``val_loss``, ``val_accuracy``/``val_r2`` and ``val_score``.
    random_state : int, RandomState, Generator or None
        An int makes fits bitwise reproducible (initialisation, shuffling, the
        validation split and dropout masks); None draws from nerve's generator.
    dtype : "auto", "float32" or "float64", default "auto"
        The dtype the network computes in. "auto" follows X at the first fit: float64
        for float64 X, as scikit-learn's MLP (so ``check_estimator``, which compares fits
        to 1e-7, passes with the defaults; about 1.7× slower than float32), float32 for
        any other X (float32, integers, lists: nerve's default, half the memory and
        faster products). ``X.astype(np.float32)`` or "float32" trains fast; "float64" fixes
        the dtype whatever X is. Decided once: ``predict`` casts X to it, and
        ``warm_start`` and ``partial_fit`` keep the first fit's dtype.
    shuffle, verbose, warm_start, momentum, nesterovs_momentum, beta_1, beta_2, epsilon
        As in scikit-learn.
"""


def _has_proba(est: "MLPClassifier") -> bool:
    if C.canonical_loss(est.loss) == "hinge":
        raise AttributeError("predict_proba is not available with loss='hinge' (a multiclass "
                             "SVM gives scores, not probabilities); use decision_function")
    return True


class MLPClassifier(ClassifierMixin, BaseMLP):
    """A multi-layer perceptron classifier: hidden layers, then a Linear layer of one
    score per class, trained on softmax cross-entropy (``loss="cross_entropy"``, alias
    "log_loss") or the multiclass hinge loss (``loss="hinge"``).

    Multilabel targets (an indicator matrix y of 0/1, shape (n_samples, n_labels), as
    scikit-learn's): one sigmoid p = σ(s) per label, trained on the binary cross-entropy
    −Σⱼ [yⱼ log pⱼ + (1 − yⱼ) log(1 − pⱼ)] (gradient pⱼ − yⱼ per score); ``predict``
    gives the 0/1 matrix p > 0.5, ``predict_proba`` each label's p, ``classes_`` is
    ``arange(n_labels)`` and ``score`` the subset accuracy. Not with ``loss="hinge"``.

    ``fit(X, y, sample_weight=None)`` and ``partial_fit(X, y, sample_weight=None,
    classes=None)`` take per-row weights as scikit-learn's MLP does. After every fit the
    network is in eval mode, so predicting changes nothing and is safe from several
    threads; ``n_iter_`` counts the epochs of the last call.

    Fitted attributes: ``classes_``, ``n_features_in_``, ``loss_`` (the last epoch's loss),
    ``loss_curve_``, ``validation_scores_``, ``best_validation_score_``, ``best_loss_``, ``n_iter_``,
    ``t_``, ``n_layers_``, ``n_outputs_``, ``out_activation_``, ``network_`` (the
    trained ``nerve.nn.Sequential``), ``coefs_`` and ``intercepts_``.

    >>> clf = MLPClassifier((64,), random_state=0).fit(X, y)     # doctest: +SKIP
    >>> clf.predict_proba(X[:2]).shape                           # doctest: +SKIP
    (2, 10)
    """ + PARAMETERS_DOC

    _loss_choices = ("cross_entropy", "log_loss", "hinge")

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: Any = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001, penalty: str | None = "l2",
                 l1_ratio: float = 0.15, loss: str = "cross_entropy",
                 batch_size: int | str = "auto", learning_rate: str = "constant",
                 learning_rate_init: float = 0.001, learning_rate_params: dict | None = None,
                 max_iter: int = 200, shuffle: bool = True, random_state: Any = None,
                 tol: float = 1e-4, verbose: bool = False, warm_start: bool = False,
                 momentum: float = 0.9, nesterovs_momentum: bool = True,
                 early_stopping: bool = False, validation_fraction: float = 0.1,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
                 n_iter_no_change: int = 10, dropout: Any = 0.0, batch_norm: bool = False,
                 init: str = "xavier_uniform", callbacks: Any = None,
                 dtype: str = "auto") -> None:
        self._store_params(locals())

    # ------------------------------------------------------------- targets
    def _y_check_params(self) -> dict[str, Any]:
        return {"multi_output": True}  # a 2-D y may be a multilabel indicator matrix

    def _n_outputs(self, y: np.ndarray) -> int:
        return len(self.classes_)

    def _multilabel(self) -> bool:
        return getattr(self, "out_activation_", None) == "logistic"

    def _training_loss(self, loss: str) -> str:
        return "binary_cross_entropy" if self._multilabel() else loss

    def _targets(self, y: np.ndarray, first: bool, classes: Any) -> np.ndarray:
        """Class labels → indices into ``classes_`` (set on the first fit); a multilabel
        indicator matrix → the same 0/1 matrix in the model's dtype."""
        if y.ndim == 2 and y.shape[1] == 1:  # a column of labels: as scikit-learn, with
            from sklearn.utils.validation import column_or_1d  # its conversion warning
            y = column_or_1d(y, warn=True)
        if y.ndim == 2:
            return self._multilabel_targets(y, first, classes)
        check_classification_targets(y)
        if not first and self._multilabel():
            raise ValueError(f"y is a 1-D array of class labels but the model was fitted on "
                             f"multilabel targets (an indicator matrix of {self.n_outputs_} "
                             "columns); pass the same kind of y, or refit from scratch")
        if first:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
            hinge = C.canonical_loss(self.loss) == "hinge"  # checked by _hyper already
            self.out_activation_ = "identity" if hinge else "softmax"
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={list(classes)} differs from the classes of the first "
                             f"call to partial_fit, {list(self.classes_)}")
        index = np.searchsorted(self.classes_, y)
        index[index >= len(self.classes_)] = 0
        unknown = self.classes_[index] != y
        if np.any(unknown):
            raise ValueError(f"y has labels {list(np.unique(y[unknown]))} that are not among "
                             f"the classes {list(self.classes_)} seen when the model was "
                             "first fitted; refit from scratch (warm_start=False) or pass "
                             "every class to the first partial_fit")
        return index.astype(np.int64)

    def _multilabel_targets(self, y: np.ndarray, first: bool, classes: Any) -> np.ndarray:
        kind = type_of_target(y)
        if kind != "multilabel-indicator":
            raise ValueError(f"MLPClassifier: a 2-D y must be a multilabel indicator matrix "
                             f"(0/1 entries, one column per label), got a {kind!r} target "
                             f"of shape {y.shape}; multiclass-multioutput targets are not "
                             "supported")
        if C.canonical_loss(self.loss) == "hinge":
            raise ValueError("MLPClassifier: loss='hinge' does not support multilabel "
                             "targets (an indicator matrix y); use loss='cross_entropy' "
                             "(one sigmoid and binary cross-entropy per label)")
        n_labels = y.shape[1]
        if first:
            self.classes_ = np.arange(n_labels)
            self.out_activation_ = "logistic"
        elif not self._multilabel():
            raise ValueError(f"y is a multilabel indicator matrix but the model was fitted on "
                             f"1-D class labels {list(self.classes_)}; pass the same kind "
                             "of y, or refit from scratch")
        elif n_labels != self.n_outputs_:
            raise ValueError(f"y has {n_labels} label columns but the model was fitted with "
                             f"{self.n_outputs_}")
        if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={list(classes)} does not match the multilabel "
                             f"targets' columns {list(self.classes_)}")
        if hasattr(y, "toarray"):
            y = y.toarray()
        y = np.asarray(y)
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"MLPClassifier: a multilabel indicator matrix y must hold only "
                             f"0 and 1 (one column per label), got values "
                             f"{np.unique(y)[:5].tolist()}")
        return y.astype(self._dtype)

    def _validation_logs(self, trainer: Trainer, X_val: np.ndarray, y_val: np.ndarray,
                         w_val: np.ndarray | None = None) -> dict[str, float]:
        scores = forward_eval(self.network_, X_val)
        if self._multilabel():  # subset accuracy, as scikit-learn's accuracy_score
            hits = ((scores > 0) == (y_val > 0.5)).all(axis=1)
        else:
            hits = scores.argmax(axis=1) == y_val
        accuracy = float(np.average(hits, weights=w_val))
        return {"val_loss": trainer.validation_loss(scores, y_val, w_val),
                "val_accuracy": accuracy, "val_score": accuracy}

    # --------------------------------------------------------------- public
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None,
                    classes: Any = None) -> "MLPClassifier":
        """One epoch over (X, y), continuing from the current weights; returns self.

        ``classes`` (every label that will ever appear) is required on the first call,
        unless y is a multilabel indicator matrix. ``sample_weight`` as in :meth:`fit`.
        """
        if not hasattr(self, "classes_") and classes is None and not (
                np.ndim(y) == 2 and np.shape(y)[1] > 1):
            raise ValueError("classes must be passed on the first call to partial_fit "
                             "(every label that will appear, e.g. classes=np.unique(y_all))")
        return self._fit(X, y, incremental=True, classes=classes, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # multilabel indicator targets: sigmoid + binary cross-entropy, not the hinge loss
        tags.classifier_tags.multi_label = C.canonical_loss(self.loss) != "hinge"
        return tags

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw class scores, shape (n_samples, n_classes); for two classes the margin
        s₁ − s₀ of shape (n_samples,) (positive means ``classes_[1]``); multilabel: one
        score per label, shape (n_samples, n_labels), positive means the label is on."""
        scores = self._raw(X)
        if self._multilabel():
            return scores
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The class with the highest score, shape (n_samples,); multilabel: the 0/1
        indicator matrix σ(s) > 0.5 (s > 0), shape (n_samples, n_labels)."""
        scores = self._raw(X)
        if self._multilabel():
            return (scores > 0).astype(np.int64)
        return self.classes_[scores.argmax(axis=1)]

    @available_if(_has_proba)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the scores, shape (n_samples, n_classes), columns in ``classes_``;
        multilabel: each label's sigmoid σ(s) = 1 / (1 + e^(−s)), shape (n_samples, n_labels)."""
        scores = self._raw(X)
        if self._multilabel():
            return Tensor._wrap(scores).sigmoid().data
        return softmax_rows(scores)

    @available_if(_has_proba)
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log of :meth:`predict_proba`, computed stably (s − log Σ e^s; multilabel
        log σ(s) = −log(1 + e^(−s)))."""
        s = self._raw(X)
        if self._multilabel():
            return -np.logaddexp(0, -s)
        s = s - row_max(s)
        return s - np.log(np.exp(s).sum(axis=1, keepdims=True))
