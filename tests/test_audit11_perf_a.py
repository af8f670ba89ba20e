"""Audit 11, perf findings 1 and 3: σ(x) from e = exp(−|x|) instead of NumPy's scalar
``logaddexp`` loop (faster and more accurate), and MSE as one fused graph node whose
loss and gradients are bitwise those of the composed p − t, d·d, mean/sum graph."""
import warnings

import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.nn import derivatives as D
from nerve.nn import functional as F
from nerve.ops.activation import sigmoid_array, sigmoid_into


def _ulps(got: np.ndarray, ref: np.ndarray, dtype) -> np.ndarray:
    """|got − ref| in units of the last place of ``dtype`` at the reference value."""
    spacing = np.spacing(np.maximum(ref, 0).astype(dtype)).astype(ref.dtype)
    return np.abs(got.astype(ref.dtype) - ref) / np.maximum(spacing, np.finfo(dtype).smallest_subnormal)


_SPECIAL = [0.0, -0.0, 20, -20, 87, -87, 88.7, -88.7, 100, -100, 103, -103, 104, -104, 1e4, -1e4,
            1e30, -1e30, 3.4e38, -3.4e38, 1e-40, -1e-40, 1.4e-45, -1.4e-45]


def _grid() -> np.ndarray:
    return np.concatenate([np.arange(-110, 110, 1e-4), np.linspace(-1e4, 1e4, 20001),
                           np.geomspace(1e-45, 1e-30, 2001), -np.geomspace(1e-45, 1e-30, 2001),
                           _SPECIAL])


