"""nn.Module, containers and layers against PyTorch's behaviour (audit 9, r1).

Each test names the finding of /tmp/audit9/r1/report.md it covers. Expected values come
from independent NumPy computations or from nerve's own other path; no torch here.
"""
from collections import OrderedDict

import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn
import nerve.nn.functional as F
from nerve import optim


def f64(a):
    return nv.tensor(np.asarray(a, dtype=np.float64), dtype=nv.float64)


# ------------------------------------------------- 1. underscore-named members
class _PrivateNet(nn.Module):
    def __init__(self):
        super().__init__()
        self._body = nn.Linear(3, 4)
        self._drop = nn.Dropout(0.5)
        self._scale = nn.Parameter(np.ones(4))
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self._drop(self._body(x)) * self._scale)


def test_f1_private_submodules_and_parameters_are_registered():
    n = _PrivateNet()
    names = [k for k, _ in n.named_parameters()]
    assert names == ["_body.weight", "_body.bias", "_scale", "head.weight", "head.bias"]
    assert n.num_parameters() == 3 * 4 + 4 + 4 + 4 + 1
    assert list(n.state_dict()) == names
    assert [k for k, _ in n.named_children()] == ["_body", "_drop", "head"]
    n.eval()
    assert n._drop.training is False
    x = np.ones((2, 3))
    np.testing.assert_array_equal(n(x).data, n(x).data)  # dropout really off
    n.double()
    assert n._body.weight.dtype == np.float64 and n._scale.dtype == np.float64
    # the optimizer trains them
    n.train().float()
    opt = optim.SGD(n.parameters(), lr=0.1)
    w0 = n._body.weight.data.copy()
    n._drop.p = 0.0
    (n(x) ** 2).sum().backward()
    opt.step()
    assert not np.array_equal(w0, n._body.weight.data)


