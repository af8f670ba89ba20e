"""A graph recorded before an optimizer step changed its parameters is refused at backward
(PyTorch's version check catches the same): its ops saved the old weights."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn


def _net(seed=0):
    nv.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


X = np.random.default_rng(0).random((5, 3)).astype(np.float32)
Y = np.array([0, 1, 0, 1, 1])


@pytest.mark.parametrize("groups", [1, 2])  # one group: the flat step; two: per parameter
def test_backward_through_a_graph_kept_across_a_step_raises(groups):
    model = _net()
    params = list(model.parameters())
    spec = params if groups == 1 else [{"params": params[:2]}, {"params": params[2:]}]
    opt = nv.optim.SGD(spec, lr=0.1, momentum=0.9)
    loss = nn.CrossEntropyLoss()(model(nv.tensor(X)), Y)
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="changed in place by an optimizer step.*backward\\(\\) before"):
        loss.backward()


def test_unfused_graph_and_old_hidden_part_raise():
    """Layer by layer (no fused chain): an old part of a new graph is caught too. (Stricter
    than PyTorch, which refuses only where an op saved the changed tensor itself; here the
    first layer's input needs no gradient, so PyTorch's addmm kept no copy of W.)"""
    lin = nn.Linear(3, 4)
    head = nn.Linear(4, 2)
    opt = nv.optim.Adam(lin.parameters(), lr=0.1)
    hidden = lin(nv.tensor(X)).relu()  # recorded before the step
    (hidden.sum()).backward(retain_graph=True)
    opt.step()
    loss = nn.CrossEntropyLoss()(head(hidden), Y)  # new ops on top of the stale ones
    with pytest.raises(RuntimeError, match=r"shape \(3, 4\).*optimizer step"):
        loss.backward()


def test_a_captured_step_also_marks_its_parameters():
    model = _net()
    opt = nv.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    kept = nn.CrossEntropyLoss()(model(nv.tensor(X)), Y)
    step = nv.compile(model, nn.CrossEntropyLoss(), opt)
    step(X, Y)
    with pytest.raises(RuntimeError, match="optimizer step"):
        kept.backward()


def test_gan_pattern_is_not_refused_and_matches_a_fresh_forward():
    """G's ops were recorded before D's step, but D's step changed none of G's parameters:
    G's gradient through the new D must equal the one from a fresh forward."""
    G, D = nn.Linear(3, 3), nn.Linear(3, 1)
    opt_g = nv.optim.SGD(G.parameters(), lr=0.1)
    opt_d = nv.optim.SGD(D.parameters(), lr=0.1, momentum=0.9)
    z = nv.tensor(X)
    fake = G(z)
    d_loss = D(fake.detach()).sum()
    d_loss.backward()
    opt_d.step()
    D(fake).sum().backward()  # G's part is old, D's part new: fine
    got = G.weight.grad.copy()
    opt_g.zero_grad()
    D(G(z)).sum().backward()
    np.testing.assert_array_equal(got, G.weight.grad)


def test_an_untouched_parameter_of_the_same_optimizer_is_not_refused():
    """Per-parameter steps mark only the parameters that had a gradient (plain SGD leaves
    the others as they are)."""
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    opt = nv.optim.SGD([{"params": a.parameters()}, {"params": b.parameters(), "lr": 0.5}],
                       lr=0.1)
    kept = b(nv.tensor(X)).sum()  # b gets no gradient before the step
    a(nv.tensor(X)).sum().backward()
    opt.step()
    kept.backward()  # b was not changed: its graph is still valid
    np.testing.assert_allclose(b.weight.grad, np.tile(X.sum(0)[:, None], (1, 2)), rtol=1e-6)
