"""Audit 11 (docs): numerical_gradient warns whenever its estimate is computed in float32
(a float32 x included); cross_entropy takes class-probability targets (N, C) and
binary_cross_entropy_with_logits PyTorch's pos_weight; the functional losses refuse unknown
keywords as the loss layers do; draw_graph refuses a names mapping the wrong way round."""
import io
import warnings

import numpy as np
import pytest

import nerve as nv
import nerve.nn.functional as F
from nerve import losses, nn
from nerve.demos import optimization

RNG = np.random.default_rng(11)


def f64(a, requires_grad=False):
    return nv.tensor(np.asarray(a, dtype=np.float64), dtype=nv.float64,
                     requires_grad=requires_grad)


def log_softmax(s):
    s = s - s.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


# ------------------------------------------------------- 1. numerical_gradient in float32
COARSE = r"x is float32.*too coarse to check gradients.*astype\(np\.float64\)"


def test_a_float32_x_warns_that_central_differences_are_too_coarse():
    x = np.array([0.3, -1.7, 2.2], np.float32)
    with pytest.warns(UserWarning, match=COARSE):               # f in float32 (NumPy)
        g32 = nv.numerical_gradient(lambda w: (w ** 2).sum(), x)
    with pytest.warns(UserWarning, match=COARSE):               # a Python number: x's dtype
        nv.numerical_gradient(lambda w: float((w ** 2).sum()), x.copy())
    with pytest.warns(UserWarning, match=COARSE):               # a float32 tensor
        nv.numerical_gradient(lambda w: (nv.tensor(w) ** 2).sum(), x.copy())
    with warnings.catch_warnings():                             # the advice, followed
        warnings.simplefilter("error")
        g64 = nv.numerical_gradient(lambda w: (w ** 2).sum(), x.astype(np.float64))
    np.testing.assert_allclose(g64, 2 * x.astype(np.float64), rtol=1e-8)
    assert np.abs(g32 - 2 * x).max() > 1e-2                    # what the warning is about
    # no warning where the estimate is float64, and the float64-x/float32-f one is kept
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # a float32 x whose f returns float64: f is exact at those points
        g = nv.numerical_gradient(lambda w: np.float64((w.astype(np.float64) ** 3).sum()),
                                  np.array([0.5, -1.5], np.float32))
        np.testing.assert_allclose(g, 3 * np.array([0.5, -1.5]) ** 2, rtol=1e-6)
        # gradcheck works in float64 whatever the inputs' dtype
        assert nv.gradcheck(lambda a: (a * a).tanh(), nv.randn(3, 4))
        # the optimisation demo's numerical gradient (float64 throughout)
        optimization.run(stream=io.StringIO(), tries=5, local_steps=5, steps=2,
                         numerical_steps=1, n_train=20, seed=0)
    with pytest.warns(UserWarning, match="x is float64 but f returns a float32 value"):
        nv.numerical_gradient(lambda s: nv.sigmoid(s).sum(), np.array([0.5, 2.0]))


def test_the_lectures_softmax_check_in_float32_warns_and_float64_agrees():
    X, y = nv.data.load_digits()
    X, y = X[:50] / 16, y[:50]
    W = 0.001 * np.random.default_rng(0).standard_normal((64, 10)).astype(np.float32)

    def loss(W):  # plain NumPy, CS231n style: computes in W's dtype
        s = X.astype(W.dtype) @ W
        s = s - s.max(1, keepdims=True)
        p = np.exp(s) / np.exp(s).sum(1, keepdims=True)
        return -np.log(p[np.arange(len(y)), y]).mean()

    with pytest.warns(UserWarning, match=COARSE):
        nv.numerical_gradient(loss, W.copy())
    W64 = W.astype(np.float64)
    Wt = f64(W64, requires_grad=True)
    losses.cross_entropy(f64(X) @ Wt, y).backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        num = nv.numerical_gradient(loss, W64)
    np.testing.assert_allclose(num, Wt.grad, atol=1e-9)


# ------------------------------------------------- 4a. class-probability targets for CE
N, C = 6, 4
S = RNG.standard_normal((N, C))
P = RNG.uniform(0.05, 0.95, (N, C))
P /= P.sum(1, keepdims=True)
LABELS = np.array([0, 1, 2, 3, 0, 2])
ONEHOT = np.eye(C)[LABELS]
W = np.array([0.5, 2.0, 1.0, 0.3])


def expected_ce(s, t, reduction="mean", weight=None, eps=0.0):
    """PyTorch's loss for probability targets, in float64 NumPy."""
    c = s.shape[1]
    t = t * (1 - eps) + eps / c
    if weight is not None:
        t = t * weight
    per = -(t * log_softmax(s)).sum(1)
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"weight": W}, {"label_smoothing": 0.1},
                                     {"weight": W, "label_smoothing": 0.2}])
