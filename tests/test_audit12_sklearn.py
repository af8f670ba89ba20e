"""Audit 12: per-thread generator blocks (nerve.random.using_generator), the sklearn
estimators' eval mode after fit, n_iter_ per call, sample_weight, multilabel targets,
the umask read without setting it, and LinearClassifier.score's label-kind check."""
from __future__ import annotations

import os
import stat
import threading
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import nerve as nv  # noqa: E402
from nerve import nn  # noqa: E402
from nerve import random as nrandom  # noqa: E402
from nerve.sklearn import MLPClassifier, MLPRegressor  # noqa: E402
from nerve.sklearn._loop import Trainer  # noqa: E402

FAST = dict(hidden_layer_sizes=(16,), max_iter=8, learning_rate_init=0.01, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = nv.data.load_digits()
    return (X[:400] / 16).astype(np.float32), y[:400]


# ------------------------------------------------------------ using_generator
def test_using_generator_is_per_thread_and_restores():
    nv.manual_seed(5)
    outside = nrandom.get_rng()
    with nrandom.using_generator(0) as gen:
        assert nrandom.get_rng() is gen
        got = [None]
        t = threading.Thread(target=lambda: got.__setitem__(0, nrandom.get_rng()))
        t.start()
        t.join()
        assert got[0] is outside                 # another thread: the library-wide one
        a = nv.randn(5).data
    assert nrandom.get_rng() is outside
    with nrandom.using_generator(np.random.default_rng(0)):
        b = nv.randn(5).data
    assert np.array_equal(a, b)
    nv.manual_seed(5)
    assert np.array_equal(nv.randn(3).data, np.random.default_rng(5).standard_normal(3,
                          dtype=np.float32))     # the library stream was not advanced


def test_using_generator_manual_seed_and_state_stay_in_the_block():
    nv.manual_seed(1)
    global_rng = nrandom.get_rng()
    mine = np.random.default_rng(3)
    mine_state = mine.bit_generator.state
    with nrandom.using_generator(mine):
        nv.manual_seed(9)                        # reseeds the block's generator only
        x = nv.randn(4).data
        state = nv.get_rng_state()
        y1 = nv.randn(4).data
        nv.set_rng_state(state)
        y2 = nv.randn(4).data
        with nrandom.using_generator(None) as same:  # None: no change
            assert same is nrandom.get_rng()
    assert np.array_equal(x, np.random.default_rng(9).standard_normal(4, dtype=np.float32))
    assert np.array_equal(y1, y2)
    assert nrandom.get_rng() is global_rng       # untouched by the block's reseed
    assert mine.bit_generator.state == mine_state  # the passed generator was replaced, not reseeded
    with pytest.raises(TypeError, match="seed must be an int"):
        with nrandom.using_generator("0"):
            pass


def test_estimator_reproducible_while_another_thread_draws(digits):
    X, y = digits
    make = lambda: MLPClassifier(**{**FAST, "dropout": 0.2})  # noqa: E731
    ref = make().fit(X, y).coefs_[0].copy()
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("w", make().fit(X, y).coefs_[0]))
    nv.manual_seed(1)
    t.start()
    draws = 0
    while t.is_alive() or draws < 50:
        nn.Linear(64, 10)
        if draws % 7 == 0:
            nv.manual_seed(1)
        draws += 1
    t.join()
    assert np.array_equal(ref, out["w"])


# --------------------------------------------------------------- eval mode
def test_fit_leaves_eval_mode_and_predict_changes_no_mode(digits, monkeypatch):
    X, y = digits
    clf = MLPClassifier(**{**FAST, "dropout": 0.5, "batch_norm": True}).fit(X, y)
    assert not any(m.training for m in clf.network_.modules())
    clf.partial_fit(X[:50], y[:50])
    assert not any(m.training for m in clf.network_.modules())
    ref = clf.predict_proba(X)
    calls = []
    monkeypatch.setattr(type(clf.network_), "train",
                        lambda self, mode=True: calls.append(mode) or self)
    assert np.array_equal(clf.predict_proba(X), ref) and calls == []
    monkeypatch.undo()
    bad = [0, 0, 0]

    def worker(i):
        for _ in range(30):
            bad[i] += not np.array_equal(clf.predict_proba(X), ref)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert bad == [0, 0, 0]
    reg = MLPRegressor(**FAST).fit(X, y.astype(float))
    assert not reg.network_.training


