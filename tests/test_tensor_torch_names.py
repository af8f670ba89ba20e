"""The names and protocols a PyTorch user types on a tensor: float(t), f"{t:.3f}",
np.asarray(t), argmax, dim=/keepdim=, max(dim=) -> (values, indices), clone, view,
unsqueeze/squeeze, nv.cat, zeros_like."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn

A = np.array([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0], [7.0, 7.0, -1.0]])


def t64(a=A, grad=True):
    return nv.tensor(a, dtype=nv.float64, requires_grad=grad)


# ------------------------------------------------------------------ protocols
def test_float_int_and_format_of_a_one_element_tensor():
    loss = nv.tensor([2.75]).sum()
    assert float(loss) == 2.75 and int(loss) == 2
    assert f"{loss:.1f}" == "2.8" and f"{loss:>6.2f}" == "  2.75"
    assert f"{loss}" == str(loss) == "tensor(2.75)"
    with pytest.raises(ValueError, match=r"float\(tensor\) needs a tensor with one element.*\(2,\)"):
        float(nv.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"one-element tensor.*\(2,\)"):
        f"{nv.tensor([1.0, 2.0]):.2f}"


def test_np_asarray_gives_the_data_not_an_array_of_tensors():
    t = nv.tensor(A)
    arr = np.asarray(t)
    assert arr.dtype == np.float32 and arr.shape == (3, 3)
    assert np.shares_memory(arr, t.data)  # as t.numpy(): no copy
    assert not np.shares_memory(np.array(t, copy=True), t.data)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":  # np.asarray(copy=) is NumPy 2's
        with pytest.raises(ValueError, match="needs a copy"):
            np.asarray(t, dtype=np.float64, copy=False)
    np.testing.assert_allclose(t, A)  # NumPy's own helpers accept tensors now


def test_a_list_of_tensors_is_refused_with_the_way_to_combine_them():
    with pytest.raises(TypeError, match=r"nv\.stack"):
        nv.tensor([nv.tensor(1.0), nv.tensor(2.0)])


def test_abs_pow_matmul_and_long():
    t = nv.tensor([[-1.5, 2.0]])
    np.testing.assert_array_equal(abs(t).data, [[1.5, 2.0]])
    np.testing.assert_array_equal(t.pow(2).data, [[2.25, 4.0]])
    np.testing.assert_array_equal(t.matmul(t.T).data, [[6.25]])
    assert t.long().dtype == np.int64 and t.long().data.tolist() == [[-1, 2]]
    assert not t.long().requires_grad


# ------------------------------------------------------------------- argmax
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_argmax_and_argmin_match_numpy_with_first_index_on_ties(axis):
    t = t64()
    for name in ("argmax", "argmin"):
        got = getattr(t, name)(axis)
        want = getattr(np, name)(A, axis=axis)
        assert got.dtype == np.int64 and not got.requires_grad
        np.testing.assert_array_equal(got.data, want)
        np.testing.assert_array_equal(getattr(nv, name)(t, axis).data, want)
    assert t.argmax(1).data[2] == 0  # the row [7, 7, -1]: the first 7


def test_argmax_takes_dim_and_keepdim_and_names_bad_axes():
    t = nv.tensor(A)
    assert t.argmax(dim=1, keepdim=True).shape == (3, 1)
    np.testing.assert_array_equal(t.argmax(dim=0).data, [2, 2, 1])
    with pytest.raises(ValueError, match="argmax: axis 2 is out of range.*2 dimension"):
        t.argmax(2)
    with pytest.raises(ValueError, match="argmin of an empty tensor"):
        nv.tensor(np.zeros((0, 3))).argmin()
    with pytest.raises(TypeError, match="both axis=0 and dim=1"):
        t.argmax(0, dim=1)


def test_accuracy_the_pytorch_way():
    scores = nv.tensor([[0.1, 2.0], [3.0, -1.0], [0.0, 0.5]])
    labels = nv.tensor([1, 0, 0])
    correct = (scores.argmax(dim=1) == labels).float().mean()
    assert f"{correct:.3f}" == "0.667"


# ------------------------------------------------------------- dim / keepdim
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_reductions_take_dim_and_keepdim(name):
    t = t64()
    got = getattr(t, name)(dim=1, keepdim=True)
    assert got.shape == (3, 1)
    np.testing.assert_allclose(got.data, getattr(A, name)(axis=1, keepdims=True))
    np.testing.assert_allclose(getattr(nv, name)(t, dim=0).data, getattr(A, name)(axis=0))
    got.sum().backward()
    np.testing.assert_allclose(t.grad, np.full_like(A, 1.0 if name == "sum" else 1 / 3))
    with pytest.raises(TypeError, match=f"{name}: got both axis=0 and dim=1"):
        getattr(t, name)(0, dim=1)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_with_dim_return_values_and_indices_as_torch(name):
    t = t64(np.array([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0]]))
    values, indices = getattr(t, name)(dim=1)
    np.testing.assert_array_equal(values.data, getattr(t.data, name)(axis=1))
    np.testing.assert_array_equal(indices.data, getattr(np, "arg" + name)(t.data, axis=1))
    assert getattr(nv, name)(t, dim=1, keepdim=True).values.shape == (2, 1)
    values.sum().backward()
    expected = np.zeros((2, 3))
    expected[[0, 1], getattr(np, "arg" + name)(t.data, axis=1)] = 1.0
    np.testing.assert_array_equal(t.grad, expected)
    # The NumPy spelling keeps NumPy's result: the values alone.
    assert isinstance(getattr(t, name)(1), nv.Tensor)


def test_gradients_through_dim_reductions_match_finite_differences():
    x = t64(np.random.default_rng(0).standard_normal((3, 4)))
    assert nv.gradcheck(lambda a: a.max(dim=1).values * a.mean(dim=1), x)
    assert nv.gradcheck(lambda a: a.log_softmax(dim=0) * a.sum(dim=0, keepdim=True), x)


def test_softmax_takes_dim_in_the_method_the_function_and_the_layer():
    x = nv.tensor(A)
    want = np.exp(A) / np.exp(A).sum(axis=0)
    for got in (x.softmax(dim=0), nv.softmax(x, dim=0), nn.Softmax(dim=0)(x)):
        np.testing.assert_allclose(got.data, want, rtol=1e-5)
    with pytest.raises(TypeError, match="both axis=1 and dim=0"):
        nn.Softmax(1, dim=0)


# --------------------------------------------------------------------- shape
def test_view_unsqueeze_and_squeeze_shapes():
    t = nv.tensor(np.zeros((2, 3)))
    assert t.view(3, 2).shape == (3, 2) and t.view(-1).shape == (6,)
    assert t.unsqueeze(0).shape == (1, 2, 3)
    assert t.unsqueeze(1).shape == (2, 1, 3)
    assert t.unsqueeze(-1).shape == (2, 3, 1)
    assert t.unsqueeze(0).unsqueeze(-1).squeeze().shape == (2, 3)
    assert t.unsqueeze(1).squeeze(1).shape == (2, 3)
    assert t.squeeze(0).shape == (2, 3)  # not of length 1: unchanged, as PyTorch
    assert nv.tensor(5.0).unsqueeze(0).shape == (1,)
    with pytest.raises(ValueError, match=r"unsqueeze: dim must be an int in \[-3, 2\].*\(2, 3\)"):
        t.unsqueeze(3)
    with pytest.raises(ValueError, match=r"squeeze: dim must be an int in \[-2, 2\)"):
        t.squeeze(2)


def test_clone_copies_the_data_and_passes_the_gradient_back():
    x = t64(np.array([1.0, -2.0, 3.0]))
    c = x.clone()
    assert not np.shares_memory(c.data, x.data) and c.op == "Copy"
    c.data[0] = 99.0
    assert x.data[0] == 1.0
    assert nv.gradcheck(lambda a: a.clone() * a.unsqueeze(0).view(3).squeeze(), x)


# ------------------------------------------------------------------ nv. names
def test_cat_zeros_like_and_ones_like():
    a, b = nv.tensor(np.ones((2, 3))), nv.tensor(np.zeros((2, 1)))
    assert nv.cat([a, b], dim=1).shape == (2, 4)
    assert nv.cat([a, a]).shape == (4, 3)
    z = nv.zeros_like(t64(grad=False))
    assert z.dtype == np.float64 and z.shape == (3, 3) and not z.data.any()
    o = nv.ones_like(a, requires_grad=True)
    assert o.requires_grad and o.data.sum() == 6.0


# ----------------------------------------------------------------- in place
def test_manual_sgd_with_in_place_updates_under_no_grad_trains_the_model():
    nv.manual_seed(0)
    X = nv.tensor(np.random.default_rng(0).standard_normal((32, 3)))
    y = nv.tensor(X.data @ np.array([1.0, -2.0, 0.5], np.float32))
    model = nn.Linear(3, 1)
    weight = model.weight
    losses = []
    for _ in range(30):
        model.zero_grad()
        loss = ((model(X)[:, 0] - y) ** 2).mean()
        loss.backward()
        with nv.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        losses.append(float(loss))
    assert model.weight is weight and weight.requires_grad and weight.is_leaf
    assert losses[-1] < 0.01 * losses[0]


def test_in_place_on_a_leaf_that_requires_grad_is_refused_while_recording():
    w = nv.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad.*-=.*nv\.no_grad"):
        w -= 1.0
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*add_"):
        w.add_(1.0)
    assert w.data.tolist() == [1.0, 2.0]
    with nv.no_grad():
        w.sub_(nv.tensor([1.0, 1.0]), alpha=2).mul_(3.0)
    np.testing.assert_array_equal(w.data, [-3.0, 0.0])


def test_in_place_inside_the_graph_falls_back_to_the_out_of_place_result():
    x = nv.tensor([1.0, 2.0], requires_grad=True)
    total = nv.tensor(0.0)
    for k in (1.0, 2.0):
        total += (x * k).sum()  # a constant meeting the graph: total = total + ...
    h = x * 2
    h *= 3  # a non-leaf: h = h * 3, which backward follows
    (total + h.sum()).backward()
    np.testing.assert_array_equal(x.grad, [9.0, 9.0])
    with pytest.raises(RuntimeError, match="out-of-place form"):
        h.mul_(2.0)


def test_in_place_on_constants_changes_the_data_and_names_bad_values():
    source = np.array([1.0, 2.0, 3.0], np.float32)
    t = nv.tensor(source)  # shares source until its first in-place change
    t += 1
    data = t.data
    t /= nv.tensor(2.0)
    assert t.data is data  # copied once, then changed in place
    np.testing.assert_array_equal(t.data, [1.0, 1.5, 2.0])
    np.testing.assert_array_equal(source, [1.0, 2.0, 3.0])  # the caller's array is untouched
    np.testing.assert_array_equal(t.clone().fill_(7.0).data, [7.0] * 3)
    assert not t.clone().zero_().data.any()
    np.testing.assert_array_equal(nv.zeros(2, 3).copy_(nv.tensor([1.0, 2.0, 3.0])).data,
                                  [[1.0, 2.0, 3.0]] * 2)
    i = nv.tensor([1, 2])
    with pytest.raises(TypeError, match=r"\+=.*result is float64.*dtype int64"):
        i += 0.5
    with pytest.raises(TypeError, match=r"/=.*result is float64.*dtype int64"):
        i /= 2
    with pytest.raises(TypeError, match=r"with None: expected a number"):
        t += None
    with pytest.raises(ValueError, match=r"shape \(2,\) does not broadcast to.*\(3,\)"):
        t -= np.ones(2, np.float32)


def test_item_assignment_with_masks_and_indices():
    b = nv.tensor([[1.0, 5.0], [3.0, -2.0]])
    b[b > 2] = 0
    b[0, 0] = nv.tensor(9.0)
    np.testing.assert_array_equal(b.data, [[9.0, 0.0], [0.0, -2.0]])
    with pytest.raises(IndexError, match=r"cannot assign into the tensor of shape \(2, 2\)"):
        b[5] = 1.0
    w = nv.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"nv\.where"):
        w[0] = 0.0
    with nv.no_grad():
        w[0] = 0.0
    assert w.data.tolist() == [0.0, 2.0]


# ------------------------------------------------------------- boolean masks
def test_and_or_xor_invert_any_all_on_boolean_tensors():
    t = nv.tensor([-1.0, 2.0, 7.0])
    assert ((t > 0) & (t < 5)).data.tolist() == [False, True, False]
    assert ((t < 0) | (t > 5)).data.tolist() == [True, False, True]
    assert ((t > 0) ^ (t > 5)).data.tolist() == [False, True, False]
    assert (~(t > 0)).data.tolist() == [True, False, False]
    assert bool((t > 6).any()) and not bool((t > 0).all())
    assert (nv.tensor([[1, 0], [1, 1]]).all(dim=1)).data.tolist() == [False, True]
    with pytest.raises(TypeError, match=r"& needs bool.*compare first"):
        t & t


# --------------------------------------------------------------- sizes, devices
def test_size_is_numpys_count_and_pytorchs_shape():
    t = nv.tensor(np.zeros((4, 3)))
    assert t.size == 12 and t.size() == (4, 3) and t.size(0) == 4 and t.size(-1) == 3
    assert t.numel() == 12 and t.dim() == 2
    assert sum(p.numel() for p in nn.Linear(3, 2).parameters()) == 8
    with pytest.raises(IndexError, match=r"size\(2\): dim must be an int in \[-2, 2\)"):
        t.size(2)


def test_the_cpu_device_idiom_is_accepted_and_others_are_refused():
    t = nv.tensor([1.0])
    model = nn.Linear(2, 1)
    assert t.to("cpu") is t and t.cpu() is t and t.device == "cpu"
    assert model.to("cpu") is model and model.cpu() is model
    assert t.to("float64").dtype == np.float64 and t.to(nv.float64).dtype == np.float64
    for target in (t, model):
        with pytest.raises(ValueError, match="device 'cuda' is not available.*CPU"):
            target.to("cuda")
        with pytest.raises(ValueError, match="device 'cuda' is not available"):
            target.cuda()
        with pytest.raises(ValueError, match="device 'cuda:0' is not available"):
            target.to(device="cuda:0")
        with pytest.raises(TypeError, match=r"to\(\) needs a dtype"):
            target.to()
    assert t.to(device="cpu") is t and model.to(device="cpu") is model
    assert t.to("cpu", dtype=nv.float64).dtype == np.float64


# ------------------------------------------------------------------ transpose
def test_transpose_of_two_axes_swaps_them_as_pytorch():
    m = nv.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.transpose(0, 1).data, m.data.T)
    np.testing.assert_array_equal(nv.transpose(m, 0, 1).data, m.data.T)
    np.testing.assert_array_equal(m.transpose((0, 1)).data, m.data)  # NumPy's whole order
    x = nv.tensor(np.zeros((2, 3, 4)))
    assert x.transpose(1, 2).shape == (2, 4, 3) and x.transpose(-1, 0).shape == (4, 3, 2)
    assert x.permute(2, 0, 1).shape == (4, 2, 3) and x.transpose(2, 0, 1).shape == (4, 2, 3)
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 3\) are out of range"):
        x.transpose(0, 3)
    with pytest.raises(ValueError, match="permute: give every axis"):
        x.permute(1, 0)


def test_scalar_results_hold_a_0d_array():
    x = nv.tensor([1.0, 2.0], requires_grad=True)
    for t in ((x * x).sum(), nv.tensor(2.0) * 3, nn.MSELoss()(x, nv.tensor([0.0, 0.0])),
              nv.tensor(1.0) > 0):
        assert type(t.data) is np.ndarray and t.data.shape == ()
        assert np.asarray(t).shape == ()


def test_a_backward_through_values_changed_in_place_is_refused():
    w = nv.tensor([1.0, 1.0], requires_grad=True)
    c = nv.tensor([1.0, 2.0])
    loss = (w * c).sum()
    c += 5  # Mul saved c's old values for dL/dw
    with pytest.raises(RuntimeError, match=r"used by Mul \(its input 1\) was changed in place"):
        loss.backward()
    x = nv.tensor([0.5, 1.0], requires_grad=True)
    s = x.sigmoid()  # Sigmoid saved its output for its derivative
    with nv.no_grad():
        s.fill_(0.5)
    with pytest.raises(RuntimeError, match="output of Sigmoid .* was changed in place"):
        s.sum().backward()
    # Changed before the op recorded it, or after backward: fine, and the gradient is right.
    d = nv.tensor([1.0, 2.0])
    d *= 3
    (w * d).sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0, 6.0])
    d.zero_()


def test_from_numpy_writes_through_and_alpha_keeps_the_graph_rule():
    a = np.ones(2, np.float32)
    t = nv.from_numpy(a)
    t += 1
    np.testing.assert_array_equal(a, [2.0, 2.0])  # shared on purpose, as PyTorch
    c = nv.tensor([1.0, 2.0])
    x = nv.tensor([1.0, 1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_ would have to record an in-place op"):
        c.add_(x, alpha=2)
    with nv.no_grad():
        c.add_(x, alpha=2)
    np.testing.assert_array_equal(c.data, [3.0, 4.0])
    with pytest.raises(ValueError, match="fill_ takes one number"):
        c.fill_(np.ones(2))
