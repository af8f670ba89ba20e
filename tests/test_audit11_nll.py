"""Audit 11 (fuzznn): a reduction that is no string (PyTorch's class weights in its positional
place) gets a clear TypeError from every loss; NLLLoss / F.nll_loss take PyTorch's weight and
ignore_index (default -100), so that LogSoftmax + NLLLoss = CrossEntropyLoss with the same
options."""
import numpy as np
import pytest

import nerve as nv
import nerve.nn.functional as F
from nerve import nn

RNG = np.random.default_rng(1111)
X = RNG.standard_normal((2, 3)).astype(np.float32)
Y = np.array([0, 2])
W = np.array([1.0, 2.0, 3.0], np.float32)
P = np.full((2, 3), 0.3, np.float32)
T = np.ones((2, 3), np.float32)


def f64(a, requires_grad=False):
    return nv.tensor(np.asarray(a, dtype=np.float64), dtype=nv.float64,
                     requires_grad=requires_grad)


def log_softmax(s):
    s = s - s.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def grad_of(t):
    g = t.grad
    return g.data if isinstance(g, nv.Tensor) else np.asarray(g)


# ----------------------------------------------- 1. a weight where the reduction goes
TAKES_WEIGHT = "pass class weights as weight="
LACKS_WEIGHT = "PyTorch's weight goes there, an option {} does not have"


@pytest.mark.parametrize("call,where,slot,hint", [
    (lambda: F.cross_entropy(nv.tensor(X), Y, W), "cross_entropy", "third", TAKES_WEIGHT),
    (lambda: F.cross_entropy(nv.tensor(X), Y, nv.tensor(W)), "cross_entropy", "third",
     TAKES_WEIGHT),
    (lambda: F.cross_entropy(nv.tensor(X), Y, W, weight=W), "cross_entropy", "third",
     TAKES_WEIGHT),                                                  # the general path
    (lambda: F.cross_entropy(nv.tensor(X), np.eye(3, dtype=np.float32)[Y], W),
     "cross_entropy", "third", TAKES_WEIGHT),                       # probability targets
    (lambda: F.nll_loss(nv.tensor(X), Y, W), "nll_loss", "third", TAKES_WEIGHT),
    (lambda: F.nll_loss(nv.tensor(X), Y, nv.tensor(W)), "nll_loss", "third", TAKES_WEIGHT),
    (lambda: F.binary_cross_entropy(nv.tensor(P), T, W), "binary_cross_entropy", "third",
     LACKS_WEIGHT.format("binary_cross_entropy")),
    (lambda: F.binary_cross_entropy_with_logits(nv.tensor(X), T, W),
     "binary_cross_entropy_with_logits", "third",
     LACKS_WEIGHT.format("binary_cross_entropy_with_logits")),
    (lambda: nn.NLLLoss(W), "NLLLoss", "first", TAKES_WEIGHT),
    (lambda: nn.BCELoss(W), "BCELoss", "first", LACKS_WEIGHT.format("BCELoss")),
    (lambda: nn.BCEWithLogitsLoss(W), "BCEWithLogitsLoss", "first",
     LACKS_WEIGHT.format("BCEWithLogitsLoss")),
    (lambda: nn.CrossEntropyLoss(nv.tensor(W)), "CrossEntropyLoss", "first", TAKES_WEIGHT),
    (lambda: F.mse_loss(nv.tensor(X), X, nv.tensor(W)), "mse", "third", ""),
    (lambda: F.hinge(nv.tensor(X), Y, 1.0, W), "hinge", "fourth", ""),
    (lambda: nn.HingeLoss(1.0, W), "HingeLoss", "second", ""),
    (lambda: nn.MSELoss(None), "MSELoss", "first", ""),
], ids=lambda v: v if isinstance(v, str) and " " not in v else "")
def test_a_reduction_that_is_no_string_gets_a_type_error_naming_its_place(call, where, slot,
                                                                           hint):
    message = (rf"^{where}: the {slot} positional argument is the reduction, a string "
               r"\('mean', 'sum', 'none'\), got \w+")
    with pytest.raises(TypeError, match=message) as info:
        call()
    assert hint in str(info.value)
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_a_string_that_is_no_reduction_keeps_its_value_error():
    for call in (lambda: F.cross_entropy(nv.tensor(X), Y, "avg"),
                 lambda: F.nll_loss(nv.tensor(X), Y, "avg"),
                 lambda: F.nll_loss(nv.tensor(X), [0, -100], "avg"),   # ignored: new path
                 lambda: nn.NLLLoss("avg", ignore_index=1)):
        with pytest.raises(ValueError,
                           match="reduction must be one of mean, sum, none, got 'avg'") as info:
            call()
        assert info.value.__context__ is None or info.value.__suppress_context__


