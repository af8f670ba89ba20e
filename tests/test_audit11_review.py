"""Fixes from the review of the eleventh session's change."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn


@pytest.mark.parametrize("penalty, want", [(nv.regularizers.l2, 4.0), (nv.regularizers.l1, 1.0),
                                           (lambda t: nv.regularizers.elastic_net(t), 5.0)])
def test_penalties_of_a_0d_tensor_have_their_gradient(penalty, want):
    w = nv.tensor(2.0, dtype=np.float64, requires_grad=True)
    penalty(w).backward()
    assert w.grad.shape == () and float(w.grad) == want  # 2w, sign(w), 2w + sign(w)


def _tied_grads(with_optimizer):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 4))
    y = np.arange(8) % 4
    nv.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 4, dtype=np.float64), nn.ReLU(),
                      nn.Linear(4, 4, dtype=np.float64))
    m[2].weight = m[0].weight  # tied: one Parameter in two layers
    if with_optimizer:  # gives every parameter a flat gradient buffer
        nv.optim.SGD(m.parameters(), lr=0.1)
    nn.CrossEntropyLoss()(m(nv.tensor(X, dtype=np.float64)), y).backward()
    W, b0, b2 = m[0].weight.data.copy(), m[0].bias.data.copy(), m[2].bias.data.copy()
    return m[0].weight.grad.copy(), (X, y, W, b0, b2)


@pytest.mark.parametrize("with_optimizer", [False, True])
def test_a_weight_tied_between_two_layers_gets_both_contributions(with_optimizer):
    grad, (X, y, W, b0, b2) = _tied_grads(with_optimizer)

    def loss(w):
        h = np.maximum(X @ w + b0, 0)
        s = h @ w + b2
        s = s - s.max(1, keepdims=True)
        return float(np.mean(np.log(np.exp(s).sum(1)) - s[np.arange(len(y)), y]))

    num = nv.numerical_gradient(loss, W.copy())
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)


def test_loader_over_tensor_items_makes_their_number_labels_tensors_too():
    class Images:  # a torchvision-style dataset: (image tensor, int label)
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return nv.tensor(np.full(3, float(i), np.float32)), i

    xb, yb = next(iter(nv.data.DataLoader(Images(), batch_size=2, shuffle=False)))
    assert isinstance(xb, nv.Tensor) and isinstance(yb, nv.Tensor)
    assert yb.dtype.kind in "iu" and yb.long().tolist() == [0, 1]

    class Arrays:  # no tensor anywhere: arrays, as documented
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.zeros(3, np.float32), i

    xa, ya = next(iter(nv.data.DataLoader(Arrays(), batch_size=2, shuffle=False)))
    assert type(xa) is np.ndarray and type(ya) is np.ndarray