def test_probability_targets_give_pytorchs_loss(reduction, options):
    out = losses.cross_entropy(f64(S), P, reduction, **options)
    np.testing.assert_allclose(out.data, expected_ce(S, P, reduction, options.get("weight"),
                                                     options.get("label_smoothing", 0.0)),
                               rtol=1e-12)
    layer = nn.CrossEntropyLoss(reduction, **options)
    np.testing.assert_allclose(layer(f64(S), P).data, out.data, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"weight": W, "label_smoothing": 0.1}])
def test_probability_target_gradients_pass_gradcheck(reduction, options):
    # both the scores and the target (a float input: gradcheck differentiates it too)
    assert nv.gradcheck(lambda s, t: losses.cross_entropy(s, t, reduction, **options), S, P)
    assert nv.gradcheck(lambda s: F.cross_entropy(s, P, reduction, **options), S)


def test_one_hot_float_targets_equal_integer_labels():
    for options in ({}, {"label_smoothing": 0.1}):
        a = f64(S, requires_grad=True)
        b = f64(S, requires_grad=True)
        la = losses.cross_entropy(a, ONEHOT, **options)
        lb = losses.cross_entropy(b, LABELS, **options)
        la.backward()
        lb.backward()
        np.testing.assert_allclose(la.data, lb.data, rtol=1e-12)
        np.testing.assert_allclose(a.grad, b.grad, atol=1e-15)
    # float32, as a student's one-hot targets come
    s32 = nv.tensor(S.astype(np.float32))
    out = nn.CrossEntropyLoss()(s32, ONEHOT.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.item(), losses.cross_entropy(s32, LABELS).item(), rtol=1e-6)


@pytest.mark.parametrize("target,error,message", [
    (ONEHOT.astype(int), TypeError, r"must be floating point.*y\.argmax\(1\)"),
    (np.ones((N, C + 1)) / (C + 1), ValueError,
     r"labels of shape \(6,\) or class probabilities of the scores' shape \(6, 4\)"),
    (np.full((N, C), np.nan), ValueError, r"NaN at index \(0, 0\)"),
    (ONEHOT * 2, ValueError, r"must be in \[0, 1\]"),
])
def test_bad_probability_targets_get_clear_errors(target, error, message):
    with pytest.raises(error, match=message):
        losses.cross_entropy(nv.tensor(S), target)


def test_ignore_index_with_probability_targets_is_refused_as_pytorch():
    with pytest.raises(ValueError, match="ignore_index=0 applies to integer labels"):
        nn.CrossEntropyLoss(ignore_index=0)(nv.tensor(S), P)


# ------------------------------------------------------------------ 4b. pos_weight
X = RNG.standard_normal((5, 3)) * 3
T = RNG.uniform(0.05, 0.95, (5, 3))
PW = np.array([3.0, 0.5, 1.0])


def expected_bce(x, t, p, reduction="mean"):
    sig = 1 / (1 + np.exp(-x))
    per = -(p * t * np.log(sig) + (1 - t) * np.log(1 - sig))
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("pos_weight", [PW, 2.0, np.array([0.0])])
def test_pos_weight_gives_pytorchs_loss_and_gradients(reduction, pos_weight):
    out = F.binary_cross_entropy_with_logits(f64(X), T, reduction, pos_weight=pos_weight)
    np.testing.assert_allclose(out.data, expected_bce(X, T, pos_weight, reduction), rtol=1e-10)
    layer = nn.BCEWithLogitsLoss(reduction, pos_weight=nv.tensor(pos_weight))
    np.testing.assert_allclose(layer(f64(X), T).data, out.data, rtol=1e-12)
    # the logits and a target that requires grad, against finite differences in float64
    assert nv.gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(
        x, t, reduction, pos_weight=pos_weight), X, T)


def test_pos_weight_one_is_the_plain_loss_and_survives_get_config():
    plain = F.binary_cross_entropy_with_logits(f64(X), T)
    ones = F.binary_cross_entropy_with_logits(f64(X), T, pos_weight=np.ones(3))
    np.testing.assert_allclose(ones.data, plain.data, rtol=1e-14)
    layer = nn.BCEWithLogitsLoss("sum", pos_weight=PW)
    again = nn.BCEWithLogitsLoss(**layer.get_config())
    np.testing.assert_array_equal(again.pos_weight, PW)
    assert nn.BCEWithLogitsLoss().get_config() == {"reduction": "mean"}


@pytest.mark.parametrize("pos_weight,error,message", [
    (np.ones(2), ValueError, r"pos_weight of shape \(2,\) does not broadcast to the input's "
                             r"shape \(5, 3\)"),
    ([1.0, -2.0, 1.0], ValueError, "finite numbers >= 0"),
    ("3", TypeError, "pos_weight must be a number or an array of numbers"),
])
def test_bad_pos_weight_gets_a_clear_error(pos_weight, error, message):
    with pytest.raises(error, match=message):
        F.binary_cross_entropy_with_logits(nv.tensor(X), T, pos_weight=pos_weight)


