"""The captured training step gives bitwise the same parameters and losses as the eager step."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim


def make(activation, seed=0, sizes=(6, 16, 16, 3)):
    nv.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def batches(n_steps, batch, d=6, c=3, seed=1):
    rng = np.random.default_rng(seed)
    for i in range(n_steps):
        b = batch if i % 3 else batch - 5   # a ragged batch too: a second plan
        yield rng.standard_normal((b, d)).astype(np.float32), rng.integers(0, c, b)


ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.Sigmoid, lambda: nn.LeakyReLU(0.1), nn.Identity]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=["relu", "tanh", "sigmoid", "leaky", "id"])
@pytest.mark.parametrize("make_opt", [
    lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda p: optim.Adam(p, lr=0.01),
], ids=["momentum", "nesterov", "adam"])
def test_captured_step_is_bitwise_identical_to_eager(activation, make_opt):
    eager, captured = make(activation), make(activation)
    for p, q in zip(eager.parameters(), captured.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    loss_fn = nn.CrossEntropyLoss()
    opt_e, opt_c = make_opt(eager.parameters()), make_opt(captured.parameters())
    step = nv.compile(captured, loss_fn, opt_c)
    for xb, yb in batches(12, 32):
        opt_e.zero_grad()
        loss = loss_fn(eager(nv.tensor(xb)), yb)
        loss.backward()
        opt_e.step()
        assert step(xb, yb) == loss.item()
    for (name, p), q in zip(eager.named_parameters(), captured.parameters()):
        assert np.array_equal(p.data, q.data), name
        assert np.array_equal(p.grad, q.grad), name


def test_in_place_activations_never_overwrite_what_is_read_later():
    """ReLU works in place on a matmul's output only: not on the batch (a leading ReLU),
    not on a Tanh's output (its backward reads it); a model may end in ReLU."""
    def model():
        nv.manual_seed(3)
        return nn.Sequential(nn.ReLU(), nn.Linear(6, 8), nn.Tanh(), nn.ReLU(), nn.Linear(8, 8),
                             nn.ReLU(), nn.ReLU(), nn.Identity(), nn.ReLU(), nn.Linear(8, 3),
                             nn.ReLU())
    eager, captured = model(), model()
    loss_fn = nn.CrossEntropyLoss()
    opt_e = optim.SGD(eager.parameters(), lr=0.05, momentum=0.9)
    step = nv.compile(captured, loss_fn, optim.SGD(captured.parameters(), lr=0.05, momentum=0.9))
    for xb, yb in batches(6, 16):
        kept = xb.copy()
        opt_e.zero_grad()
        loss = loss_fn(eager(nv.tensor(xb)), yb)
        loss.backward()
        opt_e.step()
        assert step(xb, yb) == loss.item()
        np.testing.assert_array_equal(xb, kept)
    for (name, p), q in zip(eager.named_parameters(), captured.parameters()):
        assert np.array_equal(p.data, q.data), name
        assert np.array_equal(p.grad, q.grad), name


def test_captured_step_learns():
    X, y = nv.data.spiral(n_per_class=50, seed=0)
    model = make(nn.ReLU, sizes=(2, 32, 3))
    step = nv.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5,
                                                             momentum=0.9))
    losses = [step(X, y) for _ in range(300)]
    assert losses[-1] < 0.5 * losses[0]


def test_unsupported_layer_and_loss_are_named():
    with pytest.raises(ValueError, match="Dropout is not supported"):
        nv.compile(nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5)), nn.CrossEntropyLoss(),
                   optim.SGD([nn.Parameter(np.zeros(1))], lr=0.1))
    model = make(nn.ReLU)
    with pytest.raises(ValueError, match="MSELoss is not supported"):
        nv.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))


