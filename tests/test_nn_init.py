"""Weight initialisation: statistics of each scheme and the symmetry problem of zeros."""
import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn
from nerve.nn.init import INITS, initialize


@pytest.mark.parametrize("name, std", [
    ("small", 0.01),
    ("xavier", np.sqrt(2.0 / (400 + 300))),
    ("xavier_uniform", np.sqrt(2.0 / (400 + 300))),   # U(−a, a) has variance a²/3
    ("he", np.sqrt(2.0 / 400)),
])
def test_init_statistics(name, std):
    w = initialize(name, (300, 400), fan_in=400, fan_out=300, seed=0)
    assert w.dtype == np.float32 and w.shape == (300, 400)
    assert abs(w.mean()) < 0.02 * std * 10
    assert w.std() == pytest.approx(std, rel=0.02)


def test_xavier_uniform_is_bounded():
    w = initialize("xavier_uniform", (50, 60), 60, 50, seed=1)
    assert np.abs(w).max() <= np.sqrt(6 / 110)


def test_zeros_and_biases():
    layer = nn.Linear(5, 3, init="zeros")
    assert not layer.weight.data.any() and not layer.bias.data.any()
    assert not nn.Linear(5, 3).bias.data.any()          # biases always start at zero


def test_init_uses_the_library_generator():
    nv.manual_seed(3)
    a = nn.Linear(4, 4).weight.data.copy()
    nv.manual_seed(3)
    b = nn.Linear(4, 4).weight.data
    np.testing.assert_array_equal(a, b)
    assert nn.Linear(4, 4, dtype=nv.float64).weight.dtype == nv.float64


def test_unknown_init_lists_valid_names():
    with pytest.raises(ValueError) as err:
        nn.Linear(2, 2, init="lecun")
    for name in INITS:
        assert name in str(err.value)


@pytest.mark.parametrize("args, exc", [((0, 3), ValueError), ((2.5, 3), TypeError),
                                       ((2, -1), ValueError)])
def test_bad_feature_counts(args, exc):
    with pytest.raises(exc, match="features"):
        nn.Linear(*args)


def _train(init, steps=30):
    nv.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 5, init=init), nn.Tanh(), nn.Linear(5, 3, init=init))
    X = np.random.default_rng(0).normal(size=(32, 2)).astype(np.float32)
    y = np.arange(32) % 3
    for _ in range(steps):
        net.zero_grad()
        nn.CrossEntropyLoss()(net(X), y).backward()
        for p in net.parameters():
            p.data -= 0.5 * p.grad
    return net


def test_zeros_init_keeps_hidden_units_identical():
    net = _train("zeros")
    w1, w2 = net[0].weight.data, net[2].weight.data
    # every hidden unit has the same incoming weights and the same outgoing weights
    np.testing.assert_allclose(w1, np.broadcast_to(w1[0], w1.shape), atol=1e-7)
    np.testing.assert_allclose(w2, np.broadcast_to(w2[:, :1], w2.shape), atol=1e-7)
    assert np.abs(net[0].bias.data - net[0].bias.data[0]).max() < 1e-7
    assert net[2].bias.data.std() > 0           # the output layer did learn something


def test_he_init_breaks_the_symmetry():
    w1 = _train("he")[0].weight.data
    assert np.abs(w1 - w1[0]).max() > 1e-2
