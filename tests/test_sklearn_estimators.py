"""nerve.sklearn.MLPClassifier / MLPRegressor: options, reproducibility, partial fits, errors."""
from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import nerve as nv  # noqa: E402
from nerve import nn  # noqa: E402
from nerve.data import load_digits  # noqa: E402
from nerve.sklearn import MLPClassifier, MLPRegressor  # noqa: E402
from nerve.sklearn._config import HIDDEN_ACTIVATIONS  # noqa: E402
from nerve.train import EarlyStopping, LambdaCallback  # noqa: E402

SMALL = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    X = (X[:400] - 8.0) / 8.0
    return X.astype(np.float32), y[:400]


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4)).astype(np.float32)
    W = rng.standard_normal((4, 3)).astype(np.float32)
    return X, X @ W + 0.5


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning from the short fits
        yield


def _state(est):
    return est.network_.state_dict()


def _same_state(a, b):
    sa, sb = _state(a), _state(b)
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


# --------------------------------------------------------------------- basics
def test_fit_returns_self_and_sets_fitted_attributes(digits):
    X, y = digits
    clf = MLPClassifier(**SMALL, max_iter=15)
    assert clf.fit(X, y) is clf
    assert list(clf.classes_) == list(range(10))
    assert clf.n_features_in_ == 64 and clf.n_outputs_ == 10 and clf.n_layers_ == 3
    assert clf.n_iter_ == 15 == len(clf.loss_curve_)
    assert clf.t_ == 15 * len(X)
    assert clf.validation_scores_ is None and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert [w.shape for w in clf.coefs_] == [(64, 16), (16, 10)]
    assert [b.shape for b in clf.intercepts_] == [(16,), (10,)]
    assert clf.out_activation_ == "softmax"
    proba = clf.predict_proba(X)
    assert proba.shape == (400, 10) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), proba.argmax(axis=1))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-4, atol=1e-7)
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("hidden", [(16,), (64,)])      # (64,): a square first layer
def test_coefs_reproduce_the_predictions(hidden, digits):
    X, y = digits
    clf = MLPClassifier(**{**SMALL, "hidden_layer_sizes": hidden}, max_iter=3).fit(X, y)
    (w0, w1), (b0, b1) = clf.coefs_, clf.intercepts_
    scores = np.maximum(X @ w0 + b0, 0) @ w1 + b1
    np.testing.assert_allclose(clf.decision_function(X), scores, rtol=1e-4, atol=1e-4)


def test_string_labels_and_binary_decision_function(digits):
    X, y = digits
    keep = y < 2
    labels = np.where(y[keep] == 0, "zero", "one")
    clf = MLPClassifier(**SMALL, max_iter=10).fit(X[keep], labels)
    assert list(clf.classes_) == ["one", "zero"]
    margin = clf.decision_function(X[keep])
    assert margin.shape == (keep.sum(),)
    np.testing.assert_array_equal(clf.predict(X[keep]), clf.classes_[(margin > 0).astype(int)])
    assert set(clf.predict(X[keep])) <= {"zero", "one"}


def test_stopping_rule_stops_before_max_iter(digits):
    X, y = digits
    clf = MLPClassifier(**SMALL, max_iter=500, tol=0.05, n_iter_no_change=2).fit(X, y)
    assert 3 <= clf.n_iter_ < 500


def test_max_iter_reached_warns(digits):
    X, y = digits
    from sklearn.exceptions import ConvergenceWarning
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        MLPClassifier(**SMALL, max_iter=2).fit(X, y)


# ------------------------------------------------------------ reproducibility
def test_random_state_gives_bitwise_identical_fits(digits):
    X, y = digits
    opts = dict(SMALL, max_iter=6, dropout=0.2, early_stopping=True, batch_size=50)
    a, b = MLPClassifier(**opts).fit(X, y), MLPClassifier(**opts).fit(X, y)
    assert _same_state(a, b) and a.loss_curve_ == b.loss_curve_
    assert a.validation_scores_ == b.validation_scores_
    c = MLPClassifier(**{**opts, "random_state": 1}).fit(X, y)
    assert not _same_state(a, c)


