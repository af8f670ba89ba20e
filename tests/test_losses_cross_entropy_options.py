"""CrossEntropyLoss's PyTorch options: class weights, ignore_index, label smoothing.

Values against the formulas written out by hand, gradients against finite
differences in float64, the relations to the plain loss, errors, and training."""
import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn

RNG = np.random.default_rng(11)
S = RNG.normal(size=(8, 4)) * 2
Y = np.array([0, 3, 1, 1, 2, 0, 3, 2])
W = np.array([0.5, 2.0, 1.0, 3.0])


def neg_log_softmax(s):
    shifted = s - s.max(axis=1, keepdims=True)
    return np.log(np.exp(shifted).sum(axis=1, keepdims=True)) - shifted


def by_hand(s, y, weight=None, ignore_index=-100, eps=0.0, reduction="mean"):
    n, c = s.shape
    w = np.ones(c) if weight is None else weight
    nll = neg_log_softmax(s)
    per = np.zeros(n)
    total_weight = 0.0
    for i in range(n):
        if y[i] == ignore_index:
            continue
        per[i] = (1 - eps) * w[y[i]] * nll[i, y[i]] + eps / c * (w * nll[i]).sum()
        total_weight += w[y[i]]
    return {"mean": per.sum() / total_weight if total_weight else np.nan, "sum": per.sum(),
            "none": per}[reduction]


OPTIONS = [dict(weight=W), dict(label_smoothing=0.2), dict(ignore_index=2),
           dict(weight=W, label_smoothing=0.1, ignore_index=1)]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_values_match_the_formula(options, reduction):
    got = nn.CrossEntropyLoss(reduction, **options)(nv.tensor(S, dtype=nv.float64), Y)
    want = by_hand(S, Y, options.get("weight"), options.get("ignore_index", -100),
                   options.get("label_smoothing", 0.0), reduction)
    np.testing.assert_allclose(got.data, want, rtol=1e-12)


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradients_match_finite_differences(options, reduction):
    loss = nn.CrossEntropyLoss(reduction, **options)
    assert nv.gradcheck(lambda s: loss(s, Y), nv.tensor(S, dtype=nv.float64, requires_grad=True))


def test_ignored_examples_are_left_out_entirely():
    labels = Y.copy()
    labels[[1, 4]] = -100  # PyTorch's default ignore_index
    keep = labels != -100
    x = nv.tensor(S, dtype=nv.float64, requires_grad=True)
    nn.CrossEntropyLoss()(x, labels).backward()
    x_kept = nv.tensor(S[keep], dtype=nv.float64, requires_grad=True)
    loss_kept = nn.CrossEntropyLoss()(x_kept, labels[keep])
    loss_kept.backward()
    np.testing.assert_allclose(nn.CrossEntropyLoss()(nv.tensor(S, dtype=nv.float64),
                                                     labels).item(), loss_kept.item())
    np.testing.assert_array_equal(x.grad[~keep], 0.0)
    np.testing.assert_allclose(x.grad[keep], x_kept.grad, rtol=1e-12)


def test_unit_weights_and_no_smoothing_give_the_plain_loss():
    x = nv.tensor(S, dtype=nv.float64)
    plain = nn.CrossEntropyLoss()(x, Y).item()
    np.testing.assert_allclose(nn.CrossEntropyLoss(weight=np.ones(4))(x, Y).item(), plain,
                               rtol=1e-13)
    # a weight on every label of one class scales that class's share of the mean
    same = np.full(8, 2)
    np.testing.assert_allclose(nn.CrossEntropyLoss(weight=W)(x, same).item(),
                               nn.CrossEntropyLoss()(x, same).item(), rtol=1e-13)


def test_label_smoothing_is_a_mix_with_the_uniform_target():
    eps = 0.3
    x = nv.tensor(S, dtype=nv.float64)
    uniform = neg_log_softmax(S).mean(axis=1).mean()
    want = (1 - eps) * nn.CrossEntropyLoss()(x, Y).item() + eps * uniform
    np.testing.assert_allclose(nn.CrossEntropyLoss(label_smoothing=eps)(x, Y).item(), want,
                               rtol=1e-12)
    # the gradient no longer vanishes at a confident correct prediction
    confident = nv.tensor([[50.0, 0.0, 0.0]], dtype=nv.float64, requires_grad=True)
    nn.CrossEntropyLoss(label_smoothing=0.1)(confident, [0]).backward()
    assert confident.grad[0, 0] > 0.05


