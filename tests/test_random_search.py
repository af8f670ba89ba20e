"""The lecture's gradient-free baselines: random search and random local search."""
import numpy as np
import pytest

import nerve.random
from nerve.optim import random_local_search, random_search

TARGET = np.linspace(-0.5, 0.5, 6).reshape(2, 3)


def quadratic(W):
    return float(np.sum((W - TARGET) ** 2))


def test_random_search_improves_on_the_first_try():
    W, history = random_search(quadratic, (2, 3), tries=200, scale=0.5, seed=0)
    assert W.shape == (2, 3) and W.dtype == np.float32
    assert history.shape == (200,)
    assert history[-1] < history[0]
    assert np.all(np.diff(history) <= 0)  # best-so-far never rises
    assert quadratic(W) == pytest.approx(history[-1])


def test_local_search_beats_random_search_on_the_same_budget():
    budget = 300
    _, random_hist = random_search(quadratic, (2, 3), tries=budget, scale=0.5, seed=1)
    W, local_hist = random_local_search(quadratic, np.zeros((2, 3)), steps=budget,
                                        step_size=0.05, seed=1)
    assert local_hist.shape == (budget,)
    assert np.all(np.diff(local_hist) <= 0)
    assert local_hist[-1] < 0.5 * random_hist[-1]
    assert quadratic(W) == pytest.approx(local_hist[-1])
    assert W.dtype == np.float64  # the starting point's dtype is kept


def test_local_search_never_accepts_a_worse_step_and_copies_its_start():
    W0 = np.zeros(3, dtype=np.float32)
    W, history = random_local_search(lambda W: float(np.sum(W ** 2)), W0, steps=50,
                                     step_size=0.1, seed=0)
    np.testing.assert_array_equal(W0, 0)  # the caller's array is untouched
    np.testing.assert_array_equal(history, 0.0)  # no move can beat the minimum
    np.testing.assert_array_equal(W, 0)


def test_nan_losses_never_win():
    calls = iter([np.nan, 3.0, np.nan, 2.0])
    W, history = random_search(lambda W: next(calls), (2,), tries=4, seed=0)
    np.testing.assert_array_equal(history, [np.inf, 3.0, 3.0, 2.0])
    calls = iter([5.0, np.nan, 4.0])
    _, history = random_local_search(lambda W: next(calls), np.zeros(2), steps=2, seed=0)
    np.testing.assert_array_equal(history, [5.0, 4.0])


@pytest.mark.parametrize("search, args", [
    (random_search, ((2, 3),)),
    (random_local_search, (np.zeros((2, 3)),)),
])
def test_seeds_reproduce(search, args):
    W1, h1 = search(quadratic, *args, 50, 0.1, seed=7)
    W2, h2 = search(quadratic, *args, 50, 0.1, seed=7)
    W3, h3 = search(quadratic, *args, 50, 0.1, seed=8)
    np.testing.assert_array_equal(W1, W2)
    np.testing.assert_array_equal(h1, h2)
    assert not np.array_equal(h1, h3)
    nerve.random.manual_seed(3)
    W4, _ = search(quadratic, *args, 50, 0.1)
    nerve.random.manual_seed(3)
    W5, _ = search(quadratic, *args, 50, 0.1)
    np.testing.assert_array_equal(W4, W5)


def test_default_scale_is_the_lectures_small_weights():
    W, _ = random_search(lambda W: float(np.sum(W)), 1000, tries=1, seed=0)
    assert W.shape == (1000,)
    assert 0.0008 < W.std() < 0.0012  # 0.001 * N(0, 1)


@pytest.mark.parametrize("call, error, fragment", [
    (lambda: random_search(quadratic, (2, 3), tries=0), ValueError, "tries must be >= 1"),
    (lambda: random_search(quadratic, (2, 0)), ValueError, "shape must be positive"),
    (lambda: random_search(quadratic, (2, 3), scale=-1), ValueError, "scale must be in"),
    (lambda: random_search("loss", (2, 3)), TypeError, "loss_fn must be callable"),
    (lambda: random_search(lambda W: W, (2, 3), tries=2), TypeError,
     r"must return a single number, got ndarray of shape \(2, 3\)"),
    (lambda: random_search(quadratic, (2, 3), dtype=np.int32), TypeError, "float32 or float64"),
    (lambda: random_local_search(quadratic, np.zeros((2, 3)), steps=2.5), TypeError,
     "steps must be an integer"),
    (lambda: random_local_search(quadratic, np.zeros((2, 3)), step_size=-0.1), ValueError,
     "step_size must be in"),
])
def test_bad_arguments(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()
