"""Audit 11, fuzzops: clamp's and max/min's gradient is exactly 0 at the entries they cut
off, even for an inf or NaN upstream gradient; clamp with a NaN tensor bound gives NaN
whether or not the bound requires grad; cat/stack of mismatched tensors raise a clear
ValueError. Gradients against float64 finite differences (nv.gradcheck); extra parity
tests against torch where it is installed."""
import numpy as np
import pytest

import nerve as nv

INF, NAN = float("inf"), float("nan")


def f64(a, grad=False):
    return nv.tensor(np.asarray(a, dtype=np.float64), dtype=nv.float64, requires_grad=grad)


def upstream(y, values):
    """Backpropagate the given upstream gradient (which may hold inf and NaN)."""
    y.backward(gradient=f64(np.broadcast_to(np.asarray(values, dtype=np.float64), y.shape)))


# -- finding 1: a cut-off entry gets exactly 0, whatever the upstream gradient -------------

@pytest.mark.parametrize("bounds", [dict(min=0.0), dict(max=1.0), dict(min=0.0, max=1.0)])
def test_clamp_cut_off_entries_get_zero_for_inf_and_nan_upstream(bounds):
    x_np = np.array([-2.0, 0.5, 3.0, -1.0, 2.0])
    x = f64(x_np, grad=True)
    y = x.clamp(**bounds)
    with np.errstate(all="ignore"):
        upstream(y, [INF, NAN, NAN, INF, 7.0])
    lo, hi = bounds.get("min", -np.inf), bounds.get("max", np.inf)
    inside = (x_np >= lo) & (x_np <= hi)
    assert np.all(x.grad[~inside] == 0.0)
    np.testing.assert_array_equal(x.grad[inside],
                                  np.array([INF, NAN, NAN, INF, 7.0])[inside])


def test_clamp_min_zero_then_sqrt_gives_zero_gradient_at_a_rounding_negative():
    # pairwise distances: sqrt(clamp(d², min=0)) with d² slightly negative from rounding
    d2 = np.array([-1e-12, 4.0])
    x = f64(d2, grad=True)
    with np.errstate(all="ignore"):
        x.clamp(min=0.0).sqrt().sum().backward()
    assert x.grad[0] == 0.0
    assert x.grad[1] == pytest.approx(0.5 / np.sqrt(d2[1]))
    # the functional form, nv.clamp, and the clip alias take the same path
    for f in (lambda t: nv.clamp(t, min=0.0), lambda t: t.clip(0.0, None)):
        x = f64(d2, grad=True)
        with np.errstate(all="ignore"):
            f(x).sqrt().sum().backward()
        assert np.isfinite(x.grad).all() and x.grad[0] == 0.0


def test_clamp_with_an_array_bound_that_broadcasts_x_sums_and_zeroes_correctly():
    x = f64([[-1.0, 2.0, 0.5]], grad=True)                   # (1, 3) broadcast to (2, 3)
    lo = np.array([[0.0], [1.0]])
    y = x.clamp(min=nv.tensor(lo, dtype=nv.float64))         # a constant tensor bound
    g = np.array([[INF, 1.0, 2.0], [NAN, 3.0, INF]])
    with np.errstate(all="ignore"):
        upstream(y, g)
    inside = x.data >= lo
    expected = np.where(inside, g, 0.0).sum(axis=0, keepdims=True)
    np.testing.assert_array_equal(x.grad, expected)


@pytest.mark.parametrize("reduce", [
    lambda t: t.max(dim=1)[0], lambda t: t.min(dim=1)[0], lambda t: t.max(dim=1, keepdim=True)[0],
    lambda t: t.amax(dim=1), lambda t: t.amin(dim=(0, 1)), lambda t: t.max(), lambda t: t.min()])
