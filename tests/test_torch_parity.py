"""Values and gradients of a small MLP with cross-entropy against PyTorch, in float64.

Skipped when torch is not installed (nerve never requires it).
"""
import numpy as np
import pytest

import nerve as nv
from nerve import functional as F

torch = pytest.importorskip("torch")


def test_mlp_cross_entropy_matches_pytorch():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 5))
    y = rng.integers(0, 3, size=8)
    params = {"W1": rng.standard_normal((4, 5)), "b1": rng.standard_normal(4),
              "W2": rng.standard_normal((3, 4)), "b2": rng.standard_normal(3)}

    # nerve, from primitive ops
    p = {k: nv.tensor(v, dtype=nv.float64, requires_grad=True) for k, v in params.items()}
    h = (nv.tensor(X, dtype=nv.float64) @ p["W1"].T + p["b1"]).relu()
    scores = F.linear(h, p["W2"].T, p["b2"])
    loss = -scores.log_softmax()[np.arange(8), y].mean()
    loss.backward()

    # PyTorch
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    th = torch.relu(torch.tensor(X) @ tp["W1"].T + tp["b1"])
    tloss = torch.nn.functional.cross_entropy(th @ tp["W2"].T + tp["b2"], torch.tensor(y))
    tloss.backward()

    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    for k in params:
        np.testing.assert_allclose(p[k].grad, tp[k].grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "elu", "softmax", "log_softmax"])
def test_activation_gradients_match_pytorch(name):
    x = np.random.default_rng(1).standard_normal((4, 6)) * 3
    up = np.random.default_rng(2).standard_normal((4, 6))
    t = nv.tensor(x, dtype=nv.float64, requires_grad=True)
    getattr(t, name)().backward(up)
    tt = torch.tensor(x, requires_grad=True)
    fn = {"softmax": lambda a: torch.softmax(a, -1),
          "log_softmax": lambda a: torch.log_softmax(a, -1),
          "elu": torch.nn.functional.elu}.get(name, getattr(torch, name, None))
    out = fn(tt)
    out.backward(torch.tensor(up))
    np.testing.assert_allclose(getattr(t, name)().data, out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-10, atol=1e-12)
