"""Audit 11, perf findings 2 and 4: the regularizers are one graph node each (bitwise the
composed graph they replace), a second gradient contribution is added in place into the
optimizer's flat gradient buffer (so p.grad stays that buffer), the Module's list of
weights is kept between calls without going stale, and nerve.sklearn's penalty is added
in place (bitwise the old out-of-place sum)."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim
from nerve import regularizers as R
from nerve.sklearn import _loop


# ----------------------------------------------------------------- helpers
def old_l2(ps):
    """The graph regularizers.l2 built before: one Mul and one Sum per tensor, then Adds."""
    total = None
    for p in ps:
        t = (p * p).sum()
        total = t if total is None else total + t
    return total


def old_l1(ps):
    total = None
    for p in ps:
        t = p.abs().sum()
        total = t if total is None else total + t
    return total


def old_elastic(ps, beta):
    total = None
    for p in ps:
        t = (beta * (p * p) + p.abs()).sum()
        total = t if total is None else total + t
    return total


def weights(model):
    return [p for name, p in model.named_parameters() if name.rsplit(".", 1)[-1] == "weight"]


PENALTIES = {  # name -> (new penalty of a model, old graph of the same weights)
    "l2": (lambda m: R.l2(m), lambda m: old_l2(weights(m))),
    "l1": (lambda m: R.l1(m), lambda m: old_l1(weights(m))),
    "elastic": (lambda m: R.elastic_net(m, beta=0.3), lambda m: old_elastic(weights(m), 0.3)),
}


def mlp(seed=0, bn=False):
    nv.manual_seed(seed)
    layers = [nn.Linear(6, 16)] + ([nn.BatchNorm1d(16)] if bn else []) + \
        [nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)]
    return nn.Sequential(*layers)


def batches(steps=6, seed=1):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        yield rng.standard_normal((9, 6)).astype(np.float32), rng.integers(0, 3, 9)


def flat_views(opt):
    flat = opt._flat
    return [(p, g) for p, g in zip(flat.params, flat.grad_views)]


# ------------------------------------------------------------ one node each
@pytest.mark.parametrize("name", sorted(PENALTIES))
@pytest.mark.parametrize("make_opt", [lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
                                      lambda p: optim.Adam(p, lr=0.01)])
def test_training_is_bitwise_the_composed_graph_and_the_penalty_is_one_node(name, make_opt):
    new, old = PENALTIES[name]
    finals = []
    for penalty in (new, old):
        model = mlp()
        opt = make_opt(model.parameters())
        loss_fn = nn.CrossEntropyLoss()
        for x, y in batches():
            opt.zero_grad()
            loss = loss_fn(model(nv.tensor(x)), y) + 1e-2 * penalty(model)
            loss.backward()
            opt.step()
        finals.append([p.data.copy() for p in model.parameters()])
    for a, b in zip(*finals):
        np.testing.assert_array_equal(a, b)  # bit for bit
    model = mlp()
    pen = new(model)
    assert len(pen._ctx.parents) == 3 and all(p is w for p, w in zip(pen._ctx.parents,
                                                                      weights(model)))
    assert pen.data.tobytes() == old(model).data.tobytes()


@pytest.mark.parametrize("fn", [R.l2, R.l1, lambda ps: R.elastic_net(ps, beta=0.7)])
def test_gradients_of_several_tensors_match_finite_differences_in_float64(fn):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4)) + 0.05  # away from |w|'s kink at 0
    b = rng.standard_normal((2, 3, 2)) + 0.05
    c = np.array([0.8, -1.3])
    assert nv.gradcheck(lambda x, y, z: fn([x, y, z]), a, b, c)
    # one node, float64 throughout, and a tensor without a gradient is left alone
    x = nv.tensor(a, dtype=nv.float64, requires_grad=True)
    frozen = nv.tensor(b, dtype=nv.float64)
    out = fn([x, frozen])
    assert out.dtype == np.float64 and out._ctx.parents[1] is frozen
    out.backward()
    assert frozen.grad is None and x.grad.dtype == np.float64


def test_odd_inputs_keep_their_old_behaviour():
    # a new node type per penalty...
    assert type(R.l2(nv.tensor([1.0, 2.0], requires_grad=True))._ctx).__name__ == "L2Penalty"
    # ...while integer tensors and mixed dtypes go the composed way, as before
    assert R.l2(nv.tensor(np.array([1, 2, 3]))).item() == 14
    with pytest.raises(TypeError, match="float64 and float32"):
        R.l2([nv.tensor([1.0], dtype=nv.float64), nv.tensor([1.0])])
    assert R.l2([]).item() == 0.0


# ------------------------------------------------- the flat buffer stays put
@pytest.mark.parametrize("name", sorted(PENALTIES))
@pytest.mark.parametrize("penalty_first", [False, True])
def test_p_grad_stays_the_flat_buffer_after_a_regularised_backward(name, penalty_first):
    new, old = PENALTIES[name]
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = next(batches())
    for _ in range(2):
        opt.zero_grad()
        if penalty_first:  # built before the forward pass: the weights' backward comes first
            pen = 1e-2 * new(model)
            loss = nn.CrossEntropyLoss()(model(nv.tensor(x)), y) + pen
        else:
            loss = nn.CrossEntropyLoss()(model(nv.tensor(x)), y) + 1e-2 * new(model)
        loss.backward()
        assert all(p.grad is g for p, g in flat_views(opt))  # was [False, True, ...] before
        opt.step()
    # the gradients: the composed graph's, bit for bit when the penalty comes after the
    # forward pass (built before it, they may differ in the last bit: another sum order)
    twin = mlp()
    optim.SGD(twin.parameters(), lr=0.1)
    for p2, p in zip(twin.parameters(), model.parameters()):
        p2.data[...] = p.data
    for net, penalty in ((model, new), (twin, old)):
        net.zero_grad()
        (nn.CrossEntropyLoss()(net(nv.tensor(x)), y) + 1e-2 * penalty(net)).backward()
    for p, p2 in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.grad, p2.grad)


def test_accumulation_is_in_place_only_into_the_flat_buffer():
    # a flat buffer: two backward passes (retain_graph) add in place
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = next(batches())
    loss = nn.CrossEntropyLoss()(model(nv.tensor(x)), y) + 1e-2 * R.l2(model)
    loss.backward(retain_graph=True)
    once = [p.grad.copy() for p in model.parameters()]
    loss.backward()
    for (p, g), first in zip(flat_views(opt), once):
        assert p.grad is g
        np.testing.assert_allclose(p.grad, first + first, rtol=1e-6, atol=1e-9)
    # zero_grad(set_to_none=False) keeps the buffers, and backward adds into them
    opt.zero_grad(set_to_none=False)
    nn.CrossEntropyLoss()(model(nv.tensor(x)), y).backward()
    assert all(p.grad is g for p, g in flat_views(opt))
    # anywhere else a gradient someone holds is never written through
    w = nv.tensor([1.0, -2.0], requires_grad=True)
    (w * 3.0).sum().backward()
    held = w.grad
    (w * 3.0).sum().backward()
    np.testing.assert_array_equal(held, [3.0, 3.0])
    assert w.grad is not held
    np.testing.assert_array_equal(w.grad, [6.0, 6.0])
    lone = nn.Linear(2, 2)  # a Parameter without an optimizer: no buffer
    lone(nv.tensor(np.ones((1, 2)))).sum().backward()
    held = lone.weight.grad
    lone(nv.tensor(np.ones((1, 2)))).sum().backward()
    assert lone.weight.grad is not held
    np.testing.assert_array_equal(lone.weight.grad, held + held)


def test_a_tensor_given_twice_gets_both_contributions():
    model = nn.Linear(3, 2)
    optim.SGD(model.parameters(), lr=0.1)
    w = model.weight
    R.l2([w, w]).backward()
    np.testing.assert_allclose(w.grad, 4 * w.data, rtol=1e-6)
    assert w.grad is w._grad_buffer


# ------------------------------------------------------- the cached weights
def same(a, b):
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def penalised(model):
    """The tensors l2(model) penalises, from its node."""
    return list(R.l2(model)._ctx.parents)


def test_the_penalised_weights_follow_every_change():
    model = mlp()
    assert same(penalised(model), weights(model)) and len(penalised(model)) == 3
    # a layer replaced, added, inserted, removed
    model[0] = nn.Linear(6, 16)
    assert penalised(model)[0] is model[0].weight
    model.append(nn.Linear(3, 3))
    assert penalised(model)[-1] is model[-1].weight
    model.insert(1, nn.Linear(16, 16))
    assert penalised(model)[1] is model[1].weight
    del model[1]
    assert same(penalised(model), weights(model))
    # a parameter replaced or deleted, a child set by attribute
    model[2].weight = nn.Parameter(np.ones((8, 16), dtype=np.float32))
    assert penalised(model)[1] is model[2].weight
    del model[-1].weight  # (no attribute set: nerve.nn.module.changes does not move)
    assert same(penalised(model), weights(model)) and len(weights(model)) == 3
    # weights_only=False sees the biases too
    assert same(R.l2(model, weights_only=False)._ctx.parents, list(model.parameters()))


def test_nested_lists_dicts_and_custom_modules_follow_changes():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2)])
            self.heads = nn.ModuleDict({"a": nn.Linear(2, 1)})
            self.plain = [nn.Linear(2, 2)]  # a public list of layers is walked too

    net = Net()
    assert same(penalised(net), weights(net))
    net.blocks.append(nn.Linear(2, 2))
    assert same(penalised(net), weights(net)) and len(weights(net)) == 4
    net.heads["b"] = nn.Linear(2, 3)
    assert same(penalised(net), weights(net)) and len(weights(net)) == 5
    net.plain.append(nn.Linear(2, 2))
    assert same(penalised(net), weights(net)) and len(weights(net)) == 6
    net.blocks[0].weight = nn.Parameter(np.zeros((2, 2), dtype=np.float32))
    assert same(penalised(net), weights(net))


def test_a_batch_norm_model_keeps_every_weight_gradient_in_the_flat_buffer():
    model = mlp(bn=True)
    opt = optim.Adam(model.parameters(), lr=0.01)
    for x, y in batches(4):
        opt.zero_grad()
        (nn.CrossEntropyLoss()(model(nv.tensor(x)), y) + 1e-3 * R.l2(model)).backward()
        opt.step()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert all(m.weight.grad is m.weight._grad_buffer for m in linears)


# ------------------------------------------------------ nerve.sklearn's penalty
def old_penalise(trainer, n):
    """Trainer._penalise as it was: out of place."""
    value = 0.0
    for w in trainer.weights:
        if w.grad is None:
            continue
        data = w.data
        extra = np.zeros_like(data)
        if trainer.l2:
            value += 0.5 * trainer.l2 * float(np.vdot(data, data))
            extra += np.asarray(trainer.l2, dtype=data.dtype) * data
        if trainer.l1:
            value += trainer.l1 * float(np.abs(data).sum())
            extra += np.asarray(trainer.l1, dtype=data.dtype) * np.sign(data)
        extra *= np.asarray(1.0 / n, dtype=data.dtype)
        w.grad = w.grad + extra
    return value / n


@pytest.mark.parametrize("l2, l1", [(1e-3, 0.0), (0.0, 1e-3), (1e-3, 2e-3)])
def test_sklearn_penalty_is_added_in_place_and_bitwise_as_before(l2, l1):
    results = []
    for penalise in (_loop.Trainer._penalise, old_penalise):
        net = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
        for p in net.parameters():
            p.data[...] = np.random.default_rng(0).standard_normal(p.data.shape)
        net[0].weight.data[0, :2] = -0.0  # the sign of zero survives as before
        opt = optim.SGD(net.parameters(), lr=0.1)
        trainer = _loop.Trainer(net, "cross_entropy", opt, l2, l1)
        x = np.random.default_rng(1).standard_normal((7, 4)).astype(np.float32)
        x[:, 0] = 0.0
        nn.CrossEntropyLoss()(net(nv.tensor(x)), np.arange(7) % 3).backward()
        net[0].weight.grad[0, 0] = -0.0
        value = penalise(trainer, 7)
        results.append((value, [p.grad.copy() for p in net.parameters()]))
        if penalise is _loop.Trainer._penalise:
            assert all(p.grad is g for p, g in flat_views(opt))  # stays the flat buffer
    (v_new, g_new), (v_old, g_old) = results
    assert v_new == v_old
    for a, b in zip(g_new, g_old):
        assert a.tobytes() == b.tobytes()  # bit for bit, signed zeros included


def test_mlpclassifier_trains_bitwise_as_with_the_old_penalty(monkeypatch):
    from nerve.sklearn import MLPClassifier
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 5)).astype(np.float32)
    y = rng.integers(0, 3, 120)
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0, batch_size=16,
              alpha=1e-2, tol=0, n_iter_no_change=100)
    seen = []
    real = _loop.Trainer._penalise

    def watched(self, n):
        out = real(self, n)
        seen.append(all(w.grad is w._grad_buffer for w in self.weights))
        return out
    monkeypatch.setattr(_loop.Trainer, "_penalise", watched)
    new = MLPClassifier(**kw).fit(X, y)
    monkeypatch.setattr(_loop.Trainer, "_penalise", old_penalise)
    old = MLPClassifier(**kw).fit(X, y)
    assert seen and all(seen)
    for a, b in zip(new.coefs_ + new.intercepts_, old.coefs_ + old.intercepts_):
        np.testing.assert_array_equal(a, b)
