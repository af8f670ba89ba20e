"""Activation layers: gradients, derivative functions, kinks, Maxout and PReLU."""
import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn
from nerve import functional as F
from nerve.nn import derivatives as D

# Points away from the kinks, so finite differences are valid everywhere.
X = np.array([[-2.1, -0.7, -0.05, 0.3], [0.9, 1.7, -1.3, 2.4]])

ROWS = [  # (layer, name in DERIVATIVES, kwargs of the NumPy functions)
    (nn.Sigmoid(), "sigmoid", {}),
    (nn.Tanh(), "tanh", {}),
    (nn.ReLU(), "relu", {}),
    (nn.LeakyReLU(0.1), "leaky_relu", {"alpha": 0.1}),
    (nn.ELU(0.7), "elu", {"alpha": 0.7}),
    (nn.Identity(), "identity", {}),
    (nn.Step(), "step", {}),
]


@pytest.mark.parametrize("layer, name, kw", ROWS, ids=[r[1] for r in ROWS])
def test_layer_gradcheck_in_float64(layer, name, kw):
    assert nv.gradcheck(lambda x: layer(x), X)


@pytest.mark.parametrize("layer, name, kw", ROWS, ids=[r[1] for r in ROWS])
def test_derivative_function_matches_finite_differences(layer, name, kw):
    f, fprime = D.FUNCTIONS[name], D.DERIVATIVES[name]
    h = 1e-6
    numeric = (f(X + h, **kw) - f(X - h, **kw)) / (2 * h)
    np.testing.assert_allclose(fprime(X, **kw), numeric, atol=1e-6)
    np.testing.assert_allclose(layer.derivative(X), numeric, atol=1e-6)
    # the layer's forward agrees with the NumPy function
    np.testing.assert_allclose(layer(nv.tensor(X, dtype=nv.float64)).data, f(X, **kw),
                               atol=1e-12)


@pytest.mark.parametrize("layer, name, kw", ROWS, ids=[r[1] for r in ROWS])
def test_layer_backward_equals_derivative(layer, name, kw):
    x = nv.tensor(X, dtype=nv.float64, requires_grad=True)
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad, layer.derivative(X), atol=1e-12)


def test_tanh_is_a_rescaled_sigmoid():
    x = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(D.tanh(x), 2 * D.sigmoid(2 * x) - 1, atol=1e-12)
    np.testing.assert_allclose(nn.Tanh()(x).data, 2 * nn.Sigmoid()(2 * x).data - 1, atol=1e-6)


def test_sigmoid_derivative_peaks_at_a_quarter():
    assert D.sigmoid_prime(np.array([0.0]))[0] == 0.25
    assert D.sigmoid_prime(np.linspace(-10, 10, 101)).max() <= 0.25


@pytest.mark.parametrize("layer, expected", [
    (nn.ReLU(), 0.0),            # relu'(0) = 0, as PyTorch
    (nn.LeakyReLU(0.2), 0.2),    # the negative side's slope
    (nn.Step(), 0.0),            # the step has zero gradient everywhere
    (nn.PReLU(init=0.3), 0.3),
])
def test_subgradient_at_zero(layer, expected):
    x = nv.tensor([0.0], requires_grad=True)
    layer(x).sum().backward()
    assert x.grad[0] == pytest.approx(expected)


def test_step_gives_zero_gradient_everywhere():
    x = nv.tensor(X, requires_grad=True)
    nn.Step()(x).sum().backward()
    assert not x.grad.any()
    np.testing.assert_array_equal(nn.Step()(X).data, (X > 0).astype(np.float32))


def test_softmax_layer():
    sm = nn.Softmax(axis=1)
    out = sm(X)
    np.testing.assert_allclose(out.data.sum(axis=1), 1, rtol=1e-6)
    assert nv.gradcheck(lambda x: sm(x) * nv.tensor(X, dtype=nv.float64), X)
    np.testing.assert_allclose(sm.derivative(X), out.data * (1 - out.data), rtol=1e-5)


