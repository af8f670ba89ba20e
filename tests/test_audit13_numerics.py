"""Audit 13 (numerics): behaviour at the extremes.

1. the optimizers' subnormal flush keeps the buffers that divide the step (Adam's
   ``exp_avg_sq``, RMSProp's ``square_avg``, Adagrad's ``sum``) unless eps makes it harmless;
2. ``clip_grad_norm_`` clips finite gradients whose |g|ᵖ overflows or underflows;
3. centred RMSProp clamps s − a² at 0 (no √ of a negative rounding residue);
4. the multiclass hinge loss of a fully masked (all −inf) row is 0, as PyTorch;
5. ``nn.derivatives.maxout_prime`` sends the derivative to a NaN piece, as the layer;
6. var/std with n − correction <= 0 and an empty mean raise, and say so.
"""
from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import pytest

import nerve as nv
import nerve.nn.functional as F
from nerve import nn, optim
from nerve.nn import derivatives as D
from nerve.optim.clip import NonFiniteNormError

TINY32 = np.finfo(np.float32).tiny


@contextlib.contextmanager
def _no_warnings():
    """Any warning (a raw NumPy RuntimeWarning above all) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ----------------------------------------------------------------------------
# 1. the subnormal flush and the buffers that divide the step
# ----------------------------------------------------------------------------
def _run(make, g, steps, dtype=np.float32, size=1):
    p = nv.tensor(np.zeros(size, dtype), requires_grad=True)
    opt = make([p])
    grad = np.full(size, g, dtype)
    for _ in range(steps):
        p.grad = grad.copy()
        opt.step()
    return p, opt


@pytest.mark.parametrize("eps", [0.0, 1e-30])
def test_adam_with_a_tiny_gradient_steps_exactly_lr_across_the_flush(eps):
    # a constant gradient g: m̂ = g, v̂ = g², so with eps ≈ 0 each step is exactly −lr,
    # whatever g's scale; g = 1e-20 makes g² subnormal in float32
    lr, steps = 1e-3, 130  # two flushes (steps 64 and 128)
    p, opt = _run(lambda ps: optim.Adam(ps, lr=lr, eps=eps), 1e-20, steps)
    assert opt._steps_taken >= 2 * opt.FLUSH_EVERY
    # subnormal arithmetic keeps only a few digits (PyTorch is 0.23% off too); before
    # the fix the flush reset v and the parameter ended 67% too far
    assert float(p.data[0]) == pytest.approx(-lr * steps, rel=1e-2)


def test_adam_with_a_tiny_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    lr, g = 1e-3, 1e-20
    p = nv.tensor(np.zeros(1, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=lr, eps=0.0)
    tp = torch.zeros(1, requires_grad=True)
    topt = torch.optim.Adam([tp], lr=lr, eps=0.0)
    for _ in range(130):
        p.grad = np.full(1, g, np.float32)
        opt.step()
        tp.grad = torch.tensor([g])
        topt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-5)


# (optimizer, its denominator buffers, the default eps that allows flushing them)
_DENOMINATORS = [
    (lambda ps, **kw: optim.Adam(ps, lr=1e-3, **kw), ("exp_avg_sq",)),
    (lambda ps, **kw: optim.Adam(ps, lr=1e-3, amsgrad=True, **kw),
     ("exp_avg_sq", "max_exp_avg_sq")),
    (lambda ps, **kw: optim.AdamW(ps, lr=1e-3, **kw), ("exp_avg_sq",)),
    (lambda ps, **kw: optim.RMSprop(ps, lr=1e-3, **kw), ("square_avg",)),
    (lambda ps, **kw: optim.RMSprop(ps, lr=1e-3, centered=True, momentum=0.5, **kw),
     ("square_avg",)),
    (lambda ps, **kw: optim.Adagrad(ps, lr=1e-3, **kw), ("sum",)),
]


@pytest.mark.parametrize("make, keys", _DENOMINATORS)
def test_denominators_are_kept_with_eps_0_and_flushed_with_the_default_eps(make, keys):
    g = 1e-20  # g² (and every running average of it) is subnormal in float32
    for eps, flushed in ((0.0, False), (1e-30, False), (None, True)):
        kw = {} if eps is None else {"eps": eps}
        p, opt = _run(lambda ps: make(ps, **kw), g, 64)
        assert opt._flat is not None  # the flat path
        assert opt._steps_taken % opt.FLUSH_EVERY == 0  # a flush just ran
        for key in keys:
            buf = opt.state[0][key]
            if flushed:  # default eps: harmless, so the subnormals go (the speed point)
                np.testing.assert_array_equal(buf, 0)
            else:
                assert np.all((buf > 0) & (buf < TINY32)), (key, eps, buf)
        assert np.all(np.isfinite(p.data))


def test_per_parameter_path_decides_per_group_and_still_flushes_momentum():
    a = nv.tensor(np.zeros(3, np.float32), requires_grad=True)
    b = nv.tensor(np.zeros(3, np.float32), requires_grad=True)
    opt = optim.Adam([{"params": [a], "eps": 0.0}, {"params": [b]}], lr=1e-3)
    assert opt._flat is None  # two groups: per-parameter updates
    for _ in range(opt.FLUSH_EVERY):
        a.grad = np.full(3, 1e-20, np.float32)
        b.grad = np.full(3, 1e-20, np.float32)
        opt.step()
    assert np.all(opt.state[0]["exp_avg_sq"] > 0)  # eps = 0: kept
    np.testing.assert_array_equal(opt.state[1]["exp_avg_sq"], 0)  # eps = 1e-8: flushed
    np.testing.assert_allclose(a.data, -1e-3 * opt.FLUSH_EVERY, rtol=1e-2)
    # momentum buffers are flushed as before
    p = nv.tensor(np.zeros(2, np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.ones(2, np.float32)
    opt.step()
    opt.state[0]["momentum_buffer"][:] = np.float32(1e-45)
    for _ in range(opt.FLUSH_EVERY - 1):
        p.grad = np.zeros(2, np.float32)
        opt.step()
    np.testing.assert_array_equal(opt.state[0]["momentum_buffer"], 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flush_rule_for_denominators(dtype):
    p = nv.tensor(np.zeros(1, dtype), requires_grad=True)
    rule = optim.Adam([p])._may_flush_denominators
    assert rule({"eps": 1e-8, "betas": (0.9, 0.999)}, np.dtype(dtype))
    assert not rule({"eps": 0.0, "betas": (0.9, 0.999)}, np.dtype(dtype))
    assert not rule({"eps": 1e-300, "betas": (0.9, 0.999)}, np.dtype(dtype))
    # √tiny < c·eps·finfo.eps, c = √(1 − β₂) the smallest bias correction of √v
    fi = np.finfo(dtype)
    for eps in (1e-8, 1e-12, 1e-20):
        for beta2 in (0.0, 0.999, 1 - 1e-12):
            want = math.sqrt(fi.tiny) < math.sqrt(1 - beta2) * eps * fi.eps
            assert rule({"eps": eps, "betas": (0.9, beta2)}, np.dtype(dtype)) == want
    assert optim.RMSprop([p]).denominator_state == ("square_avg",)
    assert optim.Adagrad([p]).denominator_state == ("sum",)
    assert optim.SGD([p], lr=0.1).denominator_state == ()


# ----------------------------------------------------------------------------
# 2. clip_grad_norm_ without overflow or underflow
# ----------------------------------------------------------------------------
def _param(values, dtype=np.float64):
    p = nv.tensor(np.zeros(len(values), dtype), requires_grad=True)
    p.grad = np.array(values, dtype=dtype)
    return p


def _norm(g, p):
    """The p-norm of g, scaled by max|g| so that nothing overflows (float64)."""
    g = np.abs(np.asarray(g, np.float64))
    s = g.max()
    return s * np.sum((g / s) ** p) ** (1 / p) if s > 0 else 0.0


@pytest.mark.parametrize("values, p, dtype", [
    ([1e4] * 4, 100, np.float64),      # |g|ᵖ = 1e400 overflows
    ([1e200] * 2, 2, np.float64),      # g² overflows
    ([3e30, -2e30, 1e30], 12, np.float32),
    ([1e-4] * 4, 100, np.float64),     # |g|ᵖ = 1e-400 underflows to 0
    ([1e-200, -3e-200], 2, np.float64),
])
def test_clip_grad_norm_clips_finite_gradients_whose_powers_overflow(values, p, dtype):
    exact = _norm(values, p)
    for max_norm in (1.0, 0.5 * exact):  # clipped where exact > 1; clipped
        w = _param(values, dtype)
        with _no_warnings():
            total = nn.utils.clip_grad_norm_([w], max_norm=max_norm, norm_type=p,
                                             error_if_nonfinite=True)
        rtol = 1e-6 if dtype == np.float32 else 1e-12
        assert float(total) == pytest.approx(exact, rel=rtol, abs=0)
        assert total.dtype == dtype
        coef = max_norm / (exact + 1e-6)  # PyTorch's factor, applied where below 1
        want = exact * coef if coef < 1 else exact
        assert _norm(w.grad, p) == pytest.approx(want, rel=rtol, abs=0)


def test_clip_grad_norm_float32_gradients_near_the_top_of_the_range():
    # the norm 6e38 is beyond float32 (returned as inf), but the clipping factor
    # max_norm/6e38 = 1.7e-44, a float32 subnormal, must not cost digits
    w = _param([3e38] * 4, np.float32)
    with _no_warnings():
        total = nn.utils.clip_grad_norm_([w], max_norm=1e-5)
    assert np.isinf(float(total))
    np.testing.assert_allclose(w.grad, 5e-6, rtol=1e-6)


def test_clip_grad_norm_beyond_float64_from_finite_gradients():
    w = _param([1.5e308, -1.5e308])
    with _no_warnings():
        total = nn.utils.clip_grad_norm_([w], max_norm=2.0)
    assert float(total) == math.inf
    np.testing.assert_allclose(w.grad, [2 ** 0.5, -(2 ** 0.5)], rtol=1e-12)
    w = _param([1.5e308, -1.5e308])
    with pytest.raises(NonFiniteNormError, match="every gradient is finite") as info:
        nn.utils.clip_grad_norm_([w], max_norm=2.0, error_if_nonfinite=True)
    assert "contain nan or inf" not in str(info.value)
    np.testing.assert_array_equal(w.grad, [1.5e308, -1.5e308])  # raised before clipping


@pytest.mark.parametrize("bad, want", [(np.inf, math.inf), (np.nan, math.nan)])
def test_clip_grad_norm_nonfinite_gradients_keep_their_behaviour(bad, want):
    for p in (2, 100):
        w = _param([bad, 1e200])
        with _no_warnings():
            total = nn.utils.clip_grad_norm_([w], max_norm=1.0, norm_type=p)
        assert float(total) == want or (math.isnan(want) and math.isnan(float(total)))
        np.testing.assert_array_equal(w.grad, [bad, 1e200])  # left as they are
        with pytest.raises(NonFiniteNormError, match="contain nan or inf"):
            nn.utils.clip_grad_norm_([w], max_norm=1.0, norm_type=p,
                                     error_if_nonfinite=True)


# ----------------------------------------------------------------------------
# 3. centred RMSProp
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_centered_rmsprop_with_constant_gradients_stays_finite(dtype):
    g = np.linspace(0.01, 5.0, 200).astype(dtype)  # 200 constant gradients at once
    p = nv.tensor(np.zeros(200, dtype), requires_grad=True)
    opt = optim.RMSprop([p], lr=1e-3, centered=True)
    with _no_warnings():
        for _ in range(3000):
            p.grad = g.copy()
            opt.step()
    assert np.all(np.isfinite(p.data))


def test_centered_rmsprop_clamps_a_negative_variance_residue():
    g = np.array([3.14159], np.float32)
    s = g * g
    for _ in range(4):  # a rounding residue: s four ulps below a² (a = g)
        s = np.nextafter(s, np.float32(0))
    state = {"step": 10, "square_avg": s.copy(), "grad_avg": g.copy()}
    half = np.float32(0.5)
    assert (half * s + half * g * g) - g * g < 0  # s − a² after the update, unclamped
    param = np.zeros(1, np.float32)
    with _no_warnings():
        optim.rmsprop_update(param, g, state, lr=1e-3, alpha=0.5, eps=1e-8, centered=True)
    # the centred variance clamps to 0, so d = eps
    assert param[0] == pytest.approx(-1e-3 * 3.14159 / 1e-8, rel=1e-6)


# ----------------------------------------------------------------------------
# 4. the multiclass hinge loss of a masked row
# ----------------------------------------------------------------------------
def test_hinge_of_a_fully_masked_row_is_zero():
    finite = [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]
    s = nv.tensor([[-np.inf] * 3] + finite, dtype=nv.float64, requires_grad=True)
    with _no_warnings():
        loss = F.hinge(s, [0, 0, 2])
        loss.backward()
    ref = nv.tensor(finite, dtype=nv.float64, requires_grad=True)
    ref_loss = F.hinge(ref, [0, 2], reduction="sum")
    ref_loss.backward()
    assert float(loss) == pytest.approx(float(ref_loss) / 3)
    np.testing.assert_array_equal(s.grad[0], 0)
    np.testing.assert_allclose(s.grad[1:], ref.grad / 3)
    for red in ("sum", "none"):
        with _no_warnings():
            out = F.hinge(nv.tensor([[-np.inf] * 3, [np.inf] * 3]), [1, 2], reduction=red)
        np.testing.assert_array_equal(out.data, 0)


def test_hinge_with_infinite_scores_otherwise_unchanged():
    # a correct score of −inf against finite ones: an infinite loss (as PyTorch)
    with _no_warnings():
        loss = F.hinge(nv.tensor([[-np.inf, 0.0, -np.inf]]), [0], reduction="none")
    assert loss.data.tolist() == [math.inf]
    # a NaN score still gives NaN (a diverged model is not hidden)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = F.hinge(nv.tensor([[-np.inf, np.nan, -np.inf]]), [0], reduction="none")
    assert math.isnan(float(loss.data[0]))


def test_hinge_masked_rows_match_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[-np.inf, -np.inf, -np.inf], [1.0, 2.0, 3.0], [-np.inf, 0.5, -np.inf]])
    y = [0, 0, 1]
    s = nv.tensor(x, dtype=nv.float64, requires_grad=True)
    loss = F.hinge(s, y)
    loss.backward()
    ts = torch.tensor(x, requires_grad=True)
    tl = torch.nn.functional.multi_margin_loss(ts, torch.tensor(y)) * 3  # torch divides by C
    tl.backward()
    assert float(loss) == pytest.approx(tl.item())
    np.testing.assert_allclose(s.grad, ts.grad.numpy())  # tl carries the factor C


# ----------------------------------------------------------------------------
# 5. maxout_prime on NaN
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("z, axis", [
    ([[np.nan, 0.0]], 1),
    ([[np.nan, np.nan, 1.0], [1.0, 1.0, 0.0], [np.nan, 2.0, np.inf]], 1),
    ([[np.nan, 1.0], [2.0, 3.0]], 0),
])
def test_maxout_prime_sends_the_derivative_to_nan_pieces_as_the_layer(z, axis):
    z = np.array(z)
    with _no_warnings():
        got = D.maxout_prime(z, axis=axis)
    t = nv.tensor(z, dtype=nv.float64, requires_grad=True)
    t.max(axis=axis).sum().backward()
    np.testing.assert_array_equal(got, t.grad)
    np.testing.assert_allclose(got.sum(axis=axis), 1.0)


# ----------------------------------------------------------------------------
# 6. var/std/mean where PyTorch returns NaN: nerve raises, and says so
# ----------------------------------------------------------------------------
def test_var_std_mean_raise_and_document_the_difference_from_pytorch():
    x = nv.tensor([[1.0, 2.0, 3.0]])
    for call in (lambda: x.var(0), lambda: x.std(dim=0)):
        with pytest.raises(ValueError, match="PyTorch returns nan") as info:
            call()
        assert "correction=0" in str(info.value)
    np.testing.assert_array_equal(x.var(0, correction=0).data, 0)  # the hint works
    with pytest.raises(ValueError, match="PyTorch returns nan"):
        x[:0].mean()
    for method in (nv.Tensor.var, nv.Tensor.std, nv.Tensor.mean):
        doc = " ".join(method.__doc__.split())
        assert "PyTorch returns nan" in doc and "raises ValueError" in doc, method.__name__