def test_random_state_leaves_nerves_generator_alone(digits):
    X, y = digits
    before = nv.random.get_rng()
    MLPClassifier(**SMALL, max_iter=1, dropout=0.5).fit(X, y)
    assert nv.random.get_rng() is before


def test_no_random_state_follows_manual_seed(digits):
    X, y = digits
    opts = dict(SMALL, random_state=None, max_iter=3, dropout=0.3)
    nv.manual_seed(11)
    a = MLPClassifier(**opts).fit(X, y)
    nv.manual_seed(11)
    b = MLPClassifier(**opts).fit(X, y)
    assert _same_state(a, b)


# ------------------------------------------------------ partial fit, warm start
def test_partial_fit(digits):
    X, y = digits
    clf = MLPClassifier(**SMALL)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:200], y[:200], classes=np.arange(10))
    clf.partial_fit(X[200:], y[200:])
    # scikit-learn: n_iter_ counts the last call's epochs; loss_curve_ keeps growing
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 2
    with pytest.raises(ValueError, match=r"labels \[np.int64\(12\)\]|labels \[12\]"):
        clf.partial_fit(X[:3], np.array([1, 2, 12]))
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :10], y)


def test_warm_start_continues_training(digits):
    X, y = digits
    clf = MLPClassifier(**SMALL, max_iter=4, warm_start=True).fit(X, y)
    first = {k: v.copy() for k, v in _state(clf).items()}
    clf.fit(X, y)
    # scikit-learn: n_iter_ counts the last call's epochs; loss_curve_ keeps growing
    assert clf.n_iter_ == 4 and len(clf.loss_curve_) == 8
    assert not all(np.array_equal(first[k], v) for k, v in _state(clf).items())
    clf.set_params(early_stopping=True).fit(X, y)        # switched on in a warm start
    assert len(clf.validation_scores_) == clf.n_iter_ and len(clf.loss_curve_) > 8
    cold = MLPClassifier(**SMALL, max_iter=4).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 4


# ---------------------------------------------------------- early stopping
def test_early_stopping_keeps_the_best_epoch(digits):
    X, y = digits
    snapshots, scores = [], []

    def remember(epoch, logs):
        scores.append(logs["val_score"])
        snapshots.append(clf.network_.state_dict())

    clf = MLPClassifier(**SMALL, max_iter=40, early_stopping=True, validation_fraction=0.25,
                        n_iter_no_change=3, callbacks=[LambdaCallback(on_epoch_end=remember)])
    clf.fit(X, y)
    assert clf.validation_scores_ == scores and len(scores) == clf.n_iter_
    assert clf.best_validation_score_ == max(scores) and clf.best_loss_ is None
    best = snapshots[int(np.argmax(scores))]
    assert all(np.array_equal(best[k], v) for k, v in _state(clf).items())


def test_callbacks_get_keras_logs_and_can_stop(digits):
    X, y = digits
    seen = []
    log = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(sorted(logs)))
    clf = MLPClassifier(**SMALL, max_iter=50, early_stopping=True,
                        callbacks=[log, EarlyStopping(monitor="loss", patience=0,
                                                      min_delta=100.0)])
    clf.fit(X, y)
    assert clf.n_iter_ == 2            # no epoch improves by 100: stop after patience 0
    assert seen[0] == ["accuracy", "loss", "val_accuracy", "val_loss", "val_score"]


# ------------------------------------------------------------------ options
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_every_activation_builds_and_predicts(activation, digits):
    X, y = digits
    clf = MLPClassifier(**SMALL, activation=activation, max_iter=2).fit(X, y)
    kinds = [type(m).__name__ for m in clf.network_]
    if activation == "maxout":
        assert kinds == ["Maxout", "Linear"]
    else:
        want = type(nn.get_activation("sigmoid" if activation == "logistic"
                                      else activation)).__name__
        assert kinds == ["Linear", want, "Linear"]
    assert np.all(np.isfinite(clf.predict_proba(X[:5])))


