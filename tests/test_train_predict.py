"""nv.predict and nv.evaluate: NumPy out, eval mode, batched, no graph; metrics."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.train import evaluate, predict
from nerve.train.metrics import accuracy, confusion_matrix


def model_and_data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4)).astype(np.float32)
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    y = predict(model, X).argmax(axis=1)
    return model, X, y


def test_predict_is_numpy_deterministic_batched_and_keeps_the_mode():
    model, X, _ = model_and_data()
    model.train()
    a = predict(model, X)
    b = predict(model, X, batch_size=7)
    assert isinstance(a, np.ndarray) and a.shape == (50, 3) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)  # dropout is off in eval mode
    assert model.training is True
    assert all(p.grad is None for p in model.parameters())


def test_evaluate_reports_loss_and_accuracy():
    model, X, y = model_and_data()
    result = evaluate(model, X, y, loss="cross_entropy")
    assert result["accuracy"] == 1.0 and result["loss"] > 0
    scores = predict(model, X).astype(np.float64)
    logp = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    assert result["loss"] == pytest.approx(-logp[np.arange(50), y].mean(), rel=1e-5)
    assert evaluate(model, X, (y + 1) % 3) == {"accuracy": 0.0}


def test_evaluate_without_loss_refuses_regression_targets():
    model, X, _ = model_and_data()
    with pytest.raises(ValueError, match="pass loss="):
        evaluate(model, X, np.linspace(0, 1, 50))


def test_confusion_matrix_and_accuracy():
    cm = confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1])
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 2]]
    assert confusion_matrix([0], [0], num_classes=3).shape == (3, 3)
    assert accuracy([0, 1, 1, 0], [0, 1, 0, 0]) == 0.75
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="num_classes=2"):
        confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(TypeError, match="integer"):
        accuracy([0.5], [0])


def test_evaluate_with_class_weights_is_the_weighted_mean_over_the_whole_set():
    model, X, _ = model_and_data()
    y = np.arange(50) % 3
    y[:10] = 0  # the first batch of 7 holds only class 0, whose weight is 0
    loss = nn.CrossEntropyLoss(weight=np.array([0.0, 1.0, 3.0]))
    with nv.no_grad():
        model.eval()
        whole = float(loss(model(nv.tensor(X)), y).data)  # Σ w_y·nll / Σ w_y, all at once
    for batch_size in (7, 16, 50):
        got = evaluate(model, X, y, loss=loss, batch_size=batch_size)["loss"]
        assert got == pytest.approx(whole, rel=1e-5)
    only_zero = nn.CrossEntropyLoss(weight=np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="weight 0"):
        evaluate(model, X[:10], y[:10], loss=only_zero, batch_size=4)


def test_evaluate_with_class_weights_leaves_out_ignored_labels():
    model, X, _ = model_and_data()
    y = np.arange(50) % 3
    loss = nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 3.0]), ignore_index=2)
    with nv.no_grad():
        model.eval()
        whole = float(loss(model(nv.tensor(X)), y).data)
    assert evaluate(model, X, y, loss=loss, batch_size=4)["loss"] == pytest.approx(whole, rel=1e-5)
