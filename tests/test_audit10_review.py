"""Mends from a review of the tenth session's change (each failed before the mend)."""
from __future__ import annotations

import numpy as np
import pytest

import nerve as nv
import nerve.nn.functional as F
from nerve import nn, optim
from nerve.compile import CaptureError
from nerve.nn import derivatives as D


def test_failed_recapture_never_replays_a_removed_layer():
    X = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    y = np.arange(16) % 3
    nv.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    step = nv.compile(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1))
    step(X, y)
    old = m[2]
    m[2] = nn.Linear(8, 3)  # its parameters are not the optimizer's: refused
    with pytest.raises(CaptureError):
        step(X, y)
    m[2] = old  # back as it was: the step is made again for it
    for rows in (16, 5):  # a plan made before the failure, and a new batch size
        with nv.no_grad():
            expected = float(nn.CrossEntropyLoss()(m(X[:rows]), y[:rows]).data)
        assert step(X[:rows], y[:rows]) == expected


def test_masked_fill_keeps_the_dtype():
    mask = nv.tensor([True, False])
    assert nv.tensor([1, 2]).masked_fill(mask, 0.5).tolist() == [0, 2]
    assert nv.tensor([1, 2]).masked_fill(mask, 0.5).dtype == np.int64
    assert nv.tensor([True, True]).masked_fill(mask, 0).dtype == np.bool_
    x = nv.tensor([1.0, 2.0], requires_grad=True)
    out = x.masked_fill(mask, nv.tensor(3.0, dtype=nv.float64))
    assert out.dtype == np.float32 and out.tolist() == [3.0, 2.0]
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]


def test_bce_target_of_another_dtype_gets_its_gradient():
    p = nv.tensor([0.2, 0.7, 0.9])
    t = nv.tensor([0.3, 0.6, 1.0], dtype=nv.float64, requires_grad=True)
    loss = F.binary_cross_entropy(p, t)
    loss.backward()
    assert loss.dtype == np.float32 and t.grad.dtype == np.float64
    pd = p.data.astype(np.float64)
    np.testing.assert_allclose(t.grad, (np.log1p(-pd) - np.log(pd)) / 3, rtol=1e-6)


def test_linear_on_nd_input_names_the_shapes_given():
    with pytest.raises(ValueError, match=r"weight of shape \(4,\)"):
        F.linear(np.ones((2, 5, 4)), np.ones(4))
    with pytest.raises(ValueError, match=r"input of shape \(2, 5, 4\).*bias of shape \(7,\)"):
        F.linear(np.ones((2, 5, 4)), np.ones((4, 3)), np.ones(7))


def test_softmax_of_a_scalar_is_one():
    assert D.softmax(np.array(3.0)) == 1.0 and D.softmax_prime(2.0) == 0.0
    assert float(nv.tensor(3.0).softmax().data) == 1.0


def test_flip_norm_sign_squeeze_gather_edges():
    x = nv.tensor(np.arange(6.0).reshape(2, 3))
    assert x.flip(dims=(0,)).tolist() == x.flip(0).tolist() == [[3, 4, 5], [0, 1, 2]]
    assert x.flip(dims=1).tolist() == [[2, 1, 0], [5, 4, 3]]
    for p in (1, 2, float("inf")):
        n = nv.tensor([3, -4]).norm(p)
        assert n.dtype.kind == "f"
    assert float(nv.tensor([3, -4]).norm(1).data) == 7.0
    assert nv.tensor([True, False]).sign().tolist() == [True, False]
    with pytest.raises(ValueError, match="name an axis twice"):
        nv.tensor(np.ones((1, 3))).squeeze((0, 0))
    with pytest.raises(IndexError, match="must be 0 for a 0-d tensor"):
        nv.tensor(5.0).gather(0, nv.tensor(3))


def test_dataloader_option_errors_name_the_loader():
    from nerve.data import DataLoader
    with pytest.raises(ValueError, match="DataLoader: num_workers"):
        DataLoader(np.zeros((4, 2)), np.arange(4), num_workers=-1)
    with pytest.raises(TypeError, match="DataLoader: pin_memory"):
        DataLoader(np.zeros((4, 2)), np.arange(4), pin_memory=1)
