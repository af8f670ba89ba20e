"""Losses: fused ops gradchecked and equal to composed versions, worked examples, input checks."""
import math

import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn
from nerve import losses as L

RNG = np.random.default_rng(0)
S = RNG.normal(size=(5, 4)) * 2
Y = np.array([0, 3, 1, 1, 2])
LOGITS = RNG.normal(size=(6, 2)) * 3
T = RNG.uniform(size=(6, 2))
P = RNG.uniform(0.05, 0.95, size=(6, 2))
REDUCTIONS = ["mean", "sum", "none"]


# ------------------------------------------------------------ composed references
def ce_composed(s, y):
    shifted = s - s.max(axis=1, keepdims=True)
    return shifted.exp().sum(axis=1).log() - shifted[np.arange(len(y)), y]


def hinge_composed(s, y, margin=1.0):
    correct = s[np.arange(len(y)), y].reshape(-1, 1)
    others = np.ones(s.shape)
    others[np.arange(len(y)), y] = 0
    return (nv.maximum(s - correct + margin, 0.0) * others).sum(axis=1)


def bce_logits_composed(x, t):
    return nv.maximum(x, 0.0) - x * t + ((-x.abs()).exp() + 1).log()


def bce_composed(p, t):
    return -(t * p.log() + (1 - t) * (1 - p).log())


def reduce(t, reduction):
    return t.mean() if reduction == "mean" else t.sum() if reduction == "sum" else t


CASES = {  # name: (fused function, composed function, input, target)
    "cross_entropy": (L.cross_entropy, ce_composed, S, Y),
    "hinge": (L.hinge, hinge_composed, S, Y),
    "bce_with_logits": (L.binary_cross_entropy_with_logits, bce_logits_composed, LOGITS, T),
    "bce": (L.binary_cross_entropy, bce_composed, P, T),
    "mse": (L.mse, lambda a, b: (a - b) * (a - b), LOGITS, T),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASES)
def test_fused_loss_gradcheck(name, reduction):
    fused, _, x, target = CASES[name]
    assert nv.gradcheck(lambda s: fused(s, target, reduction=reduction), x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASES)
def test_fused_loss_equals_composed(name, reduction):
    fused, composed, x, target = CASES[name]
    a = nv.tensor(x, dtype=nv.float64, requires_grad=True)
    b = nv.tensor(x, dtype=nv.float64, requires_grad=True)
    tgt = target if target.dtype.kind == "i" else nv.tensor(target, dtype=nv.float64)
    out, ref = fused(a, target, reduction=reduction), reduce(composed(b, tgt), reduction)
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-12, atol=1e-12)
    up = np.random.default_rng(2).normal(size=out.shape)
    (out * up).sum().backward()
    (ref * up).sum().backward()
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-10, atol=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    s = nv.tensor(S, dtype=nv.float64, requires_grad=True)
    L.cross_entropy(s, Y).backward()
    p = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
    p[np.arange(5), Y] -= 1
    np.testing.assert_allclose(s.grad, p / 5, atol=1e-12)


def test_svm_loss_on_the_lectures_three_images():
    scores = np.array([[3.2, 5.1, -1.7],     # cat image, correct class 0
                       [1.3, 4.9, 2.0],      # car image, correct class 1
                       [2.2, 2.5, -3.1]])    # frog image, correct class 2
    labels = np.array([0, 1, 2])
    per_image = L.hinge(scores, labels, reduction="none").data
    np.testing.assert_allclose(per_image, [2.9, 0.0, 12.9], rtol=1e-6)
    assert round(L.hinge(scores, labels).item(), 2) == 5.27
    assert round(nn.HingeLoss()(scores, labels).item(), 2) == 5.27


