"""MultiStepLR, LambdaLR and ReduceLROnPlateau (against PyTorch's published semantics),
and schedulers placed in nv.fit's callbacks."""
import math

import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim


def _opt(lr=1.0):
    return optim.SGD([nv.tensor([1.0], requires_grad=True)], lr=lr)


def _rates(sched, epochs):
    out = []
    for _ in range(epochs):
        out.append(sched.optimizer.param_groups[0]["lr"])
        sched.step()
    return out


def test_multistep_lr_multiplies_at_each_milestone_and_round_trips_its_state():
    sched = optim.MultiStepLR(_opt(), milestones=[2, 5], gamma=0.5)
    assert _rates(sched, 7) == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    again = optim.MultiStepLR(_opt(), milestones=[3], gamma=0.1)
    again.load_state_dict(sched.state_dict())
    assert again.milestones == (2, 5) and again.last_epoch == sched.last_epoch
    with pytest.raises(ValueError, match="milestones must increase"):
        optim.MultiStepLR(_opt(), milestones=[5, 2])


def test_lambda_lr_scales_the_starting_rate_by_the_function():
    sched = optim.LambdaLR(_opt(0.1), lambda e: min(1.0, (e + 1) / 3))  # a warm-up
    np.testing.assert_allclose(_rates(sched, 4), [0.1 / 3, 0.2 / 3, 0.1, 0.1])
    with pytest.raises(ValueError, match=r"lr_lambda\(0\) must return a finite number"):
        optim.LambdaLR(_opt(), lambda e: math.nan)


def test_reduce_on_plateau_waits_patience_then_cools_down_and_floors():
    opt = _opt(1.0)
    sched = optim.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    rates = []
    for loss in [1.0, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]:
        sched.step(loss)
        rates.append(opt.param_groups[0]["lr"])
    # bad epochs after 0.5: 1, 2 (> patience: halve), cooldown epoch, 1, 2 (halve), ...
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2]
    up = optim.ReduceLROnPlateau(_opt(1.0), mode="max", patience=0, factor=0.1)
    up.step(0.5)
    up.step(0.5)  # not higher: reduce at once
    assert up.get_last_lr() == [pytest.approx(0.1)]
    with pytest.raises(ValueError, match="factor must be in"):
        optim.ReduceLROnPlateau(_opt(), factor=1.0)


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def test_fit_steps_a_scheduler_given_in_callbacks():
    X, y = _data()
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    nv.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=5, batch_size=16,
           progress=False, callbacks=[sched])
    assert sched.last_epoch == 5 and opt.param_groups[0]["lr"] == pytest.approx(0.025)


def test_fit_feeds_reduce_on_plateau_its_monitored_metric():
    X, y = _data()
    model = nn.Sequential(nn.Linear(2, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    # The training loss falls every epoch, so with mode="max" it never improves.
    sched = optim.ReduceLROnPlateau(opt, mode="max", patience=0, factor=0.5, monitor="loss")
    nv.fit(model, X, y, loss="cross_entropy", optimizer=opt, epochs=4, batch_size=64,
           progress=False, callbacks=[sched])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 3)


def test_fit_refuses_a_scheduler_on_another_optimizer():
    X, y = _data()
    model = nn.Sequential(nn.Linear(2, 2))
    other = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"callbacks\[0\]: the StepLR adjusts another optimizer"):
        nv.fit(model, X, y, loss="cross_entropy", optimizer=optim.SGD(model.parameters(), lr=0.1),
               epochs=1, batch_size=16, progress=False, callbacks=[optim.StepLR(other, 1)])


def test_schedulers_chain_and_keep_a_rate_set_by_hand():
    opt = _opt(1.0)
    step, expo = optim.StepLR(opt, step_size=2, gamma=0.5), optim.ExponentialLR(opt, gamma=0.9)
    rates = []
    for _ in range(3):
        step.step()
        expo.step()
        rates.append(opt.param_groups[0]["lr"])
    assert rates == pytest.approx([0.9, 0.405, 0.3645], rel=1e-12)  # PyTorch's sequence
    opt = _opt(1.0)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    opt.param_groups[0]["lr"] = 0.01  # by hand, mid-run
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.01  # kept (epoch 1: no decay due)
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.005)  # and decayed from there


def test_chained_cosine_matches_its_closed_form_alone():
    sched = optim.CosineAnnealingLR(_opt(0.1), T_max=5, eta_min=0.001)
    got = _rates(sched, 16)  # past T_max the cosine rises again
    want = [0.001 + 0.099 * (1 + math.cos(math.pi * e / 5)) / 2 for e in range(16)]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("key, value, error, message", [
    ("base_lrs", np.array([np.nan]), ValueError, "base_lrs must be finite rates >= 0"),
    ("step_size", 0, ValueError, "step_size must be an integer >= 1"),
    ("gamma", np.array([0.1, 0.2]), TypeError, "gamma must be a number"),
    ("last_epoch", "abc", ValueError, "last_epoch must be an integer"),
])
def test_a_corrupt_scheduler_state_is_refused_and_nothing_changes(key, value, error, message):
    opt = _opt(1.0)
    sched = optim.StepLR(opt, step_size=2)
    bad = dict(sched.state_dict(), **{key: value})
    target = optim.StepLR(_opt(0.5), step_size=3)
    with pytest.raises(error, match=message):
        target.load_state_dict(bad)
    assert target.step_size == 3 and target.base_lrs == [0.5]
