"""nv.fit: epochs, iterations, shuffling without replacement, modes, names, dtypes."""
import math

import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.train import Callback, History, LambdaCallback, fit


class Recorder(nn.Linear):
    """A Linear layer that records every batch it sees and the mode it ran in."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = []

    def forward(self, x):
        self.seen.append((x.data.copy(), self.training))
        return super().forward(x)


def data(n=50, d=3, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)
    return X, y % k


def test_fit_returns_history_with_keras_keys():
    X, y = data()
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 3))
    h = fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=4, batch_size=16,
            validation_data=(X[:10], y[:10]), progress=False)
    assert isinstance(h, History)
    assert h.epoch == [0, 1, 2, 3]
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 4 for v in h.history.values())
    assert h.loss is h.history["loss"]
    assert len(h.iteration_loss) == 4 * math.ceil(50 / 16)
    assert h.params["steps"] == 4
    assert h.loss[-1] < h.loss[0]


def test_epoch_is_one_shuffled_pass_without_replacement():
    X = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10) % 2
    model = Recorder(3, 2)
    fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.0, epochs=3, batch_size=4,
        progress=False, seed=1)
    batches = [b for b, training in model.seen[1:] if training]  # [0] is the shape probe
    assert [len(b) for b in batches] == [4, 4, 2] * 3
    orders = []
    for e in range(3):
        rows = np.concatenate(batches[3 * e: 3 * e + 3])[:, 0] / 3
        assert sorted(rows.tolist()) == list(range(10))  # every sample exactly once
        orders.append(rows.tolist())
    assert orders[0] != orders[1] or orders[1] != orders[2]  # reshuffled each epoch


def test_accuracy_comes_from_the_training_forward_passes():
    X, y = data(40)
    model = Recorder(3, 3)
    fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2, batch_size=10,
        validation_data=(X[:7], y[:7]), progress=False)
    modes = [training for _, training in model.seen]
    # probe (eval), then per epoch 4 training batches and 1 validation batch in eval mode
    assert modes == [False] + ([True] * 4 + [False]) * 2


def test_mode_is_restored_after_fit():
    X, y = data()
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 3))
    model.eval()
    fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1, batch_size=8,
        progress=False)
    assert model.training is False
    model.train()
    fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1, batch_size=8,
        progress=False)
    assert model.training is True


def test_objects_and_names_give_the_same_run():
    X, y = data()
    runs = []
    for loss, make_opt in (("cross_entropy", None), (nn.CrossEntropyLoss(), nv.optim.SGD)):
        nv.manual_seed(3)
        model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 3))
        opt = "sgd" if make_opt is None else make_opt(model.parameters(), lr=0.05)
        h = fit(model, X, y, loss=loss, optimizer=opt, epochs=3, batch_size=8, progress=False,
                seed=0, lr=0.05 if make_opt is None else None)
        runs.append((h.history, model.state_dict()))
    assert runs[0][0] == runs[1][0]
    for k in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][k], runs[1][1][k])


def test_regularizer_is_added_to_the_loss():
    X, y = data()
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3))
    w = model[0].weight if hasattr(model, "__getitem__") else list(model.parameters())[0]
    h0 = fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.0, epochs=1,
             batch_size=50, progress=False)
    h1 = fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.0, epochs=1,
             batch_size=50, progress=False, regularizer=lambda: (w * w).sum() * 10.0)
    expected = 10.0 * float((w.data.astype(np.float64) ** 2).sum())
    assert h1.loss[0] - h0.loss[0] == pytest.approx(expected, rel=1e-4)


def test_float64_model_trains_in_float64():
    X, y = data()
    model = nn.Sequential(nn.Linear(3, 3, dtype=nv.float64))
    seen = []
    cb = LambdaCallback(on_batch_end=lambda b, logs: seen.append(model[0].weight.data.dtype))
    fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1, batch_size=25,
        progress=False, callbacks=[cb])
    assert seen == [np.float64, np.float64]


def test_mse_on_integer_labels_uses_one_hot_targets_and_reports_accuracy():
    X, y = data()
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3))
    h = fit(model, X, y, loss="mse", optimizer="sgd", lr=0.1, epochs=3, batch_size=10,
            progress=False)
    assert "accuracy" in h.history and h.loss[-1] < h.loss[0]


def test_regression_has_no_accuracy():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2)).astype(np.float32)
    y = (X @ np.array([1.5, -2.0], np.float32)) + 0.5
    model = nn.Sequential(nn.Linear(2, 1))
    h = fit(model, X, y, loss="mse", optimizer="sgd", lr=0.1, epochs=30, batch_size=10,
            progress=False, seed=0)
    assert "accuracy" not in h.history
    assert h.loss[-1] < 0.01
    np.testing.assert_allclose(model[0].weight.data.ravel(), [1.5, -2.0], atol=0.05)


def test_binary_cross_entropy_with_one_logit():
    X, y = data()
    yb = (y > 0).astype(np.int64)
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 1))
    h = fit(model, X, yb, loss=nn.BCEWithLogitsLoss(), optimizer="adam", lr=0.05, epochs=20,
            batch_size=10, progress=False, seed=0)
    assert h.accuracy[-1] > 0.8


def test_callback_can_stop_training():
    X, y = data()

    class StopAfterTwo(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    model = nn.Sequential(nn.Linear(3, 3))
    h = fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=10,
            batch_size=10, progress=False, callbacks=[StopAfterTwo()])
    assert h.epoch == [0, 1]


def test_clip_grad_norm_bounds_the_step():
    X, y = data()
    model = nn.Sequential(nn.Linear(3, 3))
    before = model[0].weight.data.copy()
    fit(model, X * 1000, y, loss="cross_entropy", optimizer="sgd", lr=1.0, epochs=1,
        batch_size=50, progress=False, clip_grad_norm=0.01)
    assert np.linalg.norm(model[0].weight.data - before) <= 0.0101


def test_initial_epoch_resumes_a_run_bitwise_with_absolute_epoch_numbers(capsys):
    X, y = data(n=60)

    def setup():
        nv.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 3))
        return model, nv.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def train(model, opt, **kw):
        return fit(model, X, y, loss="cross_entropy", optimizer=opt, batch_size=16, **kw)

    straight, opt = setup()
    whole = train(straight, opt, epochs=4, progress=False)
    resumed, opt = setup()
    train(resumed, opt, epochs=2, progress=False)
    seen = []
    rest = train(resumed, opt, epochs=4, initial_epoch=2, progress="lines",
                 callbacks=[LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(e))])
    assert rest.epoch == [2, 3] and seen == [2, 3]
    assert rest.params["initial_epoch"] == 2
    assert rest.history["loss"] == whole.history["loss"][2:]
    for p, q in zip(straight.parameters(), resumed.parameters()):
        assert np.array_equal(p.data, q.data)
    err = capsys.readouterr().err
    assert "epoch 3/4" in err and "epoch 4/4" in err and "epoch 1/4" not in err
    before = [p.data.copy() for p in resumed.parameters()]
    assert train(resumed, opt, epochs=4, initial_epoch=4, progress=False).epoch == []
    assert all(np.array_equal(a, p.data) for a, p in zip(before, resumed.parameters()))


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (True, TypeError), (1.5, TypeError)])
def test_initial_epoch_must_be_a_whole_number_from_zero(bad, exc):
    X, y = data()
    model = nn.Sequential(nn.Linear(3, 3))
    with pytest.raises(exc, match="initial_epoch"):
        fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2,
            batch_size=16, initial_epoch=bad, progress=False)