# ------------------------------------------------- 2. NLLLoss's weight and ignore_index
def reference_nll(lp, y, reduction, weight=None, ignore_index=-100):
    """PyTorch's formula: lᵢ = −w_yᵢ·lpᵢ,yᵢ (0 if yᵢ is ignored); mean Σ lᵢ / Σ w_yᵢ."""
    w = np.ones(lp.shape[1]) if weight is None else np.asarray(weight, np.float64)
    keep = y != ignore_index
    safe = np.where(keep, y, 0)
    per = np.where(keep, -w[safe] * lp[np.arange(len(y)), safe], 0.0)
    if reduction == "none":
        return per
    return per.sum() / (w[safe][keep].sum() if reduction == "mean" else 1.0)


def test_log_softmax_and_nll_loss_skip_the_default_ignore_index_as_cross_entropy():
    x = np.array([[0.1, 0.5, -0.2], [1.0, 0.0, 0.3], [0.2, 0.2, 0.9]], np.float32)
    y = np.array([0, -100, 2])
    split = nn.NLLLoss()(nn.LogSoftmax(dim=1)(nv.tensor(x)), y)
    fused = nn.CrossEntropyLoss()(nv.tensor(x), y)
    assert split.item() == pytest.approx(fused.item(), rel=1e-6)
    assert split.item() == pytest.approx(reference_nll(log_softmax(x.astype(np.float64)), y,
                                                       "mean"), rel=1e-6)


CASES = [  # (labels, weight, ignore_index)
    ([0, -100, 2, 1, 1, -100], None, -100),
    ([0, 3, 2, 1, 1, 3], None, 3),                        # an ignore_index inside [0, C)
    ([0, -1, 2, 1, 3, 0], [0.5, 2.0, 1.0, 3.0], -1),
    ([0, 1, 2, 1, 3, 0], [0.5, 2.0, 0.0, 3.0], -100),     # a class of weight 0
    ([0, -100, 2, 1, 3, 0], [0.5, 2.0, 1.0, 3.0], -100),
]


