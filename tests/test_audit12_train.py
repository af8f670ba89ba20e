"""Audit 12 fixes in the training loop, the optimizers' state and the schedulers.

ports #1 (class-probability targets in fit/evaluate), #3 (``opt.state[p]``), #6
(callbacks reach the optimizer), #8 (one-class validation_split warning), #9
(``ReduceLROnPlateau(min_lr=[...])``); oddinputs #11 (0-d array hyperparameters);
concmem #2 (eval_mode from several threads), #7 (no float64 temporary in the range check).
"""
from __future__ import annotations

import copy
import json
import pickle
import sys
import threading
import tracemalloc
import warnings

import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim
from nerve.train.validation import _cast_in_range, eval_mode


def _digits(n=300):
    X, y = nv.data.load_digits()
    return (X[:n] / 16).astype(np.float32), y[:n]


# ----------------------------------------------------------------------------- ports #1
def test_fit_onehot_targets_train_as_the_labels_do():
    X, y = _digits()
    Y = np.eye(10, dtype=np.float32)[y]
    histories = []
    for targets, val in ((y, y[:50]), (Y, Y[:50])):
        nv.manual_seed(0)
        m = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
        h = nv.fit(m, X, targets, loss=nn.CrossEntropyLoss(), optimizer="sgd", lr=0.1,
                   epochs=3, batch_size=32, verbose=0, seed=1, compile=False,
                   validation_data=(X[:50], val))
        histories.append(h.history)
    labels, onehot = histories
    assert labels.keys() == onehot.keys() == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key in labels:
        np.testing.assert_allclose(onehot[key], labels[key], rtol=1e-5, atol=1e-6)


def test_fit_soft_targets_step_matches_a_manual_step_in_float64():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    T = rng.random((40, 3))
    T /= T.sum(axis=1, keepdims=True)
    nv.manual_seed(0)
    m = nn.Sequential(nn.Linear(5, 3)).double()
    m2 = copy.deepcopy(m)
    lf = nn.CrossEntropyLoss(label_smoothing=0.1)
    nv.fit(m, X, T, loss=lf, optimizer=optim.SGD(m.parameters(), lr=0.5), epochs=1,
           batch_size=40, shuffle=False, verbose=0)  # compile="auto": eager for soft targets
    opt = optim.SGD(m2.parameters(), lr=0.5)
    opt.zero_grad()
    lf(m2(X), T).backward()
    opt.step()
    for a, b in zip(m.parameters(), m2.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-12)


def test_evaluate_class_probabilities_loss_and_argmax_accuracy():
    X, y = _digits()
    rng = np.random.default_rng(0)
    T = rng.random((len(X), 10)).astype(np.float32)
    T /= T.sum(axis=1, keepdims=True)
    nv.manual_seed(0)
    m = nn.Sequential(nn.Linear(64, 10))
    lf = nn.CrossEntropyLoss(weight=rng.random(10) + 0.5, label_smoothing=0.05)
    with nv.no_grad():
        scores = m(X)
        whole = float(lf(scores, T).data)
    expected_acc = float(np.mean(scores.data.argmax(1) == T.argmax(1)))
    for batch_size in (7, 64, 1000):  # the mean over the examples, whatever the batches
        r = nv.evaluate(m, X, T, loss=lf, batch_size=batch_size)
        assert r["loss"] == pytest.approx(whole, rel=1e-5)
        assert r["accuracy"] == pytest.approx(expected_acc)
    assert nv.evaluate(m, X, T)["accuracy"] == pytest.approx(expected_acc)  # no loss


@pytest.mark.parametrize("bad, match", [
    ("twice", r"row 0 holds values from 0 to 2.*\[0, 1\]"),
    ("nan", r"contains NaN at row 3.*finite"),
    ("narrow", r"shape \(300, 5\).*output shape \(N, 10\)"),
])
def test_fit_refuses_bad_class_probabilities_clearly(bad, match):
    X, y = _digits()
    Y = np.eye(10, dtype=np.float32)[y]
    if bad == "twice":
        Y = 2 * Y
    elif bad == "nan":
        Y[3, 4] = np.nan
    else:
        Y = Y[:, :5]
    m = nn.Sequential(nn.Linear(64, 10))
    with pytest.raises(ValueError, match=match):
        nv.fit(m, X, Y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1,
               batch_size=32, verbose=0)


def test_onehot_for_a_loss_that_takes_labels_only_says_argmax():
    X, y = _digits()
    m = nn.Sequential(nn.Linear(64, 10))
    with pytest.raises(ValueError, match=r"y.argmax\(axis=1\)"):
        nv.fit(m, X, np.eye(10)[y], loss="hinge", optimizer="sgd", lr=0.1, epochs=1,
               batch_size=32, verbose=0)


