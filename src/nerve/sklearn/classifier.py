"""``MLPClassifier``: a scikit-learn classifier trained by nerve."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from ..ops.loss import row_max, softmax_rows
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
    dtype : "float32" or "float64"
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
                 dtype: str = "float32") -> None:
        self._store_params(locals())

    # ------------------------------------------------------------- targets
    def _y_check_params(self) -> dict[str, Any]:
        return {}

    def _n_outputs(self, y: np.ndarray) -> int:
        return len(self.classes_)

    def _targets(self, y: np.ndarray, first: bool, classes: Any) -> np.ndarray:
        """Class labels → indices into ``classes_`` (set on the first fit)."""
        check_classification_targets(y)
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

    def _validation_logs(self, trainer: Trainer, X_val: np.ndarray,
                         y_val: np.ndarray) -> dict[str, float]:
        scores = forward_eval(self.network_, X_val)
        accuracy = float(np.mean(scores.argmax(axis=1) == y_val))
        return {"val_loss": trainer.validation_loss(scores, y_val),
                "val_accuracy": accuracy, "val_score": accuracy}

    # --------------------------------------------------------------- public
    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> "MLPClassifier":
        """One epoch over (X, y), continuing from the current weights; returns self.

        ``classes`` (every label that will ever appear) is required on the first call.
        """
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit "
                             "(every label that will appear, e.g. classes=np.unique(y_all))")
        return self._fit(X, y, incremental=True, classes=classes)

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw class scores, shape (n_samples, n_classes); for two classes the margin
        s₁ − s₀ of shape (n_samples,) (positive means ``classes_[1]``)."""
        scores = self._raw(X)
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The class with the highest score, shape (n_samples,)."""
        best = self._raw(X).argmax(axis=1)
        return self.classes_[best]

    @available_if(_has_proba)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the scores, shape (n_samples, n_classes), columns in ``classes_``."""
        return softmax_rows(self._raw(X))

    @available_if(_has_proba)
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log of :meth:`predict_proba`, computed stably (s − log Σ e^s)."""
        s = self._raw(X)
        s = s - row_max(s)
        return s - np.log(np.exp(s).sum(axis=1, keepdims=True))
