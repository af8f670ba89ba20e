"""Synthetic 2-D generators: shapes, dtypes, balance, structure, seeding, errors."""
import numpy as np
import pytest

import nerve
from nerve.data import LOGIC_GATES, blobs, circles, logic_gate, moons, spiral, xor

GENERATORS = [
    ("spiral", lambda seed: spiral(50, 3, seed=seed), 150, 3),
    ("xor", lambda seed: xor(101, seed=seed), 101, 2),
    ("moons", lambda seed: moons(101, seed=seed), 101, 2),
    ("circles", lambda seed: circles(101, seed=seed), 101, 2),
    ("blobs", lambda seed: blobs(100, centers=4, seed=seed), 100, 4),
]


@pytest.mark.parametrize("name,make,n,k", GENERATORS, ids=[g[0] for g in GENERATORS])
def test_shapes_dtypes_and_balance(name, make, n, k):
    X, y = make(0)
    assert X.shape == (n, 2) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == k
    assert counts.max() - counts.min() <= 1
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name,make,n,k", GENERATORS, ids=[g[0] for g in GENERATORS])
def test_seed_reproducible_and_distinct(name, make, n, k):
    X1, y1 = make(3)
    X2, y2 = make(3)
    X3, _ = make(4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_manual_seed_controls_seed_none():
    nerve.random.manual_seed(123)
    a = spiral(20, seed=None)[0]
    b = spiral(20, seed=None)[0]
    nerve.random.manual_seed(123)
    c = spiral(20, seed=None)[0]
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_spiral_matches_cs231n_construction():
    n, k = 40, 3
    X, y = spiral(n, k, noise=0.0, seed=0)
    for j in range(k):
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(j * 4, (j + 1) * 4, n)
        expected = np.c_[r * np.sin(t), r * np.cos(t)]
        np.testing.assert_allclose(X[y == j], expected, atol=1e-6)
    # radius grows linearly from the centre to 1 along each arm
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[:n], np.linspace(0, 1, n), atol=1e-6)


def test_spiral_noise_only_perturbs_angle():
    X, _ = spiral(30, 2, noise=0.5, seed=1)
    np.testing.assert_allclose(np.linalg.norm(X[:30], axis=1), np.linspace(0, 1, 30), atol=1e-6)


def test_xor_labels_follow_corners():
    X, y = xor(400, noise=0.05, seed=0)
    corner = np.rint(X).astype(int)
    np.testing.assert_array_equal(y, corner[:, 0] ^ corner[:, 1])


def test_circles_radii():
    X, y = circles(200, noise=0.0, factor=0.3, seed=0)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, atol=1e-6)


def test_moons_without_noise_lie_on_half_circles():
    X, y = moons(100, noise=0.0, seed=0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0, atol=1e-6)
    assert X[y == 0, 1].min() >= -1e-6 and X[y == 1, 1].max() <= 0.5 + 1e-6


def test_blobs_with_given_centers():
    centers = np.array([[0.0, 0.0], [20.0, 20.0]])
    X, y = blobs(200, centers=centers, std=0.5, seed=0)
    for c in range(2):
        np.testing.assert_allclose(X[y == c].mean(axis=0), centers[c], atol=0.2)
        assert abs(X[y == c].std() - 0.5) < 0.1


@pytest.mark.parametrize("name", sorted(LOGIC_GATES))
def test_logic_gate_truth_tables(name):
    X, y = logic_gate(name.lower())
    assert X.dtype == np.float32 and X.shape == (4, 2)
    assert y.dtype == np.int64 and y.shape == (4,)
    a, b = X[:, 0].astype(bool), X[:, 1].astype(bool)
    expected = {"AND": a & b, "OR": a | b, "NAND": ~(a & b), "NOR": ~(a | b), "XOR": a ^ b}
    np.testing.assert_array_equal(y, expected[name].astype(np.int64))


def test_logic_gate_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="XNOR.*AND.*NAND.*NOR.*OR.*XOR"):
        logic_gate("XNOR")
    with pytest.raises(TypeError):
        logic_gate(3)


@pytest.mark.parametrize("call,error,match", [
    (lambda: spiral(0), ValueError, "n_per_class"),
    (lambda: spiral(10, classes=2.5), TypeError, "classes"),
    (lambda: spiral(10, noise=-1), ValueError, "noise"),
    (lambda: xor(True), TypeError, "n"),
    (lambda: moons(1), ValueError, "n must be"),
    (lambda: circles(10, factor=1.5), ValueError, "factor"),
    (lambda: blobs(10, centers=np.zeros((3, 3))), ValueError, r"\(k, 2\)"),
    (lambda: blobs(10, std=float("nan")), ValueError, "std"),
    (lambda: spiral(10, seed=-1), ValueError, "seed"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
