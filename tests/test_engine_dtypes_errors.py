"""dtype rules (float32 default, float64 on request, no silent upcast) and clear errors."""
import numpy as np
import pytest

import nerve as nv


def test_float32_is_the_default_even_for_float64_numpy_input():
    assert nv.tensor([1.0, 2.0]).dtype == np.float32
    assert nv.tensor(np.zeros(3)).dtype == np.float32
    assert nv.tensor(np.zeros(3), dtype=nv.float64).dtype == np.float64


def test_integer_data_stays_integer_but_requires_grad_makes_it_float():
    assert nv.tensor([1, 2]).dtype == np.int64
    assert nv.tensor(3, requires_grad=True).dtype == np.float32
    with pytest.raises(TypeError, match="only float tensors"):
        nv.tensor([1, 2], dtype=np.int64, requires_grad=True)


@pytest.mark.parametrize("op", [
    lambda x: x * 2.5, lambda x: 2.5 * x, lambda x: x + np.float64(1.0), lambda x: x / 3,
    lambda x: x ** 2, lambda x: x.exp().log(), lambda x: x.sigmoid(), lambda x: x.tanh(),
    lambda x: x.softmax(), lambda x: x.log_softmax(), lambda x: x.mean(), lambda x: x.elu(),
    lambda x: x.leaky_relu(), lambda x: x @ np.ones((3, 2)), lambda x: x - np.ones(3),
    lambda x: nv.where(x.data > 0, x, 0.0), lambda x: nv.maximum(x, 0.5),
])
def test_no_silent_upcast(op):
    x = nv.tensor(np.abs(np.random.default_rng(0).standard_normal((2, 3))) + 0.1,
                  requires_grad=True)
    y = op(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_float64_stays_float64():
    x = nv.tensor([1.0, 2.0], dtype=nv.float64, requires_grad=True)
    y = (x * 2.0).sigmoid().sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64


def test_mixing_float32_and_float64_tensors_says_how_to_fix_it():
    a = nv.tensor([1.0])
    b = nv.tensor([1.0], dtype=nv.float64)
    with pytest.raises(TypeError, match="float32 and float64.*double"):
        a + b
    assert (a.double() + b).dtype == np.float64


def test_matmul_shape_mismatch_names_both_shapes():
    a = nv.tensor(np.ones((3, 4)))
    b = nv.tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(5, 2\)"):
        a @ b


def test_broadcast_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"Add.*\(3, 4\) and \(5,\)"):
        nv.tensor(np.ones((3, 4))) + nv.tensor(np.ones(5))


@pytest.mark.parametrize("bad", ["abc", {"a": 1}, [1, "x"], object(), None])
def test_non_numeric_input_says_what_is_accepted(bad):
    with pytest.raises(TypeError, match="expected numbers"):
        nv.tensor(bad)


@pytest.mark.parametrize("dtype", [np.float16, "complex64", "bogus", np.longdouble, str])
def test_unsupported_dtype_names_the_accepted_ones(dtype):
    with pytest.raises(TypeError, match="float32 or float64"):
        nv.tensor([1.0], dtype=dtype)


def test_complex_data_rejected():
    with pytest.raises(TypeError, match="complex"):
        nv.tensor(np.array([1 + 2j]))


def test_bad_index_and_axis_errors_are_clear():
    x = nv.tensor(np.ones((2, 3)))
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        x[5]
    with pytest.raises(ValueError, match="axis 4 is out of range"):
        x.sum(axis=4)


def test_item_needs_one_element():
    with pytest.raises(ValueError, match="one element"):
        nv.tensor([1.0, 2.0]).item()
    assert nv.tensor([[2.5]]).item() == 2.5


def test_a_trainable_tensor_never_shares_the_callers_array():
    arr = np.array([1.0, 2.0], dtype=np.float32)
    w = nv.tensor(arr, requires_grad=True)
    w.data -= 1.0                                  # what an optimizer step does
    np.testing.assert_array_equal(arr, [1.0, 2.0])
    assert np.shares_memory(nv.tensor(arr).data, arr)  # constants may share (no copy cost)
