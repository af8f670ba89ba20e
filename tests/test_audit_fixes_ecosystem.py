"""Copies of trained state, scikit-learn habits and data helpers (the eighth session's
ecosystem audit): each test fails on the code as it was before the fix."""
import copy
import pickle

import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim
from nerve.data import DataLoader, TensorDataset, random_split, train_test_split, xor


# ------------------------------------------------------------------ copies keep learning
def _steps(model, opt, n, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x = nv.tensor(rng.standard_normal((8, 3)).astype(np.float32))
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(x), rng.integers(0, 2, 8)).backward()
        opt.step()


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copied_model_and_optimizer_keep_training_as_the_original(how):
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _steps(model, opt, 3)
    pair = copy.deepcopy((model, opt)) if how == "deepcopy" else \
        pickle.loads(pickle.dumps((model, opt)))
    model2, opt2 = pair
    before = model2[0].weight.data.copy()
    _steps(model, opt, 2, seed=1)
    _steps(model2, opt2, 2, seed=1)
    assert not np.array_equal(before, model2[0].weight.data)  # it learns
    for p, q in zip(model.parameters(), model2.parameters()):  # momentum carried over too
        np.testing.assert_array_equal(p.data, q.data)


def test_a_copied_compiled_step_keeps_training():
    nv.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    X = np.random.default_rng(2).standard_normal((8, 3)).astype(np.float32)
    y = np.arange(8) % 2
    nv.compile(model, nn.CrossEntropyLoss(), opt)(X, y)
    model2, opt2 = copy.deepcopy((model, opt))
    step, step2 = nv.compile(model, nn.CrossEntropyLoss(), opt), \
        nv.compile(model2, nn.CrossEntropyLoss(), opt2)
    for _ in range(3):
        step(X, y)
        step2(X, y)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_an_unpickled_estimator_keeps_learning():
    pytest.importorskip("sklearn")
    from nerve.sklearn import MLPClassifier

    X = np.random.default_rng(0).standard_normal((60, 4))
    y = np.arange(60) % 3
    clf = MLPClassifier((8,), random_state=0, max_iter=3, warm_start=True).fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    before = clone.predict_proba(X)
    clone.partial_fit(X, y)
    assert not np.array_equal(before, clone.predict_proba(X))


# ------------------------------------------------------------------ scikit-learn habits
def test_warm_start_fit_builds_a_new_optimizer_so_set_params_counts():
    pytest.importorskip("sklearn")
    from nerve.sklearn import MLPClassifier

    X = np.random.default_rng(0).standard_normal((60, 4))
    y = np.arange(60) % 3
    clf = MLPClassifier((8,), solver="sgd", random_state=0, max_iter=2,
                        warm_start=True).fit(X, y)
    assert type(clf._optimizer).__name__ == "SGD"
    clf.set_params(solver="adam")
    clf.fit(X, y)
    assert type(clf._optimizer).__name__ == "Adam"


def test_early_stopping_holds_out_a_stratified_validation_set():
    pytest.importorskip("sklearn")
    from nerve.sklearn import MLPClassifier

    X = np.random.default_rng(0).standard_normal((40, 3))
    y = np.array([0] * 19 + [1] * 19 + [2] * 2)
    for seed in range(10):
        clf = MLPClassifier((4,), random_state=seed, max_iter=2, early_stopping=True,
                            validation_fraction=0.3, n_iter_no_change=50)
        X_tr, y_tr, X_val, y_val = clf.fit(X, y)._split(X, np.searchsorted([0, 1, 2], y), 0.3,
                                                         np.random.default_rng(seed))
        assert set(np.unique(y_tr)) == {0, 1, 2}  # the small class is never all held out
        assert sorted(np.bincount(y_val, minlength=3)[:2]) == [6, 6]


def test_train_test_split_takes_scikit_learns_arguments():
    X, y, w = np.arange(40).reshape(20, 2), np.arange(20) % 2, np.arange(20.0)
    parts = train_test_split(X, y, w, random_state=0)  # three arrays, test_size 0.25
    assert [len(p) for p in parts] == [15, 5, 15, 5, 15, 5]
    np.testing.assert_array_equal(parts[0][:, 0] // 2, parts[4])  # rows stay together
    a = train_test_split(X, y, random_state=3)
    b = train_test_split(X, y, seed=3)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    tr, te = train_test_split(X, shuffle=False, test_size=0.2)
    np.testing.assert_array_equal(te, X[16:])
    _, _, y_tr, y_te = train_test_split(X, y, stratify=y, test_size=0.5, seed=0)
    assert np.bincount(y_te).tolist() == [5, 5]
    assert [len(p) for p in train_test_split(X, y, train_size=0.8, seed=0)] == [16, 4, 16, 4]
    with pytest.raises(TypeError, match="keyword arguments"):
        train_test_split(X, y, 0.3)
    with pytest.raises(TypeError, match="not both"):
        train_test_split(X, y, seed=1, random_state=1)


# ------------------------------------------------------------------ data helpers
def test_dataloader_of_a_dataset_with_a_positional_batch_size_names_the_fix():
    ds = TensorDataset(np.zeros((10, 2)), np.zeros(10))
    with pytest.raises(TypeError, match=r"DataLoader\(dataset, batch_size=4"):
        DataLoader(ds, 4)
    assert len(DataLoader(ds, batch_size=4)) == 3


@pytest.mark.parametrize("n", [6, 10, 202])
def test_xor_classes_are_balanced_within_one(n):
    counts = np.bincount(xor(n, seed=0)[1])
    assert abs(int(counts[0]) - int(counts[1])) <= 1


def test_subset_takes_a_list_of_indices():
    ds = TensorDataset(np.arange(10.0)[:, None], np.arange(10))
    part = random_split(ds, [6, 4], seed=0)[0]
    xs, ys = part[[0, 1]]
    np.testing.assert_array_equal(ys, [part[0][1], part[1][1]])
    np.testing.assert_array_equal(xs[:, 0], ys)
