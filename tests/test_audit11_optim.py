"""Audit 11, optim: per-parameter step counters survive a load into the flat path,
buffers switched on mid-run reach opt.state, scheduler restores keep the optimizer's
rates, last_epoch=K keeps a restored rate, step(closure) under no_grad, and the
warm-up / composite schedulers (LinearLR, ConstantLR, SequentialLR, OneCycleLR, a
LambdaLR per group) with their errors."""
from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim
from nerve.optim import lr_scheduler as L

G = [np.array([0.5, -1.0]), np.array([2.0])]


def _params():
    return [nv.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True),
            nv.tensor([3.0], dtype=np.float64, requires_grad=True)]


def _round_trip(sd):
    """A state dict through np.savez and np.load, as a checkpoint file holds it."""
    buf = io.BytesIO()
    np.savez(buf, **sd)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def _grads(ps, k, skip=()):
    for i, p in enumerate(ps):
        p.grad = None if (k, i) in skip else G[i] * (1.0 + 0.1 * k)


# --------------------------------------------- 1. per-parameter step counters on load
@pytest.mark.parametrize("make", [lambda p: optim.Adam(p, lr=0.1),
                                  lambda p: optim.AdamW(p, lr=0.1, amsgrad=True),
                                  lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.3)],
                         ids=["adam", "adamw", "adagrad"])
@pytest.mark.parametrize("how", ["state_dict", "rebind"])
def test_resumed_flat_run_keeps_each_parameters_step_count(make, how):
    skip = {(0, 1)}  # parameter 1 has no gradient in the first step

    def run(groups, interrupt):
        ps = _params()
        opt = make([{"params": [p]} for p in ps] if groups else ps)
        for k in range(6):
            if interrupt and k == 2:
                if how == "state_dict":
                    sd = _round_trip(opt.state_dict())
                    ps = [nv.tensor(p.data.copy(), dtype=np.float64, requires_grad=True) for p in ps]
                    opt = make([{"params": [p]} for p in ps] if groups else ps)
                    opt.load_state_dict(sd)
                else:  # rebinding a parameter's data makes the optimizer gather again
                    ps[1].data = ps[1].data.copy()
            _grads(ps, k, skip)
            opt.step()
        return [p.data.copy() for p in ps], [opt.state[i]["step"] for i in (0, 1)]

    want, steps = run(groups=False, interrupt=False)
    assert steps == [6, 5]
    ref, _ = run(groups=True, interrupt=False)  # per-parameter updates throughout
    got, got_steps = run(groups=False, interrupt=True)
    assert got_steps == [6, 5]
    for a, b, c in zip(got, want, ref):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_loaded_counters_are_not_copied_from_the_first_parameter():
    ps = _params()
    opt = optim.Adam(ps, lr=0.1)
    for k in range(2):
        _grads(ps, k, skip={(0, 1)})
        opt.step()
    sd = opt.state_dict()
    again = optim.Adam([nv.tensor(p.data.copy(), dtype=np.float64, requires_grad=True) for p in ps], lr=0.1)
    again.load_state_dict(sd)
    assert [again.state[i]["step"] for i in (0, 1)] == [sd["state.0.step"], sd["state.1.step"]]


def test_plain_sgd_stays_on_the_flat_path():
    def run(groups):
        ps = _params()
        opt = optim.SGD([{"params": [p]} for p in ps] if groups else ps, lr=0.1)
        for k in range(5):
            _grads(ps, k, skip={(1, 1)})  # one step without parameter 1's gradient
            if not groups:
                assert opt._flat.usable_state()
            opt.step()
        return [p.data.copy() for p in ps]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------- 4. buffers switched on after the first step
SWITCHES = [
    ("rmsprop-momentum", lambda p: optim.RMSprop(p, lr=0.01), "momentum", 0.9,
     "momentum_buffer"),
    ("rmsprop-centered", lambda p: optim.RMSprop(p, lr=0.01), "centered", True, "grad_avg"),
    ("adam-amsgrad", lambda p: optim.Adam(p, lr=0.01), "amsgrad", True, "max_exp_avg_sq"),
]