def test_bad_batches_are_clear_errors():
    model = make(nn.ReLU)
    step = nv.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match=r"shape \(N, 6\)"):
        step(np.zeros((4, 5)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        step(np.zeros((4, 6)), np.array([0, 1, 2, 3]))


def test_optimizer_state_stays_shared_with_eager_steps(tmp_path):
    """Compiled steps, then eager steps, then compiled again: same as eager all along."""
    eager, mixed = make(nn.ReLU), make(nn.ReLU)
    loss_fn = nn.CrossEntropyLoss()
    opt_e = optim.Adam(eager.parameters(), lr=0.01)
    opt_m = optim.Adam(mixed.parameters(), lr=0.01)
    step = nv.compile(mixed, loss_fn, opt_m)

    def eager_step(model, opt, xb, yb):
        opt.zero_grad()
        loss_fn(model(nv.tensor(xb)), yb).backward()
        opt.step()

    for i, (xb, yb) in enumerate(batches(9, 16)):
        eager_step(eager, opt_e, xb, yb)
        if 3 <= i < 6:
            eager_step(mixed, opt_m, xb, yb)
        else:
            step(xb, yb)
    for p, q in zip(eager.parameters(), mixed.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    sd_e, sd_m = opt_e.state_dict(), opt_m.state_dict()
    assert sd_e.keys() == sd_m.keys()
    for k in sd_e:
        np.testing.assert_array_equal(sd_e[k], sd_m[k])


def test_load_state_dict_after_compile_is_seen_by_the_step():
    model = make(nn.ReLU)
    twin = make(nn.ReLU, seed=5)
    step = nv.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    model.load_state_dict(twin.state_dict())
    xb, yb = next(batches(1, 8))
    with nv.no_grad():
        expected = nn.CrossEntropyLoss()(twin(nv.tensor(xb)), yb).item()
    assert step(xb, yb) == expected


def test_fit_compile_gives_bitwise_the_same_history_and_weights():
    X, y = nv.data.spiral(n_per_class=40, seed=3)
    runs = []
    for compiled in (False, True):
        model = make(nn.Tanh, sizes=(2, 16, 3))
        opt = optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
        h = nv.fit(model, X, y, loss=nn.CrossEntropyLoss(), optimizer=opt, epochs=5,
                   batch_size=32, seed=11, progress=False, compile=compiled,
                   validation_data=(X[:20], y[:20]))
        runs.append((h.history, [p.data.copy() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_non_finite_loss_leaves_weights_untouched():
    model = make(nn.ReLU)
    step = nv.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    before = [p.data.copy() for p in model.parameters()]
    x = np.full((4, 6), np.inf, dtype=np.float32)
    with np.errstate(all="ignore"):
        assert not np.isfinite(step(x, np.zeros(4, dtype=int)))
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


def test_fit_compile_rejects_what_it_cannot_capture():
    model = make(nn.ReLU)
    X, y = np.zeros((8, 6), np.float32), np.zeros(8, dtype=int)
    with pytest.raises(ValueError, match="regularizer"):
        nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1,
               batch_size=4, progress=False, compile=True, regularizer=lambda: 0)


def test_fit_auto_captures_what_it_can_and_runs_the_rest_eagerly(monkeypatch):
    from nerve.compile import CompiledStep

    calls = []
    original = CompiledStep.__call__
    monkeypatch.setattr(CompiledStep, "__call__",
                        lambda self, x, y: calls.append(len(x)) or original(self, x, y))
    X, y = nv.data.spiral(n_per_class=20, seed=1)

    def run(model, **kw):
        calls.clear()
        return nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2,
                      batch_size=16, progress=False, seed=0, **kw)

    run(make(nn.ReLU, sizes=(2, 8, 3)))  # compile="auto" is the default
    assert sum(calls) == 2 * len(X)
    run(make(nn.ReLU, sizes=(2, 8, 3)), compile=False)
    assert calls == []
    nv.manual_seed(0)
    with_dropout = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.2), nn.ReLU(), nn.Linear(8, 3))
    history = run(with_dropout)  # not capturable: eager, no error
    assert calls == [] and np.isfinite(history.history["loss"][-1])
    run(make(nn.ReLU, sizes=(2, 8, 3)), regularizer=lambda: 0)
    assert calls == []
    with pytest.raises(ValueError, match="compile must be True, False or 'auto'"):
        run(make(nn.ReLU, sizes=(2, 8, 3)), compile="yes")


def test_frozen_parameters_are_refused_and_fit_trains_them_eagerly():
    X, y = nv.data.spiral(n_per_class=20, seed=1)
    model = make(nn.ReLU, sizes=(2, 8, 3))
    model[0].weight.requires_grad_(False)
    frozen = model[0].weight.data.copy()
    with pytest.raises(ValueError, match=r"frozen parameter \(requires_grad=False, "
                                         r"shape \(2, 8\)\)"):
        nv.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    for compile_ in ("auto", False):
        nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2,
               batch_size=16, progress=False, seed=0, compile=compile_)
        np.testing.assert_array_equal(model[0].weight.data, frozen)
    with pytest.raises(ValueError, match="frozen parameter"):
        nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1,
               batch_size=16, progress=False, compile=True)
    # frozen after the step was made: the next call refuses instead of updating it
    model[0].weight.requires_grad_(True)
    step = nv.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    step(X[:16].astype(np.float32), y[:16])
    model[0].weight.requires_grad_(False)
    frozen = model[0].weight.data.copy()
    with pytest.raises(ValueError, match="frozen parameter"):
        step(X[:16].astype(np.float32), y[:16])
    np.testing.assert_array_equal(model[0].weight.data, frozen)


def test_tied_layers_are_refused_and_fit_sums_their_gradients_eagerly():
    X, y = nv.data.spiral(n_per_class=20, seed=1)

    def tied():
        nv.manual_seed(0)
        shared = nn.Linear(8, 8)
        return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), shared, nn.Tanh(), shared, nn.Tanh(),
                             nn.Linear(8, 3))

    model = tied()
    with pytest.raises(ValueError, match="used twice in the model"):
        nv.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    histories = []
    for compile_ in ("auto", False):
        h = nv.fit(tied(), X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2,
                   batch_size=16, progress=False, seed=0, compile=compile_)
        histories.append(h.history["loss"])
    assert histories[0] == histories[1]