def test_hinge_margin_exactly_zero_has_no_gradient():
    s = nv.tensor([[1.0, 0.0, -5.0]], requires_grad=True)   # 0 − 1 + 1 = 0 exactly
    loss = L.hinge(s, [0])
    loss.backward()
    assert loss.item() == 0.0 and not s.grad.any()
    s2 = nv.tensor([[1.0, 0.5, -5.0]], requires_grad=True)  # margin 0.5 > 0: gradient
    L.hinge(s2, [0]).backward()
    np.testing.assert_array_equal(s2.grad, [[-1.0, 1.0, 0.0]])


def test_softmax_loss_at_small_weights_is_ln_c():
    nv.manual_seed(0)
    X = np.random.default_rng(1).normal(size=(200, 20)).astype(np.float32)
    y = np.random.default_rng(2).integers(0, 10, 200)
    loss = nn.CrossEntropyLoss()(nn.Linear(20, 10, init="small")(X), y)
    assert loss.item() == pytest.approx(math.log(10), abs=0.05)


def test_losses_are_stable_for_huge_scores():
    s = nv.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    loss = L.cross_entropy(s, [1])
    loss.backward()
    assert loss.item() == pytest.approx(2000.0) and np.isfinite(s.grad).all()
    x = nv.tensor([[200.0, -200.0]], requires_grad=True)
    out = L.binary_cross_entropy_with_logits(x, [[0.0, 1.0]])
    out.backward()
    assert out.item() == pytest.approx(200.0) and np.isfinite(x.grad).all()
    clamp = L.binary_cross_entropy(nv.tensor([[0.0, 1.0]]), [[1.0, 0.0]])
    assert clamp.item() == pytest.approx(100.0)      # logs clamped at −100, as PyTorch


def test_losses_keep_float32():
    s = nv.tensor(S, requires_grad=True)
    for loss in (L.cross_entropy(s, Y), L.hinge(s, Y), L.mse(s, np.zeros((5, 4)))):
        loss.backward()
        assert loss.dtype == nv.float32 and s.grad.dtype == np.float32


def test_labels_may_be_tensors_or_integral_floats():
    a = L.cross_entropy(S, Y).item()
    assert L.cross_entropy(S, nv.tensor(Y)).item() == a
    assert L.cross_entropy(S, Y.astype(np.float64)).item() == a


@pytest.mark.parametrize("labels, exc, words", [
    ([0, 1, 4, 0, 0], ValueError, ["[0, 4)", "4"]),
    ([0, -1, 2, 0, 0], ValueError, ["[0, 4)", "-1"]),
    ([0, 1, 0.5, 0, 0], TypeError, ["integer", "0.5"]),
    (["a", "b", "c", "d", "e"], TypeError, ["integer"]),
    ([0, 1, 2], ValueError, ["(5,)", "(3,)"]),
    ([[0], [1], [2], [3], [0]], ValueError, ["(5,)", "(5, 1)"]),
])
@pytest.mark.parametrize("fn", [L.cross_entropy, L.hinge])
def test_label_errors(fn, labels, exc, words):
    with pytest.raises(exc) as err:
        fn(S, np.array(labels))
    for w in words:
        assert w in str(err.value)