# ---------------------------------------------------------------- n_iter_
def test_n_iter_counts_the_last_call_as_sklearn(digits):
    from sklearn.neural_network import MLPClassifier as SK

    X, y = digits
    seen = {}
    for name, cls in (("sk", SK), ("nv", MLPClassifier)):
        a = cls(hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter reached, in both libraries
            a.fit(X, y)
            a.fit(X, y)
        b = cls(hidden_layer_sizes=(8,), random_state=0)
        for _ in range(3):
            b.partial_fit(X, y, classes=np.arange(10))
        seen[name] = (a.n_iter_, len(a.loss_curve_), b.n_iter_, len(b.loss_curve_))
    assert seen["nv"] == seen["sk"] == (3, 6, 1, 3)


# ----------------------------------------------------------- sample_weight
def _onehot(y, k):
    return np.eye(k)[y]


def test_weighted_loss_matches_sklearn_and_finite_differences():
    import inspect

    from sklearn.neural_network._base import binary_log_loss, log_loss, squared_loss

    if "sample_weight" not in inspect.signature(log_loss).parameters:
        pytest.skip("scikit-learn < 1.7: its private losses take no sample_weight")

    rng = np.random.default_rng(0)
    s = rng.standard_normal((7, 3))
    y = rng.integers(0, 3, 7)
    w = rng.integers(0, 4, 7).astype(float)
    t = Trainer(nn.Sequential(nn.Linear(2, 3)), "cross_entropy", None, 0.0, 0.0)
    got = float(t.data_loss(nv.Tensor(s, dtype=np.float64), y, w).data)
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert got == pytest.approx(log_loss(_onehot(y, 3), p, w), rel=1e-12)
    assert nv.gradcheck(lambda a: t.data_loss(a, y, w), s)
    # squared error: scikit-learn's has a factor 1/2, nerve's mse none
    target = rng.standard_normal((7, 2))
    r = Trainer(nn.Sequential(nn.Linear(2, 2)), "squared_error", None, 0.0, 0.0)
    got = float(r.data_loss(nv.Tensor(s[:, :2], dtype=np.float64), target, w).data)
    assert got == pytest.approx(2 * squared_loss(target, s[:, :2], w), rel=1e-12)
    assert nv.gradcheck(lambda a: r.data_loss(a, target, w), s[:, :2])
    # multilabel: one sigmoid per label, binary cross-entropy summed over labels
    Y = rng.integers(0, 2, (7, 3)).astype(float)
    m = Trainer(nn.Sequential(nn.Linear(2, 3)), "binary_cross_entropy", None, 0.0, 0.0)
    got = float(m.data_loss(nv.Tensor(s, dtype=np.float64), Y, w).data)
    assert got == pytest.approx(binary_log_loss(Y, 1 / (1 + np.exp(-s)), w), rel=1e-9)
    assert nv.gradcheck(lambda a: m.data_loss(a, Y, w), s)
    assert nv.gradcheck(lambda a: m.data_loss(a, Y), s)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_weight_two_equals_a_repeated_row(digits, cls):
    X, y = digits
    X, y = X[:60], y[:60]
    w = np.random.default_rng(1).integers(0, 3, 60)
    target = y if cls is MLPClassifier else y.astype(float)
    kw = dict(FAST, dtype="float64", batch_size=200, alpha=0.01)
    a = cls(**kw, shuffle=False).fit(X, target, sample_weight=w)
    b = cls(**kw, shuffle=False).fit(X.repeat(w, axis=0), target.repeat(w))
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-10)
    for ca, cb in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(ca, cb, rtol=1e-8, atol=1e-10)
    # partial_fit takes them too, in scikit-learn's order (X, y, sample_weight, classes)
    c = cls(**kw, shuffle=False)
    if cls is MLPClassifier:
        c.partial_fit(X, target, w, classes=np.arange(10))
    else:
        c.partial_fit(X, target, w)
    assert c.loss_curve_[0] == pytest.approx(a.loss_curve_[0], rel=1e-12)
    u = cls(**kw, shuffle=False).fit(X, target)
    assert u.loss_curve_ != a.loss_curve_  # the weights changed something


