"""Module machinery: parameter discovery, state dicts, modes, dtype, repr and summary."""
import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn


def mlp(*sizes, act=nn.ReLU):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(np.zeros((2, 3)))
    assert isinstance(p, nv.Tensor) and p.requires_grad and p.dtype == nv.float32
    assert "Parameter containing" in repr(p)


def test_dotted_names_in_attribute_order():
    net = mlp(3, 4, 2)
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert net[0].weight.shape == (3, 4) and net[0].bias.shape == (4,)  # (in, out): X·W


def test_custom_module_walks_attributes_lists_and_nesting():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(np.ones(1))
            self.blocks = [nn.Linear(2, 2), nn.Linear(2, 2, bias=False)]
            self.head = nn.Sequential(nn.Linear(2, 1))
            self._hidden = nn.Linear(5, 5)      # private names are walked too (PyTorch's)

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return self.head(x) * self.scale

    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "head.0.weight",
        "head.0.bias", "_hidden.weight", "_hidden.bias"]
    assert net.num_parameters() == 1 + 6 + 4 + 3 + 30
    # parameters() walks without names but in the same order
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    assert len(list(net.children())) == 4
    assert net(np.ones((4, 2))).shape == (4, 1)


def test_shared_parameter_counted_once():
    lin = nn.Linear(2, 2)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    assert net.num_parameters() == 6
    assert [id(p) for p in net.parameters()] == [id(lin.weight), id(lin.bias)]
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]


@pytest.mark.parametrize("sizes, expected", [((3, 4, 2), 26), ((3, 4, 4, 1), 41),
                                             ((2, 1), 3)])
def test_parameter_counts(sizes, expected):
    assert mlp(*sizes).num_parameters() == expected


def test_num_parameters_trainable_only():
    net = mlp(3, 4, 2)
    net[0].weight.requires_grad = False
    assert net.num_parameters(trainable_only=True) == 26 - 12
    assert net.num_parameters() == 26


def test_zero_grad_clears_every_gradient():
    net = mlp(3, 4, 2)
    net(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip_copies_values():
    a, b = mlp(3, 4, 2), mlp(3, 4, 2)
    sd = a.state_dict()
    sd["0.weight"][...] = 7.0       # a copy: the model is unchanged
    assert not np.any(a[0].weight.data == 7.0)
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_state_dict_includes_buffers():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    assert list(net.state_dict()) == ["0.weight", "0.bias", "1.gamma", "1.beta",
                                      "1.running_mean", "1.running_var"]


def test_load_state_dict_reports_missing_unexpected_and_shapes():
    net = mlp(3, 4, 2)
    sd = net.state_dict()
    del sd["0.bias"]
    sd["9.weight"] = np.zeros(1)
    sd["2.weight"] = np.zeros((3, 3))
    before = net[2].weight.data.copy()
    with pytest.raises(ValueError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "missing keys: 0.bias" in msg and "unexpected keys: 9.weight" in msg
    assert "(3, 3)" in msg and "(4, 2)" in msg
    np.testing.assert_array_equal(net[2].weight.data, before)   # nothing changed


def test_load_state_dict_non_strict_loads_the_common_keys():
    a, b = mlp(3, 4, 2), mlp(3, 4, 2)
    sd = {"0.weight": a[0].weight.data, "extra": np.zeros(2)}
    b.load_state_dict(sd, strict=False)
    np.testing.assert_array_equal(b[0].weight.data, a[0].weight.data)
    with pytest.raises(TypeError, match="dict"):
        b.load_state_dict([1, 2])


def test_train_eval_recurse():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.ReLU()))
    net.eval()
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    assert len(list(net.modules())) == 5


def test_call_converts_arrays_to_the_parameter_dtype():
    net = mlp(3, 4, 2).double()
    assert net.dtype == nv.float64
    assert all(p.dtype == nv.float64 for p in net.parameters())
    out = net([[1, 2, 3]])
    assert out.dtype == nv.float64
    net.float()
    assert net(np.ones((1, 3))).dtype == nv.float32


def test_dtype_is_the_first_parameters_even_behind_layers_without_any():
    inner = nn.Sequential(nn.Linear(3, 2).double(), nn.Linear(2, 2))
    net = nn.Sequential(nn.ReLU(), nn.Identity(), inner)
    assert net.dtype == nv.float64 == next(net.parameters()).dtype
    assert nn.Sequential(nn.ReLU()).dtype == nv.get_default_dtype()


def test_to_converts_buffers_and_rejects_bad_dtypes():
    bn = nn.BatchNorm1d(3).to(nv.float64)
    assert bn.running_mean.dtype == np.float64 and bn.gamma.dtype == nv.float64
    with pytest.raises(TypeError, match="float32 or float64"):
        bn.to(np.int32)


def test_linear_wrong_input_names_the_layer():
    with pytest.raises(ValueError, match=r"Linear\(3, 4\).*\(N, 3\).*\(2, 5\)"):
        nn.Linear(3, 4)(np.ones((2, 5)))


def test_sequential_container_behaviour():
    net = mlp(3, 4, 2)
    assert len(net) == 3 and isinstance(net[1], nn.ReLU)
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear"]
    net.append(nn.Sigmoid())
    assert len(net) == 4 and isinstance(net[-1], nn.Sigmoid)
    assert isinstance(net[:2], nn.Sequential) and len(net[:2]) == 2
    with pytest.raises(TypeError, match="Module"):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)
    with pytest.raises(IndexError):
        net[10]


def test_identity_passes_through():
    x = nv.tensor([1.0, -2.0])
    assert nn.Identity()(x) is x


def test_repr_looks_like_pytorch():
    text = repr(mlp(3, 4, 2))
    assert text.splitlines()[0] == "Sequential("
    assert "(0): Linear(in_features=3, out_features=4, bias=True)" in text
    assert "(1): ReLU()" in text


def test_summary_names_a_two_layer_network():
    text = mlp(3, 4, 2).summary()
    assert "2-layer neural network" in text and "1 hidden layer" in text
    assert "3·4 + 4 = 16" in text and "4·2 + 2 = 10" in text
    assert "Total parameters: 26" in text
    assert "(N, 4)" in text and "(N, 2)" in text
    assert text.total_parameters == 26 and text.num_layers == 2


def test_summary_counts_only_layers_with_weights():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Dropout(0.1),
                        nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
    text = net.summary(input_shape=(3,))
    assert "3-layer neural network (2 hidden layers)" in text
    assert net.training                               # mode restored after tracing
    assert "1-layer neural network" in nn.Sequential(nn.Linear(5, 1)).summary()


def test_summary_with_a_bad_input_shape_explains():
    with pytest.raises(ValueError, match="Linear"):
        mlp(3, 4, 2).summary(input_shape=(5,))