def test_f1_internal_bookkeeping_is_not_registered():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    s(np.ones((2, 2)))  # makes the fusion plan (a private tuple holding the layers)
    assert [k for k, _ in s.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    md = nn.ModuleDict({"a": nn.Linear(2, 2)})
    assert [k for k, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    ml = nn.ModuleList([nn.Linear(2, 2)])
    assert [k for k, _ in ml.named_parameters()] == ["0.weight", "0.bias"]
    handle = s[0].register_forward_hook(lambda m, i, o: None)
    assert [k for k, _ in s.named_parameters()][:2] == ["0.weight", "0.bias"]
    handle.remove()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self._cache = [self.fc]   # a private plain list: bookkeeping, not walked

        def forward(self, x):
            return self.fc(x)

    assert [k for k, _ in Net().state_dict().items()] == ["fc.weight", "fc.bias"]


def test_f1_add_module_takes_private_names_but_not_internal_attributes():
    class Net(nn.Module):
        def forward(self, x):
            return x

    net = Net()
    net.add_module("_extra", nn.Linear(2, 2))
    assert [k for k, _ in net.named_parameters()] == ["_extra.weight", "_extra.bias"]
    for taken in ("_dtype", "_buffer_names", "training", "forward"):
        with pytest.raises(ValueError, match="taken"):
            net.add_module(taken, nn.ReLU())


# ---------------------------------------- 2. replacing a named child by attribute
def _od():
    return nn.Sequential(OrderedDict([("fc1", nn.Linear(2, 3)), ("act", nn.ReLU()),
                                      ("fc2", nn.Linear(3, 1))]))


def test_f2_sequential_attribute_assignment_replaces_the_child():
    od = _od()
    new = nn.Linear(2, 3, init="zeros")
    od.fc1 = new
    assert od[0] is new and od.fc1 is new and len(od) == 3
    assert [k for k, _ in od.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight",
                                                    "fc2.bias"]
    assert repr(od).count("(fc1)") == 1
    x = np.ones((1, 2))
    np.testing.assert_allclose(od(x).data, np.broadcast_to(od.fc2.bias.data, (1, 1)))
    od2 = _od()
    od.load_state_dict(od2.state_dict())
    np.testing.assert_array_equal(od(x).data, od2(x).data)
    np.testing.assert_array_equal(od.state_dict()["fc1.weight"], od[0].weight.data)


def test_f2_setattr_by_position_and_new_names_on_sequential():
    s = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    layer = nn.Linear(2, 2)
    setattr(s, "0", layer)
    assert s[0] is layer and [k for k, _ in s.named_parameters()] == ["0.weight", "0.bias"]
    s.extra = nn.Tanh()           # as in PyTorch: a new child, run by forward
    assert len(s) == 3 and isinstance(s[2], nn.Tanh) and s.extra is s[2]
    x = np.array([[0.5, -1.0]])
    np.testing.assert_allclose(s(x).data, np.tanh(np.maximum(x @ layer.weight.data
                                                               + layer.bias.data, 0)),
                               rtol=1e-6)
    with pytest.raises(TypeError, match="child module 'fc1'"):
        _od().fc1 = 3
    od = _od()
    del od.act
    assert [type(m).__name__ for m in od] == ["Linear", "Linear"]
    assert od.get_config() == {"names": ["fc1", "fc2"]}


def test_f2_moduledict_attribute_assignment_replaces_the_entry():
    md = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    new = nn.Linear(2, 2)
    md.a = new
    assert md["a"] is new and md.a is new and list(md) == ["a", "b"]
    assert [k for k, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    md.c = nn.Tanh()
    assert list(md) == ["a", "b", "c"] and md["c"] is md.c
    del md.b
    assert list(md) == ["a", "c"]
    with pytest.raises(TypeError, match="child module 'a'"):
        md.a = "not a module"


# ------------------------------------------------- 3. load_state_dict is in place
def test_f3_backward_after_load_state_dict_raises():
    lin = nn.Linear(2, 2, dtype=nv.float64)
    x = f64([[1.0, 2.0]])
    x.requires_grad = True
    y = lin(x)
    lin.load_state_dict({"weight": 5 * np.eye(2), "bias": np.zeros(2)})
    with pytest.raises(RuntimeError, match="changed in place"):
        y.sum().backward()
    # a forward after the load is fine and uses the loaded weights
    x2 = f64([[1.0, 2.0]])
    x2.requires_grad = True
    lin(x2).sum().backward()
    np.testing.assert_allclose(x2.grad, [[5.0, 5.0]])


def test_f3_load_after_optimizer_writes_into_flat_parameters_and_is_counted():
    nv.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.SGD(net.parameters(), lr=0.1)
    x = np.ones((5, 3))
    (net(x) ** 2).sum().backward()
    opt.step()
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    y = net(x)
    net.load_state_dict(other.state_dict())
    np.testing.assert_array_equal(net(x).data, other(x).data)
    with pytest.raises(RuntimeError, match="changed in place"):
        y.sum().backward()
    opt.zero_grad()
    (net(x) ** 2).sum().backward()
    w = net[0].weight.data.copy()
    opt.step()  # the optimizer still updates the loaded parameters
    assert not np.array_equal(w, net[0].weight.data)


# ------------------------------------------------- 4. assigning to a parameter slot
def test_f4_assigning_a_non_parameter_to_a_parameter_slot_is_a_type_error():
    lin = nn.Linear(3, 2)
    with pytest.raises(TypeError, match=r"'weight'.*Parameter or None"):
        lin.weight = nv.tensor(np.ones((3, 2)), requires_grad=True)
    with pytest.raises(TypeError, match=r"'weight'.*ndarray"):
        lin.weight = np.ones((3, 2))
    assert isinstance(lin.weight, nn.Parameter)
    lin.weight = nn.Parameter(np.ones((3, 2)))  # a Parameter is fine
    np.testing.assert_array_equal(lin.weight.data, np.ones((3, 2)))
    lin.bias = None                               # None too, as in PyTorch
    assert [k for k, _ in lin.named_parameters()] == ["weight"]
    np.testing.assert_allclose(lin(np.ones((1, 3))).data, [[3.0, 3.0]])


# ----------------------------------------------- 5. __call__ passes inputs through
class _Echo(nn.Module):
    def forward(self, x, *rest):
        self.seen = x
        return x


def test_f5_call_passes_structured_inputs_through():
    a, b = nv.tensor(np.ones((3, 2))), nv.tensor(np.zeros((3, 2)))

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, pair):
            if isinstance(pair, dict):
                first, second = pair["a"], pair["b"]
            else:
                first, second = pair
            return self.fc(first) + self.fc(second)

    two = Two()
    ref = two.fc(a) + two.fc(b)
    np.testing.assert_array_equal(two((a, b)).data, ref.data)
    np.testing.assert_array_equal(two({"a": a, "b": b}).data, ref.data)
    e = _Echo()
    for value in ((a, b), {"a": a}, None, [a, b]):
        assert e(value) is value
    # Numeric data becomes a float tensor, as it always has (a uint8 image batch can
    # then be scaled with x / 255 in forward); integer tensors too.
    for value in (np.array([0, 2]), nv.tensor([0, 2]), 3):
        out = e(value)
        assert isinstance(out, nv.Tensor) and out.dtype == np.float32


def test_f5_call_still_converts_float_data_and_nerve_layers_take_integers():
    e = _Echo()
    out = e(np.ones((2, 2), dtype=np.float64))
    assert isinstance(out, nv.Tensor) and out.dtype == np.float32
    out = e([[1, 2], [3, 4]])                       # typed-in data: a float tensor
    assert isinstance(out, nv.Tensor) and out.dtype == np.float32
    assert isinstance(e(1.5), nv.Tensor)
    t = nv.tensor(np.ones(2))
    assert e(t) is t                                # the fast path: the tensor itself
    lin = nn.Linear(2, 1, init="zeros")
    lin.bias.data[...] = 1
    np.testing.assert_array_equal(lin(np.array([[1, 2]])).data, [[1.0]])   # int array
    np.testing.assert_array_equal(lin(nv.tensor([[1, 2]])).data, [[1.0]])  # int tensor
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert seq(np.array([[0, 1], [1, 0]])).dtype == np.float32
    assert nn.ReLU()(3).dtype == np.float32


# ----------------------------------------------------- 6. container operations
def _three():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def _kinds(s):
    return [type(m).__name__ for m in s]


def test_f6_sequential_insert_pop_del_setitem_add():
    s = _three()
    s.insert(1, nn.Tanh())
    assert _kinds(s) == ["Linear", "Tanh", "ReLU", "Linear"]
    s.insert(-1, nn.Sigmoid())
    assert _kinds(s) == ["Linear", "Tanh", "ReLU", "Sigmoid", "Linear"]
    last = s[-1]
    assert s.pop(-1) is last and len(s) == 4
    del s[-1]
    assert _kinds(s) == ["Linear", "Tanh", "ReLU"]
    s[1] = nn.ELU()
    s[-1] = nn.Sigmoid()
    assert _kinds(s) == ["Linear", "ELU", "Sigmoid"]
    del s[1:]
    assert _kinds(s) == ["Linear"]
    with pytest.raises(IndexError, match="out of range"):
        del s[5]
    with pytest.raises(IndexError, match="out of range"):
        s.insert(7, nn.ReLU())
    with pytest.raises(TypeError, match="Module"):
        s[0] = 3
    a, b = _three(), nn.Sequential(nn.Tanh())
    c = a + b
    assert isinstance(c, nn.Sequential) and _kinds(c) == ["Linear", "ReLU", "Linear", "Tanh"]
    assert c[0] is a[0] and len(a) == 3
    with pytest.raises(TypeError, match="Sequential"):
        a + [nn.ReLU()]
    a += b
    assert len(a) == 4


def test_f6_edits_reach_forward_and_parameter_names():
    nv.manual_seed(0)
    s = _three()
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    s(x)  # the fused plan is made
    s.insert(2, nn.Tanh())
    l0, l3 = s[0], s[3]
    ref = np.tanh(np.maximum(x @ l0.weight.data + l0.bias.data, 0)) @ l3.weight.data \
        + l3.bias.data
    np.testing.assert_allclose(s(x).data, ref, rtol=1e-5, atol=1e-6)
    assert [k for k, _ in s.named_parameters()] == ["0.weight", "0.bias", "3.weight", "3.bias"]
    del s[1:3]
    np.testing.assert_allclose(s(x).data, (x @ l0.weight.data + l0.bias.data) @ l3.weight.data
                               + l3.bias.data, rtol=1e-5, atol=1e-6)
    od = _od()
    od.insert(1, nn.Tanh())
    del od[2]
    assert od._names == ["fc1", "1", "fc2"]
    assert [k for k, _ in od.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight",
                                                    "fc2.bias"]


def test_f6_modulelist_operations_and_moduledict_attributes():
    ml = nn.ModuleList([nn.Linear(2, 2)])
    ml.insert(0, nn.ReLU())
    ml[1] = nn.Tanh()
    assert _kinds(ml) == ["ReLU", "Tanh"]
    assert isinstance(ml.pop(), nn.Tanh) and len(ml) == 1
    del ml[0]
    assert len(ml) == 0
    both = nn.ModuleList([nn.ReLU()]) + nn.ModuleList([nn.Tanh()])
    assert isinstance(both, nn.ModuleList) and _kinds(both) == ["ReLU", "Tanh"]
    both += [nn.Sigmoid()]
    assert len(both) == 3
    md = nn.ModuleDict({"a": nn.Linear(2, 2)})
    assert md.a is md["a"]
    with pytest.raises(AttributeError, match="'b'"):
        md.b  # noqa: B018


# ------------------------------------------------------------------- 7. PReLU
def test_f7_prelu_scalar_input_keeps_its_shape():
    p = nn.PReLU()
    out = p(nv.tensor(-2.0))
    assert out.shape == () and out.item() == pytest.approx(-0.5)
    assert p.derivative(np.array(-2.0)).shape == ()
    assert nn.PReLU()(nv.tensor([-2.0, 3.0])).shape == (2,)
    assert p.num_parameters() == 1 and list(p.state_dict()) == ["alpha"]
    assert p.weight is p.alpha       # PyTorch's name, an alias


def test_f7_prelu_derivative_on_ncl_input_matches_autograd():
    p = nn.PReLU(3, dtype=nv.float64)
    p.alpha.data[...] = [0.1, 0.2, 0.3]
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    xt = f64(x)
    xt.requires_grad = True
    p(xt).sum().backward()
    np.testing.assert_allclose(p.derivative(x), xt.grad)
    np.testing.assert_allclose(p.derivative(x[:, :, 0]), xt.grad[:, :, 0])
    with pytest.raises(ValueError, match=r"PReLU\(3\)"):
        p.derivative(np.ones((2, 4)))


def test_f7_loading_torch_names_gives_a_rename_hint():
    with pytest.raises(ValueError, match=r"rename.*'weight' to 'alpha'"):
        nn.PReLU(2).load_state_dict({"weight": np.ones(2)})
    with pytest.raises(ValueError, match=r"rename.*'weight' to 'gamma'.*num_batches_tracked"):
        nn.BatchNorm1d(2).load_state_dict({"weight": np.ones(2), "bias": np.zeros(2),
                                           "running_mean": np.zeros(2),
                                           "running_var": np.ones(2),
                                           "num_batches_tracked": np.array(0)})


# --------------------------------------------------------------- 8. BatchNorm1d
def _bn_ref(x, axes):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5)


def test_f8_batchnorm_affine_false_and_no_running_stats():
    x = np.random.default_rng(2).standard_normal((6, 3)) * 3 + 1
    bn = nn.BatchNorm1d(3, affine=False, dtype=nv.float64)
    assert bn.gamma is None and bn.weight is None and bn.num_parameters() == 0
    assert list(bn.state_dict()) == ["running_mean", "running_var"]
    np.testing.assert_allclose(bn(f64(x)).data, _bn_ref(x, 0), rtol=1e-10)
    bn2 = nn.BatchNorm1d(3, track_running_stats=False, dtype=nv.float64)
    assert bn2.running_mean is None and list(bn2.state_dict()) == ["gamma", "beta"]
    bn2.eval()   # no running statistics: the batch's, in eval mode too (PyTorch)
    np.testing.assert_allclose(bn2(f64(x)).data, _bn_ref(x, 0), rtol=1e-10)
    bn3 = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert bn3.state_dict() == {} and bn3(np.ones((2, 3))).dtype == np.float32
    xt = f64(x)
    xt.requires_grad = True
    bn(xt).sum().backward()  # the gradient flows to x without gamma and beta
    assert xt.grad.shape == x.shape


def test_f8_batchnorm_momentum_none_is_a_cumulative_average():
    rng = np.random.default_rng(3)
    bn = nn.BatchNorm1d(2, momentum=None, dtype=nv.float64)
    batches = [rng.standard_normal((4, 2)) + i for i in range(3)]
    for b in batches:
        bn(f64(b))
    np.testing.assert_allclose(bn.running_mean, np.mean([b.mean(0) for b in batches], 0))
    np.testing.assert_allclose(bn.running_var,
                               np.mean([b.var(0, ddof=1) for b in batches], 0))
    assert int(bn.num_batches_tracked) == 3
    assert "num_batches_tracked" in bn.state_dict()   # the count is part of the state
    assert "num_batches_tracked" not in nn.BatchNorm1d(2).state_dict()
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(2, momentum=1.5)


def test_f8_batchnorm_ncl_input_matches_numpy():
    x = np.random.default_rng(4).standard_normal((3, 2, 5)) * 2 - 1
    bn = nn.BatchNorm1d(2, dtype=nv.float64)
    bn.gamma.data[...] = [2.0, 0.5]
    bn.beta.data[...] = [1.0, -1.0]
    xt = f64(x)
    xt.requires_grad = True
    out = bn(xt)
    ref = _bn_ref(x, (0, 2)) * np.array([2.0, 0.5])[:, None] + np.array([1.0, -1.0])[:, None]
    np.testing.assert_allclose(out.data, ref, rtol=1e-10)
    m = x.transpose(0, 2, 1).reshape(-1, 2)
    np.testing.assert_allclose(bn.running_mean, 0.1 * m.mean(0))
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * m.var(0, ddof=1))
    g = np.random.default_rng(5).standard_normal(x.shape)
    out.backward(g)
    # the same layer on the (N·L, C) layout gives the same input gradient
    bn2 = nn.BatchNorm1d(2, dtype=nv.float64)
    bn2.load_state_dict({"gamma": [2.0, 0.5], "beta": [1.0, -1.0],
                         "running_mean": np.zeros(2), "running_var": np.ones(2)})
    flat = f64(m)
    flat.requires_grad = True
    bn2(flat).backward(g.transpose(0, 2, 1).reshape(-1, 2))
    np.testing.assert_allclose(xt.grad, flat.grad.reshape(3, 5, 2).transpose(0, 2, 1),
                               rtol=1e-9, atol=1e-12)
    bn.eval()
    np.testing.assert_allclose(
        bn(f64(x)).data,
        (x - bn.running_mean[:, None]) / np.sqrt(bn.running_var[:, None] + 1e-5)
        * np.array([2.0, 0.5])[:, None] + np.array([1.0, -1.0])[:, None], rtol=1e-10)
    with pytest.raises(ValueError, match=r"\(N, 2\) or \(N, 2, L\)"):
        bn(f64(np.ones((2, 3))))


