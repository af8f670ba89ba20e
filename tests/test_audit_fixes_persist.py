"""Fixes from the saving/loading and training-loop audit: each test failed before its fix.

safetensors scalars, nv.load and the global generator, EarlyStopping's patience, a
"sum" loss in evaluate/val_loss, ModelCheckpoint(save_weights_only), Keras's
on_train_batch_* hooks, load_state_dict's IncompatibleKeys, ``nerve bench --out``
checked up front, and fit refusing a BatchNorm1d batch of one before training.
"""
import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim
from nerve.train import Callback, EarlyStopping, LambdaCallback, ModelCheckpoint


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def _mlp(seed=0):
    nv.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))


def _fit(model, X, y, **kw):
    kw = {"loss": "cross_entropy", "optimizer": "sgd", "lr": 0.1, "epochs": 3,
          "batch_size": 10, "progress": False, **kw}
    return nv.fit(model, X, y, **kw)


def _state(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


# ------------------------------------------------- 1. safetensors keeps 0-d entries 0-d
OPTIMIZERS = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.Adam, dict(lr=0.01, amsgrad=True)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.RMSProp, dict(lr=0.01, centered=True, momentum=0.5)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
]


def _train(opt, params, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        opt.zero_grad()
        for p in params:
            p.grad = rng.standard_normal(p.data.shape).astype(p.data.dtype)
        opt.step()


@pytest.mark.parametrize("cls, options", OPTIMIZERS, ids=lambda v: getattr(v, "__name__", ""))
def test_optimizer_state_round_trips_through_safetensors_bitwise(cls, options, tmp_path):
    pytest.importorskip("safetensors")
    straight = [nn.Parameter(np.arange(6, dtype=np.float32).reshape(2, 3)),
                nn.Parameter(np.ones(3, dtype=np.float32))]
    opt = cls(straight, **options)
    _train(opt, straight, 4, seed=1)
    saved = [p.data.copy() for p in straight]
    sd = opt.state_dict()
    nv.save_state(sd, tmp_path / "opt.safetensors")
    back = nv.load_state(tmp_path / "opt.safetensors")
    for key, value in sd.items():  # scalars stay scalars: lr, betas' parts, step counters
        assert np.shape(back[key]) == np.shape(value), key
    _train(opt, straight, 5, seed=2)

    resumed = [nn.Parameter(d) for d in saved]
    opt2 = cls(resumed, lr=123.0)
    opt2.load_state_dict(back)
    assert opt2.param_groups[0]["lr"] == options["lr"]
    _train(opt2, resumed, 5, seed=2)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.data, b.data)


SCHEDULERS = [
    lambda o: optim.StepLR(o, step_size=2, gamma=0.5),
    lambda o: optim.MultiStepLR(o, milestones=[1, 3], gamma=0.5),
    lambda o: optim.ExponentialLR(o, gamma=0.9),
    lambda o: optim.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
    lambda o: optim.LambdaLR(o, lambda e: 0.9 ** e),
    lambda o: optim.ReduceLROnPlateau(o, patience=0, factor=0.5, monitor="loss"),
]


@pytest.mark.parametrize("make", SCHEDULERS, ids=["StepLR", "MultiStepLR", "ExponentialLR",
                                                  "CosineAnnealingLR", "LambdaLR",
                                                  "ReduceLROnPlateau"])