def test_other_input_errors():
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        L.cross_entropy(np.ones(4), [0])
    with pytest.raises(ValueError, match=r"\(6, 3\).*\(6, 2\)"):
        L.binary_cross_entropy_with_logits(LOGITS, np.ones((6, 3)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        L.binary_cross_entropy_with_logits(LOGITS, T * 3)
    with pytest.raises(ValueError, match="sigmoid"):
        L.binary_cross_entropy(LOGITS, T)
    with pytest.raises(ValueError, match="shape"):
        L.mse(np.ones((4, 2)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="mean, sum, none"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="margin"):
        nn.HingeLoss(margin=-1)


@pytest.mark.parametrize("fn, x, where", [
    (L.mse, np.ones((3, 2)), "mse"),
    (nn.MSELoss(), np.ones((3, 2)), "mse"),
    (L.binary_cross_entropy_with_logits, np.zeros((3, 2)), "binary_cross_entropy_with_logits"),
    (nn.BCELoss(), np.full((3, 2), 0.5), "binary_cross_entropy"),
])
@pytest.mark.parametrize("value, kind", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_nan_or_infinite_targets_name_the_first_bad_index(fn, x, where, value, kind):
    target = np.full((3, 2), 0.5)
    target[1, 0] = target[2, 1] = value
    with pytest.raises(ValueError) as err:
        fn(x, target)
    assert str(err.value).startswith(f"{where}: the target contains {kind} at index (1, 0)")


def test_nan_target_of_a_vector_names_a_plain_index():
    with pytest.raises(ValueError, match=r"^mse: the target contains NaN at index 0;"):
        nn.MSELoss()(nv.tensor([1.0, 2.0]), np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match=r"contains NaN at index 0; expected probabilities"):
        L.binary_cross_entropy_with_logits(nv.tensor([1.0, 2.0]), np.array([np.nan, 1.0]))


def test_mse_values_and_column_targets():
    pred = nv.tensor([[1.0], [3.0]], requires_grad=True)
    loss = nn.MSELoss()(pred, np.array([0.0, 1.0]))        # (N,) target for (N, 1) output
    loss.backward()
    assert loss.item() == pytest.approx((1 + 4) / 2)
    np.testing.assert_allclose(pred.grad, [[1.0], [2.0]])  # 2(ŷ − y)/n
    assert nn.MSELoss("sum")(pred, [[0.0], [1.0]]).item() == pytest.approx(5.0)


def test_loss_registry():
    assert isinstance(nn.get_loss("cross_entropy"), nn.CrossEntropyLoss)
    assert isinstance(nn.get_loss("SVM", margin=2.0), nn.HingeLoss)
    assert nn.get_loss("hinge", margin=2.0).margin == 2.0
    assert isinstance(nn.get_loss("bce-with-logits"), nn.BCEWithLogitsLoss)
    with pytest.raises(ValueError) as err:
        nn.get_loss("focal")
    assert "mse" in str(err.value) and "cross_entropy" in str(err.value)


@pytest.mark.parametrize("module, fn, x, t", [
    (nn.CrossEntropyLoss(), L.cross_entropy, S, Y),
    (nn.HingeLoss(), L.hinge, S, Y),
    (nn.BCEWithLogitsLoss(), L.binary_cross_entropy_with_logits, LOGITS, T),
    (nn.BCELoss(), L.binary_cross_entropy, P, T),
    (nn.MSELoss(), L.mse, LOGITS, T),
])
def test_modules_equal_their_functional_twins(module, fn, x, t):
    assert module(x, t).item() == fn(x, t).item()


def test_mse_target_tensor_gets_a_gradient():
    pred = nv.tensor([[1.0], [3.0]], requires_grad=True)
    target = nv.tensor([0.0, 1.0], requires_grad=True)
    L.mse(pred, target).backward()
    np.testing.assert_allclose(target.grad, [-1.0, -2.0])


@pytest.mark.parametrize("shape, axis", [((40, 10), 1), ((40, 10), -1), ((5, 3), 1),
                                         ((40, 100), 1), ((40, 10), 0), ((4, 6, 3), -1)])
def test_max_along_is_the_numpy_maximum_nan_included(shape, axis):
    """The transposed-copy road for short rows gives exactly ``x.max(axis, keepdims=True)``."""
    from nerve.ops.loss import max_along

    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x.reshape(-1)[7] = np.nan
    np.testing.assert_array_equal(max_along(x, axis), x.max(axis=axis, keepdims=True))
    sm = nv.softmax(nv.tensor(x), axis=axis).data
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    np.testing.assert_array_equal(sm, e / e.sum(axis=axis, keepdims=True))
    if x.ndim == 2 and axis in (1, -1):  # the NumPy-array twin used by predict_proba
        from nerve.ops.loss import softmax_rows

        np.testing.assert_array_equal(softmax_rows(x), e / e.sum(axis=axis, keepdims=True))
