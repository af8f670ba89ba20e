"""Progress output: plain lines, a tqdm bar, silence — and never a different result."""
import io

import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.train import fit
from nerve.train.progress import Progress, format_logs


def run(progress, seed=0):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    nv.manual_seed(7)
    model = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Dropout(0.3), nn.Linear(6, 2))
    h = fit(model, X, y, loss="cross_entropy", optimizer="adam", lr=0.01, epochs=3,
            batch_size=8, validation_data=(X[:10], y[:10]), progress=progress, seed=seed)
    return h, model.state_dict()


def test_format_logs():
    assert format_logs({"loss": 0.41234, "accuracy": 0.9123}) == "loss 0.4123 - accuracy 0.912"


def test_lines_go_to_stderr_one_per_epoch(capsys):
    run("lines")
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 3
    assert lines[0].startswith("epoch 1/3 - loss ") and "val_accuracy" in lines[2]


def test_auto_mode_off_a_terminal_prints_lines(capsys):
    run(True)
    assert capsys.readouterr().err.count("epoch ") == 3


def test_progress_false_is_silent(capsys):
    run(False)
    assert capsys.readouterr() == ("", "")


def test_bar_mode_uses_tqdm():
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    p = Progress("bar", stream=stream)
    p.start(2)
    p.epoch_end(0, {"loss": 1.0})
    p.epoch_end(1, {"loss": 0.5})
    p.close()
    assert p.mode == "bar" and "2/2" in stream.getvalue() and "loss 0.5000" in stream.getvalue()


def test_results_are_bitwise_identical_with_and_without_progress(capsys):
    h1, w1 = run(False)
    h2, w2 = run("lines")
    h3, w3 = run(False)
    assert h1.history == h2.history == h3.history
    assert h1.iteration_loss == h2.iteration_loss
    for k in w1:
        assert np.array_equal(w1[k], w2[k]) and np.array_equal(w1[k], w3[k])
    h4, w4 = run(False, seed=1)  # a different seed shuffles (and drops) differently
    assert h4.iteration_loss != h1.iteration_loss
