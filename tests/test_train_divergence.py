"""A loss or parameter that turns NaN/inf stops fit with a message saying what to try."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.train import LambdaCallback, TrainingDivergedError, fit


def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 3)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def test_exploding_loss_names_epoch_iteration_and_remedies():
    X, y = data()
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 1))
    target = (y * 1e30).astype(np.float32)
    with pytest.raises(TrainingDivergedError) as info:
        fit(model, X, target, loss="mse", optimizer="sgd", lr=10.0, epochs=50, batch_size=8,
            progress=False)
    err = info.value
    msg = str(err)
    assert isinstance(err, ValueError)
    assert f"epoch {err.epoch + 1}/50" in msg and "iteration" in msg
    for remedy in ("lower learning rate", "(now 10)", "clipping", "standardising"):
        assert remedy in msg
    assert len(err.history.epoch) == err.epoch  # the epochs completed before it


def test_nan_parameter_is_caught_at_the_end_of_the_epoch():
    X, y = data()
    model = nn.Sequential(nn.Linear(3, 2))

    def poison(batch, logs):
        if batch == 1:
            model[0].bias.data[1] = np.inf  # the next steps' loss may still be finite

    cb = LambdaCallback(on_batch_end=poison)
    with pytest.raises(TrainingDivergedError, match=r"0\.bias|loss became"):
        fit(model, X, y, loss="hinge", optimizer="sgd", lr=0.0, epochs=3, batch_size=16,
            progress=False, callbacks=[cb])
    assert model.training is True  # the mode is restored even on failure