@pytest.mark.parametrize("name, make, key, value, buffer", SWITCHES,
                         ids=[s[0] for s in SWITCHES])
def test_a_buffer_switched_on_by_hand_reaches_opt_state(name, make, key, value, buffer):
    def run(groups, skip=(), save_at=None):
        ps = _params()
        opt = make([{"params": [p]} for p in ps] if groups else ps)
        for k in range(8):
            if k == 2:
                for g in opt.param_groups:
                    g[key] = value
            if k == save_at:
                assert buffer in opt.state[0] and f"state.1.{buffer}" in opt.state_dict()
                sd = _round_trip(opt.state_dict())
                ps = [nv.tensor(p.data.copy(), dtype=np.float64, requires_grad=True) for p in ps]
                opt = make([{"params": [p]} for p in ps] if groups else ps)
                opt.load_state_dict(sd)
            _grads(ps, k, skip)
            opt.step()
        return [p.data.copy() for p in ps], opt

    flat, opt = run(groups=False)
    assert buffer in opt.state[0] and buffer in opt.state[1]
    assert f"state.0.{buffer}" in opt.state_dict()
    assert np.shares_memory(opt.state[1][buffer], opt._flat.state[buffer])
    for skip, save_at in (((), None), ({(5, 1)}, None), ((), 4)):
        got, _ = run(groups=False, skip=skip, save_at=save_at)
        want, _ = run(groups=True, skip=skip)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


