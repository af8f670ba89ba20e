"""Audit 12: layers given a tuple or None, F.batch_norm's arguments, clip_grad_norm_'s
return value, nn.init's PyTorch names (constant_(val=), orthogonal_, trunc_normal_) and
cross-entropy / NLL on (N, C, d1, ...) scores."""
import math

import numpy as np
import pytest

import nerve as nv
import nerve.nn.functional as F
from nerve import nn
from nerve.optim.clip import NonFiniteNormError


def _rows(n=4, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _nested_tuple(x):
    return tuple(tuple(r) for r in x.tolist())


# ------------------------------------------------- 1. layers given a tuple or None
LAYERS = {
    "Linear": lambda: nn.Linear(3, 2),
    "BatchNorm1d": lambda: nn.BatchNorm1d(3),
    "PReLU": lambda: nn.PReLU(3),
    "Maxout": lambda: nn.Maxout(3, 2),
    "Dropout": lambda: nn.Dropout(0.5),
    "Softmax": lambda: nn.Softmax(dim=1),
    "LogSoftmax": lambda: nn.LogSoftmax(dim=1),
    "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "ReLU": nn.ReLU, "LeakyReLU": nn.LeakyReLU,
    "ELU": nn.ELU, "Step": nn.Step, "Flatten": nn.Flatten,
    "Sequential": lambda: nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_a_tuple_of_numbers_is_converted_as_a_list_is(name):
    x = _rows()
    nv.manual_seed(0)
    layer = LAYERS[name]()
    layer.eval()  # Dropout: the same output for both calls
    from_list = layer(x.tolist())
    from_tuple = layer(_nested_tuple(x))
    assert isinstance(from_tuple, nv.Tensor)
    assert from_tuple.dtype == from_list.dtype == np.float32
    np.testing.assert_array_equal(from_tuple.data, from_list.data)


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("bad", [None, "tensors", {"x": 1}], ids=["None", "tuple", "dict"])
def test_a_layer_refuses_what_is_not_data_naming_itself(name, bad):
    layer = LAYERS[name]()
    if bad == "tensors":
        bad = (nv.tensor(_rows()), nv.tensor(_rows()))
    first = "Linear" if name == "Sequential" else name
    with pytest.raises(TypeError, match=rf"^{first}\b.*expected a tensor.*got "):
        layer(bad)


def test_a_tuple_that_is_not_numbers_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"Linear\(2, 1\): .*tuple given is not numbers"):
        nn.Linear(2, 1)((("a", "b"),))
    with pytest.raises(TypeError, match="ReLU: .*tuple given is not numbers"):
        nn.ReLU()(((1.0, 2.0), (3.0,)))


def test_predict_and_model_agree_on_a_nested_tuple():
    x = _rows()
    model = nn.Sequential(nn.Linear(3, 2))
    np.testing.assert_array_equal(model(_nested_tuple(x)).data,
                                  nv.predict(model, _nested_tuple(x)))


def test_a_converted_tuple_keeps_the_gradient_path_of_the_layer():
    lin = nn.Linear(3, 2, dtype=nv.float64)
    out = lin(_nested_tuple(_rows().astype(np.float64)))
    out.sum().backward()
    np.testing.assert_allclose(lin.weight.grad, np.repeat(_rows().sum(0)[:, None], 2, 1),
                               rtol=1e-6)


# ------------------------------------------------- 2. F.batch_norm's arguments
def _bn_args():
    return nv.tensor(_rows()), np.zeros(3, np.float32), np.ones(3, np.float32)


def test_batch_norm_takes_weight_and_bias_as_lists_like_tensors():
    x, rm, rv = _bn_args()
    w, b = [1.0, 2.0, 3.0], [0.5, 0.0, -0.5]
    got = F.batch_norm(x, rm.copy(), rv.copy(), training=True, weight=w, bias=b)
    want = F.batch_norm(x, rm.copy(), rv.copy(), training=True,
                        weight=nv.tensor(w), bias=nv.tensor(b))
    np.testing.assert_array_equal(got.data, want.data)


@pytest.mark.parametrize("kw, error, fragment", [
    (dict(weight=["a", "b", "c"]), TypeError, "weight must be None or a float tensor"),
    (dict(bias=object()), TypeError, "bias must be None or a float tensor"),
    (dict(weight=[1.0, 2.0]), ValueError, r"weight must have shape \(3,\)"),
    (dict(weight=nv.tensor([1.0, 1.0, 1.0], dtype=nv.float64)), TypeError, "float64"),
    (dict(momentum="a"), TypeError, "batch_norm: momentum must be a number"),
    (dict(momentum=None), TypeError, "batch_norm: momentum must be a number"),
    (dict(momentum=1.5), ValueError, r"batch_norm: momentum must be in \[0, 1\]"),
    (dict(eps="a"), TypeError, "batch_norm: eps must be a number"),
    (dict(eps=0.0), ValueError, "batch_norm: eps must be positive"),
    (dict(training="yes"), TypeError, "batch_norm: training must be True or False"),
])
def test_batch_norm_bad_arguments_get_clear_errors(kw, error, fragment):
    x, rm, rv = _bn_args()
    kw = {"training": True, **kw}
    with pytest.raises(error, match=fragment):
        F.batch_norm(x, rm, rv, **kw)


def test_batch_norm_names_a_read_only_running_array_in_training_only():
    x, rm, rv = _bn_args()
    rm.setflags(write=False)
    with pytest.raises(ValueError, match="running_mean is updated in place.*read-only"):
        F.batch_norm(x, rm, rv, training=True)
    np.testing.assert_array_equal(rm, 0.0)
    out = F.batch_norm(x, rm, rv, training=False)  # eval only reads it
    np.testing.assert_allclose(out.data, x.data / np.sqrt(1 + 1e-5), rtol=1e-6)


def test_batch_norm_list_weight_gradient_of_the_input_matches_finite_differences():
    x = nv.tensor(_rows(5, 3, seed=2), dtype=nv.float64, requires_grad=True)
    assert nv.gradcheck(lambda v: F.batch_norm(v, None, None, weight=[0.5, 2.0, 1.0],
                                               bias=[0.1, 0.2, 0.3]), x)


# ------------------------------------------------- 3. clip_grad_norm_
def _param(grad, dtype=np.float32):
    p = nn.Parameter(np.zeros(len(grad)), dtype=dtype)
    p.grad = np.array(grad, dtype=dtype)
    return p


def test_clip_grad_norm_returns_a_0d_tensor_with_item_and_float():
    p = _param([3.0, 4.0])
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert isinstance(total, nv.Tensor) and total.shape == ()
    assert total.dtype == np.float32
    assert total.item() == pytest.approx(5.0) and float(total) == pytest.approx(5.0)
    assert f"{total:.3f}" == "5.000"
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-5)
    q = _param([1.0, 0.0], np.float64)
    assert nn.utils.clip_grad_norm_(q, 10.0).dtype == np.float64