def test_f8_batchnorm_new_options_round_trip_through_save(tmp_path):
    bn = nn.BatchNorm1d(3, momentum=None, affine=False)
    bn(np.random.default_rng(0).standard_normal((4, 3)))
    nv.save(nn.Sequential(bn), tmp_path / "bn.npz")
    back = nv.load(tmp_path / "bn.npz")[0]
    assert back.momentum is None and back.gamma is None and back.track_running_stats
    np.testing.assert_array_equal(back.running_mean, bn.running_mean)
    assert int(back.num_batches_tracked) == 1


# ------------------------------------------------------- 9. F.linear's layout
def test_f9_functional_linear_documents_the_in_out_layout():
    assert "(in, out)" in F.linear.__doc__
    x, w = f64([[1.0, 2.0]]), f64([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(F.linear(x, w).data, x.data @ w.data)


# ------------------------------------------------ 10. slices keep the names
def test_f10_sequential_slices_keep_child_names():
    s = _three()
    assert list(s[1:].state_dict()) == ["2.weight", "2.bias"]
    assert list(s[2:].state_dict()) == ["2.weight", "2.bias"]
    assert list(s[::2].state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert "(2): Linear" in repr(s[1:])
    other = _three()
    missing, unexpected = other.load_state_dict(s[2:].state_dict(), strict=False)
    assert unexpected == [] and missing == ["0.weight", "0.bias"]
    np.testing.assert_array_equal(other[2].weight.data, s[2].weight.data)
    sub = s[1:]
    assert isinstance(sub[0], nn.ReLU) and sub[-1] is s[2] and len(sub) == 2
    x = np.ones((2, 4))
    np.testing.assert_array_equal(sub(np.ones((2, 4))).data, s[2](s[1](x)).data)


# ----------------------------------------------------- 11. self.dtype = ...
def test_f11_subclass_can_set_dtype():
    class Net(nn.Module):
        def __init__(self, dtype=None):
            super().__init__()
            self.dtype = dtype
            self.fc = nn.Linear(2, 2, dtype=dtype)

        def forward(self, x):
            return self.fc(x)

    net = Net(nv.float64)
    assert net.dtype == np.float64 and net(np.ones((1, 2))).dtype == np.float64
    assert Net().dtype == np.float32

    class NoParams(nn.Module):
        def __init__(self):
            super().__init__()
            self.dtype = nv.float64

        def forward(self, x):
            return x

    assert NoParams().dtype == np.float64 and NoParams()(np.ones(2)).dtype == np.float64
    with pytest.raises(TypeError, match="float32 or float64"):
        NoParams().dtype = "int8"


# ---------------------------------------------------------- 12. to(device, dtype)
def test_f12_to_device_and_dtype_forms():
    for call in (lambda m: m.to("cpu", dtype=nv.float64), lambda m: m.to("cpu", nv.float64),
                 lambda m: m.to(device="cpu", dtype=nv.float64), lambda m: m.to(nv.float64)):
        m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
        assert call(m) is m
        assert m[0].weight.dtype == np.float64 and m[1].running_mean.dtype == np.float64
    m = nn.Linear(2, 2)
    assert m.to("cpu") is m and m.weight.dtype == np.float32
    with pytest.raises(ValueError, match="cuda"):
        m.to("cuda", nv.float64)
    with pytest.raises(TypeError):
        m.to(nv.float64, "cpu")
    with pytest.raises(TypeError, match="float32 or float64"):
        m.half()


# ----------------------------------------------------------- 13. apply's order
def test_f13_apply_visits_children_first():
    order = []
    nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU())).apply(
        lambda mod: order.append(type(mod).__name__))
    assert order == ["Linear", "ReLU", "Sequential", "Sequential"]
    shared = nn.Linear(1, 1)
    seen = []
    nn.Sequential(shared, nn.ReLU(), shared).apply(seen.append)
    assert seen.count(shared) == 1


# --------------------------------------------------------- 14. smaller API gaps
def test_f14_recurse_prefix_buffers_and_get_submodule():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(np.ones(2))
            self.body = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))

        def forward(self, x):
            return self.body(x) * self.scale

    net = Net()
    assert [k for k, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [id(p) for p in net.parameters(recurse=False)] == [id(net.scale)]
    assert len(list(net.parameters(recurse=True))) == 5
    assert list(net.state_dict(prefix="m.")) == ["m." + k for k in net.state_dict()]
    assert [k for k, _ in net.named_buffers()] == [
        "body.1.running_mean", "body.1.running_var", "body.1.num_batches_tracked"]
    assert [b is net.body[1].running_mean for b in net.buffers()] == [True, False, False]
    assert "body.1.num_batches_tracked" not in net.state_dict()  # saved with momentum=None
    assert list(net.named_buffers(recurse=False)) == []
    assert net.get_submodule("body.1") is net.body[1]
    assert net.get_submodule("") is net
    assert net.get_parameter("body.0.weight") is net.body[0].weight
    with pytest.raises(AttributeError, match="'2'"):
        net.get_submodule("body.2")
    sd = net.state_dict(keep_vars=True)
    assert sd["scale"] is net.scale


def test_f14_register_buffer_persistent_false_and_none():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.register_buffer("tmp", np.zeros(2), persistent=False)
            self.register_buffer("maybe", None)
            self.register_buffer("kept", np.ones(2))

        def forward(self, x):
            return self.fc(x)

    net = Net()
    assert list(net.state_dict()) == ["fc.weight", "fc.bias", "kept"]
    assert [k for k, _ in net.named_buffers()] == ["tmp", "kept"]
    net.load_state_dict(net.state_dict())
    net.double()
    assert net.tmp.dtype == np.float64 and net.maybe is None
    net.maybe = np.ones(3)   # a buffer slot that is filled later
    assert [k for k, _ in net.named_buffers()] == ["tmp", "maybe", "kept"]
    with pytest.raises(TypeError, match="NumPy array"):
        net.register_buffer("bad", "text")


def test_f14_layer_arguments_as_pytorch():
    assert nn.Linear(2, 2, device="cpu").weight.shape == (2, 2)
    assert nn.BatchNorm1d(2, device="cpu").num_features == 2
    assert nn.PReLU(device="cpu").num_slopes == 1
    with pytest.raises(ValueError, match="cuda"):
        nn.Linear(2, 2, device="cuda")
    ident = nn.Identity(54, unused=0.1)
    x = nv.tensor(np.ones(3))
    assert ident(x) is x
    x = nv.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert nn.Flatten(1, 2)(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Flatten(-2)(x).shape == (2, 12)
    assert nn.Flatten(-3, -2)(x).shape == (6, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    np.testing.assert_array_equal(nn.Flatten(0, 1)(x).data, x.data.reshape(6, 4))
    with pytest.raises(ValueError, match="end_dim"):
        nn.Flatten(2, 1)(x)
    with pytest.raises(ValueError, match="start_dim"):
        nn.Flatten(3)(x)
    assert nn.Flatten(1, 2).get_config() == {"start_dim": 1, "end_dim": 2}


# ----------------------------------------------------------- 15. Dropout(p=1)
def test_f15_dropout_p_one_gives_zeros():
    d = nn.Dropout(1.0)
    x = nv.tensor(np.ones((3, 4)), requires_grad=True)
    out = d(x)
    np.testing.assert_array_equal(out.data, np.zeros((3, 4)))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((3, 4)))
    d.eval()
    np.testing.assert_array_equal(d(x).data, x.data)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.Dropout(1.5)


def test_f9_functional_dropout_and_prelu():
    x = nv.tensor(np.ones((200, 50)))
    nv.manual_seed(0)
    a = F.dropout(x, 0.5, training=True)
    nv.manual_seed(0)
    b = nn.Dropout(0.5)(x)
    np.testing.assert_array_equal(a.data, b.data)
    assert F.dropout(x, 0.5, training=False) is x
    w = nv.tensor([0.1, 0.2])
    xs = np.array([[-1.0, 2.0], [3.0, -4.0]])
    np.testing.assert_allclose(F.prelu(nv.tensor(xs), w).data,
                               np.where(xs > 0, xs, xs * np.array([0.1, 0.2])), rtol=1e-6)


def test_f9_functional_batch_norm_matches_the_layer():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 3, 2))
    bn = nn.BatchNorm1d(3, dtype=nv.float64)
    mean, var = np.zeros(3), np.ones(3)
    out = F.batch_norm(f64(x), mean, var, training=True)
    np.testing.assert_allclose(out.data, bn(f64(x)).data, rtol=1e-12)
    np.testing.assert_allclose(mean, bn.running_mean)   # updated in place, as PyTorch
    np.testing.assert_allclose(var, bn.running_var)
    bn.eval()
    np.testing.assert_allclose(F.batch_norm(f64(x), mean, var).data, bn(f64(x)).data,
                               rtol=1e-12)
    np.testing.assert_allclose(F.batch_norm(f64(x[:, :, 0]), None, None).data,
                               _bn_ref(x[:, :, 0], 0), rtol=1e-10)


