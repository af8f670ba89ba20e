"""Learning-rate schedules follow their closed forms and drive the optimizer's lr."""
import io
import math

import numpy as np
import pytest

from nerve.optim import SGD, Adam, CosineAnnealingLR, ExponentialLR, StepLR


class Param:
    def __init__(self):
        self.data = np.zeros(2)
        self.grad = None


def lrs(sched, epochs):
    """The rate in effect during each epoch, stepping once at the end of each."""
    out = []
    for _ in range(epochs):
        out.append(sched.get_last_lr()[0])
        assert sched.optimizer.param_groups[0]["lr"] == out[-1]
        sched.step()
    return out


def test_step_lr():
    sched = StepLR(SGD([Param()], lr=0.1), step_size=3, gamma=0.5)
    expected = [0.1 * 0.5 ** (e // 3) for e in range(10)]
    assert lrs(sched, 10) == pytest.approx(expected, rel=1e-15)
    assert expected[:7] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])


def test_exponential_lr():
    sched = ExponentialLR(SGD([Param()], lr=0.2), gamma=0.9)
    assert lrs(sched, 8) == pytest.approx([0.2 * 0.9 ** e for e in range(8)], rel=1e-15)


def test_cosine_annealing_lr():
    sched = CosineAnnealingLR(Adam([Param()], lr=0.1), T_max=10, eta_min=0.001)
    got = lrs(sched, 11)
    expected = [0.001 + 0.099 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(11)]
    assert got == pytest.approx(expected, rel=1e-15)
    assert got[0] == pytest.approx(0.1) and got[5] == pytest.approx(0.0505)
    assert got[10] == pytest.approx(0.001)


def test_each_group_is_scheduled_from_its_own_rate():
    a, b = Param(), Param()
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    sched = ExponentialLR(opt, gamma=0.5)
    sched.step()
    sched.step()
    assert sched.get_last_lr() == pytest.approx([0.025, 0.25])
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.025, 0.25])


def test_the_optimizer_steps_with_the_scheduled_rate():
    p = Param()
    opt = SGD([p], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.1)
    sched.step()  # lr is now 0.1
    p.grad = np.ones(2)
    opt.step()
    np.testing.assert_allclose(p.data, [-0.1, -0.1])


def test_scheduler_state_round_trip():
    opt = SGD([Param()], lr=0.1)
    sched = CosineAnnealingLR(opt, T_max=20)
    for _ in range(4):
        sched.step()
    buf = io.BytesIO()
    np.savez(buf, **sched.state_dict())
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as f:
        sd = {k: f[k] for k in f.files}
    opt2 = SGD([Param()], lr=0.1)
    sched2 = CosineAnnealingLR(opt2, T_max=5)
    sched2.load_state_dict(sd)
    assert sched2.T_max == 20 and sched2.last_epoch == 4
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr()
    foreign = {k: v for k, v in sd.items() if k not in ("T_max", "eta_min")}
    foreign.update(step_size=2, gamma=0.1)
    with pytest.raises(ValueError, match="saved from CosineAnnealingLR, not StepLR"):
        StepLR(SGD([Param()], lr=0.1), step_size=2).load_state_dict(foreign)
    with pytest.raises(ValueError, match="expects keys"):
        sched2.load_state_dict({"last_epoch": 3})

@pytest.mark.parametrize("build, error, fragment", [
    (lambda o: StepLR(o, step_size=0), ValueError, "step_size must be an integer >= 1"),
    (lambda o: StepLR(o, step_size=2.5), TypeError, "step_size must be an integer"),
    (lambda o: StepLR(o, step_size=2, gamma=-0.5), ValueError, "gamma must be in"),
    (lambda o: ExponentialLR(o, gamma=-1), ValueError, "gamma must be in"),
    (lambda o: CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be an integer >= 1"),
    (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-1), ValueError, "eta_min must be in"),
    (lambda o: StepLR("sgd", step_size=2), TypeError, "expects a nerve.optim Optimizer"),
    (lambda o: StepLR(o, step_size=2, last_epoch=3), ValueError, "no 'initial_lr'"),
])
def test_bad_schedule_arguments(build, error, fragment):
    with pytest.raises(error, match=fragment):
        build(SGD([Param()], lr=0.1))
