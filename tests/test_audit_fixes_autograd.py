"""Autograd edge cases against PyTorch's behaviour (the eighth session's engine audit), in
float64 against the formulas (no torch needed): each test fails on the code as it was."""
import numpy as np
import pytest

import nerve as nv


def f64(values, grad=True):
    return nv.tensor(np.asarray(values, dtype=np.float64), dtype=nv.float64, requires_grad=grad)


# ------------------------------------------------------------------ views and in-place
@pytest.mark.parametrize("make_view", [lambda x: x[0:2], lambda x: x.reshape(2, 2),
                                       lambda x: x.T, lambda x: x.detach()])
def test_an_in_place_change_through_a_view_is_caught_at_backward(make_view):
    x = f64([1.0, 2.0, 3.0, 4.0])
    z = (x * x).sum()  # Mul saved x's values
    view = make_view(x)
    with nv.no_grad():
        view.zero_()
    with pytest.raises(RuntimeError, match="changed in place after the op recorded it"):
        z.backward()


def test_in_place_writes_through_views_reach_the_tensor_as_in_pytorch():
    x = f64([1.0, 2.0, 3.0])
    x.detach().zero_()
    assert x.data.tolist() == [0.0, 0.0, 0.0]
    w = nv.tensor(np.ones((2, 3)), dtype=nv.float64, requires_grad=True)
    with nv.no_grad():
        w[0].zero_()  # PyTorch's init idiom
        w[:, 1].fill_(5.0)
        w.T[2, 1] = 7.0
    assert w.data.tolist() == [[0.0, 5.0, 0.0], [1.0, 5.0, 7.0]]


def test_a_constant_made_from_a_users_array_still_copies_before_writing():
    a = np.ones(4, dtype=np.float32)
    t = nv.tensor(a)
    t[0:2].zero_()
    t.reshape(2, 2)[1, 1] = 9.0
    assert a.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_requires_grad_false_on_a_non_leaf_is_refused():
    x = f64([1.0, 2.0])
    h = x * 2
    with pytest.raises(RuntimeError, match="not a leaf"):
        h.requires_grad_(False)
    assert x.detach().requires_grad_(False).requires_grad is False


# ------------------------------------------------------------------ gradients at special points
def test_std_of_constant_data_has_a_zero_gradient():
    x = f64([[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]])
    x.std(axis=1).sum().backward()
    assert x.grad[0].tolist() == [0.0, 0.0, 0.0]
    row = np.array([1.0, 2.0, 4.0])
    want = (row - row.mean()) / (2 * row.std(ddof=1))  # (x − x̄)/((n − 1)·std)
    np.testing.assert_allclose(x.grad[1], want, rtol=1e-12)
    assert nv.gradcheck(lambda t: t.std(axis=0), f64([[1.0, 2.0], [4.0, 3.0], [0.5, 7.0]]))


@pytest.mark.parametrize("a, b, da, db", [
    (0.0, 0.0, 0.0, 0.0),            # b = 0: no gradient to a; a = 0, b >= 0: none to b
    (-2.0, 2.0, -4.0, float("nan")),  # ln of a negative base is undefined
    (0.0, -1.0, float("-inf"), float("-inf")),
    (2.0, 3.0, 12.0, 8.0 * np.log(2.0)),
])
def test_pow_with_a_tensor_exponent_at_special_points(a, b, da, db):
    ta, tb = f64([a]), f64([b])
    with np.errstate(all="ignore"):
        (ta ** tb).sum().backward()
    np.testing.assert_allclose([ta.grad[0], tb.grad[0]], [da, db])


def test_repeated_positions_in_a_tuple_index_add_up():
    x = f64(np.zeros((2, 3)))
    x[:, (0, 0)].sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0, 0.0], [2.0, 0.0, 0.0]]
    y = f64(np.zeros((2, 3)))
    y[((1, 1),)].sum().backward()
    assert y.grad.tolist() == [[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]]


def test_elu_gradient_far_below_zero_is_alpha_exp_x():
    x = nv.tensor(np.array([-20.0, -10.0]), requires_grad=True)  # float32
    x.elu(alpha=1.0).sum().backward()
    np.testing.assert_allclose(x.grad, np.exp([-20.0, -10.0]), rtol=1e-6)


# ------------------------------------------------------------------ arguments
def test_permute_refuses_out_of_range_axes():
    x = nv.tensor(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0, 1, 5)
    assert x.permute(0, -1, 1).shape == (2, 4, 3)


def test_concatenate_keeps_a_float64_array_float64():
    x = f64([1.0, 2.0])
    assert nv.concatenate([x, np.zeros(2)]).dtype == np.float64
    assert nv.stack([x, np.zeros(2)]).shape == (2, 2)


def test_a_one_element_integer_tensor_is_an_index():
    n = nv.tensor(2)
    x = nv.tensor([1.0, 2.0, 3.0])
    assert x[:n].tolist() == [1.0, 2.0] and list(range(n)) == [0, 1]
    with pytest.raises(TypeError, match="only integer tensors"):
        x[:nv.tensor(1.5)]


