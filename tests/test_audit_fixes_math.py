"""Mends from an audit of the math against PyTorch: each test failed before its fix."""
import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn
from nerve.optim.adam import adam_update


@pytest.mark.parametrize("dtype,lowest", [(np.float32, -80.0), (np.float64, -700.0)])
def test_sigmoid_keeps_its_relative_accuracy_for_large_negative_inputs(dtype, lowest):
    x = np.linspace(lowest, 30.0, 401).astype(dtype)
    exact = 1.0 / (1.0 + np.exp(-x.astype(np.longdouble)))
    for y in (nv.tensor(x, dtype=dtype).sigmoid().data, nn.derivatives.sigmoid(x)):
        assert y.dtype == dtype
        assert np.all(y > 0)  # was exactly 0 below about -17 (float32), -37 (float64)
        rel = np.abs(y - exact) / exact
        assert rel.max() < (5e-6 if dtype == np.float32 else 1e-12)


def test_bce_on_a_confidently_wrong_sigmoid_has_the_right_loss_and_gradient():
    x = nv.tensor([-20.0], requires_grad=True)
    loss = nn.BCELoss()(x.sigmoid(), [1.0])
    loss.backward()
    assert loss.item() == pytest.approx(20.0, rel=1e-6)  # was 100 (the clamped log)
    assert x.grad[0] == pytest.approx(-1.0, rel=1e-6)   # was 0: no learning


def test_a_captured_sigmoid_network_is_still_bitwise_the_eager_one():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32) * 8  # saturating inputs
    y = rng.integers(0, 3, 64)
    losses = []
    for captured in (False, True):
        nv.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 3))
        opt = nv.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        step = nv.compile(model, nn.CrossEntropyLoss(), opt) if captured else None
        run = []
        for i in range(4):
            xb, yb = X[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]
            if captured:
                run.append(step(xb, yb))
            else:
                opt.zero_grad()
                loss = nn.CrossEntropyLoss()(model(nv.tensor(xb)), yb)
                loss.backward()
                opt.step()
                run.append(loss.item())
        losses.append((run, [p.data.copy() for p in model.parameters()]))
    assert losses[0][0] == losses[1][0]
    for a, b in zip(losses[0][1], losses[1][1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("axes", [(-1, 0, 1), (2, -3, -2), (-2, -1, 0)])
def test_permute_with_negative_axes_has_the_right_gradient(axes):
    x = nv.tensor(np.random.default_rng(1).normal(size=(3, 3, 3)), dtype=nv.float64,
                  requires_grad=True)
    weights = np.arange(27.0).reshape(3, 3, 3)
    assert nv.gradcheck(lambda t: t.permute(*axes) * weights, x)
    y = nv.tensor(np.ones((2, 3, 4)), dtype=nv.float64, requires_grad=True)
    (y.transpose((-1, 0, 1)) * np.arange(24.0).reshape(4, 2, 3)).sum().backward()
    np.testing.assert_array_equal(y.grad, np.arange(24.0).reshape(4, 2, 3).transpose(1, 2, 0))


def test_adam_counts_steps_per_parameter_after_a_step_without_some_gradients():
    a = nv.tensor(np.ones(3), dtype=nv.float64, requires_grad=True)
    b = nv.tensor(np.ones(2), dtype=nv.float64, requires_grad=True)
    opt = nv.optim.Adam([a, b], lr=0.1)
    ref = {"a": (np.ones(3), {}), "b": (np.ones(2), {})}
    for step in range(4):
        opt.zero_grad()
        loss = (a * a).sum() if step == 1 else (a * a).sum() + (b * b * 3).sum()
        loss.backward()
        opt.step()
        adam_update(ref["a"][0], 2 * ref["a"][0].copy(), ref["a"][1], lr=0.1)
        if step != 1:  # b had no gradient at step 1: its count stays behind a's
            adam_update(ref["b"][0], 6 * ref["b"][0].copy(), ref["b"][1], lr=0.1)
    np.testing.assert_array_equal(a.data, ref["a"][0])
    np.testing.assert_array_equal(b.data, ref["b"][0])
    assert opt.state[0]["step"] == 4 and opt.state[1]["step"] == 3


def test_two_leaves_never_share_gradient_memory_so_clipping_one_leaves_the_other():
    a = nv.tensor(np.full((2, 3), 1.0), requires_grad=True)
    b = nv.tensor(np.full((3, 2), 1.0), requires_grad=True)
    c = np.arange(6.0).reshape(3, 2)
    ((a.T + b) * c).sum().backward()  # b gets the upstream array, a a transposed view of it
    assert not np.shares_memory(a.grad, b.grad)
    nv.optim.clip_grad_value_([a, b], 2.5)
    np.testing.assert_array_equal(b.grad, np.minimum(c, 2.5))
    np.testing.assert_array_equal(a.grad, np.minimum(c, 2.5).T)
    # disjoint slices of one upstream array are not copied needlessly: only overlap counts
    p, q = nv.tensor([1.0, 2.0], requires_grad=True), nv.tensor([3.0], requires_grad=True)
    (nv.cat([p, q]) * np.array([4.0, 5.0, 6.0])).sum().backward()
    np.testing.assert_array_equal(p.grad, [4.0, 5.0])
    np.testing.assert_array_equal(q.grad, [6.0])


def test_x_to_the_power_zero_has_slope_zero_at_zero():
    x = nv.tensor([0.0, 2.0, -1.5], dtype=nv.float64, requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_reduce_lr_on_plateau_stops_shrinking_below_eps():
    p = nv.tensor([1.0], requires_grad=True)
    opt = nv.optim.SGD([p], lr=0.1)
    sched = nv.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.1, patience=0)
    for _ in range(15):
        sched.step(1.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-8)  # was 1e-16: no floor


@pytest.mark.parametrize("call,error,message", [
    (lambda: nv.tensor([1.0, 2.0]).sum(0, keepdims="yes"), TypeError,
     "sum: keepdims must be True or False"),
    (lambda: nv.tensor([[1.0, 2.0]]).max(dim=1, keepdim="no"), TypeError, "keepdim"),
    (lambda: nn.BCELoss()(nv.tensor([0.5, np.nan]), [1.0, 0.0]), ValueError,
     "the input contains NaN"),
])
def test_bad_inputs_that_reached_numpy_get_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