# ------------------------------------------------------------ ONNX of the new options
def test_onnx_exports_batchnorm_without_affine_and_refuses_what_it_cannot(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, affine=False), nn.ReLU(),
                          nn.Linear(6, 3))
    X = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    model.train()
    model(X)  # running statistics away from 0 and 1
    model.eval()
    path = tmp_path / "m.onnx"
    nv.export_onnx(model, path, X)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: X})[0]
    np.testing.assert_allclose(got, model(X).data, atol=1e-5)
    untracked = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, track_running_stats=False))
    with pytest.raises(ValueError, match=r"layer 1 \(BatchNorm1d\) keeps no running"):
        nv.export_onnx(untracked, tmp_path / "u.onnx", X)
    with pytest.raises(ValueError, match=r"layer 0 \(Flatten\).*start_dim >= 0"):
        nv.export_onnx(nn.Sequential(nn.Flatten(-1), nn.Linear(4, 2)), tmp_path / "f.onnx", X)
    assert not (tmp_path / "u.onnx").exists() and not (tmp_path / "f.onnx").exists()


def test_subclasses_of_nerve_layers_and_user_modules_still_get_float_tensors():
    """Review of the change: a subclass of a nerve layer, or a user's forward, got raw
    integer arrays (AttributeError deep inside, or x.float() failing on an ndarray)."""
    class MyLinear(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2

    class MyReLU(nn.ReLU):
        def forward(self, x):
            return super().forward(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(x.flatten(1) / 255)

    assert MyLinear(2, 3)(np.array([[1, 2]])).dtype == np.float32
    assert MyLinear(2, 3)(nv.tensor([[1, 2]])).dtype == np.float32
    assert MyReLU()(nv.tensor([[1, -2]])).dtype == np.float32
    assert Net()(np.ones((3, 2, 2), np.uint8)).shape == (3, 2)


def test_cumulative_batchnorm_keeps_its_batch_count_an_array_through_training():
    """Review: momentum=None turned num_batches_tracked into a NumPy scalar after one step,
    which dropped it from the buffers and broke load_state_dict (EarlyStopping's restore)."""
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, momentum=None), nn.ReLU(),
                          nn.Linear(6, 3))
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)).astype(np.float32), rng.integers(0, 3, 40)
    es = nv.EarlyStopping(monitor="loss", patience=50, restore_best_weights=True)
    nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=3,
           batch_size=10, callbacks=[es], progress=False)
    bn = model[1]
    assert isinstance(bn.num_batches_tracked, np.ndarray)
    assert int(bn.num_batches_tracked) == es.best_epoch * 4 + 4  # restored with the best
    assert "1.num_batches_tracked" in dict(model.named_buffers())


