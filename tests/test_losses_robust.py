"""L1, smooth L1 and Huber losses: the formulas by hand, gradients against finite
differences in float64, the relations between them, input checks, and fit with them."""
import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn
from nerve import losses as L

RNG = np.random.default_rng(3)
PRED = RNG.normal(size=(6, 3)) * 2
TARGET = RNG.normal(size=(6, 3))


def by_hand(d, kind, k):
    """The per-element loss of ``kind`` with threshold ``k``, written out with NumPy."""
    a = np.abs(d)
    if kind == "l1":
        return a
    if kind == "smooth_l1":
        return np.where(a < k, 0.5 * d * d / k, a - 0.5 * k)
    return np.where(a < k, 0.5 * d * d, k * (a - 0.5 * k))  # huber


def call(kind, pred, target, reduction="mean", k=1.0):
    if kind == "l1":
        return L.l1_loss(pred, target, reduction)
    if kind == "smooth_l1":
        return L.smooth_l1_loss(pred, target, reduction, beta=k)
    return L.huber_loss(pred, target, reduction, delta=k)


KINDS = [("l1", 1.0), ("smooth_l1", 0.8), ("smooth_l1", 2.5), ("huber", 0.6), ("huber", 1.5)]


@pytest.mark.parametrize("kind,k", KINDS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_values_match_the_formula(kind, k, reduction):
    per = by_hand(PRED - TARGET, kind, k)
    want = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    got = call(kind, nv.tensor(PRED, dtype=nv.float64), TARGET, reduction, k)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind,k", KINDS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradients_match_finite_differences(kind, k, reduction):
    # |d| well away from 0 and from the threshold, where the loss is not smooth
    d = RNG.choice([-1, 1], size=(5, 4)) * (k + RNG.uniform(0.2, 1.0, size=(5, 4)))
    d[::2] *= 0.5 * k / (np.abs(d[::2]).max() + 1e-9)  # some rows inside the quadratic part
    x = nv.tensor(TARGET[:5, :3].repeat(2, axis=1)[:, :4] + d, dtype=nv.float64,
                  requires_grad=True)
    target = TARGET[:5, :3].repeat(2, axis=1)[:, :4]
    assert nv.gradcheck(lambda p: call(kind, p, target, reduction, k), x)


@pytest.mark.parametrize("kind,k", KINDS)
def test_a_target_that_requires_grad_gets_the_opposite_gradient(kind, k):
    p = nv.tensor(PRED, dtype=nv.float64, requires_grad=True)
    t = nv.tensor(TARGET, dtype=nv.float64, requires_grad=True)
    call(kind, p, t, "mean", k).backward()
    np.testing.assert_allclose(t.grad, -p.grad, rtol=0, atol=1e-15)
    assert np.abs(p.grad).sum() > 0
    assert nv.gradcheck(lambda tt: call(kind, nv.tensor(PRED, dtype=nv.float64), tt, "sum", k),
                        nv.tensor(TARGET + 0.01, dtype=nv.float64, requires_grad=True))


def test_l1_gradient_is_the_sign_over_n_and_zero_where_equal():
    p = nv.tensor([[1.0], [2.0], [-3.0], [5.0]], dtype=nv.float64, requires_grad=True)
    L.l1_loss(p, np.array([0.0, 2.0, 1.0, 5.5])).backward()
    np.testing.assert_array_equal(p.grad, np.array([[1.0], [0.0], [-1.0], [-1.0]]) / 4)


def test_huber_is_delta_times_smooth_l1_and_beta_zero_is_l1():
    p = nv.tensor(PRED, dtype=nv.float64)
    for delta in (0.3, 1.0, 4.0):
        np.testing.assert_allclose(L.huber_loss(p, TARGET, delta=delta).data,
                                   delta * L.smooth_l1_loss(p, TARGET, beta=delta).data,
                                   rtol=1e-13)
    np.testing.assert_allclose(L.smooth_l1_loss(p, TARGET, "none", beta=0).data,
                               np.abs(PRED - TARGET), rtol=0, atol=0)
    # small errors: the Huber loss is half the squared error; large: linear in |d|
    small = L.huber_loss(nv.tensor([0.1, -0.2], dtype=nv.float64), [0.0, 0.0], "none").data
    np.testing.assert_allclose(small, [0.005, 0.02])
    large = L.huber_loss(nv.tensor([10.0], dtype=nv.float64), [0.0], "none", delta=2.0).data
    np.testing.assert_allclose(large, [2.0 * (10.0 - 1.0)])


def test_float32_in_float32_out():
    p = nv.tensor(PRED.astype(np.float32), requires_grad=True)
    for loss in (nn.L1Loss(), nn.SmoothL1Loss(), nn.HuberLoss()):
        p.grad = None
        out = loss(p, TARGET)
        out.backward()
        assert out.dtype == np.float32 and p.grad.dtype == np.float32


def test_modules_equal_their_functional_twins_and_are_in_the_registry():
    p = nv.tensor(PRED, dtype=nv.float64)
    pairs = [(nn.L1Loss("sum"), L.l1_loss(p, TARGET, "sum")),
             (nn.SmoothL1Loss(beta=0.4), L.smooth_l1_loss(p, TARGET, beta=0.4)),
             (nn.HuberLoss(delta=2.0), L.huber_loss(p, TARGET, delta=2.0))]
    for module, value in pairs:
        np.testing.assert_array_equal(module(p, TARGET).data, value.data)
    assert type(nn.get_loss("l1")) is nn.L1Loss and type(nn.get_loss("mae")) is nn.L1Loss
    assert type(nn.get_loss("smooth_l1")) is nn.SmoothL1Loss
    huber = nn.get_loss("huber", delta=0.5)
    assert type(huber) is nn.HuberLoss and huber.get_config() == {"reduction": "mean",
                                                                   "delta": 0.5}


def test_a_column_of_predictions_takes_a_flat_target():
    p = nv.tensor(PRED[:, :1], dtype=nv.float64)
    np.testing.assert_allclose(L.huber_loss(p, TARGET[:, 0]).data,
                               by_hand(PRED[:, 0] - TARGET[:, 0], "huber", 1.0).mean())


@pytest.mark.parametrize("make,message", [
    (lambda: nn.SmoothL1Loss(beta=-1.0), "beta must be a finite number >= 0"),
    (lambda: nn.HuberLoss(delta=0.0), "delta must be a finite number > 0"),
    (lambda: nn.HuberLoss(delta=float("nan")), "delta must be a finite number > 0"),
    (lambda: nn.SmoothL1Loss(beta="1"), "beta must be a finite number"),
    (lambda: L.huber_loss(nv.tensor(PRED), TARGET[:, :2]), r"target has shape \(6, 2\)"),
    (lambda: L.l1_loss(nv.tensor(PRED), np.full((6, 3), np.nan)), "target contains NaN"),
    (lambda: L.l1_loss(nv.tensor(PRED), TARGET, "avg"), "reduction"),
    (lambda: nn.L1Loss(weight=2.0), "does not support weight"),
])
def test_bad_arguments_get_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_fit_with_the_huber_loss_resists_outliers_that_pull_the_mse_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 3)).astype(np.float32)
    y = (X @ np.array([1.5, -2.0, 0.5], np.float32) + 0.3).reshape(-1, 1)
    y[::16] += 25.0  # outliers: their pull on the Huber fit is capped at delta
    fitted = {}
    for loss in ("huber", "mse"):
        nv.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 1))
        history = nv.fit(model, X, y, loss=loss, optimizer="sgd", lr=0.05, epochs=40,
                         batch_size=32, progress=False)
        assert history.history["loss"][-1] < history.history["loss"][0]
        fitted[loss] = (model[0].weight.data.ravel(), float(model[0].bias.data[0]))
    weights, bias = fitted["huber"]
    np.testing.assert_allclose(weights, [1.5, -2.0, 0.5], atol=0.2)
    assert abs(bias - 0.3) < 0.35
    assert abs(fitted["mse"][1] - 0.3) > 1.2  # the mean of the outliers' shift: 25/16


def test_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    for red in ("mean", "sum", "none"):
        for ours, theirs in [(nn.L1Loss(red), torch.nn.L1Loss(reduction=red)),
                             (nn.SmoothL1Loss(red, beta=0.7),
                              torch.nn.SmoothL1Loss(reduction=red, beta=0.7)),
                             (nn.HuberLoss(red, delta=1.3),
                              torch.nn.HuberLoss(reduction=red, delta=1.3))]:
            x = nv.tensor(PRED, dtype=nv.float64, requires_grad=True)
            out = ours(x, TARGET)
            (out.sum() if red == "none" else out).backward()
            xt = torch.tensor(PRED, requires_grad=True)
            ref = theirs(xt, torch.tensor(TARGET))
            (ref.sum() if red == "none" else ref).backward()
            np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
            np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12)
