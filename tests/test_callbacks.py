"""Callbacks: Keras hook order, EarlyStopping, ModelCheckpoint, LambdaCallback."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.train import Callback, EarlyStopping, LambdaCallback, ModelCheckpoint, fit


def setup(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((24, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    nv.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2)), X, y


def run(model, X, y, callbacks, epochs=3, **kw):
    return fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=epochs,
               batch_size=10, progress=False, callbacks=callbacks, **kw)


def test_hooks_are_called_in_keras_order_with_logs():
    model, X, y = setup()
    events = []

    class Spy(Callback):
        def on_train_begin(self, logs=None): events.append("train_begin")
        def on_train_end(self, logs=None): events.append("train_end")
        def on_epoch_begin(self, epoch, logs=None): events.append(f"epoch_begin {epoch}")
        def on_epoch_end(self, epoch, logs=None): events.append((epoch, sorted(logs)))
        def on_batch_begin(self, batch, logs=None): events.append(f"b{batch}")
        def on_batch_end(self, batch, logs=None): events.append(f"e{batch}")

    spy = Spy()
    run(model, X, y, [spy], epochs=2, validation_data=(X, y))
    keys = ["accuracy", "loss", "val_accuracy", "val_loss"]
    batch = ["b0", "e0", "b1", "e1", "b2", "e2"]
    assert events == (["train_begin", "epoch_begin 0"] + batch + [(0, keys), "epoch_begin 1"]
                      + batch + [(1, keys), "train_end"])
    assert spy.model is model and spy.params["epochs"] == 2


def test_batch_logs_hold_the_step_loss_and_accuracy():
    model, X, y = setup()
    seen = []
    h = run(model, X, y, [LambdaCallback(on_batch_end=lambda b, logs: seen.append(logs))],
            epochs=1)
    assert [s["size"] for s in seen] == [10, 10, 4]
    assert [s["loss"] for s in seen] == h.iteration_loss
    mean = sum(s["loss"] * s["size"] for s in seen) / 24
    assert h.loss[0] == pytest.approx(mean)
    assert all(0.0 <= s["accuracy"] <= 1.0 for s in seen)


def test_early_stopping_waits_patience_epochs():
    model, X, y = setup()
    # The loss falls every epoch, so with mode="max" it never improves after epoch 0.
    stop = EarlyStopping(monitor="loss", patience=2, mode="max")
    h = run(model, X, y, [stop], epochs=20)
    assert h.epoch == [0, 1, 2]  # as Keras: stop after 2 epochs without improvement
    assert stop.stopped_epoch == 2 and stop.best_epoch == 0


def test_early_stopping_restores_the_best_weights():
    model, X, y = setup()
    snapshots = []
    keep = LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(
        {k: v.copy() for k, v in model.state_dict().items()}))
    stop = EarlyStopping(monitor="loss", patience=1, mode="max", restore_best_weights=True)
    run(model, X, y, [keep, stop], epochs=10)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, snapshots[0][k])
    assert not np.array_equal(snapshots[-1]["0.weight"], snapshots[0]["0.weight"])


def test_early_stopping_min_delta_and_auto_mode():
    model, X, y = setup()
    stop = EarlyStopping(monitor="val_accuracy", patience=0, min_delta=2.0)  # auto -> max
    h = run(model, X, y, [stop], epochs=10, validation_data=(X, y))
    assert len(h) == 2  # nothing can improve accuracy by 2


def test_early_stopping_names_a_missing_metric():
    model, X, y = setup()
    with pytest.raises(ValueError, match="monitors 'acc', which is not in the logs "
                                         r"\(available: loss, accuracy\)"):
        run(model, X, y, [EarlyStopping(monitor="acc")])


def test_a_val_monitor_without_validation_data_is_refused_before_training():
    model, X, y = setup()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    for cb in (EarlyStopping(), ModelCheckpoint("never.npz", save_best_only=True)):
        with pytest.raises(ValueError, match=r"callbacks\[0\]: \w+ monitors 'val_loss', which "
                                             r"needs validation data.*monitor='loss'"):
            run(model, X, y, [cb])
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("kwargs, error", [
    (dict(patience=-1), ValueError), (dict(mode="up"), ValueError), (dict(monitor=3.5), TypeError),
    (dict(monitor=3, patience=4), TypeError),
])
def test_early_stopping_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        EarlyStopping(**kwargs)


def test_early_stopping_takes_patience_first_as_documented_or_monitor_first_as_keras():
    for stop in (EarlyStopping(2, "loss"), EarlyStopping("loss", 2),
                 EarlyStopping(patience=2, monitor="loss")):
        assert (stop.patience, stop.monitor) == (2, "loss")
    assert (EarlyStopping(7).patience, EarlyStopping(7).monitor) == (7, "val_loss")
    assert (EarlyStopping().patience, EarlyStopping("loss").patience) == (5, 5)
    model, X, y = setup()
    stop = EarlyStopping(1, "loss", mode="max")  # the loss never rises: stops after 1 epoch
    run(model, X, y, [stop], epochs=10)
    assert stop.stopped_epoch == 1


def test_model_checkpoint_saves_every_epoch_with_formatted_names(tmp_path):
    model, X, y = setup()
    ckpt = ModelCheckpoint(tmp_path / "m-{epoch:02d}-{loss:.2f}.npz")
    h = run(model, X, y, [ckpt], epochs=2)
    assert len(ckpt.saved) == 2 and ckpt.saved[0].endswith(f"m-01-{h.loss[0]:.2f}.npz")
    last = nv.io.load(ckpt.saved[-1])
    np.testing.assert_array_equal(nv.train.predict(last, X), nv.train.predict(model, X))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files


def test_model_checkpoint_save_best_only(tmp_path):
    model, X, y = setup()
    ckpt = ModelCheckpoint(tmp_path / "best-{epoch}.npz", monitor="loss", mode="max",
                           save_best_only=True)
    run(model, X, y, [ckpt], epochs=4)
    assert [p.rsplit("/", 1)[-1] for p in ckpt.saved] == ["best-1.npz"]


def test_model_checkpoint_checks_its_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ModelCheckpoint(tmp_path / "missing" / "m.npz")


def test_lambda_callback_rejects_unknown_hooks():
    with pytest.raises(ValueError, match="on_epoch_end"):
        LambdaCallback(on_epoch_finish=print)