def test_load_state_dict_leaves_the_per_op_version_bookkeeping_off(tmp_path):
    """Review: marking loaded parameters through autograd.mark_changed switched every later
    op of the process onto the version-tracking path (16-20% slower steps after nv.load);
    a load now gives the parameters a new creation number, as an optimizer step does."""
    from nerve import autograd

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    nv.save(model, tmp_path / "m.npz")
    before = dict(autograd._changed)
    again = nv.load(tmp_path / "m.npz")
    again.load_state_dict(model.state_dict())
    assert autograd._changed == before
    out = again(np.ones((2, 3), np.float32)).sum()
    again.load_state_dict(model.state_dict())
    with pytest.raises(RuntimeError, match="load_state_dict after the op recorded it"):
        out.backward()


def test_review_mends_names_and_lookups():
    """Review of the change: a child named like a module attribute broke train()/eval();
    get_submodule failed on names named_parameters() gives for list attributes."""
    from collections import OrderedDict

    with pytest.raises(ValueError, match="'training' is taken by an attribute"):
        nn.Sequential(OrderedDict(training=nn.ReLU()))
    with pytest.raises(ValueError, match="'eval' is taken"):
        nn.ModuleDict({"eval": nn.ReLU()})
    seq = nn.Sequential(OrderedDict(fc1=nn.Linear(2, 2), act=nn.ReLU()))
    seq.eval()
    assert not seq.training and not seq.fc1.training

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = [nn.Linear(2, 2), nn.Linear(2, 3)]

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return x

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert "blocks.1.weight" in names
    assert net.get_submodule("blocks.1") is net.blocks[1]
    assert net.get_parameter("blocks.1.weight") is net.blocks[1].weight
    with pytest.raises(AttributeError, match="no sub-module 'nope'"):
        net.get_submodule("nope.1")