def test_sample_weight_errors(digits):
    X, y = digits
    clf = MLPClassifier(**FAST)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(400,\)"):
        clf.fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="finite numbers >= 0"):
        clf.fit(X, y, sample_weight=-np.ones(400))
    with pytest.raises(ValueError, match="zero for every row"):
        clf.fit(X, y, sample_weight=np.zeros(400))
    with pytest.raises(TypeError, match="sample_weight must be an array"):
        clf.fit(X, y, sample_weight=np.array(["a"] * 400, dtype=object))


def test_sample_weight_with_early_stopping(digits):
    X, y = digits
    w = np.random.default_rng(0).random(len(y)) + 0.5
    clf = MLPClassifier(**{**FAST, "early_stopping": True}).fit(X, y, sample_weight=w)
    assert len(clf.validation_scores_) == clf.n_iter_


# --------------------------------------------------------------- multilabel
def test_multilabel_indicator_targets():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)).astype(np.float32)
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 2] > 0], axis=1).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=200, learning_rate_init=0.01,
                        random_state=0).fit(X, Y)
    assert clf.out_activation_ == "logistic" and list(clf.classes_) == [0, 1, 2]
    pred = clf.predict(X)
    assert pred.shape == (200, 3) and set(np.unique(pred)) <= {0, 1}
    proba = clf.predict_proba(X)
    s = clf.decision_function(X)
    np.testing.assert_allclose(proba, 1 / (1 + np.exp(-s.astype(np.float64))), rtol=1e-5)
    assert np.array_equal(pred, (proba > 0.5).astype(int))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-5)
    assert clf.score(X, Y) > 0.9                 # subset accuracy
    p2 = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    p2.partial_fit(X, Y)                         # classes not needed for multilabel
    with pytest.raises(ValueError, match="fitted on multilabel"):
        p2.partial_fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="label columns"):
        p2.partial_fit(X, Y[:, :2])
    with pytest.raises(ValueError, match="hinge.*multilabel"):
        MLPClassifier(**FAST, loss="hinge").fit(X, Y)
    with pytest.raises(ValueError, match="only 0 and 1"):
        MLPClassifier(**FAST).fit(X, Y * 2 + 1)


# ------------------------------------------------------------------ umask
def test_new_file_mode_reads_umask_without_setting_it(tmp_path, monkeypatch):
    from nerve import atomic

    old = os.umask(0o027)
    os.umask(old)
    try:
        os.umask(0o027)

        def refuse(mask):
            raise AssertionError("os.umask must not be called by a save")

        monkeypatch.setattr(atomic.os, "umask", refuse)
        m = nn.Sequential(nn.Linear(2, 2))
        nv.save(m, tmp_path / "a.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "a.npz").st_mode) == 0o640
        monkeypatch.setattr(atomic, "_umask_from_proc", lambda: None)  # no /proc
        nv.save(m, tmp_path / "b.npz")
        assert stat.S_IMODE(os.stat(tmp_path / "b.npz").st_mode) == 0o640
        assert sorted(os.listdir(tmp_path)) == ["a.npz", "b.npz"]  # no probe left behind
    finally:
        monkeypatch.undo()
        os.umask(old)


# --------------------------------------------------- LinearClassifier.score
def test_linear_score_refuses_labels_of_another_kind():
    from nerve.linear import SoftmaxClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4)).astype(np.float32)
    y = rng.integers(0, 3, 30)
    names = np.array(["cat", "dog", "emu"])
    m = SoftmaxClassifier(epochs=2, seed=0).fit(X, names[y])
    with pytest.raises(ValueError, match="number labels.*string"):
        m.score(X, y)
    assert 0.0 <= m.score(X, names[y]) <= 1.0
    assert m.score(X, np.array(["fox"] * 30)) == 0.0   # unseen labels of the same kind
    n = SoftmaxClassifier(epochs=2, seed=0).fit(X, y)
    with pytest.raises(ValueError, match="string labels.*number"):
        n.score(X, names[y].astype(object))