def test_float32_stays_float32():
    x = nv.tensor(S.astype(np.float32), requires_grad=True)
    out = nn.CrossEntropyLoss(weight=W, label_smoothing=0.1)(x, Y)
    out.backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("make,error,message", [
    (lambda: nn.CrossEntropyLoss(W), TypeError, "pass class weights as weight="),
    (lambda: nn.CrossEntropyLoss(weight=[1.0, -1.0]), ValueError, "finite numbers >= 0"),
    (lambda: nn.CrossEntropyLoss(weight=[[1.0]]), ValueError, "1-D array"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=1.5), ValueError, r"in \[0, 1\]"),
    (lambda: nn.CrossEntropyLoss(ignore_index=1.5), TypeError, "ignore_index must be an int"),
    (lambda: nn.CrossEntropyLoss(weight=W[:3])(nv.tensor(S), Y), ValueError,
     "weight has 3 entries but the scores have 4 classes"),
    (lambda: nn.CrossEntropyLoss()(nv.tensor(S), np.full(8, -100)), ValueError,
     "every example is ignored"),
    (lambda: nn.CrossEntropyLoss(ignore_index=2)(nv.tensor(S), np.full(8, -100)), ValueError,
     r"labels must be in \[0, 4\)"),
    (lambda: nn.CrossEntropyLoss(weight=W)(nv.tensor(S), Y + 1), ValueError, "got label 4"),
    (lambda: nn.CrossEntropyLoss(pos_weight=W), TypeError, "does not support pos_weight"),
])
def test_bad_options_get_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_config_round_trips():
    loss = nn.CrossEntropyLoss("sum", weight=W, ignore_index=3, label_smoothing=0.05)
    again = nn.CrossEntropyLoss(**loss.get_config())
    x = nv.tensor(S, dtype=nv.float64)
    assert again(x, Y).item() == loss(x, Y).item()
    assert nn.CrossEntropyLoss().get_config() == {"reduction": "mean"}


def test_the_captured_step_refuses_options_and_fit_falls_back_to_the_eager_graph():
    X = RNG.normal(size=(96, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = nv.optim.SGD(model.parameters(), lr=0.1)
    weighted = nn.CrossEntropyLoss(weight=[1.0, 5.0])
    with pytest.raises(ValueError, match="without weight, ignore_index or label_smoothing"):
        nv.compile(model, weighted, opt)
    assert nv.compile(model, nn.CrossEntropyLoss(), opt) is not None
    history = nv.fit(model, X, y, loss=weighted, optimizer=opt, epochs=20, batch_size=32,
                     progress=False)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_class_weights_shift_the_decision_towards_the_heavy_class():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 1)).astype(np.float32)
    y = (X[:, 0] + rng.normal(scale=1.0, size=400) > 0).astype(np.int64)  # overlapping
    predicted_ones = {}
    for w1 in (1.0, 6.0):
        nv.manual_seed(0)
        model = nn.Sequential(nn.Linear(1, 2))
        nv.fit(model, X, y, loss=nn.CrossEntropyLoss(weight=[1.0, w1]), optimizer="sgd",
               lr=0.2, epochs=30, batch_size=50, progress=False)
        with nv.no_grad():
            predicted_ones[w1] = int((model(nv.tensor(X)).data.argmax(1) == 1).sum())
    assert predicted_ones[6.0] > predicted_ones[1.0] + 40


def test_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    labels = Y.copy()
    labels[5] = -100
    for options in ({}, dict(weight=W), dict(label_smoothing=0.2),
                    dict(weight=W, label_smoothing=0.1)):
        for reduction in ("mean", "sum", "none"):
            x = nv.tensor(S, dtype=nv.float64, requires_grad=True)
            out = nn.CrossEntropyLoss(reduction, **options)(x, labels)
            (out.sum() if reduction == "none" else out).backward()
            topts = {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
            xt = torch.tensor(S, requires_grad=True)
            ref = torch.nn.CrossEntropyLoss(reduction=reduction, **topts)(xt,
                                                                           torch.tensor(labels))
            (ref.sum() if reduction == "none" else ref).backward()
            np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12)
            np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-15)