def test_per_layer_activations_dropout_and_batch_norm(digits):
    X, y = digits
    clf = MLPClassifier(**{**SMALL, "hidden_layer_sizes": (16, 8)}, max_iter=15,
                        activation=("elu", "prelu"), dropout=(0.1, 0.0), batch_norm=True)
    clf.fit(X, y)
    kinds = [type(m).__name__ for m in clf.network_]
    assert kinds == ["Linear", "BatchNorm1d", "ELU", "Dropout", "Linear", "BatchNorm1d",
                     "PReLU", "Linear"]
    assert clf.score(X, y) > 0.8
    assert not clf.network_.training      # fit leaves eval mode; predict changes no state
    np.testing.assert_array_equal(clf.predict(X), clf.predict(X))


def test_hinge_loss_gives_scores_not_probabilities(digits):
    X, y = digits
    clf = MLPClassifier(**SMALL, loss="hinge", max_iter=20).fit(X, y)
    assert not hasattr(clf, "predict_proba") and not hasattr(clf, "predict_log_proba")
    scores = clf.decision_function(X)
    assert scores.shape == (400, 10) and clf.out_activation_ == "identity"
    np.testing.assert_array_equal(clf.predict(X), scores.argmax(axis=1))
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("solver", ["sgd", "momentum", "nesterov", "rmsprop", "adagrad",
                                    "adam", "adamw"])
def test_every_optimizer_learns(solver, digits):
    X, y = digits
    clf = MLPClassifier(**SMALL, solver=solver, max_iter=25, batch_size=32).fit(X, y)
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("schedule, params, lr", [
    ("constant", None, 0.1),
    ("step", {"step_size": 2, "gamma": 0.5}, 0.1 * 0.5 ** 2),
    ("exponential", {"gamma": 0.9}, 0.1 * 0.9 ** 5),
    ("cosine", None, 0.0),                    # T_max defaults to max_iter: annealed to 0
])
def test_learning_rate_schedules(schedule, params, lr, digits):
    X, y = digits
    clf = MLPClassifier(**{**SMALL, "learning_rate_init": 0.1}, solver="sgd", max_iter=5,
                        learning_rate=schedule, learning_rate_params=params, tol=0.0,
                        n_iter_no_change=100).fit(X, y)
    assert clf._optimizer.param_groups[0]["lr"] == pytest.approx(lr, abs=1e-12)


@pytest.mark.parametrize("penalty, l2, l1", [("l2", 1.0, 0.0), ("l1", 0.0, 1.0),
                                             ("elasticnet", 0.7, 0.3)])
def test_penalty_gradient_matches_the_formula(penalty, l2, l1, digits):
    """One plain SGD step on one full batch: the penalty adds lr·alpha/n·(l2·W + l1·sign W)
    to the weights' update (biases untouched) and its value to the logged loss."""
    X, y = digits
    n, lr, alpha = len(X), 0.1, 2.0
    opts = dict(SMALL, solver="sgd", momentum=0.0, learning_rate_init=lr, batch_size=n,
                shuffle=False, penalty=penalty, l1_ratio=0.3)
    initial = []  # the weights before the step, read when training begins
    grab = LambdaCallback(on_train_begin=lambda logs: initial.extend(
        m.weight.data.copy() for m in plain.network_ if hasattr(m, "in_features")))
    plain = MLPClassifier(**opts, alpha=0.0, callbacks=[grab])
    plain.partial_fit(X, y, classes=np.arange(10))
    W0 = initial
    pen = MLPClassifier(**opts, alpha=alpha).partial_fit(X, y, classes=np.arange(10))
    for w0, wa, wb in zip(W0, plain.coefs_, pen.coefs_):
        want = lr * alpha / n * (l2 * w0 + l1 * np.sign(w0))
        np.testing.assert_allclose(wa - wb, want, rtol=1e-3, atol=1e-7)
    for ba, bb in zip(plain.intercepts_, pen.intercepts_):
        np.testing.assert_array_equal(ba, bb)
    value = sum(alpha / n * (l2 / 2 * np.sum(w.astype(np.float64) ** 2) + l1 * np.abs(w).sum())
                for w in W0)
    assert pen.loss_curve_[0] - plain.loss_curve_[0] == pytest.approx(value, rel=1e-3)


def test_float64_on_request(digits):
    X, y = digits
    clf = MLPClassifier(**SMALL, max_iter=2, dtype="float64").fit(X, y)
    assert all(p.dtype == np.float64 for p in clf.network_.parameters())
    assert clf.predict_proba(X).dtype == np.float64