def test_captured_step_matches_eager_when_momentum_is_switched_on():
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((16, 5)).astype(np.float32) for _ in range(6)]
    ys = [rng.integers(0, 3, 16) for _ in range(6)]

    def model():
        nv.manual_seed(0)
        return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))

    eager, captured = model(), model()
    loss_fn = nn.CrossEntropyLoss()
    opt_e = optim.RMSprop(eager.parameters(), lr=0.01)
    opt_c = optim.RMSprop(captured.parameters(), lr=0.01)
    step = nv.compile(captured, loss_fn, opt_c)
    for k, (xb, yb) in enumerate(zip(xs, ys)):
        if k == 2:
            opt_e.param_groups[0]["momentum"] = opt_c.param_groups[0]["momentum"] = 0.9
        opt_e.zero_grad()
        loss = loss_fn(eager(nv.tensor(xb)), yb)
        loss.backward()
        opt_e.step()
        assert step(xb, yb) == loss.item()
    for p, q in zip(eager.parameters(), captured.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert "momentum_buffer" in opt_c.state[0]


# --------------------------------------------- 5. step(closure) inside no_grad
def test_closure_runs_with_the_graph_recorded_inside_no_grad():
    rng = np.random.default_rng(0)
    X, Y, W0 = rng.standard_normal((8, 3)), rng.standard_normal((8, 1)), rng.standard_normal((3, 1))

    def run(inside_no_grad):
        w = nv.tensor(W0, dtype=np.float64, requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def closure():
            opt.zero_grad()
            loss = ((nv.tensor(X, dtype=np.float64) @ w - nv.tensor(Y, dtype=np.float64)) ** 2).mean()
            loss.backward()
            return loss

        if inside_no_grad:
            with nv.no_grad():
                loss = opt.step(closure)
                assert not nv.is_grad_enabled()  # the caller's mode is back
        else:
            loss = opt.step(closure)
        return float(loss.item()), w.data.copy()

    (l0, w0), (l1, w1) = run(False), run(True)
    assert l0 == l1
    np.testing.assert_array_equal(w0, w1)
    assert not np.array_equal(w1, W0)


# --------------------------------------------- 2. scheduler restore keeps the optimizer's rate
def _sgd(lr=1.0):
    return optim.SGD([nv.tensor(np.ones(2), requires_grad=True)], lr=lr)


@pytest.mark.parametrize("order", ["schedulers-first", "optimizer-first"])
def test_restoring_schedulers_keeps_the_rate_the_optimizer_restored(order):
    def build(opt):
        return L.StepLR(opt, step_size=10), L.ReduceLROnPlateau(opt, factor=0.5, patience=0)

    opt = _sgd()
    step, plat = build(opt)
    for _ in range(3):
        step.step()
        plat.step(1.0)
    saved = opt.param_groups[0]["lr"]
    assert saved < step.get_last_lr()[0]  # the plateau cut after StepLR's last step
    osd, ssd, psd = opt.state_dict(), step.state_dict(), plat.state_dict()
    opt2 = _sgd()
    if order == "schedulers-first":
        step2, plat2 = build(opt2)
        opt2.load_state_dict(osd)
    else:
        opt2.load_state_dict(osd)
        step2, plat2 = build(opt2)
    step2.load_state_dict(ssd)
    plat2.load_state_dict(psd)
    assert opt2.param_groups[0]["lr"] == saved
    # with no optimizer state restored at all, the scheduler's last rate is all there is
    opt3 = _sgd()
    L.StepLR(opt3, step_size=10).load_state_dict(ssd)
    assert opt3.param_groups[0]["lr"] == step.get_last_lr()[0]


@pytest.mark.parametrize("order", ["schedulers-first", "optimizer-first"])
@pytest.mark.parametrize("make", [
    lambda o: [L.ExponentialLR(o, 0.9), L.StepLR(o, 2, 0.5)],
    lambda o: [L.LinearLR(o, 0.2, total_iters=6), L.ExponentialLR(o, 0.9)],
    lambda o: [L.SequentialLR(o, [L.ConstantLR(o, 0.5, 2), L.CosineAnnealingLR(o, 8)], [4])],
    lambda o: [L.LambdaLR(o, lambda e: 1 / (e + 1)), L.StepLR(o, 3, 0.5)],
], ids=["exp+step", "linear+exp", "sequential", "lambda+step"])
def test_a_resumed_schedule_goes_on_as_the_uninterrupted_one(make, order):
    opt = _sgd()
    scheds = make(opt)
    rates = []
    for epoch in range(12):
        if epoch == 6:
            sds = [_round_trip(opt.state_dict())] + [_round_trip(s.state_dict()) for s in scheds]
        rates.append(opt.param_groups[0]["lr"])
        for s in scheds:
            s.step()
    opt2 = _sgd()
    if order == "schedulers-first":
        scheds2 = make(opt2)
        opt2.load_state_dict(sds[0])
    else:
        opt2.load_state_dict(sds[0])
        scheds2 = make(opt2)
    for s, sd in reversed(list(zip(scheds2, sds[1:]))):
        s.load_state_dict(sd)
    got = []
    for _ in range(6, 12):
        got.append(opt2.param_groups[0]["lr"])
        for s in scheds2:
            s.step()
    assert got == rates[6:]


@pytest.mark.parametrize("when", ["before-build", "after-build", "after-optimizer-load"])
@pytest.mark.parametrize("make", [lambda o: L.StepLR(o, 3), lambda o: L.LinearLR(o, 0.5)],
                         ids=["step", "linear"])
def test_a_rate_set_by_hand_while_resuming_is_kept(make, when):
    opt = _sgd()
    sched = make(opt)
    for _ in range(4):
        sched.step()
    osd, ssd = opt.state_dict(), sched.state_dict()
    opt2 = _sgd()
    if when == "after-optimizer-load":
        sched2 = make(opt2)
        opt2.load_state_dict(osd)
    else:
        opt2.load_state_dict(osd)
        if when == "before-build":
            opt2.param_groups[0]["lr"] = 1e-3
        sched2 = make(opt2)
    if when != "before-build":
        opt2.param_groups[0]["lr"] = 1e-3
    sched2.load_state_dict(ssd)
    assert opt2.param_groups[0]["lr"] == 1e-3


# --------------------------------------------- 3. last_epoch=K keeps the restored rate
@pytest.mark.parametrize("make", [
    lambda o, k: L.ExponentialLR(o, 0.5, last_epoch=k),
    lambda o, k: L.CosineAnnealingLR(o, 10, 0.01, last_epoch=k),
    lambda o, k: L.LinearLR(o, 0.25, 1.0, 8, last_epoch=k),
], ids=["exp", "cosine", "linear"])
@pytest.mark.parametrize("k", [3, 7])
def test_built_with_last_epoch_on_a_restored_optimizer_keeps_its_rate(make, k):
    opt = _sgd(0.1)
    sched = make(opt, -1)
    for _ in range(k):
        sched.step()
    saved = opt.param_groups[0]["lr"]
    opt2 = _sgd(0.1)
    opt2.load_state_dict(opt.state_dict())
    resumed = make(opt2, k)
    assert opt2.param_groups[0]["lr"] == saved and resumed.last_epoch == k + 1
    if isinstance(sched, L.ExponentialLR):  # the same factor per epoch as before
        sched.step()
        resumed.step()
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


# --------------------------------------------- 6. new schedulers
def _rates(sched, epochs):
    out = []
    for _ in range(epochs):
        out.append([g["lr"] for g in sched.optimizer.param_groups])
        sched.step()
    return np.array(out)


def test_linear_lr_follows_its_formula():
    s, f, n = 0.2, 0.8, 6
    got = _rates(L.LinearLR(_sgd(0.5), s, f, n), 12)[:, 0]
    want = [0.5 * (s + (f - s) * min(e, n) / n) for e in range(12)]
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_constant_lr_follows_its_formula():
    got = _rates(L.ConstantLR(_sgd(0.5), factor=0.25, total_iters=4), 9)[:, 0]
    want = [0.5 * (0.25 if e < 4 else 1.0) for e in range(9)]
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_sequential_lr_hands_over_at_the_milestone():
    opt = _sgd(0.5)
    seq = L.SequentialLR(opt, [L.LinearLR(opt, 0.1, total_iters=4),
                               L.CosineAnnealingLR(opt, T_max=6, eta_min=0.01)], milestones=[4])
    got = _rates(seq, 12)[:, 0]
    warm = _rates(L.LinearLR(_sgd(0.5), 0.1, total_iters=4), 4)[:, 0]
    cos = _rates(L.CosineAnnealingLR(_sgd(0.5), T_max=6, eta_min=0.01), 8)[:, 0]
    np.testing.assert_array_equal(got[:4], warm)
    np.testing.assert_array_equal(got[4:], cos)
    assert seq.get_last_lr() == [opt.param_groups[0]["lr"]]


def test_sequential_lr_state_dict_round_trip():
    def build():
        opt = _sgd(0.5)
        return opt, L.SequentialLR(opt, [L.ConstantLR(opt, 0.5, 2), L.ExponentialLR(opt, 0.8),
                                         L.StepLR(opt, 2, 0.5)], milestones=[3, 7])
    opt, seq = build()
    for _ in range(5):
        seq.step()
    opt2, seq2 = build()
    opt2.load_state_dict(_round_trip(opt.state_dict()))
    seq2.load_state_dict(_round_trip(seq.state_dict()))
    np.testing.assert_array_equal(_rates(seq2, 8), _rates(seq, 8))
    bad = seq.state_dict()
    bad["milestones"] = np.array([3, 8])
    with pytest.raises(ValueError, match="milestones"):
        seq2.load_state_dict(bad)


def test_one_cycle_rises_to_max_then_anneals_with_momentum_the_other_way():
    opt = optim.SGD([nv.tensor(np.ones(2), requires_grad=True)], lr=0.1, momentum=0.9)
    total, top = 20, 1.0
    sched = L.OneCycleLR(opt, max_lr=top, total_steps=total, pct_start=0.25)
    lrs, moms = [], []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        sched.step()
    peak = round(0.25 * total) - 1
    assert lrs[0] == pytest.approx(top / 25.0) and moms[0] == pytest.approx(0.95)
    assert lrs[peak] == pytest.approx(top) and moms[peak] == pytest.approx(0.85)
    assert lrs[-1] == pytest.approx(top / 25.0 / 1e4)
    assert np.all(np.diff(lrs[:peak + 1]) > 0) and np.all(np.diff(lrs[peak:]) < 0)
    # cosine phase: b + (a - b) * (1 + cos(pi p)) / 2 at the middle of the warm-up
    mid = peak / 2
    if mid == int(mid):
        a, b = top / 25.0, top
        assert lrs[int(mid)] == pytest.approx(b + (a - b) * (1 + math.cos(math.pi * 0.5)) / 2)
    with pytest.raises(ValueError, match="total_steps is 20"):
        sched.step()


def test_one_cycle_state_dict_round_trip_and_adam_betas():
    def build():
        opt = optim.Adam([nv.tensor(np.ones(2), requires_grad=True)], lr=0.1)
        return opt, L.OneCycleLR(opt, max_lr=0.5, epochs=3, steps_per_epoch=5,
                                 anneal_strategy="linear", three_phase=True)
    opt, sched = build()
    assert opt.param_groups[0]["betas"][0] == 0.95
    for _ in range(6):
        sched.step()
    opt2, sched2 = build()
    opt2.load_state_dict(_round_trip(opt.state_dict()))
    sched2.load_state_dict(_round_trip(sched.state_dict()))
    for _ in range(9):
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
        assert opt2.param_groups[0]["betas"] == opt.param_groups[0]["betas"]
        sched.step()
        sched2.step()


def test_lambda_lr_takes_one_function_per_group():
    p, q = nv.tensor([1.0], requires_grad=True), nv.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.2}], lr=0.1)
    got = _rates(L.LambdaLR(opt, [lambda e: 0.5 ** e, lambda e: 1.0 / (e + 1)]), 5)
    want = [[0.1 * 0.5 ** e, 0.2 / (e + 1)] for e in range(5)]
    np.testing.assert_allclose(got, want, rtol=1e-14)
    with pytest.raises(ValueError, match="lists 1 function"):
        L.LambdaLR(_two_groups(), [lambda e: 1.0])
    with pytest.raises(TypeError, match=r"lr_lambda\[1\] must be a function"):
        L.LambdaLR(_two_groups(), [lambda e: 1.0, 3])