def test_fit_compile_true_refuses_probabilities_with_a_reason():
    X, y = _digits()
    m = nn.Sequential(nn.Linear(64, 10))
    with pytest.raises(ValueError, match="class probabilities"):
        nv.fit(m, X, np.eye(10, dtype=np.float32)[y], loss="cross_entropy", optimizer="sgd",
               lr=0.1, epochs=1, batch_size=32, verbose=0, compile=True)


# ----------------------------------------------------------------------------- ports #3
def _stepped(opt_cls=optim.Adam, groups=False, **kw):
    nv.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    params = list(m.parameters())
    spec = [{"params": params[:2]}, {"params": params[2:]}] if groups else params
    o = opt_cls(spec, lr=1e-2, **kw)
    m(np.ones((2, 4), dtype=np.float32)).sum().backward()
    o.step()
    return m, o, params


@pytest.mark.parametrize("groups", [False, True])
def test_optimizer_state_indexed_by_parameter(groups):
    m, o, params = _stepped(groups=groups)
    assert list(o.state) == [0, 1, 2, 3]  # positions, as state_dict saves them
    for i, p in enumerate(params):
        assert o.state[p] is o.state[i]
        assert o.state[p]["exp_avg"].shape == p.data.shape
        assert o.state.get(p) is o.state[i]
        assert p in o.state
    sd = o.state_dict()
    assert "state.0.exp_avg" in sd and "param_groups" not in sd  # the layout is unchanged


def test_optimizer_state_unknown_keys_give_short_errors():
    m, o, params = _stepped()
    stranger = nn.Parameter(nv.zeros((300, 300)))
    for key, match in ((stranger, "not one of the optimizer's parameters"),
                       (7, "no parameter 7"), ("exp_avg", "no key of type str")):
        with pytest.raises(KeyError, match=match) as info:
            o.state[key]
        assert len(str(info.value)) < 200 and "tensor(" not in str(info.value)
        assert o.state.get(key, "absent") == "absent"
        assert key not in o.state


def test_optimizer_state_parameter_without_state_yet():
    nv.manual_seed(0)
    m = nn.Linear(3, 2)
    o = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(KeyError, match="no optimizer state for this parameter"):
        o.state[m.weight]
    o.state[m.weight] = {"momentum_buffer": np.ones((2, 3), np.float32)}  # by parameter
    assert list(o.state) == [0]


def test_optimizer_state_by_parameter_after_load_copy_and_pickle():
    m, o, params = _stepped(groups=True)
    m2, o2, params2 = _stepped(groups=True)
    o2.load_state_dict(o.state_dict())
    np.testing.assert_array_equal(o2.state[params2[1]]["exp_avg"], o.state[1]["exp_avg"])
    for clone in (copy.deepcopy(o), pickle.loads(pickle.dumps(o))):
        p0 = clone.param_groups[0]["params"][0]
        assert clone.state[p0] is clone.state[0]
        with pytest.raises(KeyError):
            clone.state[params[0]]  # the original's parameter is not the copy's


# ----------------------------------------------------------------------------- ports #6
def test_callbacks_reach_the_optimizer_and_the_model_gets_no_lasting_attribute(tmp_path):
    X, y = _digits()
    seen = []

    class WarmupLR(nv.Callback):  # the Keras guide's idiom
        def on_train_begin(self, logs=None):
            seen.append((self.optimizer, self.params["optimizer"], self.model.optimizer))

        def on_epoch_begin(self, epoch, logs=None):
            for g in self.model.optimizer.param_groups:
                g["lr"] = 0.01 * (epoch + 1)

    m = nn.Sequential(nn.Linear(64, 10))
    h = nv.fit(m, X, y, loss="cross_entropy", optimizer="sgd", lr=0.01, epochs=3,
               batch_size=64, callbacks=[WarmupLR()], verbose=0)
    assert seen == [(h.optimizer, h.optimizer, h.optimizer)]
    assert h.optimizer.param_groups[0]["lr"] == pytest.approx(0.03)
    assert not hasattr(m, "optimizer")
    h.save(tmp_path / "h.json")  # params["optimizer"] stays out of the file
    assert "optimizer" not in json.loads((tmp_path / "h.json").read_text())["params"]


