"""Layers and losses agree with PyTorch (skipped when torch is not installed)."""
import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn
from nerve import losses as L

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(8, 5))
Y = RNG.integers(0, 5, size=8)


def both(x):
    """The same float64 data as a nerve tensor and a torch tensor, both requiring grad."""
    return (nv.tensor(x, dtype=nv.float64, requires_grad=True),
            torch.tensor(x, dtype=torch.float64, requires_grad=True))


def check(ours, theirs, a, b):
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    up = RNG.normal(size=ours.shape)
    (ours * up).sum().backward()
    (theirs * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("ours, theirs", [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)),
    (nn.ELU(0.7), torch.nn.ELU(0.7)),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.Softmax(axis=1), torch.nn.Softmax(dim=1)),
], ids=["relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax"])
def test_activations(ours, theirs):
    a, b = both(X)
    check(ours(a), theirs(b), a, b)


def test_prelu_per_feature():
    ours = nn.PReLU(5).double()
    theirs = torch.nn.PReLU(5).double()
    a, b = both(X)
    check(ours(a), theirs(b), a, b)
    np.testing.assert_allclose(ours.alpha.grad, theirs.weight.grad.numpy(), rtol=1e-9)


def test_linear():
    ours = nn.Linear(5, 3).double()
    theirs = torch.nn.Linear(5, 3).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data.T))  # PyTorch stores (out, in)
        theirs.bias.copy_(torch.tensor(RNG.normal(size=3)))
    ours.bias.data[:] = theirs.bias.detach().numpy()
    a, b = both(X)
    check(ours(a), theirs(b), a, b)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy().T, rtol=1e-9)


def test_batchnorm_training_and_eval():
    ours = nn.BatchNorm1d(5, momentum=0.2).double()
    theirs = torch.nn.BatchNorm1d(5, momentum=0.2).double()
    a, b = both(X * 3 + 1)
    check(ours(a), theirs(b), a, b)
    np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    a, b = both(X)
    check(ours(a), theirs(b), a, b)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_classification_losses(reduction):
    y = torch.tensor(Y)
    a, b = both(X)
    check(L.cross_entropy(a, Y, reduction=reduction),
          torch.nn.functional.cross_entropy(b, y, reduction=reduction), a, b)
    # PyTorch's multi_margin_loss divides each example's sum by C; ours is the lecture's sum.
    a, b = both(X)
    check(L.hinge(a, Y, reduction=reduction),
          torch.nn.functional.multi_margin_loss(b, y, reduction=reduction) * 5, a, b)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_losses(reduction):
    t = RNG.uniform(size=X.shape)
    a, b = both(X * 4)
    check(L.binary_cross_entropy_with_logits(a, t, reduction=reduction),
          torch.nn.functional.binary_cross_entropy_with_logits(b, torch.tensor(t),
                                                               reduction=reduction), a, b)
    p = 1 / (1 + np.exp(-X))
    a, b = both(p)
    check(L.binary_cross_entropy(a, t, reduction=reduction),
          torch.nn.functional.binary_cross_entropy(b, torch.tensor(t), reduction=reduction),
          a, b)
    a, b = both(X)
    check(L.mse(a, t, reduction=reduction),
          torch.nn.functional.mse_loss(b, torch.tensor(t), reduction=reduction), a, b)