def _two_groups():
    p, q = nv.tensor([1.0], requires_grad=True), nv.tensor([1.0], requires_grad=True)
    return optim.SGD([{"params": [p]}, {"params": [q]}], lr=0.1)


def test_schedulers_in_fit_callbacks():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(3, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    seq = L.SequentialLR(opt, [L.LinearLR(opt, 0.5, total_iters=2), L.ExponentialLR(opt, 0.5)],
                         [2])
    nv.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=4, batch_size=16,
           progress=False, callbacks=[seq])
    assert seq.last_epoch == 4
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 2)


@pytest.mark.parametrize("call, error, fragment", [
    (lambda: L.StepLR(_sgd(), 2).step(0.3), TypeError, r"StepLR.step\(\) takes no argument"),
    (lambda: L.ExponentialLR(_sgd(), 0.9).step(None), TypeError, "ReduceLROnPlateau.step"),
    (lambda: L.ReduceLROnPlateau(_sgd()).step(), TypeError, r"needs the epoch's metric"),
    (lambda: L.ConstantLR(_sgd(), factor=0.0), ValueError, r"factor must be in \(0, 1\]"),
    (lambda: L.ConstantLR(_sgd(), factor=1.5), ValueError, "factor must be in"),
    (lambda: L.LinearLR(_sgd(), start_factor=0.0), ValueError, "start_factor must be in"),
    (lambda: L.LinearLR(_sgd(), total_iters=0), ValueError, "total_iters must be an integer >= 1"),
    (lambda: L.OneCycleLR(_sgd(), max_lr=1.0), ValueError, "give total_steps"),
    (lambda: L.OneCycleLR(_sgd(), max_lr=1.0, total_steps=10, pct_start=0.1), ValueError,
     "would have no steps"),
    (lambda: L.OneCycleLR(_sgd(), max_lr=1.0, total_steps=10, anneal_strategy="exp"),
     ValueError, "anneal_strategy must be"),
    (lambda: L.OneCycleLR(optim.Adagrad([nv.tensor([1.0], requires_grad=True)]), max_lr=1.0,
                          total_steps=5), ValueError, "cycle_momentum=True needs"),
    (lambda: L.OneCycleLR(_two_groups(), max_lr=[1.0], total_steps=5), ValueError,
     "max_lr lists 1 value"),
    (lambda: _seq_with(lambda o: L.ReduceLROnPlateau(o)), ValueError, "ReduceLROnPlateau"),
    (lambda: _seq_with(lambda o: L.StepLR(_sgd(), 2)), ValueError, "another optimizer"),
    (lambda: _seq_with(lambda o: L.StepLR(o, 2), milestones=[]), ValueError, "need 1 milestone"),
    (lambda: _seq_with(lambda o: L.StepLR(o, 2), milestones=[0]), ValueError,
     "milestone must be an integer >= 1"),
    (lambda: _seq_with(lambda o: L.StepLR(o, 2), last_epoch=3), ValueError, "last_epoch must be -1"),
])
def test_bad_calls_get_clear_errors(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()


def _seq_with(second, milestones=(3,), last_epoch=-1):
    opt = _sgd()
    return L.SequentialLR(opt, [L.ConstantLR(opt), second(opt)], list(milestones), last_epoch)


# --------------------------------------------- parity with PyTorch (optional)
def test_new_schedulers_match_torch():
    torch = pytest.importorskip("torch")
    T = torch.optim.lr_scheduler
    cases = [
        (lambda o: L.LinearLR(o, 0.1, 1.0, 7), lambda t: T.LinearLR(t, 0.1, 1.0, 7)),
        (lambda o: L.ConstantLR(o, 0.25, 4), lambda t: T.ConstantLR(t, 0.25, 4)),
        (lambda o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=5),
                                      L.CosineAnnealingLR(o, 20, 0.001)], [5]),
         lambda t: T.SequentialLR(t, [T.LinearLR(t, 0.1, total_iters=5),
                                      T.CosineAnnealingLR(t, 20, 0.001)], [5])),
        (lambda o: L.SequentialLR(o, [L.ConstantLR(o, 0.5, 3), L.ExponentialLR(o, 0.9),
                                      L.StepLR(o, 4, 0.5)], [6, 15]),
         lambda t: T.SequentialLR(t, [T.ConstantLR(t, 0.5, 3), T.ExponentialLR(t, 0.9),
                                      T.StepLR(t, 4, 0.5)], [6, 15])),
        (lambda o: L.OneCycleLR(o, max_lr=[0.5, 2.0], total_steps=40, three_phase=True),
         lambda t: T.OneCycleLR(t, max_lr=[0.5, 2.0], total_steps=40, three_phase=True)),
        (lambda o: L.OneCycleLR(o, max_lr=0.3, total_steps=40, anneal_strategy="linear"),
         lambda t: T.OneCycleLR(t, max_lr=0.3, total_steps=40, anneal_strategy="linear")),
        (lambda o: L.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 / (e + 1)]),
         lambda t: T.LambdaLR(t, [lambda e: 0.9 ** e, lambda e: 1 / (e + 1)])),
    ]
    for make_n, make_t in cases:
        ps = [nv.tensor(np.ones(2), requires_grad=True) for _ in range(2)]
        qs = [torch.ones(2, requires_grad=True) for _ in range(2)]
        o = optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.2}], lr=0.1,
                      momentum=0.9)
        t = torch.optim.SGD([{"params": [qs[0]]}, {"params": [qs[1]], "lr": 0.2}], lr=0.1,
                            momentum=0.9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ns, ts = make_n(o), make_t(t)
            for _ in range(40):
                assert [g["lr"] for g in o.param_groups] == [g["lr"] for g in t.param_groups]
                assert [g["momentum"] for g in o.param_groups] == \
                    [g["momentum"] for g in t.param_groups]
                ns.step()
                ts.step()
