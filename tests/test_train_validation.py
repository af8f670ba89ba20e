"""nv.fit checks its inputs before any work, with messages that say what and where."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.train import evaluate, fit, predict


def setup():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 4)).astype(np.float32)
    y = rng.integers(0, 3, 20)
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
    return model, X, y


def nan_at(X, i, j):
    X = X.copy()
    X[i, j] = np.nan
    return X


BAD = [
    # (what to change, exception, words the message must contain)
    (lambda X, y: dict(X=X, y=y[:15]), ValueError, ["X has 20", "y has 15"]),
    (lambda X, y: dict(X=nan_at(X, 7, 2), y=y), ValueError, ["row 7", "column 2"]),
    (lambda X, y: dict(X=np.where(X > 10, X, np.inf), y=y), ValueError, ["non-finite", "row 0"]),
    (lambda X, y: dict(X=X, y=np.where(np.arange(20) == 4, 5, y)), ValueError,
     ["5", "3 outputs", "0..2"]),
    (lambda X, y: dict(X=X, y=-np.ones(20, int)), ValueError, ["-1", "0..2"]),
    (lambda X, y: dict(X=X, y=y + 0.5), TypeError, ["integer"]),
    (lambda X, y: dict(X=X, y=y, batch_size=0), ValueError, ["batch_size", ">= 1"]),
    (lambda X, y: dict(X=X, y=y, batch_size=2.5), TypeError, ["batch_size"]),
    (lambda X, y: dict(X=X, y=y, epochs=0), ValueError, ["epochs", ">= 1"]),
    (lambda X, y: dict(X=X[:, 0], y=y), ValueError, ["(N, features)", "(20,)"]),
    (lambda X, y: dict(X=X.reshape(20, 2, 2), y=y), ValueError, ["(N, 4)", "(20, 2, 2)"]),
    (lambda X, y: dict(X=X[:, :3], y=y), ValueError, ["(N, 4)", "(20, 3)"]),
    (lambda X, y: dict(X=X.astype(str), y=y), TypeError, ["numeric"]),
    (lambda X, y: dict(X=X, y=y, loss="crossentropyy"), ValueError, ["unknown loss"]),
    (lambda X, y: dict(X=X, y=y, optimizer="adamm"), ValueError, ["unknown optimizer", "sgd"]),
    (lambda X, y: dict(X=X, y=y, optimizer=42), TypeError, ["optimizer"]),
    (lambda X, y: dict(X=X, y=y, validation_data=X), TypeError, ["pair"]),
    (lambda X, y: dict(X=X, y=y, validation_data=(X[:, :2], y)), ValueError,
     ["validation X", "(2,)"]),
    (lambda X, y: dict(X=X, y=y, validation_data=(X, y + 7)), ValueError, ["validation y"]),
    (lambda X, y: dict(X=X, y=y, progress="fancy"), ValueError, ["progress"]),
    (lambda X, y: dict(X=X, y=y, callbacks=[object()]), TypeError, ["callbacks[0]"]),
]


@pytest.mark.parametrize("change, error, words", BAD)
def test_bad_input_is_caught_up_front(change, error, words):
    model, X, y = setup()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    kwargs = dict(loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=2, batch_size=4,
                  progress=False)
    kwargs.update(change(X, y))
    with pytest.raises(error) as info:
        fit(model, kwargs.pop("X"), kwargs.pop("y"), **kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    for k, v in model.state_dict().items():  # no step was taken
        np.testing.assert_array_equal(v, before[k])


def test_a_loss_name_with_an_optimizer_object_and_lr_is_refused():
    model, X, y = setup()
    opt = nv.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="lr is only used"):
        fit(model, X, y, loss="cross_entropy", optimizer=opt, lr=0.5, epochs=1, batch_size=4,
            progress=False)


def test_predict_and_evaluate_check_their_inputs():
    model, X, y = setup()
    with pytest.raises(ValueError, match=r"row 3, column 1"):
        predict(model, nan_at(X, 3, 1))
    with pytest.raises(ValueError, match="(N, 4)"):
        predict(model, X[:, :2])
    with pytest.raises(ValueError, match="X has 20, y has 2"):
        evaluate(model, X, y[:2])
    with pytest.raises(ValueError, match="batch_size"):
        predict(model, X, batch_size=0)
