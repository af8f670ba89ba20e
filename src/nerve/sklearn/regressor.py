"""``MLPRegressor``: a scikit-learn regressor trained by nerve."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from ._base import BaseMLP
from ._loop import Trainer, forward_eval
from .classifier import PARAMETERS_DOC


class MLPRegressor(RegressorMixin, BaseMLP):
    """A multi-layer perceptron regressor: hidden layers, then a Linear layer with one
    output per target, trained on the mean squared error L = mean((ŷ − y)²)
    (``loss="squared_error"``). Targets y of shape (n_samples,) or
    (n_samples, n_targets); ``score`` is R².

    Fitted attributes as :class:`MLPClassifier` (without ``classes_``);
    ``validation_scores_`` hold R² on the held-out rows. ``fit`` and ``partial_fit`` take
    ``sample_weight`` (the batch loss is Σ wᵢ Lᵢ / Σ wᵢ) and leave the network in eval mode.
    """ + PARAMETERS_DOC

    _loss_choices = ("squared_error",)

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: Any = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001, penalty: str | None = "l2",
                 l1_ratio: float = 0.15, loss: str = "squared_error",
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    # ------------------------------------------------------------- targets
    def _y_check_params(self) -> dict[str, Any]:
        return {"multi_output": True, "y_numeric": True}

    def _n_outputs(self, y: np.ndarray) -> int:
        return y.shape[1]

    def _targets(self, y: np.ndarray, first: bool, classes: Any) -> np.ndarray:
        """Float targets of shape (n_samples, n_targets) in the model's dtype."""
        y = np.asarray(y, dtype=self._dtype)
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if first:
            self.out_activation_ = "identity"
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y.shape[1]} target columns but the model was fitted "
                             f"with {self.n_outputs_}")
        return y

    def _validation_logs(self, trainer: Trainer, X_val: np.ndarray, y_val: np.ndarray,
                         w_val: np.ndarray | None = None) -> dict[str, float]:
        pred = forward_eval(self.network_, X_val)
        r2 = float(r2_score(y_val, pred, sample_weight=w_val)) if len(y_val) > 1 else 0.0
        return {"val_loss": trainer.validation_loss(pred, y_val, w_val), "val_r2": r2,
                "val_score": r2}

    # --------------------------------------------------------------- public
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> "MLPRegressor":
        """One epoch over (X, y), continuing from the current weights; returns self.
        ``sample_weight`` as in :meth:`fit`."""
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, shape (n_samples,) for one target, else (n_samples, n_targets).

        float64, as scikit-learn's regressors predict (its checks ask for it), whatever
        dtype the network computes in.
        """
        out = self._raw(X).astype(np.float64, copy=False)
        return out[:, 0] if out.shape[1] == 1 else out