def test_clip_grad_norm_without_gradients_returns_a_zero_tensor():
    total = nn.utils.clip_grad_norm_([nn.Parameter(np.zeros(2))], 1.0)
    assert isinstance(total, nv.Tensor) and total.item() == 0.0


@pytest.mark.parametrize("foreach", [None, True, False, np.bool_(True)])
def test_clip_grad_norm_accepts_torchs_foreach(foreach):
    p = _param([3.0, 4.0])
    assert nn.utils.clip_grad_norm_([p], 1.0, foreach=foreach).item() == pytest.approx(5.0)


def test_clip_grad_norm_refuses_a_foreach_that_is_no_bool():
    with pytest.raises(TypeError, match="foreach"):
        nn.utils.clip_grad_norm_([_param([1.0])], 1.0, foreach="yes")
    with pytest.raises(TypeError, match="error_if_nonfinite must be True or False"):
        nn.utils.clip_grad_norm_([_param([1.0])], 1.0, error_if_nonfinite="no")


def test_clip_grad_norm_nonfinite_raises_torchs_runtime_error_and_a_value_error():
    p = _param([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="nan or inf"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert issubclass(NonFiniteNormError, RuntimeError)
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert math.isinf(total.item())


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    grads = [np.array([3.0, -1.0], np.float32), np.array([0.5, 2.0, -4.0], np.float32)]
    ours = [_param(g) for g in grads]
    theirs = [torch.zeros(len(g), requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ours, 2.0, foreach=None)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, 2.0, foreach=None)
    assert total.shape == tuple(ttotal.shape)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-6)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-6)
    bad = [torch.zeros(2, requires_grad=True)]
    bad[0].grad = torch.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)