# --------------------------------------------- 4c. unknown keywords: the layers' message
@pytest.mark.parametrize("call,message", [
    (lambda: F.binary_cross_entropy_with_logits(nv.tensor(X), T, weight=PW),
     r"binary_cross_entropy_with_logits does not support weight \(it takes reduction and "
     r"pos_weight\)"),
    (lambda: F.cross_entropy(nv.tensor(S), LABELS, pos_weight=PW),
     "cross_entropy does not support pos_weight"),
    (lambda: F.cross_entropy(nv.tensor(S), P, size_average=True),
     "cross_entropy does not support size_average"),
    (lambda: F.nll_loss(nv.tensor(S), LABELS, size_average=True), "nll_loss does not support size_average"),
    (lambda: F.binary_cross_entropy(nv.tensor(T), T, weight=T),
     "binary_cross_entropy does not support weight"),
    (lambda: F.mse_loss(nv.tensor(X), X, reduce=True), "mse does not support reduce"),
    (lambda: F.l1_loss(nv.tensor(X), X, size_average=False), "l1_loss does not support"),
    (lambda: F.smooth_l1_loss(nv.tensor(X), X, delta=1.0),
     r"smooth_l1_loss does not support delta \(it takes reduction and beta\)"),
    (lambda: F.huber_loss(nv.tensor(X), X, beta=1.0), "huber_loss does not support beta"),
    (lambda: F.hinge(nv.tensor(S), LABELS, p=2), "hinge does not support p"),
    (lambda: nn.HingeLoss(p=2), r"HingeLoss does not support p \(it takes margin"),
    (lambda: nn.SmoothL1Loss(weight=W), "SmoothL1Loss does not support weight"),
    (lambda: nn.HuberLoss(weight=W), "HuberLoss does not support weight"),
    (lambda: nn.BCEWithLogitsLoss(weight=PW),
     r"BCEWithLogitsLoss does not support weight \(it takes reduction and pos_weight\)"),
])
def test_unknown_keywords_are_named(call, message):
    with pytest.raises(TypeError, match=message):
        call()


# ------------------------------------------------------------ torch parity (optional)
def test_torch_parity():
    torch = pytest.importorskip("torch")
    for reduction in ("mean", "sum", "none"):
        for options in ({}, {"weight": W, "label_smoothing": 0.2}):
            tk = {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
            st = torch.tensor(S, requires_grad=True)
            pt = torch.tensor(P, requires_grad=True)
            ref = torch.nn.functional.cross_entropy(st, pt, reduction=reduction, **tk)
            ref.sum().backward()
            sn, pn = f64(S, True), f64(P, True)
            out = losses.cross_entropy(sn, pn, reduction, **options)
            out.sum().backward()
            np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
            np.testing.assert_allclose(sn.grad, st.grad.numpy(), atol=1e-12)
            np.testing.assert_allclose(pn.grad, pt.grad.numpy(), atol=1e-12)
        xt = torch.tensor(X, requires_grad=True)
        tt = torch.tensor(T, requires_grad=True)
        ref = torch.nn.functional.binary_cross_entropy_with_logits(
            xt, tt, reduction=reduction, pos_weight=torch.tensor(PW))
        ref.sum().backward()
        xn, tn = f64(X, True), f64(T, True)
        out = F.binary_cross_entropy_with_logits(xn, tn, reduction, pos_weight=PW)
        out.sum().backward()
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(xn.grad, xt.grad.numpy(), atol=1e-12)
        np.testing.assert_allclose(tn.grad, tt.grad.numpy(), atol=1e-12)


# --------------------------------------------------------------- 5. draw_graph's names
def _graph():
    x = nv.tensor(-2.0, requires_grad=True)
    y = nv.tensor(5.0, requires_grad=True)
    return x, y, x * y


@pytest.mark.parametrize("make_names,message", [
    (lambda x, y: {"x": x, "y": y}, r'\{tensor: "label"\}.*the wrong way round'),
    (lambda x, y: {x: 3}, r'labels in names must be strings, \{tensor: "label"\}.*got 3 \(int\)'),
    (lambda x, y: {1: "x"}, r'keys of names must be Tensors, \{tensor: "label"\}'),
    (lambda x, y: [x, y], r'names must be a dict \{tensor: "label"\}.*got a list'),
])
@pytest.mark.parametrize("format", ["dot", "svg"])
def test_draw_graph_refuses_names_in_the_wrong_form(make_names, message, format):
    x, y, f = _graph()
    with pytest.raises(TypeError, match=message):
        nv.draw_graph(f, format=format, names=make_names(x, y))
    # the expected form still labels the nodes
    dot = nv.draw_graph(f, names={x: "x", y: "y", f: "f"})
    assert "x: leaf" in dot and "y: leaf" in dot and "f: Mul" in dot
    assert "x: leaf" in nv.draw_graph(f, format="svg", names={x: "x"})