@pytest.mark.parametrize("num", [1, 4])
def test_prelu_gradcheck_x_and_alpha(num):
    layer = nn.PReLU(num, init=0.25).double()
    layer.alpha.data[:] = np.linspace(0.1, 0.4, num)

    param = layer.alpha

    def f(x, alpha):
        return nn.functional.prelu(x, alpha)   # the layer's math with gradcheck's alpha

    assert nv.gradcheck(f, X, param.data.copy())
    x = nv.tensor(X, dtype=nv.float64, requires_grad=True)
    layer(x).sum().backward()
    expected = np.where(X > 0, 0, X).sum(axis=0) if num > 1 else np.where(X > 0, 0, X).sum()
    np.testing.assert_allclose(layer.alpha.grad, np.atleast_1d(expected))
    assert layer.num_parameters() == num


def test_prelu_alpha_is_learned():
    nv.manual_seed(0)
    layer = nn.PReLU()
    x = np.array([[-1.0, -2.0, 3.0]], dtype=np.float32)
    target = np.where(x > 0, x, 0.8 * x)             # the true slope is 0.8
    for _ in range(200):
        layer.zero_grad()
        ((layer(x) - target) ** 2).mean().backward()
        layer.alpha.data -= 0.1 * layer.alpha.grad
    assert layer.alpha.data[0] == pytest.approx(0.8, abs=1e-3)


def test_prelu_feature_mismatch():
    with pytest.raises(ValueError, match=r"PReLU\(3\).*\(N, 3\)"):
        nn.PReLU(3)(np.ones((2, 4)))


def test_maxout_has_k_times_the_linear_parameters():
    for k in (1, 2, 3):
        assert nn.Maxout(5, 7, pieces=k).num_parameters() == k * nn.Linear(5, 7).num_parameters()


def test_maxout_forward_and_gradcheck():
    layer = nn.Maxout(4, 3, pieces=2).double()
    x = nv.tensor(X, dtype=nv.float64)
    z = X @ layer.weight.data + layer.bias.data
    expected = z.reshape(2, 2, 3).max(axis=1)
    np.testing.assert_allclose(layer(x).data, expected)
    w0, b0 = layer.weight.data.copy(), layer.bias.data.copy()
    assert nv.gradcheck(lambda x, w, b: F.linear(x, w, b).reshape(2, 2, 3).max(axis=1),
                        X, w0, b0)


def test_maxout_ties_share_the_gradient_evenly():
    layer = nn.Maxout(2, 1, pieces=2, init="zeros")       # both pieces give 0: a tie
    x = nv.tensor([[1.0, 2.0]], requires_grad=True)
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.bias.grad, [0.5, 0.5])
    np.testing.assert_allclose(layer.weight.grad, [[0.5, 0.5], [1.0, 1.0]])  # (in, pieces·out)


def test_registry_and_unknown_names():
    assert isinstance(nn.get_activation("relu"), nn.ReLU)
    assert isinstance(nn.get_activation("Leaky-ReLU", alpha=0.2), nn.LeakyReLU)
    assert nn.get_activation("leaky_relu", alpha=0.2).alpha == 0.2
    assert isinstance(nn.get_activation("linear"), nn.Identity)
    with pytest.raises(ValueError) as err:
        nn.get_activation("swish")
    assert "relu" in str(err.value) and "sigmoid" in str(err.value)
    with pytest.raises(ValueError, match="tanh"):
        nn.get_derivative("swish")
    assert set(D.DERIVATIVES) <= set(nn.ACTIVATIONS)


def test_activation_keeps_float32():
    x = np.ones((2, 3), dtype=np.float32)
    for cls in (nn.Sigmoid, nn.Tanh, nn.ReLU, nn.ELU, nn.Softmax, nn.PReLU):
        assert cls()(x).dtype == nv.float32