# ------------------------------------------------- 4. nn.init: val=, orthogonal_, trunc_normal_
def test_constant_takes_torchs_val_and_keeps_value():
    w = nn.Linear(4, 3).weight
    nn.init.constant_(w, val=0.3)
    np.testing.assert_array_equal(w.data, np.float32(0.3))
    nn.init.constant_(w, value=0.2)
    np.testing.assert_array_equal(w.data, np.float32(0.2))
    nn.init.constant_(w, 0.1)
    np.testing.assert_array_equal(w.data, np.float32(0.1))
    with pytest.raises(TypeError, match="both val and value"):
        nn.init.constant_(w, 0.1, value=0.2)
    with pytest.raises(TypeError, match="missing the value"):
        nn.init.constant_(w)


@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (3, 2, 4)])
def test_orthogonal_gives_orthonormal_vectors_on_the_smaller_side(shape):
    w = nv.tensor(np.zeros(shape), dtype=nv.float64)
    nn.init.orthogonal_(w, gain=2.0, seed=1)
    m = w.data.reshape(shape[0], -1)
    small = min(m.shape)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)


def test_orthogonal_is_seeded_by_nerves_generator_and_keeps_the_dtype():
    w = nn.Linear(5, 7).weight
    nv.manual_seed(3)
    nn.init.orthogonal_(w)
    first = w.data.copy()
    nv.manual_seed(3)
    nn.init.orthogonal_(w)
    np.testing.assert_array_equal(w.data, first)
    assert w.dtype == np.float32
    nn.init.orthogonal_(w, seed=4)
    assert not np.array_equal(w.data, first)
    with pytest.raises(ValueError, match="orthogonal_: needs a weight with 2 or more axes"):
        nn.init.orthogonal_(nn.Linear(5, 7).bias)


def _normal_cdf(z):
    return 0.5 * math.erfc(-z / math.sqrt(2))


@pytest.mark.parametrize("mean, std, a, b", [
    (0.0, 1.0, -2.0, 2.0),      # PyTorch's defaults
    (0.3, 0.5, -0.2, 1.0),      # asymmetric
    (0.0, 1.0, 3.0, 4.0),       # in the upper tail
    (1.0, 2.0, -9.0, -5.0),     # in the lower tail
])
def test_trunc_normal_stays_in_bounds_with_the_truncated_mean_and_variance(mean, std, a, b):
    w = nv.tensor(np.zeros(200_000), dtype=nv.float64)
    nn.init.trunc_normal_(w, mean=mean, std=std, a=a, b=b, seed=0)
    v = w.data
    assert v.min() >= a and v.max() <= b
    al, be = (a - mean) / std, (b - mean) / std
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    z = _normal_cdf(be) - _normal_cdf(al)
    t_mean = mean + std * (phi(al) - phi(be)) / z
    t_var = std ** 2 * (1 + (al * phi(al) - be * phi(be)) / z - ((phi(al) - phi(be)) / z) ** 2)
    se = math.sqrt(t_var / v.size)
    assert abs(v.mean() - t_mean) < 5 * se
    assert v.var() == pytest.approx(t_var, rel=0.02)
    # the CDF at the midpoint of [a, b] is the truncated normal's
    mid = (a + b) / 2
    want = (_normal_cdf((mid - mean) / std) - _normal_cdf(al)) / z
    assert np.mean(v <= mid) == pytest.approx(want, abs=0.005)