def test_scheduler_state_round_trips_through_safetensors(make, tmp_path):
    pytest.importorskip("safetensors")

    def step(s, i):
        s.step(float(i % 2)) if isinstance(s, optim.ReduceLROnPlateau) else s.step()

    opt = optim.SGD([nn.Parameter(np.zeros(2))], lr=1.0)
    sched = make(opt)
    for i in range(3):
        step(sched, i)
    sd = sched.state_dict()
    nv.save_state(sd, tmp_path / "sched.safetensors")
    back = nv.load_state(tmp_path / "sched.safetensors")
    assert {k: np.shape(v) for k, v in back.items()} == {k: np.shape(v) for k, v in sd.items()}

    opt2 = optim.SGD([nn.Parameter(np.zeros(2))], lr=opt.param_groups[0]["lr"])
    sched2 = make(opt2)
    sched2.load_state_dict(back)
    for i in range(3, 7):
        step(sched, i)
        step(sched2, i)
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_a_0d_model_entry_keeps_its_shape_in_safetensors(tmp_path):
    pytest.importorskip("safetensors")
    nv.save_state({"scale": np.float32(2.5), "flag": True, "w": np.ones((2, 2))},
                  tmp_path / "s.safetensors")
    back = nv.load_state(tmp_path / "s.safetensors")
    assert (back["scale"].shape, back["flag"].shape, back["w"].shape) == ((), (), (2, 2))
    assert back["scale"] == np.float32(2.5) and back["flag"].dtype == np.bool_


# ------------------------------------------------- 2. nv.load leaves the generator alone
def test_load_does_not_consume_the_global_generator(tmp_path):
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    nv.save(model, tmp_path / "m.npz")
    rng = nv.manual_seed(5)
    expected = np.random.default_rng(5).random(4)
    nv.load(tmp_path / "m.npz")
    assert nv.get_rng() is rng
    np.testing.assert_array_equal(nv.get_rng().random(4), expected)


def test_resume_is_bitwise_when_the_rng_is_restored_before_load(tmp_path):
    X, y = nv.data.spiral(n_per_class=30, seed=1)
    nv.manual_seed(0)
    m = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    kw = dict(loss="cross_entropy", batch_size=32, progress=False)
    nv.fit(m, X, y, optimizer=opt, epochs=2, seed=3, **kw)
    nv.save(m, tmp_path / "m.npz")
    nv.save_state(opt.state_dict(), tmp_path / "o.npz")
    rng_state = nv.get_rng().bit_generator.state
    nv.fit(m, X, y, optimizer=opt, epochs=4, initial_epoch=2, **kw)

    nv.get_rng().bit_generator.state = rng_state  # restored first, then the files
    m2 = nv.load(tmp_path / "m.npz")
    o2 = optim.SGD(m2.parameters(), lr=0.1, momentum=0.9)
    o2.load_state_dict(nv.load_state(tmp_path / "o.npz"))
    nv.fit(m2, X, y, optimizer=o2, epochs=4, initial_epoch=2, **kw)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(m2.state_dict()[k], v)


def test_a_failed_load_also_leaves_the_generator_alone(tmp_path):
    model = nn.Sequential(nn.Linear(3, 8))
    nv.save(model, tmp_path / "m.npz")
    state = dict(np.load(tmp_path / "m.npz"))
    # transposed: as many values as declared, so it fails only after building the layers
    state["state/0.weight"] = np.zeros((8, 3), np.float32)
    np.savez(tmp_path / "bad.npz", **state)
    nv.manual_seed(9)
    expected = np.random.default_rng(9).random(3)
    with pytest.raises(ValueError, match="cannot rebuild the model.*transposed"):
        nv.load(tmp_path / "bad.npz")
    np.testing.assert_array_equal(nv.get_rng().random(3), expected)


# ------------------------------------------------- 3. EarlyStopping counts as Keras does
def test_early_stopping_stops_after_patience_epochs_without_improvement():
    X, y = _data()
    # The loss falls every epoch, so with mode="max" nothing improves after epoch 0.
    # As Keras: patience=0 and patience=1 both stop at the first epoch without gain.
    for patience, epochs_run in [(0, 2), (1, 2), (2, 3), (3, 4)]:
        stop = EarlyStopping(monitor="loss", patience=patience, mode="max")
        h = _fit(_mlp(), X, y, epochs=20, callbacks=[stop])
        assert h.epoch == list(range(epochs_run)), patience
        assert stop.stopped_epoch == epochs_run - 1 and stop.best_epoch == 0


