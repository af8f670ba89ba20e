"""One or two update steps of each optimizer against a hand computation with concrete numbers."""
import math

import numpy as np
import pytest

from nerve.optim import (SGD, Adagrad, Adam, AdamW, RMSProp, adagrad_update, adam_update,
                         rmsprop_update, sgd_update)


class Param:
    def __init__(self, data, dtype=np.float64):
        self.data = np.array(data, dtype=dtype)
        self.grad = None


W0 = [1.0, -2.0]
G1 = [0.5, 1.0]
G2 = [1.0, -1.0]


def run(opt_cls, grads, **kw):
    p = Param(W0)
    opt = opt_cls([p], **kw)
    for g in grads:
        p.grad = np.array(g)
        opt.step()
    return p.data


def test_sgd_step():
    # w - lr * g = [1 - 0.1*0.5, -2 - 0.1*1]
    np.testing.assert_allclose(run(SGD, [G1], lr=0.1), [0.95, -2.1], rtol=0, atol=1e-15)


def test_sgd_weight_decay_is_l2_in_the_grad():
    # g' = g + 0.1 * w = [0.6, 0.8];  w - 0.1 * g' = [0.94, -2.08]
    out = run(SGD, [G1], lr=0.1, weight_decay=0.1)
    np.testing.assert_allclose(out, [0.94, -2.08], rtol=0, atol=1e-15)


def test_momentum_two_steps():
    # step 1: v = g1 = [0.5, 1];            w = [0.95, -2.1]
    # step 2: v = 0.9*[0.5, 1] + [1, -1] = [1.45, -0.1];  w = [0.95 - 0.145, -2.1 + 0.01]
    out = run(SGD, [G1, G2], lr=0.1, momentum=0.9)
    np.testing.assert_allclose(out, [0.805, -2.09], rtol=0, atol=1e-14)


def test_momentum_dampening():
    # step 2: v = 0.9*[0.5, 1] + 0.5*[1, -1] = [0.95, 0.4];  w = [0.95 - 0.095, -2.1 - 0.04]
    out = run(SGD, [G1, G2], lr=0.1, momentum=0.9, dampening=0.5)
    np.testing.assert_allclose(out, [0.855, -2.14], rtol=0, atol=1e-14)


def test_nesterov_two_steps():
    # step 1: v = [0.5, 1]; d = g + 0.9 v = [0.95, 1.9];        w = [0.905, -2.19]
    # step 2: v = [1.45, -0.1]; d = [1, -1] + 0.9 v = [2.305, -1.09]; w = [0.6745, -2.081]
    out = run(SGD, [G1, G2], lr=0.1, momentum=0.9, nesterov=True)
    np.testing.assert_allclose(out, [0.6745, -2.081], rtol=0, atol=1e-14)


