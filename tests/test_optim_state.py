"""Checkpoints (state_dict / load_state_dict), dtype preservation and hyperparameter checks."""
import io

import numpy as np
import pytest

from nerve.optim import SGD, Adagrad, Adam, AdamW, RMSProp, RMSprop

C = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])

CONFIGS = [
    (SGD, dict(lr=0.05)),
    (SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    (RMSProp, dict(lr=0.01, momentum=0.5, centered=True)),
    (Adagrad, dict(lr=0.1, weight_decay=1e-3)),
    (Adam, dict(lr=0.01, weight_decay=1e-3, amsgrad=True)),
    (AdamW, dict(lr=0.01)),
]


class Param:
    def __init__(self, data):
        self.data = np.array(data)
        self.grad = None


def make_params(dtype):
    return [Param(np.zeros((2, 3), dtype=dtype)), Param(np.ones(4, dtype=dtype))]


def train(opt, params, steps):
    for _ in range(steps):
        opt.zero_grad()
        w, b = params
        w.grad = 2 * (w.data - C.astype(w.data.dtype)) + np.sin(w.data)
        b.grad = np.cos(3 * b.data) * b.data
        opt.step()


def through_npz(sd):
    buf = io.BytesIO()
    np.savez(buf, **sd)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as f:
        return {key: f[key] for key in f.files}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls, options", CONFIGS)
def test_resuming_from_a_checkpoint_is_bitwise_identical(cls, options, dtype):
    straight = make_params(dtype)
    opt = cls(straight, **options)
    train(opt, straight, 5)
    saved_params = [p.data.copy() for p in straight]
    saved = through_npz(opt.state_dict())
    train(opt, straight, 7)

    resumed = [Param(d) for d in saved_params]
    opt2 = cls(resumed, lr=123.0)  # different hyperparameters: the checkpoint restores them
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == options["lr"]
    train(opt2, resumed, 7)
    for a, b in zip(straight, resumed):
        assert b.data.dtype == dtype
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("cls, options", CONFIGS)
def test_float32_stays_float32(cls, options):
    params = make_params(np.float32)
    opt = cls(params, **options)
    train(opt, params, 3)
    assert all(p.data.dtype == np.float32 for p in params)
    for buffers in opt.state.values():
        for value in buffers.values():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32


def test_float64_gradient_does_not_upcast_a_float32_parameter():
    p = Param(np.ones(3, dtype=np.float32))
    opt = Adam([p], lr=np.float64(0.1), betas=(np.float64(0.9), 0.999))
    p.grad = np.ones(3, dtype=np.float64)
    opt.step()
    assert p.data.dtype == np.float32
    assert opt.state[0]["exp_avg"].dtype == np.float32


def test_state_dict_holds_only_arrays_numbers_and_strings():
    params = make_params(np.float32)
    opt = Adam(params, lr=0.01)
    train(opt, params, 2)
    sd = opt.state_dict()
    assert sd["optimizer"] == "Adam"
    assert sd["state.0.step"] == 2
    for key, value in sd.items():
        assert isinstance(value, (np.ndarray, int, float, bool, str)), key
    # the arrays are copies: training on does not change a saved checkpoint
    before = sd["state.0.exp_avg"].copy()
    train(opt, params, 1)
    np.testing.assert_array_equal(sd["state.0.exp_avg"], before)


def test_param_groups_survive_the_round_trip():
    a, b = make_params(np.float64)
    opt = SGD([{"params": [a], "lr": 0.5}, {"params": [b], "momentum": 0.9}], lr=0.1)
    train(opt, [a, b], 2)
    sd = through_npz(opt.state_dict())
    opt2 = SGD([{"params": [Param(a.data)]}, {"params": [Param(b.data)]}], lr=0.3)
    opt2.load_state_dict(sd)
    assert [g["lr"] for g in opt2.param_groups] == [0.5, 0.1]
    assert [g["momentum"] for g in opt2.param_groups] == [0.0, 0.9]
    np.testing.assert_array_equal(opt2.state[1]["momentum_buffer"],
                                  opt.state[1]["momentum_buffer"])


def fresh_sd():
    params = make_params(np.float64)
    opt = Adam(params, lr=0.01)
    train(opt, params, 1)
    return opt.state_dict()


def edited(change):
    sd = fresh_sd()
    change(sd)
    return sd


@pytest.mark.parametrize("target, sd, fragment", [
    (lambda: SGD(make_params(np.float64), lr=0.1), fresh_sd(),
     "belongs to Adam, cannot load it into SGD"),
    (lambda: Adam(make_params(np.float64)[:1]), fresh_sd(), "group 0 has 1 parameter"),
    (lambda: Adam([Param(np.zeros((3, 2))), Param(np.ones(4))]), fresh_sd(),
     r"has shape \(2, 3\), the parameter has shape \(3, 2\)"),
    (lambda: Adam(make_params(np.float64)),
     edited(lambda sd: sd.update({"param_groups.0.lr": -1.0})), "lr must be in"),
    (lambda: Adam(make_params(np.float64)),
     edited(lambda sd: sd.update({"param_groups.0.momentum": 0.9})), "unknown option 'momentum'"),
    (lambda: Adam(make_params(np.float64)),
     edited(lambda sd: sd.update({"state.7.step": 1})), "only 2 parameter"),
    (lambda: Adam(make_params(np.float64)),
     edited(lambda sd: sd.update({"bogus": 1})), "unexpected key"),
])
def test_mismatched_state_dict_is_rejected_and_changes_nothing(target, sd, fragment):
    opt = target()
    before = {g_i: dict(g) for g_i, g in enumerate(opt.param_groups)}
    with pytest.raises(ValueError, match=fragment):
        opt.load_state_dict(sd)
    assert opt.state == {}
    assert {g_i: dict(g) for g_i, g in enumerate(opt.param_groups)} == before


def P():
    return [Param(np.zeros(2))]


@pytest.mark.parametrize("build, error, fragment", [
    (lambda: SGD(P(), lr=-0.1), ValueError, r"lr must be in \[0, inf\], got -0.1"),
    (lambda: SGD(P(), lr="fast"), TypeError, "lr must be a number"),
    (lambda: SGD(P(), lr=0.1, momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda: SGD(P(), lr=0.1, momentum=-0.5), ValueError, "momentum must be in"),
    (lambda: SGD(P(), lr=0.1, nesterov=True), ValueError, "nesterov=True needs momentum > 0"),
    (lambda: SGD(P(), lr=0.1, nesterov=1), TypeError, "nesterov must be True or False"),
    (lambda: SGD(P(), lr=0.1, weight_decay=-1), ValueError, "weight_decay must be in"),
    (lambda: Adam(P(), betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be in \[0, 1\)"),
    (lambda: Adam(P(), betas=(-0.1, 0.99)), ValueError, r"betas\[0\] must be in"),
    (lambda: Adam(P(), betas=0.9), ValueError, r"betas must be a pair"),
    (lambda: Adam(P(), eps=-1e-8), ValueError, "eps must be in"),
    (lambda: RMSProp(P(), alpha=1.5), ValueError, r"alpha must be in \[0, 1\]"),
    (lambda: RMSprop(P(), momentum=2), ValueError, "momentum must be in"),
    (lambda: Adagrad(P(), lr=float("nan")), ValueError, "lr must be in"),
    (lambda: SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda: SGD(np.zeros(3), lr=0.1), TypeError, "iterable of parameters"),
    (lambda: SGD([np.zeros(3)], lr=0.1), TypeError, "must have a .data NumPy array"),
    (lambda: SGD(Param(np.zeros(3)), lr=0.1), TypeError, "iterable of parameters"),
    (lambda: SGD([("w", Param(np.zeros(3)))], lr=0.1), TypeError, "named_parameters"),
    (lambda: SGD([Param(np.zeros(3, dtype=int))], lr=0.1), TypeError, "floating-point"),
    (lambda: SGD([Param(np.zeros(2))] * 2, lr=0.1), ValueError, "more than once"),
    (lambda: SGD([{"params": P(), "lr": 0.1, "momentun": 0.9}], lr=0.1), ValueError,
     "unknown option"),
])
def test_bad_arguments_raise_with_a_clear_message(build, error, fragment):
    with pytest.raises(error, match=fragment):
        build()