# ------------------------------------------------- 4. a "sum" loss is summed over the data
def test_evaluate_with_a_sum_loss_is_the_sum_over_the_data_for_any_batch_size():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3)).astype(np.float32)
    y = rng.standard_normal((100, 2)).astype(np.float32)
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    sse = float(nn.MSELoss(reduction="sum")(model(nv.tensor(X)), y).data)
    whole = nv.evaluate(model, X, y, loss=nn.MSELoss(reduction="sum"), batch_size=1024)["loss"]
    assert whole == sse  # one batch: exactly the loss over the data
    for bs in (1, 7, 50, 99):
        got = nv.evaluate(model, X, y, loss=nn.MSELoss(reduction="sum"), batch_size=bs)["loss"]
        assert got == pytest.approx(sse, rel=1e-5)
    mean = nv.evaluate(model, X, y, loss="mse", batch_size=7)["loss"]
    assert mean == pytest.approx(sse / y.size, rel=1e-5)  # "mean" unchanged


def test_fit_val_loss_with_a_sum_loss_is_the_sum_over_the_validation_data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3)).astype(np.float32)
    y = rng.standard_normal((40, 1)).astype(np.float32)
    Xv = rng.standard_normal((600, 3)).astype(np.float32)
    yv = rng.standard_normal((600, 1)).astype(np.float32)
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 1))
    h = nv.fit(model, X, y, loss=nn.MSELoss(reduction="sum"), optimizer="sgd", lr=0.001,
               epochs=1, batch_size=8, validation_data=(Xv, yv), progress=False)
    sse = float(((nv.predict(model, Xv).astype(np.float64) - yv) ** 2).sum())
    assert h.history["val_loss"][0] == pytest.approx(sse, rel=1e-5)


# ------------------------------------------------- 5. ModelCheckpoint(save_weights_only)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 4)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x).tanh())


def test_checkpoint_of_an_unsavable_architecture_fails_before_training(tmp_path):
    X, y = _data()
    nv.manual_seed(0)
    model = Net()
    before = _state(model)
    epochs = []
    spy = LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e))
    with pytest.raises(ValueError, match=r"ModelCheckpoint\(.*\): cannot save the model with "
                                         r"its architecture: cannot save the architecture of "
                                         r"Net.*Pass save_weights_only=True"):
        _fit(model, X, y, callbacks=[spy, ModelCheckpoint(str(tmp_path / "c.npz"))])
    assert epochs == []
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    assert list(tmp_path.iterdir()) == []


def test_checkpoint_save_weights_only_saves_the_state_dict_of_any_module(tmp_path):
    X, y = _data()
    nv.manual_seed(0)
    model = Net()
    ckpt = ModelCheckpoint(str(tmp_path / "w-{epoch}.npz"), save_weights_only=True)
    _fit(model, X, y, epochs=2, callbacks=[ckpt])
    assert ckpt.saved == [str(tmp_path / "w-1.npz"), str(tmp_path / "w-2.npz")]
    back = nv.load_state(tmp_path / "w-2.npz")
    assert set(back) == set(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back[k], v)
    with pytest.raises(ValueError, match="holds a state dict, not a model"):
        nv.load(tmp_path / "w-2.npz")


def test_checkpoint_save_weights_only_must_be_a_bool(tmp_path):
    with pytest.raises(TypeError, match="save_weights_only must be True or False, got 'yes'"):
        ModelCheckpoint(str(tmp_path / "c.npz"), save_weights_only="yes")


# ------------------------------------------------- 6. Keras's batch hook names are called
def test_keras_train_batch_hooks_are_called_with_the_batch_logs():
    X, y = _data()
    events = []

    class Keras(Callback):
        def on_train_batch_begin(self, batch, logs=None): events.append(("b", batch))
        def on_train_batch_end(self, batch, logs=None): events.append(("e", batch, logs["loss"]))

    h = _fit(_mlp(), X, y, epochs=1, callbacks=[Keras()])
    assert [e[:2] for e in events] == [("b", 0), ("e", 0), ("b", 1), ("e", 1), ("b", 2), ("e", 2)]
    assert [e[2] for e in events if e[0] == "e"] == h.iteration_loss


