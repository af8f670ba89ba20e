"""After backward, a kept loss no longer keeps the forward pass's intermediate arrays."""
import gc
import tracemalloc
import weakref

import numpy as np

import nerve as nv
from nerve import nn, optim


def _graph(n=64):
    rng = np.random.default_rng(0)
    x = nv.tensor(rng.standard_normal((n, 8)))
    w = nv.tensor(rng.standard_normal((8, 16)), requires_grad=True)
    h = x @ w
    a = h.tanh()
    sq = a * a
    loss = sq.mean()
    return x, w, h, a, sq, loss


def test_intermediates_nothing_else_holds_are_freed_after_backward():
    x, w, h, a, sq, loss = _graph()
    refs = [weakref.ref(h), weakref.ref(a), weakref.ref(sq)]
    del h, a, sq
    gc.collect()
    assert all(r() is not None for r in refs)  # the graph holds them before backward
    loss.backward()
    gc.collect()
    assert all(r() is None for r in refs)  # freed: only the loss is kept
    assert w.grad.shape == (8, 16)


def test_held_intermediates_keep_their_values_and_stay_the_graphs_inputs():
    x, w, h, a, sq, loss = _graph()
    before = a.data.copy()
    loss.backward()
    np.testing.assert_array_equal(a.data, before)
    assert loss._ctx.parents == (sq,) and sq._ctx.parents == (a, a)  # the very tensors
    assert a._ctx.parents == (h,)


def test_a_freed_graph_is_still_drawn_with_every_op_and_the_shapes():
    x, w, h, a, sq, loss = _graph()
    del h, a, sq
    loss.backward()
    gc.collect()
    dot = nv.draw_graph(loss, format="dot")
    for op in ("MatMul", "Tanh"):
        assert op in dot, dot
    assert "shape (64, 16)" in dot
    # x, w -> matmul -> tanh -> mul (a * a: two edges from one node) -> mean
    assert dot.count("->") == 6 and dot.count("Tanh") == 1


def test_second_backward_still_refused_and_retain_graph_keeps_everything():
    x, w, h, a, sq, loss = _graph()
    r = weakref.ref(h)
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert r() is not None  # kept for the second pass
    first = w.grad.copy()
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * first)
    try:
        loss.backward()
    except RuntimeError as exc:
        assert "second time" in str(exc)
    else:
        raise AssertionError("a third backward through a freed graph must fail")


def test_scalar_intermediates_keep_their_values_for_the_course_circuits():
    w = nv.tensor([2.0, -3.0, -3.0], requires_grad=True)
    x = nv.tensor([-1.0, -2.0])
    f = (w[0] * x[0] + w[1] * x[1] + w[2]).sigmoid()
    f.backward()
    dot = nv.draw_graph(f, format="dot")
    assert "value 1 |" in dot  # w0*x0 + w1*x1 + w2 = 1, shown after backward as before
    assert "value 0.7311" in dot


def test_keeping_losses_of_an_unfused_model_costs_no_activations():
    nv.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.random((128, 64), dtype=np.float32)
    y = rng.integers(0, 10, 128)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.1), nn.Linear(256, 256),
                          nn.Tanh(), nn.Linear(256, 10))  # Dropout: the unfused path
    opt = optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    per_step = X.shape[0] * (256 * 4 + 10) * 4  # the activations of one step, in bytes
    kept = []
    for _ in range(3):  # the optimizer's flat buffers and the first step's arrays
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(30):
            opt.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            opt.step()
            kept.append(loss)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    # before: every kept loss held its step's activations (30 x ~0.5 MiB)
    assert grown < 3 * per_step, (grown, per_step)
    assert all(np.isfinite(float(l)) for l in kept)
