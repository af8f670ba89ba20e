"""Acceptance: the course's classic results, reproducibility, and the default command."""
import numpy as np

import nerve as nv
from nerve import nn
from nerve.cli import main
from nerve.data import load_digits, logic_gate, spiral, standardize, train_test_split
from nerve.train import evaluate, fit
from nerve.train.build import l2_penalty


def test_spiral_linear_about_half_two_layer_above_97_percent():
    X, y = spiral(100, 3, seed=0)
    nv.manual_seed(0)
    linear = nn.Sequential(nn.Linear(2, 3))
    h = fit(linear, X, y, loss="cross_entropy", optimizer="sgd", lr=1.0, epochs=200,
            batch_size=300, progress=False, seed=0)
    assert 0.4 <= h.accuracy[-1] <= 0.6
    net = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 3))
    h = fit(net, X, y, loss="cross_entropy", optimizer="adam", lr=0.01, epochs=200,
            batch_size=300, progress=False, seed=0)
    assert evaluate(net, X, y)["accuracy"] >= 0.97


def test_xor_needs_a_hidden_layer():
    X, y = logic_gate("XOR")
    nv.manual_seed(0)
    single = nn.Sequential(nn.Linear(2, 2))
    fit(single, X, y, loss="cross_entropy", optimizer="adam", lr=0.1, epochs=300, batch_size=4,
        progress=False, seed=0)
    assert evaluate(single, X, y)["accuracy"] <= 0.75  # no line separates XOR
    hidden = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    fit(hidden, X, y, loss="cross_entropy", optimizer="adam", lr=0.1, epochs=300, batch_size=4,
        progress=False, seed=0)
    assert evaluate(hidden, X, y)["accuracy"] == 1.0


def test_digits_one_hidden_layer_reaches_97_percent_test_accuracy():
    X, y = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    X_tr, mean, std = standardize(X_tr)
    X_te, _, _ = standardize(X_te, mean, std)
    nv.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 10))
    fit(net, X_tr, y_tr, loss="cross_entropy", optimizer="adam", lr=1e-3, epochs=30,
        batch_size=32, progress=False, seed=0, regularizer=l2_penalty(net, 1e-3))
    assert evaluate(net, X_te, y_te)["accuracy"] >= 0.97


def _seeded_run(progress):
    X, y = spiral(50, 3, seed=1)
    nv.manual_seed(5)
    net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 3))
    h = fit(net, X, y, loss="cross_entropy", optimizer="momentum", lr=0.05, epochs=5,
            batch_size=16, validation_data=(X, y), progress=progress, seed=123)
    return h, net.state_dict()


def test_same_seed_gives_bitwise_identical_weights_and_history(capsys):
    h1, w1 = _seeded_run(False)
    h2, w2 = _seeded_run("lines")
    assert h1.history == h2.history and h1.iteration_loss == h2.iteration_loss
    assert all(np.array_equal(w1[k], w2[k]) for k in w1)
    assert "epoch 5/5" in capsys.readouterr().err


def test_default_command_trains_the_digits_in_seconds(tmp_path, capsys):
    assert main(["train", "--quiet", "--no-plots", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    final = out.splitlines()[-2]
    assert final.startswith("final: train accuracy")
    assert float(final.rsplit(" ", 1)[-1]) >= 0.97
    assert (tmp_path / "model.npz").exists()
