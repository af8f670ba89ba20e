"""Every optimizer reaches the minimum of f(w) = ||w - c||^2 (gradient 2(w - c))."""
import numpy as np
import pytest

from nerve.optim import OPTIMIZERS, get_optimizer

C = np.array([1.0, -2.0, 3.0])


class Param:
    def __init__(self, dtype):
        self.data = np.zeros(3, dtype=dtype)
        self.grad = None


ROWS = [  # name, options, steps
    ("sgd", dict(lr=0.1), 100),
    ("sgd", dict(lr=0.1, weight_decay=0.0, dampening=0.0), 100),
    ("momentum", dict(lr=0.05), 200),
    ("nesterov", dict(lr=0.05), 200),
    ("rmsprop", dict(lr=0.01), 1000),
    ("rmsprop", dict(lr=0.01, momentum=0.5, centered=True), 1000),
    ("adagrad", dict(lr=0.5), 500),
    ("adam", dict(lr=0.1), 500),
    ("adam", dict(lr=0.1, amsgrad=True), 500),
    ("adamw", dict(lr=0.1, weight_decay=0.0), 500),
]


def test_every_registered_optimizer_has_a_row():
    assert {name for name, _, _ in ROWS} == set(OPTIMIZERS)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, options, steps", ROWS)
def test_reaches_the_minimum(name, options, steps, dtype):
    p = Param(dtype)
    opt = get_optimizer(name, [p], **options)
    c = C.astype(dtype)
    loss0 = float(np.sum((p.data - c) ** 2))
    for _ in range(steps):
        opt.zero_grad()
        p.grad = 2 * (p.data - c)
        opt.step()
    assert p.data.dtype == dtype
    assert float(np.sum((p.data - c) ** 2)) < 1e-6 * loss0
    np.testing.assert_allclose(p.data, c, atol=1e-3)


def test_l2_weight_decay_moves_the_minimum():
    # f(w) + (wd/2)||w||^2 has its minimum at 2c / (2 + wd)
    p = Param(np.float64)
    opt = get_optimizer("sgd", [p], lr=0.1, weight_decay=0.5)
    for _ in range(300):
        p.grad = 2 * (p.data - C)
        opt.step()
    np.testing.assert_allclose(p.data, 2 * C / 2.5, atol=1e-8)
