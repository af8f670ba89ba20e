"""Numerical extremes: activations, losses and their gradients stay finite at ±1e4.

Every function is run forward and backward in float32 and float64 on inputs that
mix ±1e4 with ordinary values; outputs and gradients must be finite and in the
function's range, and the values must agree with the exact limits (σ(1e4) = 1,
softmax of a row with one huge entry is one-hot, ...). NumPy overflow, invalid
and divide-by-zero warnings count as failures (underflow to 0 is fine).
Training that diverges stops with TrainingDivergedError and does not leave NaN
in the weights.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import nerve as nv
from nerve import losses, nn

BIG = 1e4
DTYPES = [np.float32, np.float64]
ROWS = np.array([[BIG, -BIG, 0.0, 1.0],
                 [-BIG, -BIG, -BIG, -BIG],
                 [BIG, BIG, BIG, BIG],
                 [0.5, -2.0, BIG, 3.0]])


@pytest.fixture(autouse=True)
def _numpy_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield


def _forward_backward(fn, x: np.ndarray, dtype):
    t = nv.tensor(x, dtype=dtype, requires_grad=True)
    y = fn(t)
    upstream = np.linspace(-1.0, 1.0, y.data.size).reshape(y.shape).astype(dtype)
    (y * nv.tensor(upstream, dtype=dtype)).sum().backward()
    assert y.dtype == dtype and t.grad.dtype == dtype
    assert np.all(np.isfinite(y.data)), f"non-finite output {y.data}"
    assert np.all(np.isfinite(t.grad)), f"non-finite gradient {t.grad}"
    return y.data, t.grad


ACTIVATIONS = {
    "sigmoid": (nv.sigmoid, 0.0, 1.0),
    "tanh": (nv.tanh, -1.0, 1.0),
    "softmax": (nv.softmax, 0.0, 1.0),
    "log_softmax": (nv.log_softmax, -np.inf, 0.0),
    "elu": (nv.elu, -1.0, np.inf),
    "leaky_relu": (nv.leaky_relu, -np.inf, np.inf),
    "relu": (nv.relu, 0.0, np.inf),
    "exp(-|x|)": (lambda t: (-t.abs()).exp(), 0.0, 1.0),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_and_gradient_stay_finite_and_in_range(name, dtype):
    fn, low, high = ACTIVATIONS[name]
    y, _ = _forward_backward(fn, ROWS, dtype)
    assert np.all(y >= low) and np.all(y <= high)


@pytest.mark.parametrize("dtype", DTYPES)
def test_limits_are_exact(dtype):
    x = np.array([[BIG, -BIG, 0.0]])
    assert np.array_equal(nv.sigmoid(nv.tensor(x, dtype=dtype)).data, [[1.0, 0.0, 0.5]])
    assert np.array_equal(nv.tanh(nv.tensor(x, dtype=dtype)).data, [[1.0, -1.0, 0.0]])
    soft = nv.softmax(nv.tensor(x, dtype=dtype)).data
    assert np.array_equal(soft, [[1.0, 0.0, 0.0]])
    logp = nv.log_softmax(nv.tensor(x, dtype=dtype)).data
    np.testing.assert_allclose(logp, [[0.0, -2 * BIG, -BIG]], rtol=1e-6)
    np.testing.assert_allclose(nv.elu(nv.tensor(x, dtype=dtype)).data, [[BIG, -1.0, 0.0]])
    # a row of equal huge scores is uniform, not NaN
    same = nv.softmax(nv.tensor(np.full((1, 4), BIG), dtype=dtype)).data
    np.testing.assert_allclose(same, 0.25)


@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_gradients_are_zero_not_nan(dtype):
    _, g = _forward_backward(nv.sigmoid, np.array([BIG, -BIG]), dtype)
    assert np.array_equal(g, [0.0, 0.0])
    _, g = _forward_backward(nv.tanh, np.array([BIG, -BIG]), dtype)
    assert np.array_equal(g, [0.0, 0.0])


LABELS = np.array([0, 1, 2, 1])
LOSSES = {
    "cross_entropy": lambda s: losses.cross_entropy(s, LABELS),
    "hinge": lambda s: losses.hinge(s, LABELS),
    "bce_with_logits": lambda s: losses.binary_cross_entropy_with_logits(
        s, (np.arange(16).reshape(4, 4) % 2).astype(float)),
    "mse": lambda s: losses.mse(s, np.zeros((4, 4))),
    "cross_entropy(sum)": lambda s: losses.cross_entropy(s, LABELS, reduction="sum"),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_and_gradient_stay_finite(name, dtype):
    value, grad = _forward_backward(LOSSES[name], ROWS, dtype)
    assert value >= 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_at_extremes_matches_the_exact_value(dtype):
    s = nv.tensor([[BIG, -BIG, 0.0], [-BIG, BIG, 0.0]], dtype=dtype, requires_grad=True)
    right = losses.cross_entropy(s, [0, 1])
    assert right.item() == 0.0  # confidently right: log-sum-exp gives exactly 0
    wrong = losses.cross_entropy(s, [1, 0], reduction="none")
    np.testing.assert_allclose(wrong.data, [2 * BIG, 2 * BIG], rtol=1e-6)  # not inf
    wrong.sum().backward()
    np.testing.assert_allclose(s.grad, [[1, -1, 0], [-1, 1, 0]], atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_on_saturated_probabilities_is_finite(dtype):
    p = nv.tensor([0.0, 1.0, 0.0, 1.0], dtype=dtype, requires_grad=True)
    loss = losses.binary_cross_entropy(p, [0.0, 1.0, 1.0, 0.0])
    loss.backward()
    np.testing.assert_allclose(loss.item(), 50.0)  # two logs clamped at -100, mean of 4
    assert np.all(np.isfinite(p.grad))


@pytest.mark.parametrize("dtype", DTYPES)
def test_layers_at_extremes(dtype):
    x = nv.tensor(ROWS, dtype=dtype, requires_grad=True)
    for layer in (nn.Sigmoid(), nn.Tanh(), nn.ELU(), nn.Softmax(), nn.PReLU(dtype=dtype)):
        out = layer(x)
        out.sum().backward()
        assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))
        x.zero_grad()
    bn = nn.BatchNorm1d(4).to(dtype)
    out = bn(x)
    out.sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))


def test_diverging_training_stops_with_a_clear_message_and_finite_weights():
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((64, 4)) * 1e3).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(nv.TrainingDivergedError) as info:
            nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=1e6, epochs=20,
                   batch_size=8, progress=False)
    message = str(info.value)
    assert "diverged" in message and "lower learning rate" in message
    assert isinstance(info.value, ValueError)
    for name, p in model.named_parameters():
        assert np.all(np.isfinite(p.data)), f"{name} was left holding NaN/inf"