def test_trunc_normal_defaults_seeding_and_errors():
    w = nn.Linear(50, 40).weight
    nv.manual_seed(7)
    nn.init.trunc_normal_(w, std=0.02)
    first = w.data.copy()
    assert w.dtype == np.float32 and abs(first.std() - 0.02) < 0.002
    nv.manual_seed(7)
    nn.init.trunc_normal_(w, std=0.02)
    np.testing.assert_array_equal(w.data, first)
    with pytest.raises(ValueError, match="a < b"):
        nn.init.trunc_normal_(w, a=1.0, b=1.0)
    with pytest.raises(ValueError, match="std must be > 0"):
        nn.init.trunc_normal_(w, std=0.0)
    with pytest.raises(ValueError, match="too far out in the tail"):
        nn.init.trunc_normal_(w, a=-50.0, b=-45.0)


def test_init_parity_with_torch():
    torch = pytest.importorskip("torch")
    t = torch.empty(400, 300)
    torch.nn.init.orthogonal_(t, gain=1.5)
    w = nv.tensor(np.zeros((400, 300)), dtype=nv.float64)
    nn.init.orthogonal_(w, gain=1.5, seed=0)
    tm = t.double().numpy()
    np.testing.assert_allclose(w.data.T @ w.data, tm.T @ tm, atol=1e-5)
    t = torch.empty(200_000, dtype=torch.float64)
    torch.nn.init.trunc_normal_(t, mean=0.3, std=0.5, a=-0.2, b=1.0)
    w = nv.tensor(np.zeros(200_000), dtype=nv.float64)
    nn.init.trunc_normal_(w, mean=0.3, std=0.5, a=-0.2, b=1.0, seed=0)
    assert w.data.mean() == pytest.approx(t.mean().item(), abs=0.004)
    assert w.data.std() == pytest.approx(t.std().item(), rel=0.01)


# ------------------------------------------------- 5. losses on (N, C, d1, ...) scores
def _scores(shape=(2, 3, 4, 2), seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


def _labels(shape=(2, 4, 2), c=3, seed=2):
    return np.random.default_rng(seed).integers(0, c, shape)


def _flat(s):
    """(N, C, d...) → (N·d..., C), the reference layout."""
    return np.moveaxis(s, 1, -1).reshape(-1, s.shape[1])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [
    {}, {"weight": [0.5, 2.0, 1.0]}, {"ignore_index": 1}, {"label_smoothing": 0.2},
    {"weight": [0.5, 2.0, 1.0], "ignore_index": 0, "label_smoothing": 0.1},
], ids=["plain", "weight", "ignore", "smoothing", "all"])
def test_cross_entropy_per_position_equals_the_flattened_2d_loss(reduction, options):
    s, y = _scores(), _labels()
    got = F.cross_entropy(nv.tensor(s, dtype=nv.float64), y, reduction, **options)
    want = F.cross_entropy(nv.tensor(_flat(s), dtype=nv.float64), y.reshape(-1), reduction,
                           **options)
    if reduction == "none":
        assert got.shape == y.shape
        np.testing.assert_allclose(got.data.reshape(-1), want.data, rtol=1e-12)
    else:
        assert got.shape == ()
        assert got.item() == pytest.approx(want.item(), rel=1e-12)
    module = nn.CrossEntropyLoss(reduction, **options)(nv.tensor(s, dtype=nv.float64), y)
    np.testing.assert_array_equal(module.data, got.data)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"weight": [0.5, 2.0, 1.0]}, {"ignore_index": 2}],
                         ids=["plain", "weight", "ignore"])
def test_nll_per_position_equals_the_flattened_2d_loss(reduction, options):
    s, y = _scores((3, 3, 5)), _labels((3, 5))
    logp = nv.tensor(s, dtype=nv.float64).log_softmax(1)
    got = F.nll_loss(logp, y, reduction, **options)
    want = F.nll_loss(nv.tensor(_flat(logp.data), dtype=nv.float64), y.reshape(-1),
                      reduction, **options)
    np.testing.assert_allclose(got.data.reshape(-1), want.data.reshape(-1), rtol=1e-12)
    assert got.shape == (y.shape if reduction == "none" else ())
    module = nn.NLLLoss(reduction, **options)(logp, y)
    np.testing.assert_array_equal(module.data, got.data)
    # LogSoftmax + NLLLoss = CrossEntropyLoss, per position too
    ce = F.cross_entropy(nv.tensor(s, dtype=nv.float64), y, reduction, **options)
    np.testing.assert_allclose(got.data, ce.data, rtol=1e-12)