@pytest.mark.parametrize("labels,weight,ignore_index", CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_with_weight_and_ignore_index_is_pytorchs_formula_and_cross_entropy(
        labels, weight, ignore_index, reduction):
    s = RNG.standard_normal((6, 4))
    y = np.array(labels)
    lp = log_softmax(s)
    got = F.nll_loss(f64(lp), y, reduction, weight=weight, ignore_index=ignore_index)
    np.testing.assert_allclose(got.data, reference_nll(lp, y, reduction, weight, ignore_index),
                               rtol=1e-12, atol=1e-15)
    # LogSoftmax + NLLLoss = CrossEntropyLoss, value and gradient, with the same options
    a, b = f64(s, True), f64(s, True)
    split = nn.NLLLoss(reduction, weight=weight, ignore_index=ignore_index)(
        nn.LogSoftmax(dim=1)(a), y)
    fused = nn.CrossEntropyLoss(reduction, weight=weight, ignore_index=ignore_index)(b, y)
    np.testing.assert_allclose(split.data, fused.data, rtol=1e-12, atol=1e-15)
    upstream = f64(RNG.standard_normal(split.shape))
    split.backward(upstream)
    fused.backward(upstream)
    np.testing.assert_allclose(grad_of(a), grad_of(b), rtol=1e-10, atol=1e-14)
    # the gradient against central differences (float64)
    assert nv.gradcheck(lambda t: F.nll_loss(t, y, reduction, weight=weight,
                                             ignore_index=ignore_index), f64(lp, True))
    assert nv.gradcheck(lambda t: F.nll_loss(t.log_softmax(1), y, reduction, weight=weight,
                                             ignore_index=ignore_index), f64(s, True))


def test_nll_loss_gradient_is_minus_the_weighted_one_hot_over_the_summed_weights():
    lp = f64(log_softmax(RNG.standard_normal((4, 3))), True)
    y = np.array([2, -100, 0, 2])
    w = np.array([1.0, 5.0, 0.25])
    F.nll_loss(lp, y, weight=w).backward()
    want = np.zeros((4, 3))
    want[[0, 2, 3], [2, 0, 2]] = -w[[2, 0, 2]] / w[[2, 0, 2]].sum()
    np.testing.assert_allclose(grad_of(lp), want, rtol=1e-15)


def test_every_label_ignored_is_an_error_for_the_mean_as_cross_entropy_and_zero_otherwise():
    lp = f64(log_softmax(RNG.standard_normal((3, 4))), True)
    y = np.array([-100, -100, -100])
    with pytest.raises(ValueError, match="nll_loss: every example is ignored or has weight 0"):
        F.nll_loss(lp, y)
    with pytest.raises(ValueError, match="cross_entropy: every example is ignored"):
        F.cross_entropy(lp, y)
    with pytest.raises(ValueError, match="nll_loss: every example is ignored or has weight 0"):
        nn.NLLLoss(weight=[0.0, 1.0, 1.0, 1.0])(lp, np.array([0, 0, 0]))
    total = F.nll_loss(lp, y, "sum")
    assert total.item() == 0.0
    total.backward()
    np.testing.assert_array_equal(grad_of(lp), np.zeros((3, 4)))
    np.testing.assert_array_equal(F.nll_loss(lp, y, "none").data, np.zeros(3))


def test_a_weight_zero_label_counts_for_nothing_even_at_minus_infinity_as_cross_entropy():
    s = np.array([[0.0, -np.inf, 1.0], [0.3, 0.1, -0.2]])
    y = np.array([1, 0])
    w = [1.0, 0.0, 2.0]
    a, b = f64(s, True), f64(s, True)
    split = F.nll_loss(a.log_softmax(1), y, weight=w)
    fused = F.cross_entropy(b, y, weight=w)
    assert np.isfinite(split.item())
    assert split.item() == pytest.approx(fused.item(), rel=1e-12)
    assert split.item() == pytest.approx(-log_softmax(s)[1, 0], rel=1e-12)
    split.backward()
    assert np.isfinite(grad_of(a)).all()


def test_float32_in_float32_out_and_the_plain_loss_keeps_its_own_node():
    lp = nv.tensor(log_softmax(RNG.standard_normal((5, 3))).astype(np.float32),
                   requires_grad=True)
    ignored = F.nll_loss(lp, np.array([0, -100, 2, 1, 1]))
    weighted = F.nll_loss(lp, np.array([0, 1, 2, 1, 1]), weight=W)
    plain = F.nll_loss(lp, np.array([0, 1, 2, 1, 1]))
    assert ignored.dtype == weighted.dtype == nv.float32
    assert type(ignored._ctx).__name__ == type(weighted._ctx).__name__ == "WeightedNLL"
    assert type(plain._ctx).__name__ == "NLL"
    weighted.backward()
    assert grad_of(lp).dtype == np.float32


def test_nll_loss_layer_keeps_its_options_in_its_config():
    loss = nn.NLLLoss("sum", weight=nv.tensor([1.0, 2.0, 0.5]), ignore_index=1)
    config = nn.to_config(loss)["config"]
    assert config == {"reduction": "sum", "weight": [1.0, 2.0, 0.5], "ignore_index": 1}
    again = nn.from_config(nn.to_config(loss))
    lp = f64(log_softmax(RNG.standard_normal((4, 3))))
    y = np.array([0, 1, 2, 1])
    assert again(lp, y).item() == loss(lp, y).item() == pytest.approx(
        reference_nll(lp.data, y, "sum", [1.0, 2.0, 0.5], 1), rel=1e-12)
    assert nn.NLLLoss().get_config() == {"reduction": "mean"}


@pytest.mark.parametrize("call,error,message", [
    (lambda: nn.NLLLoss(weight=[1.0, -2.0]), ValueError, "NLLLoss: weight must hold finite"),
    (lambda: nn.NLLLoss(ignore_index=1.5), TypeError, "NLLLoss: ignore_index must be an int"),
    (lambda: F.nll_loss(nv.tensor(X), Y, weight=[1.0, 2.0]), ValueError,
     "nll_loss: weight has 2 entries but the scores have 3 classes"),
    (lambda: F.nll_loss(nv.tensor(X), [0, -1], ignore_index=-2), ValueError,
     r"nll_loss: labels must be in \[0, 3\) .* got label -1"),
    (lambda: F.nll_loss(nv.tensor(X), Y, size_average=True), TypeError,
     r"nll_loss does not support size_average \(it takes reduction, weight and ignore_index\)"),
    (lambda: nn.NLLLoss(reduce=True), TypeError,
     r"NLLLoss does not support reduce \(it takes reduction, weight and ignore_index\)"),
])
def test_bad_nll_options_get_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------ torch parity (optional)
def test_torch_parity_of_nll_loss_with_weight_and_ignore_index():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for trial in range(60):
        n, c = int(rng.integers(1, 7)), int(rng.integers(1, 6))
        ignore = int(rng.choice([-100, -1, 0, c - 1]))
        y = rng.integers(0, c, n)
        if not 0 <= ignore < c:
            y[rng.random(n) < 0.3] = ignore
        w = rng.random(c) * 2 if trial % 3 else None
        reduction = ("mean", "sum", "none")[trial % 3]
        lp = log_softmax(rng.standard_normal((n, c)))
        tl = torch.tensor(lp, requires_grad=True)
        want = torch.nn.functional.nll_loss(tl, torch.tensor(y), None if w is None else
                                            torch.tensor(w), ignore_index=ignore,
                                            reduction=reduction)
        if reduction == "mean" and torch.isnan(want):  # every label ignored: nerve raises
            with pytest.raises(ValueError, match="every example is ignored"):
                F.nll_loss(f64(lp), y, weight=w, ignore_index=ignore)
            continue
        upstream = rng.standard_normal(want.shape)
        want.backward(torch.tensor(upstream))
        x = f64(lp, True)
        got = F.nll_loss(x, y, reduction, weight=w, ignore_index=ignore)
        got.backward(f64(upstream))
        np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grad_of(x), tl.grad.numpy(), rtol=1e-12, atol=1e-15)
