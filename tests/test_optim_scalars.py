"""The update rules pass their fixed coefficients as cached 0-d arrays (cheaper ufunc
calls); the numbers must stay those of the Python-float formulas, bit for bit, also
when a state buffer has another dtype than its parameter (a state loaded as float64)."""
import math

import numpy as np
import pytest

from nerve.optim.adam import adam_update
from nerve.optim.rmsprop import rmsprop_update
from nerve.optim.sgd import sgd_update

DTYPES = [(np.float32, np.float32), (np.float32, np.float64), (np.float64, np.float64)]


def _arrays(pdt, sdt, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(300).astype(pdt)
    g = rng.standard_normal(300).astype(pdt)
    s1, s2 = rng.random(300).astype(sdt), rng.random(300).astype(sdt)
    return p, g, s1, s2


@pytest.mark.parametrize("pdt,sdt", DTYPES)
def test_sgd_momentum_matches_python_float_formula(pdt, sdt):
    p, g, v, _ = _arrays(pdt, sdt)
    want_p, want_v = p.copy(), v.copy()
    want_v *= 0.9
    want_v += g
    want_p -= 0.013 * want_v
    state = {"momentum_buffer": v.copy()}
    sgd_update(p, g, state, lr=0.013, momentum=0.9)
    assert np.array_equal(p, want_p) and np.array_equal(state["momentum_buffer"], want_v)


@pytest.mark.parametrize("pdt,sdt", DTYPES)
def test_adam_matches_python_float_formula(pdt, sdt):
    p, g, m, v = _arrays(pdt, sdt, 1)
    wp, wm, wv = p.copy(), m.copy(), v.copy()
    wm *= 0.9
    wm += (1 - 0.9) * g
    wv *= 0.999
    wv += (1 - 0.999) * g * g
    denom = np.sqrt(wv)
    denom /= math.sqrt(1 - 0.999 ** 4)
    denom += 1e-8
    np.divide(wm, denom, out=denom)
    denom *= 0.001 / (1 - 0.9 ** 4)
    wp -= denom
    state = {"step": 3, "exp_avg": m.copy(), "exp_avg_sq": v.copy()}
    adam_update(p, g, state, lr=0.001)
    assert np.array_equal(p, wp)
    assert np.array_equal(state["exp_avg"], wm) and np.array_equal(state["exp_avg_sq"], wv)


@pytest.mark.parametrize("pdt,sdt", DTYPES)
def test_rmsprop_matches_python_float_formula(pdt, sdt):
    p, g, sq, _ = _arrays(pdt, sdt, 2)
    wp, wsq = p.copy(), sq.copy()
    wsq *= 0.99
    wsq += (1 - 0.99) * g * g
    denom = np.sqrt(wsq)
    denom += 1e-8
    np.divide(g, denom, out=denom)
    denom *= 0.01
    wp -= denom
    state = {"step": 1, "square_avg": sq.copy()}
    rmsprop_update(p, g, state, lr=0.01)
    assert np.array_equal(p, wp) and np.array_equal(state["square_avg"], wsq)