@pytest.mark.parametrize("options", [{}, {"weight": [0.5, 2.0, 1.0], "ignore_index": 1,
                                          "label_smoothing": 0.1}], ids=["plain", "all"])
def test_cross_entropy_per_position_gradient_matches_finite_differences(options):
    s, y = _scores((2, 3, 3)), _labels((2, 3))
    x = nv.tensor(s, dtype=nv.float64, requires_grad=True)
    assert nv.gradcheck(lambda v: F.cross_entropy(v, y, **options), x)
    assert nv.gradcheck(lambda v: F.cross_entropy(v, y, "none", **options).sum(), x)
    kw = {k: v for k, v in options.items() if k != "label_smoothing"}
    assert nv.gradcheck(lambda v: F.nll_loss(v.log_softmax(1), y, **kw), x)


def test_cross_entropy_per_position_on_class_probabilities():
    s = _scores()
    p = np.random.default_rng(5).dirichlet(np.ones(3), size=(2, 4, 2))   # (N, d1, d2, C)
    target = np.moveaxis(p, -1, 1)                                          # (N, C, d1, d2)
    got = F.cross_entropy(nv.tensor(s, dtype=nv.float64), target, "none")
    want = F.cross_entropy(nv.tensor(_flat(s), dtype=nv.float64), p.reshape(-1, 3), "none")
    np.testing.assert_allclose(got.data.reshape(-1), want.data, rtol=1e-12)
    assert got.shape == (2, 4, 2)
    x = nv.tensor(s, dtype=nv.float64, requires_grad=True)
    assert nv.gradcheck(lambda v: F.cross_entropy(v, target), x)


def test_per_position_bad_labels_name_the_original_shapes():
    s = nv.tensor(_scores())
    with pytest.raises(ValueError, match=r"scores of shape \(2, 3, 4, 2\).*labels of shape "
                                         r"\(2, 4, 2\).*got shape \(2, 4\)"):
        F.cross_entropy(s, _labels((2, 4)))
    with pytest.raises(ValueError, match=r"nll_loss: .*got shape \(2, 3, 4, 2\)"):
        F.nll_loss(s, np.zeros((2, 3, 4, 2)))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        F.cross_entropy(s, np.full((2, 4, 2), 3))
    with pytest.raises(ValueError, match="at least one example"):
        F.cross_entropy(nv.tensor(np.zeros((2, 3, 0))), np.zeros((2, 0), int))


def test_per_position_losses_match_torch():
    torch = pytest.importorskip("torch")
    s, y = _scores(), _labels()
    y[0, 0, 0] = 1
    w = np.array([0.5, 2.0, 1.0])
    for reduction in ("mean", "sum", "none"):
        for kw in ({}, {"weight": w, "ignore_index": 1, "label_smoothing": 0.2}):
            x = nv.tensor(s, dtype=nv.float64, requires_grad=True)
            out = F.cross_entropy(x, y, reduction, **kw)
            (out.sum() if reduction == "none" else out).backward()
            tx = torch.tensor(s, requires_grad=True)
            tkw = {k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()}
            tout = torch.nn.functional.cross_entropy(tx, torch.tensor(y), reduction=reduction,
                                                     **tkw)
            (tout.sum() if reduction == "none" else tout).backward()
            np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10)
            np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-14)
            kw.pop("label_smoothing", None)
            tkw.pop("label_smoothing", None)
            nll = F.nll_loss(nv.tensor(s, dtype=nv.float64).log_softmax(1), y, reduction, **kw)
            tnll = torch.nn.functional.nll_loss(torch.tensor(s).log_softmax(1),
                                                torch.tensor(y), reduction=reduction, **tkw)
            np.testing.assert_allclose(nll.data, tnll.numpy(), rtol=1e-10)