def test_adam_two_steps():
    # step 1: bias-corrected m = g and v = g**2, so the step is lr * g / (|g| + eps)
    eps = 1e-8
    w1 = np.array([1.0 - 0.1 * 0.5 / (0.5 + eps), -2.0 - 0.1 * 1.0 / (1.0 + eps)])
    np.testing.assert_allclose(run(Adam, [G1], lr=0.1), w1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(w1, [0.9, -2.1], atol=1e-8)
    # step 2: m = 0.9*[0.05, 0.1] + 0.1*[1, -1] = [0.145, -0.01]
    #         v = 0.999*[0.00025, 0.001] + 0.001*[1, 1] = [0.00124975, 0.001999]
    #         1 - 0.9**2 = 0.19,  1 - 0.999**2 = 0.001999
    m = np.array([0.145, -0.01])
    v = np.array([0.00124975, 0.001999])
    w2 = w1 - 0.1 * (m / 0.19) / (np.sqrt(v) / math.sqrt(0.001999) + eps)
    np.testing.assert_allclose(run(Adam, [G1, G2], lr=0.1), w2, rtol=1e-12, atol=0)
    # about [0.9 - 0.0965, -2.1 + 0.00526]
    np.testing.assert_allclose(w2, [0.80348, -2.09474], atol=1e-5)


def test_adam_l2_versus_decoupled_decay():
    # Adam: g' = g + 0.1 w = [0.6, 0.8] -> first step is still lr * sign(g') = [0.9, -2.1]
    np.testing.assert_allclose(run(Adam, [G1], lr=0.1, weight_decay=0.1), [0.9, -2.1],
                               atol=1e-7)
    # AdamW: w *= 1 - 0.1*0.1 = 0.99 -> [0.99, -1.98], then the step [-0.1, -0.1]
    np.testing.assert_allclose(run(AdamW, [G1], lr=0.1, weight_decay=0.1), [0.89, -2.08],
                               atol=1e-7)


def test_rmsprop_two_steps():
    # step 1: s = 0.01 * g**2 = [0.0025, 0.01]; g / sqrt(s) = [10, 10]; w = w - 0.01*10
    out = run(RMSProp, [G1], lr=0.01, alpha=0.99, eps=0.0)
    np.testing.assert_allclose(out, [0.9, -2.1], rtol=0, atol=1e-14)
    # step 2: s = 0.99*[0.0025, 0.01] + 0.01*[1, 1] = [0.012475, 0.0199]
    w2 = [0.9 - 0.01 * 1.0 / math.sqrt(0.012475), -2.1 + 0.01 * 1.0 / math.sqrt(0.0199)]
    out = run(RMSProp, [G1, G2], lr=0.01, alpha=0.99, eps=0.0)
    np.testing.assert_allclose(out, w2, rtol=1e-13)


def test_rmsprop_momentum_step():
    # b = 0.9*[10, 10] + [1, -1]/sqrt([0.012475, 0.0199]);  w = [0.9, -2.1] - 0.01 * b
    b = [9.0 + 1.0 / math.sqrt(0.012475), 9.0 - 1.0 / math.sqrt(0.0199)]
    out = run(RMSProp, [G1, G2], lr=0.01, alpha=0.99, eps=0.0, momentum=0.9)
    np.testing.assert_allclose(out, [0.9 - 0.01 * b[0], -2.1 - 0.01 * b[1]], rtol=1e-13)


def test_adagrad_two_steps():
    # step 1: h = g**2, so the step is lr * sign(g)
    np.testing.assert_allclose(run(Adagrad, [G1], lr=0.1, eps=0.0), [0.9, -2.1], atol=1e-15)
    # step 2: h = [0.25 + 1, 1 + 1] = [1.25, 2]; w = [0.9 - 0.1/sqrt(1.25), -2.1 + 0.1/sqrt(2)]
    out = run(Adagrad, [G1, G2], lr=0.1, eps=0.0)
    np.testing.assert_allclose(out, [0.8105572809000084, -2.0292893218813453], rtol=1e-14)


@pytest.mark.parametrize("fn, kw", [
    (sgd_update, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (rmsprop_update, dict(lr=0.01, momentum=0.5, centered=True)),
    (adagrad_update, dict(lr=0.1)),
    (adam_update, dict(lr=0.1, amsgrad=True)),
])
def test_pure_functions_match_classes_and_leave_grad_alone(fn, kw):
    cls = {sgd_update: SGD, rmsprop_update: RMSProp, adagrad_update: Adagrad,
           adam_update: Adam}[fn]
    p = Param(W0)
    opt = cls([p], **kw)
    w, state = np.array(W0), {}
    for g in (G1, G2, G1):
        grad = np.array(g)
        p.grad = grad
        opt.step()
        fn(w, grad, state, **kw)
        np.testing.assert_array_equal(grad, g)  # the gradient is read, never written
    np.testing.assert_array_equal(p.data, w)
    assert set(state) == set(opt.state[0])


def test_update_is_in_place():
    p = Param(W0)
    before = p.data
    opt = Adam([p], lr=0.1)
    p.grad = np.array(G1)
    opt.step()
    assert p.data is before


def test_gradient_shape_mismatch_names_the_shapes():
    p = Param(W0)
    p.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        SGD([p], lr=0.1).step()


def test_parameters_without_grad_are_skipped():
    a, b = Param(W0), Param(W0)
    a.grad = np.array(G1)
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    opt.step()
    np.testing.assert_array_equal(b.data, W0)
    assert 1 not in opt.state or not opt.state[1]


def test_sgd_update_in_slices_is_bitwise_the_plain_update():
    from nerve.optim.sgd import CHUNK, sgd_update
    rng = np.random.default_rng(0)
    w = rng.standard_normal(3 * CHUNK + 17).astype(np.float32)
    g = rng.standard_normal(w.shape).astype(np.float32)
    expected, state = w.copy(), {}
    expected -= 0.1 * g
    sgd_update(w, g, state, lr=0.1)
    np.testing.assert_array_equal(w, expected)
