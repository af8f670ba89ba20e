"""Sequential's fused Linear/activation node gives bitwise the values and gradients of the
layer-by-layer graph, and falls back to it for anything it does not cover."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim
from nerve.nn.fusion import _plan
from nerve.ops.dense import DenseChain


def stack(kind, seed=0, bias=True, dtype=None, sizes=(5, 8, 7, 3)):
    nv.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, bias=bias, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(kind())
    return nn.Sequential(*layers)


KINDS = [nn.ReLU, nn.Tanh, nn.Sigmoid, lambda: nn.LeakyReLU(0.2), lambda: nn.ELU(0.7),
         nn.Identity]
IDS = ["relu", "tanh", "sigmoid", "leaky", "elu", "identity"]


def forward_backward(model, x, requires_grad):
    xt = nv.tensor(x, requires_grad=requires_grad)
    out = model(xt)
    model.last_op = out.op
    (out * nv.tensor(np.linspace(-1, 1, out.size).reshape(out.shape).astype(out.dtype))).sum() \
        .backward()
    grads = [p.grad.copy() for p in model.parameters()]
    return out, grads, (xt.grad.copy() if requires_grad else None)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("requires_grad", [True, False])
def test_fused_equals_layer_by_layer_bitwise(kind, bias, requires_grad):
    x = np.random.default_rng(1).standard_normal((9, 5)).astype(np.float32)
    fused, plain = stack(kind, bias=bias), stack(kind, bias=bias)
    plain.fuse = False
    out_f, grads_f, gx_f = forward_backward(fused, x, requires_grad)
    out_p, grads_p, gx_p = forward_backward(plain, x, requires_grad)
    assert fused.last_op.startswith("Linear→") and plain.last_op == "Linear"
    np.testing.assert_array_equal(out_f.data, out_p.data)
    for gf, gp in zip(grads_f, grads_p):
        np.testing.assert_array_equal(gf, gp)
    if requires_grad:
        np.testing.assert_array_equal(gx_f, gx_p)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_fused_chain_passes_gradcheck_in_float64(kind):
    model = stack(kind, dtype=nv.float64)
    params = list(model.parameters())
    steps = _plan(tuple(model))[1]
    x = np.random.default_rng(2).standard_normal((4, 5)) * 0.8

    def f(x, *ps):
        return DenseChain.apply(x, *ps, steps=tuple(steps), name="chain")

    assert nv.gradcheck(f, x, *[p.data for p in params])


def test_graph_shows_one_named_node_unless_fuse_is_off():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = nv.tensor(np.ones((2, 3)))
    out = model(x)
    assert out.op == "Linear→ReLU→Linear"
    out.sum().backward()
    assert out.op == "Linear→ReLU→Linear"  # also after backward freed the node
    assert "Linear→ReLU→Linear" in nv.draw_graph(out.sum())
    model.fuse = False
    assert model(x).op == "Linear"


def test_layers_it_does_not_cover_run_one_by_one():
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.ReLU(), nn.Linear(4, 2))
    out = model(nv.tensor(np.ones((6, 3))))
    assert out.op == "Linear" and out.shape == (6, 2)
    out.sum().backward()
    assert model[0].weight.grad.shape == (3, 4)


def test_a_bad_input_gets_the_layers_own_error():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"Linear\(3, 4\): expected input of shape \(N, 3\)"):
        model(nv.tensor(np.ones((2, 5))))


def test_a_layer_used_twice_gets_both_contributions():
    # The same Linear twice: its gradient is the sum of both uses, also when backward
    # writes into the optimizer's gradient buffers.
    def build():
        nv.manual_seed(3)
        shared = nn.Linear(4, 4)
        return nn.Sequential(shared, nn.Tanh(), shared)

    fused, plain = build(), build()
    plain.fuse = False
    optim.SGD(fused.parameters(), lr=0.1)  # gives the parameters gradient buffers
    x = np.random.default_rng(4).standard_normal((5, 4)).astype(np.float32)
    _, gf, _ = forward_backward(fused, x, False)
    _, gp, _ = forward_backward(plain, x, False)
    for a, b in zip(gf, gp):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_changes_to_the_layers_after_a_call_take_effect():
    model = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.1), nn.Linear(4, 2))
    x = nv.tensor(np.random.default_rng(5).standard_normal((6, 3)).astype(np.float32))
    first = model(x).data.copy()
    model[1].alpha = 0.5
    model[0].bias = None
    model.append(nn.Tanh())
    fused = model(x)
    model.fuse = False
    plain = model(x)
    assert fused.op == "Linear→LeakyReLU→Linear→Tanh"
    np.testing.assert_array_equal(fused.data, plain.data)
    assert not np.array_equal(first, np.arctanh(fused.data))


def test_no_grad_gives_the_same_output_and_records_nothing():
    model = stack(nn.ReLU)
    x = nv.tensor(np.random.default_rng(6).standard_normal((4, 5)).astype(np.float32))
    with nv.no_grad():
        quiet = model(x)
    loud = model(x)
    assert not quiet.requires_grad and quiet.is_leaf and loud.requires_grad
    np.testing.assert_array_equal(quiet.data, loud.data)
