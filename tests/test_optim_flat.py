"""The flat optimizer path: one update over all parameters equals one update per parameter,
bitwise, and it steps aside whenever its assumptions do not hold."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.05),
    "momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2),
    "adam": lambda p: optim.Adam(p, lr=0.01, weight_decay=1e-3),
    "adamw": lambda p: optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: optim.RMSProp(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.05),
}


def model(seed=0):
    nv.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))


def train(net, opt, steps=6, seed=1):
    rng = np.random.default_rng(seed)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        x = rng.standard_normal((7, 4)).astype(np.float32)
        y = rng.integers(0, 3, 7)
        opt.zero_grad()
        loss_fn(net(nv.tensor(x)), y).backward()
        opt.step()
    return [p.data.copy() for p in net.parameters()]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_flat_update_equals_per_parameter_update_bitwise(name):
    flat_net, plain_net = model(), model()
    flat_opt = OPTIMIZERS[name](flat_net.parameters())
    plain_opt = OPTIMIZERS[name](plain_net.parameters())
    assert flat_opt._flat is not None
    plain_opt._flat = None  # the per-parameter loop
    for a, b in zip(train(flat_net, flat_opt), train(plain_net, plain_opt)):
        np.testing.assert_array_equal(a, b)
    sd_flat, sd_plain = flat_opt.state_dict(), plain_opt.state_dict()
    assert sd_flat.keys() == sd_plain.keys()
    for key in sd_flat:
        np.testing.assert_array_equal(np.asarray(sd_flat[key]), np.asarray(sd_plain[key]))


def test_parameters_live_in_one_array_and_backward_writes_into_the_flat_gradient():
    net = model()
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    before = [p.data.copy() for p in net.parameters()]
    train(net, opt, steps=1)
    for p, old in zip(net.parameters(), before):
        assert np.shares_memory(p.data, opt._flat.data)
        assert np.shares_memory(p.grad, opt._flat.grad)  # written there by backward, no copy
        assert not np.array_equal(p.data, old)


def test_gradients_accumulate_over_two_backward_passes():
    net = model()
    optim.SGD(net.parameters(), lr=0.1)
    x = nv.tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    net(x).sum().backward()
    once = [p.grad.copy() for p in net.parameters()]
    net(x).sum().backward()
    for p, g in zip(net.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * g, rtol=1e-6)


def test_rebinding_a_parameter_is_noticed_and_the_new_data_is_trained():
    net, ref = model(), model()
    opt, ref_opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9), \
        optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    train(net, opt, steps=2)
    train(ref, ref_opt, steps=2)
    w = net[0].weight
    w.data = w.data * 1.0  # a new array, same values
    ref[0].weight.data = ref[0].weight.data * 1.0
    ref_opt._flat = None
    for a, b in zip(train(net, opt, seed=5), train(ref, ref_opt, seed=5)):
        np.testing.assert_array_equal(a, b)
    assert np.shares_memory(w.data, opt._flat.data)


def test_a_parameter_without_gradient_is_left_alone():
    net = model()
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net[2].bias.requires_grad = False  # frozen: its grad stays None
    frozen = net[2].bias.data.copy()
    train(net, opt, steps=3)
    np.testing.assert_array_equal(net[2].bias.data, frozen)
    assert not np.array_equal(net[0].weight.data, model()[0].weight.data)


def test_resuming_from_a_state_dict_continues_exactly():
    straight = model()
    opt = optim.Adam(straight.parameters(), lr=0.01)
    train(straight, opt, steps=3, seed=1)
    final = train(straight, opt, steps=3, seed=2)

    first = model()
    opt1 = optim.Adam(first.parameters(), lr=0.01)
    train(first, opt1, steps=3, seed=1)
    resumed = model()
    resumed.load_state_dict(first.state_dict())
    opt2 = optim.Adam(resumed.parameters(), lr=0.01)
    opt2.load_state_dict(opt1.state_dict())
    for a, b in zip(final, train(resumed, opt2, steps=3, seed=2)):
        np.testing.assert_array_equal(a, b)


def test_two_groups_and_foreign_parameters_use_the_per_parameter_loop():
    net = model()
    params = list(net.parameters())
    opt = optim.SGD([{"params": params[:2]}, {"params": params[2:], "lr": 0.01}], lr=0.1)
    assert opt._flat is None

    class Param:
        def __init__(self):
            self.data, self.grad = np.ones(3), np.ones(3)

    p = Param()
    data = p.data
    opt = optim.SGD([p], lr=0.5)
    assert opt._flat is None
    opt.step()
    assert p.data is data and np.allclose(data, 0.5)


def test_a_parameter_turned_float64_leaves_the_flat_path():
    net = model()
    opt = optim.SGD(net.parameters(), lr=0.1)
    train(net, opt, steps=1)
    w = net[0].weight
    w.data = w.data.astype(np.float64)  # one parameter in another dtype: no single flat array
    w.grad = np.ones(w.shape)
    before = w.data.copy()
    opt.step()
    assert opt._flat is None and w.data.dtype == np.float64
    np.testing.assert_allclose(w.data, before - 0.1)


def test_state_that_does_not_fit_is_reported_by_the_per_parameter_loop():
    net = model()
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    train(net, opt, steps=1)
    w = net[0].weight
    w.data = np.zeros((2, 2), dtype=np.float32)  # replaced by one of another shape
    w.grad = np.ones((2, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="parameter 0"):
        opt.step()
