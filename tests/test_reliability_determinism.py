"""Determinism: the same seed gives bitwise the same result, with or without a progress bar.

Covers fit (initialisation, shuffling, dropout), DataLoader orders, dropout masks,
the data generators, the classics that draw random numbers, and the CLI. Each
test also checks that a *different* seed changes the result, so that an
accidentally constant result cannot pass for a reproducible one.
"""
from __future__ import annotations

import numpy as np
import pytest

import nerve as nv
from nerve import data, nn, optim


def _run(seed: int, progress=False, init_seed: int | None = None):
    """Build (seeded), train with dropout and shuffling (seeded), return weights and history."""
    X, y = data.spiral(n_per_class=40, classes=3, seed=0)
    nv.manual_seed(seed if init_seed is None else init_seed)
    model = nn.Sequential(nn.Linear(2, 24), nn.ReLU(), nn.Dropout(0.3), nn.Linear(24, 3))
    history = nv.fit(model, X, y, loss="cross_entropy", optimizer="adam", lr=0.01, epochs=4,
                     batch_size=16, seed=seed, progress=progress,
                     validation_data=(X[:30], y[:30]))
    return model.state_dict(), history.history


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_fit_is_bitwise_reproducible_and_seed_dependent():
    w1, h1 = _run(7)
    w2, h2 = _run(7)
    assert _same(w1, w2) and h1 == h2
    w3, h3 = _run(8)
    assert not _same(w1, w3) and h1["loss"] != h3["loss"]


def test_fit_seed_alone_controls_shuffling_and_dropout():
    # the same initial weights, different fit seeds: only shuffles and masks differ
    w1, _ = _run(1, init_seed=0)
    w2, _ = _run(2, init_seed=0)
    assert not _same(w1, w2)
    w3, _ = _run(1, init_seed=0)
    assert _same(w1, w3)


@pytest.mark.parametrize("progress", [True, "lines", "bar"])
def test_progress_output_never_changes_the_result(progress, capsys):
    if progress == "bar":
        pytest.importorskip("tqdm")
    silent_w, silent_h = _run(3, progress=False)
    shown_w, shown_h = _run(3, progress=progress)
    assert _same(silent_w, shown_w) and silent_h == shown_h
    assert capsys.readouterr().err  # something was shown


def test_dataloader_orders_repeat_per_seed_and_per_manual_seed():
    X, y = np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20)

    def orders(loader, epochs=3):
        return [np.concatenate([yb for _, yb in loader]).tolist() for _ in range(epochs)]

    a = orders(data.DataLoader(X, y, batch_size=6, seed=5))
    b = orders(data.DataLoader(X, y, batch_size=6, seed=5))
    assert a == b and a[0] != a[1]  # the same epochs, each epoch a fresh order
    assert sorted(a[0]) == list(range(20))  # a permutation: no sample twice or missing
    assert orders(data.DataLoader(X, y, batch_size=6, seed=6)) != a
    nv.manual_seed(9)
    c = orders(data.DataLoader(X, y, batch_size=6))
    nv.manual_seed(9)
    assert orders(data.DataLoader(X, y, batch_size=6)) == c


def test_dropout_masks_follow_manual_seed():
    drop = nn.Dropout(0.5)
    x = nv.tensor(np.ones((8, 16)))
    nv.manual_seed(4)
    first = drop(x).data
    nv.manual_seed(4)
    assert np.array_equal(drop(x).data, first)
    assert not np.array_equal(drop(x).data, first)  # the stream moves on
    drop.eval()
    assert np.array_equal(drop(x).data, x.data)  # identity in eval mode, no draw


@pytest.mark.parametrize("make", [
    lambda s: data.spiral(n_per_class=10, seed=s),
    lambda s: data.xor(20, seed=s),
    lambda s: data.moons(20, seed=s),
    lambda s: data.circles(20, seed=s),
    lambda s: data.blobs(20, seed=s),
    lambda s: data.train_test_split(np.arange(20.0).reshape(10, 2), np.arange(10), seed=s),
    lambda s: (nv.randn(3, 4, seed=s).data,),
    lambda s: optim.random_search(lambda w: float((w ** 2).sum()), (2, 3), tries=5, seed=s),
], ids=["spiral", "xor", "moons", "circles", "blobs", "train_test_split", "randn",
        "random_search"])
def test_generators_repeat_per_seed(make):
    first, again, other = make(1), make(1), make(2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_generators_follow_manual_seed_when_no_seed_is_given():
    nv.manual_seed(11)
    a = data.spiral(n_per_class=10)
    nv.manual_seed(11)
    b = data.spiral(n_per_class=10)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def test_linear_classifiers_repeat_per_seed():
    from nerve import linear
    X, y = data.blobs(60, centers=3, seed=0)
    for cls in (linear.SoftmaxClassifier, linear.SVMClassifier):
        fits = [cls(epochs=3, batch_size=16, seed=s).fit(X, y).W_ for s in (1, 1, 2)]
        assert np.array_equal(fits[0], fits[1]) and not np.array_equal(fits[0], fits[2])


@pytest.mark.filterwarnings("ignore::nerve.perceptron.ConvergenceWarning")  # one epoch
def test_perceptron_repeats_per_seed():
    from nerve import perceptron
    X, y = data.logic_gate("AND")
    ws = [perceptron.Perceptron(seed=s, max_epochs=1).fit(X, y).weights for s in (3, 3, 4)]
    assert np.array_equal(ws[0], ws[1]) and not np.array_equal(ws[0], ws[2])


@pytest.mark.filterwarnings("ignore:.*max_iter")
def test_sklearn_estimator_repeats_per_random_state():
    pytest.importorskip("sklearn")
    from nerve.sklearn import MLPClassifier
    X, y = data.spiral(n_per_class=20, seed=0)
    probs = [MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=s).fit(X, y)
             .predict_proba(X) for s in (0, 0, 1)]
    assert np.array_equal(probs[0], probs[1]) and not np.array_equal(probs[0], probs[2])


def test_cli_train_with_a_seed_writes_the_same_model_twice(tmp_path):
    from nerve.cli import main
    weights = []
    for run in ("a", "b"):
        out = tmp_path / run
        argv = ["train", "--dataset", "xor", "--epochs", "2", "--hidden", "8", "--seed", "5",
                "--quiet", "--no-plots", "--out", str(out)]
        assert main(argv) == 0
        weights.append(nv.load_state(out / "model.npz"))
    assert _same(weights[0], weights[1])