def test_divergence_is_reported(digits):
    X, y = digits
    clf = MLPClassifier(**{**SMALL, "learning_rate_init": 1e8}, solver="sgd", max_iter=20)
    with pytest.raises(ValueError, match="diverged.*learning_rate_init"):
        clf.fit(X * 1e3, y)


# --------------------------------------------------------------- regressor
def test_regressor_single_and_multi_output(regression):
    X, Y = regression
    reg = MLPRegressor(**{**SMALL, "hidden_layer_sizes": (32,)}, max_iter=150).fit(X, Y)
    assert reg.predict(X).shape == (200, 3) and reg.n_outputs_ == 3
    assert reg.predict(X).dtype == np.float64  # as scikit-learn's regressors predict
    np.testing.assert_array_equal(reg.predict(X), reg._raw(X).astype(np.float64))
    assert reg.score(X, Y) > 0.95
    one = MLPRegressor(**SMALL, max_iter=30, early_stopping=True).fit(X, Y[:, 0])
    assert one.predict(X).shape == (200,) and one.n_outputs_ == 1
    assert len(one.validation_scores_) == one.n_iter_
    with pytest.raises(ValueError, match="target columns"):
        MLPRegressor(**SMALL, warm_start=True, max_iter=1).fit(X, Y).fit(X, Y[:, :2])


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("params, exc, match", [
    ({"activation": "swish"}, ValueError, "activation='swish' is not valid.*'relu'"),
    ({"hidden_layer_sizes": (4, 4), "activation": ("relu",)}, ValueError,
     "one per hidden layer"),
    ({"solver": "lbfgs"}, ValueError, "solver='lbfgs' is not valid.*'adam'"),
    ({"hidden_layer_sizes": (0,)}, ValueError, r"hidden_layer_sizes\[0\]"),
    ({"hidden_layer_sizes": "big"}, TypeError, "hidden_layer_sizes must be a tuple"),
    ({"alpha": -1.0}, ValueError, "alpha must be a number"),
    ({"dropout": 1.0}, ValueError, "dropout must be a number in"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"learning_rate": "invscaling"}, ValueError, "'cosine'"),
    ({"learning_rate": "step", "learning_rate_params": {"bogus": 1}}, TypeError, "StepLR"),
    ({"penalty": "l3"}, ValueError, "penalty='l3'"),
    ({"dtype": "float16"}, ValueError, "dtype='float16'"),
    ({"loss": "squared_error"}, ValueError, "'hinge'"),
    ({"callbacks": "loud"}, TypeError, "callbacks must be a list"),
    ({"random_state": "abc"}, TypeError, "random_state"),
    ({"validation_fraction": 1.0, "early_stopping": True}, ValueError, "validation_fraction"),
    ({"max_iter": -1}, ValueError, "max_iter"),
    ({"max_iter": 0}, ValueError, r"max_iter must be an integer >= 1, got 0"),
    ({"callbacks": EarlyStopping(monitor="loss")}, TypeError,
     r"wrap it: callbacks=\[EarlyStopping\(\.\.\.\)\]"),
    ({"init": "bogus"}, ValueError, "init='bogus'"),
    ({"n_iter_no_change": 0}, ValueError, "n_iter_no_change"),
])
def test_bad_hyperparameters_are_named(params, exc, match, digits):
    X, y = digits
    with pytest.raises(exc, match=match):
        MLPClassifier(**{**SMALL, "max_iter": 1, **params}).fit(X[:20], y[:20])


@pytest.mark.parametrize("est", [MLPClassifier, MLPRegressor])
def test_max_iter_zero_is_refused_like_scikit_learn(est, digits):
    """max_iter=0 used to train nothing and return an unfitted-looking model silently."""
    X, y = digits
    with pytest.raises(ValueError, match=r"max_iter must be an integer >= 1, got 0"):
        est(**SMALL, max_iter=0).fit(X[:20], y[:20].astype(float))


def test_missing_scikit_learn_names_the_extra():
    code = ("import sys; sys.modules['sklearn'] = None; sys.modules['sklearn.base'] = None\n"
            "try:\n    import nerve.sklearn\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert "pip install 'nerve[sklearn]'" in out.stdout, out.stderr