def test_max_min_give_zero_to_the_other_entries_for_inf_and_nan_upstream(reduce):
    x_np = np.array([[1.0, 5.0, 3.0], [4.0, -2.0, 0.0]])
    x = f64(x_np, grad=True)
    y = reduce(x)
    with np.errstate(all="ignore"):
        upstream(y, NAN)
    picked = np.isnan(x.grad)
    assert picked.sum() == (2 if y.data.size == 2 else 1)    # only the selected entries
    assert np.all(x.grad[~picked] == 0.0)
    x = f64(x_np, grad=True)
    with np.errstate(all="ignore"):
        upstream(reduce(x), INF)
    assert np.all(x.grad[~picked] == 0.0) and np.all(x.grad[picked] == INF)


def test_max_dim_then_sqrt_gives_zero_at_the_unselected_entry():
    x = f64([-1e-12, 4.0], grad=True)
    with np.errstate(all="ignore"):
        (x.max(dim=0)[0] - 4.0).sqrt().sum().backward()
    assert x.grad[0] == 0.0 and x.grad[1] == INF


def test_max_ties_split_the_gradient_and_the_other_entries_get_zero():
    x = f64([[2.0, 2.0, 1.0]], grad=True)
    upstream(x.max(dim=1)[0], INF)
    np.testing.assert_array_equal(x.grad, [[INF, INF, 0.0]])   # inf / 2 at the two maxima
    x = f64([[2.0, 2.0, 1.0]], grad=True)
    upstream(x.max(dim=1)[0], 1.0)
    np.testing.assert_array_equal(x.grad, [[0.5, 0.5, 0.0]])


def test_cut_off_gradients_are_zero_and_the_rest_match_finite_differences():
    rng = np.random.default_rng(11)
    a = rng.normal(size=(3, 4))
    x = f64(a, grad=True)
    with np.errstate(all="ignore"):
        upstream(x.clamp(min=-0.4, max=0.6) + x.amax(dim=0), INF)
    cut = (a < -0.4) | (a > 0.6)
    assert np.all(x.grad[cut & (a != a.max(axis=0))] == 0.0)
    lo, hi = rng.normal(size=(3, 1)) - 0.3, rng.normal(size=(1, 4)) + 0.3
    assert nv.gradcheck(lambda t: t.clamp(min=-0.4, max=0.6), a)
    assert nv.gradcheck(lambda t: t.clamp(min=nv.tensor(lo, dtype=nv.float64)), a)
    assert nv.gradcheck(lambda t, l, h: t.clamp(min=l, max=h), a, lo, hi)
    assert nv.gradcheck(lambda t: t.max(dim=1)[0] * t.amin(dim=0).sum(), a)
    assert nv.gradcheck(lambda t: t.max() - t.min(), a)


def test_float32_gradients_keep_their_dtype():
    x = nv.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    with np.errstate(all="ignore"):
        upstream(x.clamp(min=0.0).sum() + x.max(dim=0)[0], INF)
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, np.float32([0.0, INF, INF]))


# -- finding 3: a NaN in a tensor bound ---------------------------------------------------

@pytest.mark.parametrize("which", ["min", "max", "both"])
def test_clamp_nan_tensor_bound_does_not_depend_on_requires_grad(which):
    x = np.array([1.0, 2.0, -3.0, 4.0])
    lo = np.array([NAN, 0.0, 0.0, NAN])
    hi = np.array([5.0, NAN, 1.0, NAN])
    kw_np = dict(min=lo if which != "max" else None, max=hi if which != "min" else None)
    const = f64(x, grad=True).clamp(**{k: None if v is None else f64(v)
                                       for k, v in kw_np.items()}).data
    graph = f64(x, grad=True).clamp(**{k: None if v is None else f64(v, grad=True)
                                       for k, v in kw_np.items()}).data
    with np.errstate(invalid="ignore"):
        expected = np.clip(x, kw_np["min"], kw_np["max"])
    np.testing.assert_array_equal(graph, expected)
    np.testing.assert_array_equal(graph, const)