def test_reductions_of_scalars_and_of_empty_batches():
    s = f64(3.0)
    assert float(s.sum(0).data) == 3.0 and float(s.sum(-1).data) == 3.0
    assert int(s.argmax(0)) == 0 and int(s.argmin(-1)) == 0
    with pytest.raises(ValueError, match="0 or -1 only"):
        s.sum(1)
    assert nv.tensor(np.zeros((0, 3))).max(axis=1).shape == (0,)
    with pytest.raises(ValueError, match="over an empty axis"):
        nv.tensor(np.zeros((0, 3))).max(axis=0)


def test_a_kept_detach_does_not_keep_the_graph_alive():
    import gc
    import weakref

    x = f64(np.ones((5, 4)))
    loss = (x * 2.0).sum()
    loss.backward()
    kept = loss.detach()  # the logging idiom: losses.append(loss.detach())
    gone = weakref.ref(loss)
    del loss
    gc.collect()
    assert gone() is None and float(kept.data) == 40.0


def test_clip_with_tensor_bounds_passes_their_gradient():
    x = f64([-2.0, 0.5, 3.0])
    lo, hi = f64([-1.0, -1.0, -1.0]), f64([1.0, 1.0, 1.0])
    y = x.clamp(lo, hi)
    assert y.data.tolist() == [-1.0, 0.5, 1.0]
    (y * f64([1.0, 2.0, 3.0], grad=False)).sum().backward()
    assert lo.grad.tolist() == [1.0, 0.0, 0.0] and hi.grad.tolist() == [0.0, 0.0, 3.0]
    assert x.grad.tolist() == [0.0, 2.0, 0.0]
    assert f64([5.0], grad=False).clip(max=f64([1.0])).requires_grad  # a constant x, a learned bound
    assert nv.gradcheck(lambda a, b: a.clip(b, None), f64([0.3, -0.7]), f64([0.0, 0.1]))


def test_max_of_a_slice_with_nan_sends_the_gradient_to_the_nan():
    x = f64([np.nan, 0.0, 1.0])
    x.max().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0]
    y = f64([[np.nan, 2.0], [3.0, 1.0]])
    y.min(axis=1).sum().backward()
    assert y.grad.tolist() == [[1.0, 0.0], [0.0, 1.0]]


# ------------------------------------------------------------------ views, second round
def test_views_pickle_and_deep_copy():
    import copy
    import pickle

    x = f64([1.0, 2.0, 3.0])
    for view in (x.detach(), x[1:3], x.reshape(3, 1), x.T):
        assert pickle.loads(pickle.dumps(view)).tolist() == view.tolist()
        assert copy.deepcopy(view).tolist() == view.tolist()


def test_requires_grad_on_a_users_array_copies_it_first():
    a = np.arange(4.0, dtype=np.float32)
    x = nv.tensor(a)
    x.requires_grad_()
    d = x.detach()
    d += 0.5
    with nv.no_grad():
        x[0:2].fill_(9.0)
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0]  # never the caller's array
    assert x.data.tolist() == [9.0, 9.0, 2.5, 3.5]  # but x itself, as PyTorch


def test_views_of_views_write_through():
    w = nv.tensor(np.zeros((2, 3)), dtype=nv.float64, requires_grad=True)
    with nv.no_grad():
        w.detach()[1].fill_(7.0)
        w.T[0].fill_(3.0)
        w[0][1:].zero_()
    assert w.data.tolist() == [[3.0, 0.0, 0.0], [3.0, 7.0, 7.0]]
    a = np.arange(4.0, dtype=np.float32)
    nv.from_numpy(a)[1:][0].fill_(100.0)  # the from_numpy tensor itself is gone by then
    assert a.tolist() == [0.0, 100.0, 2.0, 3.0]


def test_a_change_of_the_base_is_caught_through_its_views():
    w = f64([1.0, 2.0, 3.0])
    x = f64([1.0, 1.0, 1.0])
    loss = (x * w.detach()).sum()  # Mul saved w's values through the detached view
    with nv.no_grad():
        w -= 1.0
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_clip_with_tensor_bounds_where_lo_exceeds_hi_gives_hi():
    x = f64([0.0, 0.5, 1.0, 2.0])
    lo, hi = f64([1.5]), f64([1.0])
    y = x.clip(lo, hi)
    assert y.data.tolist() == np.clip(x.data, 1.5, 1.0).tolist() == [1.0] * 4
    y.sum().backward()
    assert hi.grad.tolist() == [4.0] and lo.grad.tolist() == [0.0]


def test_unfreezing_a_parameter_keeps_its_array():
    from nerve import nn

    layer = nn.Linear(2, 2)
    opt = nv.optim.SGD(layer.parameters(), lr=0.1)
    data = layer.weight.data
    layer.weight.requires_grad_(False)
    layer.weight.requires_grad_(True)
    assert layer.weight.data is data and opt._flat.intact()  # no copy, no regathering


def test_a_tensor_made_from_a_list_or_converted_owns_its_data():
    x = nv.tensor([1.0, 2.0, 3.0])
    x[0:2].zero_()
    assert x.tolist() == [0.0, 0.0, 3.0]
    a = np.arange(3.0)  # float64: converted to float32, so a copy nerve made
    y = nv.tensor(a)
    y[0].fill_(9.0)
    assert y.tolist() == [9.0, 1.0, 2.0] and a.tolist() == [0.0, 1.0, 2.0]