def test_both_batch_hook_names_are_called_once_each_and_an_alias_once():
    X, y = _data()
    calls = []

    class Both(Callback):
        def on_batch_end(self, batch, logs=None): calls.append("nerve")
        def on_train_batch_end(self, batch, logs=None): calls.append("keras")

    class Alias(Callback):
        def on_batch_end(self, batch, logs=None): calls.append("alias")
        on_train_batch_end = on_batch_end

    class Duck:  # not a Callback subclass and without Keras's names: still accepted
        def set_model(self, model): pass
        def set_params(self, params): pass
        def on_train_begin(self, logs=None): pass
        def on_train_end(self, logs=None): pass
        def on_epoch_begin(self, epoch, logs=None): pass
        def on_epoch_end(self, epoch, logs=None): pass
        def on_batch_begin(self, batch, logs=None): pass
        def on_batch_end(self, batch, logs=None): calls.append("duck")

    _fit(_mlp(), X, y, epochs=1, callbacks=[Both(), Alias(), Duck()])
    assert calls == ["nerve", "keras", "alias", "duck"] * 3


def test_lambda_callback_takes_the_keras_batch_hook_names():
    X, y = _data()
    seen = []
    cb = LambdaCallback(on_train_batch_begin=lambda b, logs: seen.append(b),
                        on_train_batch_end=lambda b, logs: seen.append(-logs["size"]))
    _fit(_mlp(), X, y, epochs=1, callbacks=[cb])
    assert seen == [0, -10, 1, -10, 2, -4]


# ------------------------------------------------- 7. load_state_dict reports the keys
def test_load_state_dict_returns_missing_and_unexpected_keys():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    sd = model.state_dict()
    del sd["1.bias"]
    sd["extra"] = np.zeros(1)
    result = model.load_state_dict(sd, strict=False)
    missing, unexpected = result
    assert (missing, unexpected) == (["1.bias"], ["extra"])
    assert (result.missing_keys, result.unexpected_keys) == (["1.bias"], ["extra"])
    full = model.load_state_dict(model.state_dict())
    assert (full.missing_keys, full.unexpected_keys) == ([], [])


# ------------------------------------------------- 8. nerve bench --out checked first
@pytest.mark.parametrize("under", [False, True])
def test_bench_out_that_is_a_file_is_refused_before_measuring(tmp_path, monkeypatch, capsys,
                                                              under):
    import nerve.bench as bench

    def never(*args, **kwargs):
        raise AssertionError("the benchmark ran before --out was checked")

    monkeypatch.setattr(bench, "_run", never)
    file = tmp_path / "report.txt"
    file.write_text("x")
    out = str(file / "sub") if under else str(file)
    assert bench.main(["--quick", "--out", out, "--quiet"]) == 2
    err = capsys.readouterr().err
    if under:
        assert f"nerve: error: --out {out!r}: {str(file)!r} is a file" in err
    else:
        assert f"nerve: error: --out {out!r} is a file; expected a folder" in err
    assert "Errno" not in err


# ------------------------------------------------- 9. BatchNorm1d and a batch of one
def _bn_model():
    nv.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


def test_fit_refuses_a_last_batch_of_one_with_batchnorm_before_training():
    X, y = _data(33)
    model = _bn_model()
    before = _state(model)
    with pytest.raises(ValueError, match=r"BatchNorm1d .*N=33 .*batch_size=16 leave a last "
                                         r"batch of 1 example \(33 = 2\*16 \+ 1\); choose "
                                         r"another batch_size .*e\.g\. 15\) or drop the last "
                                         r"sample"):
        _fit(model, X, y, batch_size=16)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    _fit(model, X, y, batch_size=15)  # the suggestion works
    _fit(model, X[:-1], y[:-1], batch_size=16)  # and so does dropping the last sample
    assert _fit(_mlp(), X, y, batch_size=16).params["steps"] == 3  # no BatchNorm: trains


def test_fit_refuses_batch_size_one_with_batchnorm():
    X, y = _data(8)
    with pytest.raises(ValueError, match="batch_size=1 gives batches of one example; use "
                                         "batch_size >= 2"):
        _fit(_bn_model(), X, y, batch_size=1)