def test_model_attribute_named_optimizer_is_left_alone_and_removed_on_failure():
    X, y = _digits()
    m = nn.Sequential(nn.Linear(64, 10))
    m.optimizer = "mine"
    got = []
    cb = nv.LambdaCallback(on_train_begin=lambda logs: got.append(m.optimizer))
    nv.fit(m, X, y, loss="cross_entropy", optimizer="sgd", lr=0.01, epochs=1, batch_size=64,
           callbacks=[cb], verbose=0)
    assert got == ["mine"] and m.optimizer == "mine"

    class Refuse(nv.Callback):
        def on_train_begin(self, logs=None):
            assert self.model.optimizer is self.optimizer
            raise RuntimeError("no")

    m2 = nn.Sequential(nn.Linear(64, 10), nn.Dropout(0.2)).eval()
    with pytest.raises(RuntimeError, match="no"):
        nv.fit(m2, X, y, loss="cross_entropy", optimizer="sgd", lr=0.01, epochs=1,
               batch_size=64, callbacks=[Refuse()], verbose=0)
    assert not hasattr(m2, "optimizer") and not m2.training


# ----------------------------------------------------------------------------- ports #8
def _moons_model():
    nv.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))


def test_validation_split_of_one_class_warns_with_the_fix():
    X, y = nv.data.moons(200, noise=0.2, seed=0)  # grouped by class
    assert len(np.unique(y[-40:])) == 1
    with pytest.warns(UserWarning, match=r"all have class .*train_test_split"):
        nv.fit(_moons_model(), X, y, loss="cross_entropy", optimizer="adam", lr=1e-2,
               epochs=1, batch_size=32, validation_split=0.2, verbose=0)
    Y = np.eye(2, dtype=np.float32)[y]  # one-hot targets too
    with pytest.warns(UserWarning, match="one class only"):
        nv.fit(_moons_model(), X, Y, loss="cross_entropy", optimizer="adam", lr=1e-2,
               epochs=1, batch_size=32, validation_split=0.2, verbose=0)
    order = np.random.default_rng(0).permutation(len(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nv.fit(_moons_model(), X[order], y[order], loss="cross_entropy", optimizer="adam",
               lr=1e-2, epochs=1, batch_size=32, validation_split=0.2, verbose=0)
        # one class everywhere: nothing to warn about
        nv.fit(_moons_model(), X, np.zeros(len(X), int), loss="cross_entropy",
               optimizer="adam", lr=1e-2, epochs=1, batch_size=32, validation_split=0.2,
               verbose=0)


# ----------------------------------------------------------------------------- ports #9
def _two_groups():
    a, b = nn.Parameter(nv.zeros(2)), nn.Parameter(nv.zeros(2))
    return optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.01}], lr=0.1)


def test_reduce_lr_on_plateau_min_lr_per_group():
    o = _two_groups()
    s = optim.ReduceLROnPlateau(o, factor=0.5, patience=0, min_lr=[0.03, 0.004])
    assert s.min_lrs == [0.03, 0.004]
    s.step(1.0)  # the first value is an improvement (on inf): no reduction
    expected = [0.1, 0.01]
    for _ in range(5):  # then no improvement: halved each epoch, down to each group's floor
        s.step(1.0)
        expected = [max(lr * 0.5, floor) for lr, floor in zip(expected, [0.03, 0.004])]
        assert s.get_last_lr() == pytest.approx(expected)
    assert s.get_last_lr() == pytest.approx([0.03, 0.004])


def test_reduce_lr_on_plateau_min_lr_list_checked_and_saved(tmp_path):
    o = _two_groups()
    with pytest.raises(ValueError, match=r"min_lr lists 3 value\(s\).*2 parameter group"):
        optim.ReduceLROnPlateau(o, min_lr=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"min_lr\[1\] must be in"):
        optim.ReduceLROnPlateau(o, min_lr=[0.1, -1.0])
    s = optim.ReduceLROnPlateau(o, factor=0.5, patience=0, min_lr=[0.03, 0.004])
    s.step(1.0)
    np.savez(tmp_path / "s.npz", **s.state_dict())
    with np.load(tmp_path / "s.npz") as f:
        saved = dict(f)
    s2 = optim.ReduceLROnPlateau(_two_groups(), factor=0.5, patience=0)
    s2.load_state_dict(saved)
    assert s2.min_lrs == [0.03, 0.004]
    o.add_param_group({"params": [nn.Parameter(nv.zeros(1))], "lr": 0.5})
    with pytest.raises(ValueError, match="now has 3 parameter groups"):
        s.step(1.0)
        s.step(1.0)


def test_reduce_lr_on_plateau_min_lr_torch_parity():
    torch = pytest.importorskip("torch")
    o = _two_groups()
    ta, tb = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    to = torch.optim.SGD([{"params": [ta], "lr": 0.1}, {"params": [tb], "lr": 0.01}], lr=0.1)
    s = optim.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=1, min_lr=[0.03, 0.004])
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(to, factor=0.5, patience=1,
                                                    min_lr=[0.03, 0.004])
    for metric in [1.0, 0.9, 0.95, 0.97, 0.99, 1.0, 1.0, 1.0, 1.0]:
        s.step(metric)
        ts.step(metric)
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr())


