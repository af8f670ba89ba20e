"""The captured step (nv.compile, fit's default compile="auto") against the eager step,
at the edges an audit found: what it cannot replay it refuses (fit then runs the eager
graph) instead of training something else; and the flat optimizer honours edits to
``optimizer.state`` as PyTorch does."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim
from nerve.compile import CaptureError
from nerve.optim import Optimizer
from nerve.train.callbacks import LambdaCallback

X = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)
Y = np.arange(64) % 4


def _net(cls=nn.Sequential, act=None):
    nv.manual_seed(0)
    return cls(nn.Linear(6, 16), act or nn.ReLU(), nn.Linear(16, 4))


def _fit_both(make, **kwargs):
    """Final weights and losses of fit with compile=False and compile="auto"."""
    out = {}
    for compile in (False, "auto"):
        model, opt = make()
        h = nv.fit(model, X, Y, loss="cross_entropy", optimizer=opt, epochs=3,
                   batch_size=16, seed=0, progress=False, compile=compile, **kwargs)
        out[compile] = ([p.data.copy() for p in model.parameters()], h.history["loss"])
    return out


def _assert_same(out):
    (w0, l0), (w1, l1) = out[False], out["auto"]
    assert l0 == l1
    assert all(np.array_equal(a, b) for a, b in zip(w0, w1))


class PixelNet(nn.Sequential):
    def forward(self, x):
        return super().forward(x * 100.0)


def test_sequential_subclass_with_its_own_forward_is_not_captured():
    with pytest.raises(ValueError, match="has a forward of its own"):
        nv.compile(_net(PixelNet), nn.CrossEntropyLoss(),
                   optim.SGD(_net().parameters(), lr=0.1))
    _assert_same(_fit_both(lambda: (_net(PixelNet), "sgd"), lr=0.1))


class SignSGD(optim.SGD):
    def step(self, closure=None):
        for p in self.param_groups[0]["params"]:
            if p.grad is not None:
                p.grad = np.sign(p.grad)
        return super().step(closure)


def test_optimizer_overriding_step_is_not_bypassed():
    def make():
        m = _net()
        return m, SignSGD(m.parameters(), lr=0.01)
    m, opt = make()
    with pytest.raises(ValueError, match="SignSGD overrides step"):
        nv.compile(m, nn.CrossEntropyLoss(), opt)
    _assert_same(_fit_both(make))


def _normalized_gd(param, grad, state, lr):
    param -= lr * grad / (np.linalg.norm(grad) + 1e-12)


class NormalizedGD(Optimizer):  # elementwise = False: one call per parameter
    update_fn = staticmethod(_normalized_gd)

    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))


def test_non_elementwise_rule_is_not_run_on_all_parameters_at_once():
    def make():
        m = _net()
        return m, NormalizedGD(m.parameters(), lr=0.05)
    out = _fit_both(make)
    _assert_same(out)
    m, opt = make()
    data = [p.data for p in m.parameters()]
    with pytest.raises(ValueError, match="not one whose update the captured step can run"):
        nv.compile(m, nn.CrossEntropyLoss(), opt)
    assert all(p.data is d for p, d in zip(m.parameters(), data))  # nothing rebound


class PlainSGD:
    def __init__(self, params, lr):
        self.param_groups = [{"params": list(params), "lr": lr}]

    def zero_grad(self):
        for p in self.param_groups[0]["params"]:
            p.grad = None

    def step(self):
        for p in self.param_groups[0]["params"]:
            if p.grad is not None:
                p.data -= self.param_groups[0]["lr"] * p.grad


def test_duck_typed_optimizer_falls_back_to_eager():
    def make():
        m = _net()
        return m, PlainSGD(m.parameters(), 0.1)
    _assert_same(_fit_both(make))


def test_hook_added_during_fit_falls_back_to_eager():
    for compile in (False, "auto"):
        m = _net()
        seen = []
        watch = LambdaCallback(on_epoch_end=lambda e, logs: e == 0 and m[1].register_forward_hook(
            lambda mod, inp, out: seen.append(out.data.shape)))
        nv.fit(m, X, Y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=3,
               batch_size=16, progress=False, compile=compile, callbacks=[watch])
        assert len(seen) == 8, compile  # two epochs of four batches ran through the hook


def test_hook_added_during_fit_with_compile_true_raises_capture_error():
    m = _net()
    watch = LambdaCallback(on_epoch_end=lambda e, logs: e == 0 and m[1].register_forward_hook(
        lambda mod, inp, out: None))
    with pytest.raises(CaptureError, match="forward hooks"):
        nv.fit(m, X, Y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=3,
               batch_size=16, progress=False, compile=True, callbacks=[watch])


@pytest.mark.parametrize("change", ["replace", "slope", "new_weight"])
def test_model_changed_during_fit_is_replayed_as_changed(change):
    def act():
        return nn.LeakyReLU(0.1)

    def changer(m):
        def on_epoch_end(epoch, logs):
            if epoch != 0:
                return
            if change == "replace":
                m[1] = nn.Tanh()
            elif change == "slope":
                m[1].alpha = 0.5
            else:
                with nv.no_grad():
                    m[2].weight.data[...] = 0  # in place: still the optimizer's parameter
        return LambdaCallback(on_epoch_end=on_epoch_end)

    out = {}
    for compile in (False, "auto"):
        m = _net(act=act())
        h = nv.fit(m, X, Y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=3,
                   batch_size=16, seed=0, progress=False, compile=compile,
                   callbacks=[changer(m)])
        out[compile] = ([p.data.copy() for p in m.parameters()], h.history["loss"])
    _assert_same(out)


def test_hand_made_step_follows_a_changed_slope_and_layer():
    m = _net(act=nn.LeakyReLU(0.1))
    opt = optim.SGD(m.parameters(), lr=0.1)
    step = nv.compile(m, nn.CrossEntropyLoss(), opt)
    step(X, Y)
    for change in (lambda: setattr(m[1], "alpha", 0.5), lambda: m.__setitem__(1, nn.Tanh())):
        change()
        with nv.no_grad():
            expected = float(nn.CrossEntropyLoss()(m(X), Y).data)
        assert step(X, Y) == expected
    m[1] = nn.Dropout(0.5)
    for _ in range(2):  # refused on every call, never the stale tape
        with pytest.raises(CaptureError, match="Dropout is not supported.*changed after"):
            step(X, Y)


def _train(m, opt, k):
    lf = nn.CrossEntropyLoss()
    for _ in range(k):
        loss = lf(m(X), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                                  lambda p: optim.Adam(p, lr=0.01)])
def test_state_clear_restarts_the_optimizer(make):
    m = _net()
    opt = make(m.parameters())
    _train(m, opt, 3)
    fresh = copy.deepcopy(m)
    fresh_opt = make(fresh.parameters())
    opt.state.clear()
    _train(m, opt, 2)
    _train(fresh, fresh_opt, 2)
    assert all(np.array_equal(a.data, b.data) for a, b in zip(m.parameters(), fresh.parameters()))
    assert set(opt.state) == set(range(4))  # state_dict keeps the new state
    assert any(k.startswith("state.") for k in opt.state_dict())


def test_replaced_momentum_buffer_is_used():
    m = _net()
    opt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    _train(m, opt, 3)
    opt.state[3]["momentum_buffer"] = np.zeros(4, np.float32)
    before = m[2].bias.data.copy()
    loss = nn.CrossEntropyLoss()(m(X), Y)
    opt.zero_grad()
    loss.backward()
    g = m[2].bias.grad.copy()
    opt.step()
    np.testing.assert_array_equal(m[2].bias.data, before - np.float32(0.1) * g)
    np.testing.assert_array_equal(opt.state[3]["momentum_buffer"], g)
