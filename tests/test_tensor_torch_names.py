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
