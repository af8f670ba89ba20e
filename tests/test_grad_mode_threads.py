"""Grad mode is per thread, as PyTorch's: no_grad in one thread leaves another recording."""
import threading

import numpy as np
import pytest

import nerve as nv
from nerve import nn


def _run_in_thread(fn):
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_no_grad_in_another_thread_leaves_this_thread_recording():
    entered, release = threading.Event(), threading.Event()

    def inference():
        with nv.no_grad():
            entered.set()
            release.wait(5)
            return nv.is_grad_enabled()

    worker = threading.Thread(target=inference)
    worker.start()
    assert entered.wait(5)
    try:
        # the other thread sits inside no_grad right now: this one still records
        assert nv.is_grad_enabled()
        x = nv.tensor(np.array([1.0, 2.0]), requires_grad=True)
        y = (x * x).sum()
        assert y.requires_grad
        y.backward()
        np.testing.assert_array_equal(x.grad.data if hasattr(x.grad, "data") else x.grad,
                                      [2.0, 4.0])
    finally:
        release.set()
        worker.join()


def test_set_grad_enabled_false_is_per_thread():
    def off_then_op():
        nv.set_grad_enabled(False)
        x = nv.tensor(np.ones(3), requires_grad=True)
        return nv.is_grad_enabled(), (x * 2).requires_grad

    assert _run_in_thread(off_then_op) == (False, False)
    assert nv.is_grad_enabled()  # this thread never switched it off
    x = nv.tensor(np.ones(3), requires_grad=True)
    assert (x * 2).requires_grad


def test_a_new_thread_starts_recording_even_if_its_parent_is_in_no_grad():
    with nv.no_grad():
        assert _run_in_thread(nv.is_grad_enabled) is True
        assert not nv.is_grad_enabled()
    assert nv.is_grad_enabled()


def test_one_no_grad_object_entered_in_two_threads_restores_each_threads_mode():
    ng = nv.no_grad()  # one shared object, as a module-level constant would be
    inside = threading.Barrier(2, timeout=5)
    results = {}

    def worker(name, start_mode):
        nv.set_grad_enabled(start_mode)
        with ng:
            inside.wait()  # both threads are inside the same object at once
            results[name + " inside"] = nv.is_grad_enabled()
            inside.wait()
        results[name + " after"] = nv.is_grad_enabled()

    threads = [threading.Thread(target=worker, args=("a", True)),
               threading.Thread(target=worker, args=("b", False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"a inside": False, "b inside": False, "a after": True, "b after": False}


def test_training_in_a_thread_while_main_thread_runs_no_grad_inference():
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    loss_fn = nn.CrossEntropyLoss()
    started, done = threading.Event(), threading.Event()

    def train():
        opt = nv.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for _ in range(30):
            opt.zero_grad()
            loss = loss_fn(model(nv.tensor(X)), y)
            started.set()
            loss.backward()  # would raise if the main thread's no_grad switched recording off
            opt.step()
            losses.append(float(loss.item()))
        done.set()
        return losses

    worker_box = {}
    t = threading.Thread(target=lambda: worker_box.update(losses=train()))
    with nv.no_grad():
        t.start()
        assert started.wait(5)
        while not done.is_set():
            out = model(nv.tensor(X))
            assert not out.requires_grad
            done.wait(0.001)
    t.join()
    losses = worker_box["losses"]
    assert len(losses) == 30 and losses[-1] < losses[0]


def test_no_grad_decorator_and_nesting_still_restore():
    @nv.no_grad()
    def f():
        return nv.is_grad_enabled()

    assert f() is False and nv.is_grad_enabled()
    with nv.no_grad():
        with nv.enable_grad():
            assert nv.is_grad_enabled()
        assert not nv.is_grad_enabled()
    assert nv.is_grad_enabled()
    with pytest.raises(TypeError, match="set_grad_enabled"):
        nv.set_grad_enabled(1)


def _fit_in(model, X, y, seed):
    h = nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=3,
               batch_size=16, seed=seed, progress=False)
    return np.concatenate([p.data.ravel() for p in model.parameters()]), h.history["loss"]


def test_fit_with_a_seed_in_two_threads_equals_the_runs_one_after_the_other():
    import sys

    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 5)).astype(np.float32)
    y = rng.integers(0, 3, 96)

    def make(k):
        nv.manual_seed(k)
        return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))

    alone = [_fit_in(make(k), X, y, seed=10 + k) for k in range(2)]
    models = [make(k) for k in range(2)]
    together = {}
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=lambda k=k: together.update(
            {k: _fit_in(models[k], X, y, seed=10 + k)})) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    for k in range(2):
        np.testing.assert_array_equal(together[k][0], alone[k][0])
        assert together[k][1] == alone[k][1]