def test_clamp_nan_tensor_bound_gradient_is_zero_at_the_nan_entries():
    x, lo_t = f64([1.0, 2.0, -3.0], grad=True), f64([NAN, 0.0, 0.0], grad=True)
    hi_t = f64([5.0, NAN, 1.0], grad=True)
    y = x.clamp(min=lo_t, max=hi_t)
    y.sum().backward()
    nan = np.isnan(y.data)
    np.testing.assert_array_equal(nan, [True, True, False])
    for t in (x, lo_t, hi_t):   # no gradient through a NaN bound's entries (as PyTorch)
        assert np.all(t.grad[nan] == 0.0)
    assert x.grad[2] == 0.0 and lo_t.grad[2] == 1.0 and hi_t.grad[2] == 0.0


def test_clamp_nan_tensor_bound_parity_with_torch():
    torch = pytest.importorskip("torch")
    x, lo, hi = [1.0, 2.0, -3.0, 0.5], [NAN, 0.0, 0.0, 1.0], [5.0, NAN, 1.0, 0.0]
    a, b, c = f64(x, True), f64(lo, True), f64(hi, True)
    ta, tb, tc = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, lo, hi))
    y, ty = a.clamp(min=b, max=c), ta.clamp(min=tb, max=tc)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    for n, t in ((a, ta), (b, tb), (c, tc)):
        np.testing.assert_array_equal(n.grad, t.grad.numpy())


def test_clamp_and_max_parity_with_torch_for_inf_upstream():
    torch = pytest.importorskip("torch")
    d2 = [-1e-12, 4.0, -3.0]
    for f in (lambda t: t.clamp(min=0.0).sqrt(), lambda t: t.clamp(-1.0, 0.0).neg().sqrt(),
              lambda t: (t.max(dim=0)[0] - 4.0).sqrt(), lambda t: (t.min() + 3.0).sqrt()):
        a = f64(d2, True)
        b = torch.tensor(d2, dtype=torch.float64, requires_grad=True)
        with np.errstate(all="ignore"):
            f(a).sum().backward()
        f(b).sum().backward()
        np.testing.assert_array_equal(a.grad, b.grad.numpy())


# -- finding 4: cat/stack of mismatched tensors --------------------------------------------

@pytest.mark.parametrize("call, index, shapes", [
    (lambda: nv.cat([nv.ones(2, 3), nv.ones(3)], dim=1), 1, ((3,), (2, 3))),
    (lambda: nv.cat([nv.ones(2, 3), nv.ones(3)], dim=0), 1, ((3,), (2, 3))),
    (lambda: nv.cat([nv.ones(2, 3), nv.ones(2, 3), nv.ones(2, 3, 1)], dim=-1), 2,
     ((2, 3, 1), (2, 3))),
    (lambda: nv.concatenate([nv.ones(2, 3), nv.ones(3, 3)], axis=1), 1, ((3, 3), (2, 3))),
    (lambda: nv.cat([nv.ones(2, 3), nv.tensor(1.0)]), 1, ((), (2, 3))),
    (lambda: nv.stack([nv.ones(2, 3), nv.ones(3)]), 1, ((3,), (2, 3))),
    (lambda: nv.stack([nv.ones(2, 3), nv.ones(2, 3), nv.ones(3, 2)], dim=1), 2,
     ((3, 2), (2, 3))),
])
def test_cat_and_stack_of_mismatched_tensors_name_the_tensor_and_both_shapes(call, index, shapes):
    with pytest.raises(ValueError) as info:
        call()
    msg = str(info.value)
    assert f"tensor {index} has shape {shapes[0]}" in msg
    assert f"tensor 0 has shape {shapes[1]}" in msg


def test_cat_and_stack_of_matching_tensors_still_work_with_gradients():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 1))
    with pytest.raises(ValueError, match=r"tensor 1 has shape \(2, 1\) and tensor 0"):
        nv.cat([f64(a), f64(b)], dim=0)     # not along dim 0: the sizes of dim 1 differ
    y = nv.cat([f64(a), f64(b)], dim=-1)
    np.testing.assert_array_equal(y.data, np.concatenate([a, b], axis=-1))
    assert nv.gradcheck(lambda s, t: nv.cat([s, t * 2.0], dim=1), a, b)
    assert nv.gradcheck(lambda s, t: nv.stack([s, t * 3.0], dim=1), a, a[::-1].copy())
