"""Regularisation penalties: the lecture's L1/L2 preference example, gradients, what is penalised."""
import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn
from nerve import regularizers as R

W1 = [1.0, 0.0, 0.0, 0.0]
W2 = [0.25, 0.25, 0.25, 0.25]


def test_l2_prefers_spread_out_weights_while_l1_ties():
    x = np.ones(4)
    assert np.dot(W1, x) == np.dot(W2, x)                 # same score for both
    assert R.l2(nv.tensor(W2)).item() == pytest.approx(0.25)
    assert R.l2(nv.tensor(W1)).item() == pytest.approx(1.0)
    assert R.l1(nv.tensor(W1)).item() == pytest.approx(1.0)
    assert R.l1(nv.tensor(W2)).item() == pytest.approx(1.0)


def test_elastic_net_value():
    w = nv.tensor([0.5, -2.0])
    assert R.elastic_net(w, beta=0.5).item() == pytest.approx(0.5 * (0.25 + 4) + 2.5)
    assert R.elastic_net(w, beta=0.0).item() == pytest.approx(R.l1(w).item())


@pytest.mark.parametrize("fn, grad", [
    (R.l2, lambda w: 2 * w),
    (R.l1, np.sign),
    (lambda p: R.elastic_net(p, beta=0.3), lambda w: 0.6 * w + np.sign(w)),
])
def test_gradients(fn, grad):
    w = np.array([[0.7, -1.2], [0.3, -0.4]])
    assert nv.gradcheck(lambda t: fn(t), w)
    t = nv.tensor(w, dtype=nv.float64, requires_grad=True)
    fn(t).backward()
    np.testing.assert_allclose(t.grad, grad(w))


def test_l1_gradient_at_zero_is_zero():
    t = nv.tensor([0.0, 1.0], requires_grad=True)
    R.l1(t).backward()
    np.testing.assert_array_equal(t.grad, [0.0, 1.0])


def test_module_penalises_weights_only_by_default():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.PReLU(), nn.Linear(3, 1))
    for p in net.parameters():
        p.data[...] = 1.0
    assert R.l2(net).item() == pytest.approx(6 + 3)          # the two weight matrices
    assert R.l2(net, weights_only=False).item() == pytest.approx(net.num_parameters())
    assert R.l1(net.parameters()).item() == pytest.approx(net.num_parameters())


def test_total_loss_adds_lambda_times_penalty_gradient():
    nv.manual_seed(0)
    layer = nn.Linear(3, 2)
    x, y = np.ones((4, 3), dtype=np.float32), np.array([0, 1, 0, 1])
    lam = 0.1
    nn.CrossEntropyLoss()(layer(x), y).backward()
    data_grad, bias_grad = layer.weight.grad.copy(), layer.bias.grad.copy()
    layer.zero_grad()
    (nn.CrossEntropyLoss()(layer(x), y) + lam * R.l2(layer)).backward()
    np.testing.assert_allclose(layer.weight.grad, data_grad + lam * 2 * layer.weight.data,
                               rtol=1e-5)
    np.testing.assert_allclose(layer.bias.grad, bias_grad, rtol=1e-6)   # biases unpenalised


def test_bad_arguments():
    with pytest.raises(TypeError, match="tensors"):
        R.l2([np.ones(3)])
    with pytest.raises(TypeError, match="Module"):
        R.l2(3.0)
    with pytest.raises(ValueError, match="beta"):
        R.elastic_net(nv.tensor([1.0]), beta=-1)
    with pytest.raises(ValueError, match="l2"):
        R.get_regularizer("l3")
    assert R.get_regularizer("l1") is R.l1
    assert R.l2([]).item() == 0.0
