"""What MLPClassifier and MLPRegressor share: fitting, partial fitting, early stopping."""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ..train.callbacks import CallbackList
from . import _config as C
from ._loop import Trainer, forward_eval, make_rng, using_rng


class BaseMLP(BaseEstimator):
    """A multi-layer perceptron trained with nerve; subclasses say what the targets are.

    Subclasses implement ``_targets(y, first, classes)`` (checked, encoded targets),
    ``_n_outputs(y)``, ``_validation_score(X, y)`` and set ``_loss_choices``.
    """

    _loss_choices: tuple[str, ...] = ()

    def _store_params(self, params: dict[str, Any]) -> None:
        """Keep every constructor argument as is, under its own name (scikit-learn's rule:
        ``__init__`` stores its parameters and does nothing else)."""
        for name in self._get_param_names():
            setattr(self, name, params[name])

    # ----------------------------------------------------------------- checks
    def _hyper(self) -> dict[str, Any]:
        """The scalar hyperparameters, checked (the layer ones are checked when building)."""
        bs = self.batch_size
        if not (isinstance(bs, str) and bs == "auto"):
            bs = C.check_int("batch_size ('auto' or an int)", bs, 1)
        return {
            "max_iter": C.check_int("max_iter", self.max_iter, 1),
            "batch_size": bs,
            "tol": C.check_real("tol", self.tol, 0.0),
            "n_iter_no_change": C.check_int("n_iter_no_change", self.n_iter_no_change, 1),
            "shuffle": C.check_bool("shuffle", self.shuffle),
            "early_stopping": C.check_bool("early_stopping", self.early_stopping),
            "validation_fraction": C.check_real("validation_fraction",
                                                self.validation_fraction, 0.0, 1.0,
                                                low_open=True, high_open=True),
            "warm_start": C.check_bool("warm_start", self.warm_start),
            "verbose": C.check_bool("verbose", bool(self.verbose)
                                    if isinstance(self.verbose, (int, np.integer))
                                    else self.verbose),
            "loss": C.canonical_loss(C.check_choice("loss", self.loss, self._loss_choices)),
            "dtype": C.model_dtype(self.dtype),
            "callbacks": self._callback_list(),
        }

    def _callback_list(self) -> list[Any]:
        cbs = self.callbacks
        if cbs is None:
            return []
        if isinstance(cbs, (str, bytes)) or not isinstance(cbs, (list, tuple)):
            hint = ""
            if hasattr(cbs, "on_epoch_end"):
                name = cbs.__name__ if isinstance(cbs, type) else type(cbs).__name__
                hint = f"; wrap it: callbacks=[{name}(...)]"
            raise TypeError(f"callbacks must be a list of nerve.train.Callback objects or "
                            f"None, got {type(cbs).__name__}{hint}")
        return list(cbs)

    def _check_X(self, X: Any, reset: bool) -> np.ndarray:
        """X validated and cast to the dtype the network was fitted in."""
        X = validate_data(self, X, reset=reset, dtype=C.accepted_dtypes(self._dtype))
        return X.astype(self._dtype, copy=False)

    def _check_sample_weight(self, sample_weight: Any, n: int) -> np.ndarray | None:
        """``sample_weight`` as a float64 array of shape (n,) of finite numbers >= 0, not
        all 0, or None (every row counts once)."""
        if sample_weight is None:
            return None
        owner = type(self).__name__
        if isinstance(sample_weight, (int, float, np.integer, np.floating)) \
                and not isinstance(sample_weight, bool):
            sample_weight = np.full(n, float(sample_weight))
        try:
            w = np.asarray(sample_weight, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{owner}: sample_weight must be an array of {n} numbers (one "
                            f"per row of X) or None, got {type(sample_weight).__name__}") \
                from None
        if w.ndim != 1 or w.shape[0] != n:
            raise ValueError(f"{owner}: sample_weight must have shape ({n},), one weight per "
                             f"row of X, got shape {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError(f"{owner}: sample_weight must hold finite numbers >= 0, got "
                             f"{w[~(np.isfinite(w) & (w >= 0))][:5].tolist()} among them")
        if not w.any():
            raise ValueError(f"{owner}: sample_weight is zero for every row; at least one "
                             "row must have a positive weight")
        return w

    # -------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "BaseMLP":
        """Train on X of shape (n_samples, n_features) and targets y; returns self.

        Up to ``max_iter`` epochs, stopping early when the training loss (or, with
        ``early_stopping``, the validation score) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs in a row. ``sample_weight`` (n_samples,) weights each
        row's loss, as scikit-learn's: each batch's loss is Σ wᵢ Lᵢ / Σ wᵢ (a weight of
        2 counts a row twice), and the validation score with early stopping is weighted.
        ``n_iter_`` counts this call's epochs (reset per call, as scikit-learn); with
        ``warm_start`` ``loss_curve_`` goes on growing. The network is left in eval mode.
        With ``dtype="auto"`` (the default) the network computes in float64 for float64
        X, as scikit-learn's MLP, and in float32 for any other X; a warm start keeps the
        dtype of the first fit, and predict casts X to it.
        """
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    def _fit(self, X: Any, y: Any, incremental: bool, classes: Any = None,
             sample_weight: Any = None) -> "BaseMLP":
        h = self._hyper()
        if incremental and h["early_stopping"]:
            # as scikit-learn: one epoch has no validation curve to stop on, and holding
            # out rows of every partial_fit batch would silently drop training data
            raise ValueError("partial_fit does not support early_stopping=True; set "
                             "early_stopping=False to train incrementally, or use fit")
        first = not hasattr(self, "network_") or not (h["warm_start"] or incremental)
        # the compute dtype: decided by the first fit (for "auto" by X's dtype, as
        # scikit-learn's MLP), then kept by warm starts, partial_fit and predict
        dtype = h["dtype"] if first else self._dtype
        X, y = validate_data(self, X, y, reset=first, dtype=C.accepted_dtypes(dtype),
                             **self._y_check_params())
        if first:
            self._dtype = C.fit_dtype(dtype, X)
        X = X.astype(self._dtype, copy=False)
        y = self._targets(y, first, classes)
        sample_weight = self._check_sample_weight(sample_weight, X.shape[0])
        early = h["early_stopping"]  # never with incremental (refused above)
        if first:
            self._initialize(X.shape[1], self._n_outputs(y), h)
        elif early and self.validation_scores_ is None:  # warm start, now early stopping
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
        elif not early and self.best_loss_ is None:  # early stopping switched off since
            self.best_loss_ = np.inf  # the training-loss rule needs a best loss to beat
        # fit builds a new optimizer every time, warm start or not (scikit-learn's rule,
        # so set_params(learning_rate_init=..., solver=...) takes effect); partial_fit
        # keeps the one it has
        if first or not hasattr(self, "_optimizer") or not incremental:
            self._optimizer = C.build_optimizer(self, list(self.network_.parameters()))
            self._schedule = C.build_schedule(self, self._optimizer, max(1, h["max_iter"]))
        self.n_iter_ = 0  # epochs of this call, as scikit-learn counts them
        self.network_.train()
        try:
            with using_rng(self._rng) as rng:
                X_val = y_val = w_val = None
                if early:
                    train, val = self._split_rows(y, h["validation_fraction"], rng)
                    X, y, X_val, y_val = X[train], y[train], X[val], y[val]
                    if sample_weight is not None:
                        sample_weight, w_val = sample_weight[train], sample_weight[val]
                self._run(X, y, X_val, y_val, h, rng, incremental, sample_weight, w_val)
        finally:
            # predict then changes no state: several threads may predict at once
            self.network_.eval()
        return self

    def _initialize(self, n_features: int, n_outputs: int, h: dict[str, Any]) -> None:
        self._rng = make_rng(self.random_state)
        with using_rng(self._rng):
            self.network_ = C.build_network(self, n_features, n_outputs, self._dtype)
        self.n_layers_ = len(C.hidden_sizes(self.hidden_layer_sizes)) + 2
        self.n_outputs_ = n_outputs
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        self._best_state: dict[str, np.ndarray] | None = None
        if h["early_stopping"]:
            self.validation_scores_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_loss_: float | None = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf

    def _split(self, X: np.ndarray, y: np.ndarray, fraction: float,
               rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """Hold out ceil(fraction · n) random rows for validation (early stopping);
        for a classifier whose classes all have 2 members or more, stratified by class,
        as scikit-learn's MLPClassifier holds them out: X, y, X_val, y_val."""
        train, val = self._split_rows(y, fraction, rng)
        return X[train], y[train], X[val], y[val]

    def _split_rows(self, y: np.ndarray, fraction: float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The (train, validation) row indices of :meth:`_split`."""
        n = y.shape[0]
        n_val = max(1, math.ceil(fraction * n))
        if n - n_val < 1:
            raise ValueError(f"early_stopping needs at least 2 samples to hold out a "
                             f"validation set (validation_fraction={fraction}); got "
                             f"n_samples={n}")
        if y.ndim == 1 and hasattr(self, "classes_") and n_val >= 2 \
                and np.bincount(y).min(initial=n) >= 2:
            from ..data.preprocess import _stratified_split

            train, val = _stratified_split(y, n_val, rng)
        else:
            order = rng.permutation(n)
            val, train = order[:n_val], order[n_val:]
        return train, val

    def _run(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None,
             y_val: np.ndarray | None, h: dict[str, Any], rng: np.random.Generator,
             incremental: bool, weight: np.ndarray | None = None,
             w_val: np.ndarray | None = None) -> None:
        n = X.shape[0]
        bs = min(200, n) if h["batch_size"] == "auto" else min(h["batch_size"], n)
        l2, l1 = C.penalty_terms(self)
        has_bn = any(type(m).__name__ == "BatchNorm1d" for m in self.network_.modules())
        trainer = Trainer(self.network_, self._training_loss(h["loss"]), self._optimizer, l2, l1,
                          min_batch=2 if has_bn else 1)
        if has_bn and n < 2:
            raise ValueError(f"batch_norm=True cannot train on one sample: BatchNorm1d needs "
                             f"at least 2 rows to estimate a variance; got n_samples={n}")
        if has_bn and bs < 2:
            raise ValueError(f"batch_norm=True needs batch_size >= 2 (BatchNorm1d estimates a "
                             f"variance per batch), got batch_size={bs}")
        epochs = 1 if incremental else h["max_iter"]
        params = {"epochs": epochs, "batch_size": bs, "steps": math.ceil(n / bs), "samples": n}
        callbacks = CallbackList(h["callbacks"], self.network_, params)
        net = self.network_
        net.stop_training = False
        try:
            stopped = self._epochs(trainer, callbacks, X, y, X_val, y_val, h, rng, bs, epochs,
                                   incremental, weight, w_val)
        finally:
            del net.stop_training
        if not stopped and epochs > 0:
            warnings.warn(f"{type(self).__name__}: reached max_iter={epochs} epochs before the "
                          f"loss stopped improving by tol={h['tol']:g}; raise max_iter or "
                          "learning_rate_init, or ignore this if the scores suffice",
                          ConvergenceWarning, stacklevel=4)

    def _epochs(self, trainer: Trainer, callbacks: CallbackList, X: np.ndarray,
                y: np.ndarray, X_val: np.ndarray | None, y_val: np.ndarray | None,
                h: dict[str, Any], rng: np.random.Generator, bs: int, epochs: int,
                incremental: bool, weight: np.ndarray | None = None,
                w_val: np.ndarray | None = None) -> bool:
        """Run up to ``epochs`` epochs; return whether training stopped (rule or callback)."""
        net = self.network_
        callbacks.train_begin({})
        stopped = incremental
        for _ in range(epochs):
            epoch = self.n_iter_
            callbacks.epoch_begin(epoch, {})
            logs = trainer.run_epoch(X, y, bs, h["shuffle"], rng, epoch, callbacks, weight)
            self.n_iter_ += 1
            self.t_ += X.shape[0]
            self.loss_curve_.append(logs["loss"])
            self.loss_ = logs["loss"]  # scikit-learn's name: the last epoch's loss
            if X_val is not None:
                logs.update(self._validation_logs(trainer, X_val, y_val, w_val))
            converged = self._update_no_improvement(logs, h["tol"], X_val is not None)
            if self._schedule is not None:
                self._schedule.step()
            if h["verbose"]:
                extra = f", validation score = {logs['val_score']:.6f}" if X_val is not None \
                    else ""
                print(f"Iteration {self.n_iter_}, loss = {logs['loss']:.8f}{extra}")
            callbacks.epoch_end(epoch, logs)
            if (not incremental and converged > h["n_iter_no_change"]) \
                    or getattr(net, "stop_training", False):
                stopped = True
                break
        if X_val is not None and self._best_state is not None:
            net.load_state_dict(self._best_state)
        callbacks.train_end({})
        return stopped

    def _update_no_improvement(self, logs: dict[str, float], tol: float, early: bool) -> int:
        """scikit-learn's rule: count epochs in a row without an improvement of ``tol`` in
        the validation score (early stopping) or the training loss; keep the best weights."""
        if early:
            score = logs["val_score"]
            self.validation_scores_.append(score)
            best = self.best_validation_score_
            self._no_improvement_count = self._no_improvement_count + 1 \
                if score < best + tol else 0
            if score > best:
                self.best_validation_score_ = score
                self._best_state = self.network_.state_dict()
        else:
            loss = logs["loss"]
            self._no_improvement_count = self._no_improvement_count + 1 \
                if loss > self.best_loss_ - tol else 0
            self.best_loss_ = min(self.best_loss_, loss)
        return self._no_improvement_count

    def _validation_logs(self, trainer: Trainer, X_val: np.ndarray, y_val: np.ndarray,
                         w_val: np.ndarray | None = None) -> dict[str, float]:
        raise NotImplementedError

    def _training_loss(self, loss: str) -> str:
        """The Trainer's loss for the checked ``loss`` hyperparameter (the classifier
        trains multilabel targets on the binary cross-entropy)."""
        return loss

    # --------------------------------------------------------------- predict
    def _raw(self, X: Any) -> np.ndarray:
        """The network's output for X: class scores or predicted targets."""
        check_is_fitted(self, "network_")
        return forward_eval(self.network_, self._check_X(X, reset=False))

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices of shape (fan_in, fan_out) per layer, as scikit-learn stores them."""
        check_is_fitted(self, "network_")
        return [m.weight.data for m in self.network_  # nerve stores (in, out) too
                if getattr(m, "weight", None) is not None and hasattr(m, "in_features")]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors per layer."""
        check_is_fitted(self, "network_")
        return [m.bias.data for m in self.network_
                if getattr(m, "bias", None) is not None and hasattr(m, "in_features")]