# ----------------------------------------------------------------------------- oddinputs #11
def test_one_cycle_zero_d_array_hyperparameters_are_one_number():
    def sched(**kw):
        m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
        ps = list(m.parameters())
        o = optim.SGD([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.1, momentum=0.9)
        return o, optim.OneCycleLR(o, total_steps=10, **kw)

    o1, s1 = sched(max_lr=np.array(0.5), base_momentum=np.array(0.8),
                   max_momentum=np.float64(0.9))
    o2, s2 = sched(max_lr=0.5, base_momentum=0.8, max_momentum=0.9)
    for _ in range(5):
        assert s1.get_last_lr() == s2.get_last_lr()
        assert [g["momentum"] for g in o1.param_groups] == [g["momentum"]
                                                              for g in o2.param_groups]
        o1.step(), o2.step(), s1.step(), s2.step()
    with pytest.raises(ValueError, match=r"one number or one per parameter group.*\(1, 2\)"):
        sched(max_lr=np.array([[0.5, 0.5]]))


# ----------------------------------------------------------------------------- concmem #2
def _race(model, call, threads=3, calls=40):
    results, errors = [], []

    def worker():
        try:
            for _ in range(calls):
                results.append(call())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        ts = [threading.Thread(target=worker) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors
    return results


def test_concurrent_predict_keeps_eval_mode_and_the_model_mode():
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 4))
    X = np.random.default_rng(0).random((60, 16), dtype=np.float32)
    ref = nv.predict(model, X)
    modes = [m.training for m in model.modules()]
    assert all(modes)
    for _ in range(3):
        out = _race(model, lambda: nv.predict(model, X, batch_size=10))
        assert all(np.array_equal(o, ref) for o in out)  # never dropout in a prediction
        assert [m.training for m in model.modules()] == modes  # back in train mode


def test_concurrent_evaluate_and_predict_keep_a_frozen_submodule_in_eval():
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.Dropout(0.3),
                          nn.Linear(32, 3))
    model[1].eval()  # frozen statistics inside a training model
    X = np.random.default_rng(1).random((40, 8), dtype=np.float32)
    y = np.arange(40) % 3
    ref = nv.evaluate(model, X, y, loss="cross_entropy")
    modes = [m.training for m in model.modules()]
    calls = [lambda: nv.evaluate(model, X, y, loss="cross_entropy", batch_size=8),
             lambda: nv.predict(model, X, batch_size=8)]
    out = _race(model, lambda: [c() for c in calls])
    assert all(r[0] == ref for r in out)
    assert [m.training for m in model.modules()] == modes

    # nested, and after an error
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    with eval_mode(model):
        with eval_mode(model):
            assert not model.training
        assert not model.training  # the inner exit leaves the outer's eval mode
    assert model.training
    with pytest.raises(ZeroDivisionError):
        with eval_mode(model):
            1 / 0
    assert model.training and all(m.training for m in model.modules())


# ----------------------------------------------------------------------------- concmem #7
def test_cast_in_range_needs_no_float64_temporary():
    a = np.random.default_rng(0).random((400_000, 8))  # 25.6 MB of float64
    a[5, 3] = np.nan
    a[7, 1] = np.inf  # left for the non-finite check
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = _cast_in_range(a, np.dtype(np.float32), "X")
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert out.dtype == np.float32
    assert peak < 0.6 * a.nbytes  # the float32 result is 0.5: no full-size temporaries
    # and it still finds the first value too large, past NaN and inf
    a = np.random.default_rng(0).random((50_000, 4))
    a[3, 0] = np.nan
    a[9, 2] = -np.inf
    a[30_000, 1] = -1e300
    a[40_000, 3] = 1e300
    with pytest.raises(ValueError, match=r"X holds -1e\+300 at row 30000"):
        _cast_in_range(a, np.dtype(np.float32), "X")
    a[30_000, 1] = a[40_000, 3] = 0.0
    assert np.isnan(_cast_in_range(a, np.dtype(np.float32), "X")[3, 0])
    assert np.isnan(_cast_in_range(np.full((3, 2), np.nan), np.dtype(np.float32), "X")).all()


def test_callback_keeps_an_optimizer_of_its_own_and_follows_fit_across_runs():
    X, y = _digits()
    m = nn.Sequential(nn.Linear(64, 10))
    other = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)

    class Own(nv.Callback):
        def __init__(self):
            super().__init__()
            self.optimizer = other

    own, plain = Own(), nv.Callback()
    for run in range(2):
        h = nv.fit(m, X, y, loss="cross_entropy", optimizer="sgd", lr=0.01, epochs=1,
                   batch_size=64, callbacks=[own, plain], verbose=0)
        assert own.optimizer is other
        assert plain.optimizer is h.optimizer  # the second run's, not the first's