def test_sigmoid_float32_is_within_4_5_ulp_of_a_float64_reference_and_keeps_its_guarantees():
    x = _grid().astype(np.float32)
    with np.errstate(over="ignore"):  # the reference overflows for x < −709 (float64)
        ref = 1 / (1 + np.exp(-x.astype(np.float64)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid warning, for any |x|
        y = sigmoid_array(x)
    assert y.dtype == np.float32
    assert _ulps(y, ref, np.float32).max() <= 4.5  # logaddexp's form: 9.7 ulp at x = −14.56
    # no underflow to 0 while σ(x) rounds to a positive float32; exact 0, ½, 1 at the ends
    assert not np.any((y == 0) & (ref.astype(np.float32) > 0))
    assert sigmoid_array(np.float32([-100]))[0] > 0  # ≈ 3.8e−44, a subnormal
    assert list(sigmoid_array(np.float32([-1e4, 1e4, 0.0, -0.0]))) == [0.0, 1.0, 0.5, 0.5]
    assert np.all((y >= 0) & (y <= 1)) and np.all(np.diff(sigmoid_array(np.sort(x))) >= 0)
    # ±inf and NaN: 1, 0, NaN and no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid_array(np.float32([np.inf, -np.inf, np.nan]))
    assert s[0] == 1 and s[1] == 0 and np.isnan(s[2])
    # in place (y is x) gives the same bits; a 0-d array and a strided view work too
    same = x.copy()
    assert sigmoid_into(same, same) is same and np.array_equal(same, y)
    strided = np.linspace(-8, 8, 40, dtype=np.float32)[::3]
    assert np.array_equal(sigmoid_array(strided), sigmoid_array(strided.copy()))
    assert sigmoid_array(np.asarray(np.float32(-3))).shape == ()


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63, reason="needs an 80-bit long double")
def test_sigmoid_float64_is_within_4_ulp_of_an_extended_precision_reference():
    x = _grid()
    with np.errstate(over="ignore"):
        ref = 1 / (1 + np.exp(-x.astype(np.longdouble)))
    y = sigmoid_array(x)
    assert y.dtype == np.float64
    assert _ulps(y, ref, np.float64).max() <= 4  # logaddexp's form: 32 ulp at x = −33.3
    assert sigmoid_array(np.array([-745.0]))[0] > 0  # 5e−324: still not 0


def test_sigmoid_gradient_layer_functional_and_derivative_agree_in_float64():
    x = np.linspace(-30, 30, 60).reshape(3, 20)
    assert nv.gradcheck(lambda t: t.sigmoid(), x)
    assert nv.gradcheck(lambda t: F.sigmoid(t) * 2.0, x)
    assert nv.gradcheck(lambda t: nn.Sigmoid()(t).sum(), x)
    t = nv.tensor(x, requires_grad=True, dtype=nv.float64)
    y = nn.Sigmoid()(t)
    y.backward(np.ones_like(x))
    s = sigmoid_array(x)
    assert np.array_equal(y.data, s) and np.array_equal(D.sigmoid(x), s)
    assert np.array_equal(t.grad, s * (1 - s)) and np.array_equal(D.sigmoid_prime(x), s * (1 - s))
    # the accuracy gain shows in the float64 derivative far below 0
    assert abs(D.sigmoid(-33.2713) / (1 / (1 + np.exp(np.longdouble(33.2713)))) - 1) < 1e-15


def test_sigmoid_network_compiled_step_equals_the_eager_step_bitwise():
    """The captured step calls the same sigmoid_into as the eager layer."""
    worst = np.float32([-14.5591])  # logaddexp's form was 9.7 ulp off here
    layer = nn.Sigmoid()(nv.tensor(worst)).data
    assert _ulps(layer, 1 / (1 + np.exp(-worst.astype(np.float64))), np.float32).max() <= 4.5
    rng = np.random.default_rng(3)
    X = rng.standard_normal((32, 8)).astype(np.float32) * 6
    y = rng.integers(0, 3, 32)

    def make():
        nv.manual_seed(0)
        m = nn.Sequential(nn.Linear(8, 16), nn.Sigmoid(), nn.Linear(16, 3))
        return m, nv.optim.SGD(m.parameters(), lr=0.5)

    eager, opt = make()
    captured, copt = make()
    step = nv.compile(captured, nn.CrossEntropyLoss(), copt)
    for _ in range(3):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(eager(X), y)
        loss.backward()
        opt.step()
        assert step(X, y) == float(loss.data)
    for a, b in zip(eager.parameters(), captured.parameters()):
        assert np.array_equal(a.data, b.data)


# ---------------------------------------------------------------- MSE as one node
def _composed(p, t, reduction):
    """The graph ``losses.mse`` used to build: Sub, Mul, then Mean or Sum."""
    d = p - t
    sq = d * d
    return sq.mean() if reduction == "mean" else sq.sum() if reduction == "sum" else sq


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(), (7,), (64, 10), (3, 5, 7), (1000, 37)])
def test_mse_is_one_node_with_the_composed_graphs_bits(dtype, reduction, shape):
    rng = np.random.default_rng(sum(shape) + len(reduction))
    P = (rng.standard_normal(shape) * 3).astype(dtype)
    T = (rng.standard_normal(shape) * 3).astype(dtype)
    upstream = rng.standard_normal(shape).astype(dtype) if reduction == "none" else None
    results = []
    for fn in (lambda p: F.mse_loss(p, T, reduction=reduction),
               lambda p: _composed(p, nv.tensor(T, dtype=dtype), reduction)):
        p = nv.tensor(P, requires_grad=True, dtype=dtype)
        loss = fn(p)
        node = loss._ctx
        loss.backward(upstream) if upstream is not None else loss.backward()
        results.append((loss, p, node))
    (fused, pf, node), (composed, pc, _) = results
    assert type(node).__name__ == "MSE" and node.parents == (pf,)  # was Sub, Mul, Mean
    assert fused.dtype == composed.dtype and fused.shape == composed.shape
    assert np.array_equal(fused.data, composed.data)
    assert np.array_equal(pf.grad, pc.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_target_that_requires_grad_gets_minus_the_prediction_gradient(reduction):
    rng = np.random.default_rng(7)
    P = rng.standard_normal((16, 3)).astype(np.float32)
    T = rng.standard_normal((16, 3)).astype(np.float32)
    p, t = nv.tensor(P, requires_grad=True), nv.tensor(T, requires_grad=True)
    loss = F.mse_loss(p, t, reduction=reduction)
    assert type(loss._ctx).__name__ == "MSE" and loss._ctx.parents == (p, t)
    loss.backward(np.ones_like(P)) if reduction == "none" else loss.backward()
    p2, t2 = nv.tensor(P, requires_grad=True), nv.tensor(T, requires_grad=True)
    ref = _composed(p2, t2, reduction)
    ref.backward(np.ones_like(P)) if reduction == "none" else ref.backward()
    assert np.array_equal(loss.data, ref.data)
    assert np.array_equal(p.grad, p2.grad) and np.array_equal(t.grad, t2.grad)
    assert np.array_equal(t.grad, -p.grad)
    # only the target requires grad; and a (N,) target of (N, 1) predictions
    q = nv.tensor(P)
    only = F.mse_loss(q, t2 := nv.tensor(T, requires_grad=True), reduction=reduction)
    only.backward(np.ones_like(P)) if reduction == "none" else only.backward()
    assert np.array_equal(t2.grad, t.grad) and q.grad is None
    col, target = nv.tensor(P[:, :1], requires_grad=True), nv.tensor(T[:, 0], requires_grad=True)
    F.mse_loss(col, target, reduction="sum").backward()
    assert target.grad.shape == (16,) and np.array_equal(target.grad, -col.grad[:, 0])


def test_mse_gradients_pass_gradcheck_in_float64():
    rng = np.random.default_rng(11)
    P, T = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    for reduction in ("mean", "sum", "none"):
        assert nv.gradcheck(lambda p: F.mse_loss(p, T, reduction=reduction), P)
        assert nv.gradcheck(lambda p, t: F.mse_loss(p, t, reduction=reduction), P, T)
        assert nv.gradcheck(lambda p: nn.MSELoss(reduction=reduction)(p.tanh(), T), P)
    # one node, and its value in float64: Σ d² / n
    loss = F.mse_loss(nv.tensor(P, dtype=nv.float64, requires_grad=True), T)
    assert type(loss._ctx).__name__ == "MSE"
    assert loss.item() == pytest.approx(float(np.mean((P - T) ** 2)), rel=1e-15)


def test_mse_keeps_its_input_checks_and_its_fused_node_survives_retain_graph():
    p = nv.tensor(np.ones((4, 2), np.float32), requires_grad=True)
    with pytest.raises(ValueError, match="mse: reduction must be one of"):
        F.mse_loss(p, np.zeros((4, 2)), reduction="avg")
    with pytest.raises(ValueError, match="mse: the target has shape"):
        F.mse_loss(p, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="target contains NaN"):
        F.mse_loss(p, np.full((4, 2), np.nan))
    with pytest.raises(TypeError, match="does not upcast silently"):
        F.mse_loss(p, nv.tensor(np.zeros((4, 2)), dtype=nv.float64, requires_grad=True))
    with pytest.raises(ValueError, match="mean over an empty input"):
        F.mse_loss(nv.tensor(np.ones((0, 2), np.float32)), np.zeros((0, 2)))
    with pytest.raises(TypeError, match="mse does not support"):
        F.mse_loss(p, np.zeros((4, 2)), size_average=True)
    loss = F.mse_loss(p * 2.0, np.arange(8, dtype=np.float32).reshape(4, 2))
    assert type(loss._ctx).__name__ == "MSE"
    loss.backward(retain_graph=True)
    first = p.grad.copy()
    loss.backward()
    assert np.array_equal(p.grad, first + first)
