"""Parity with PyTorch's optimizers and schedules (skipped when torch is not installed)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nerve import optim  # noqa: E402


class Param:
    def __init__(self, data):
        self.data = np.array(data, dtype=np.float64)
        self.grad = None


CASES = [  # nerve name, nerve options, torch class, torch options
    ("SGD", dict(lr=0.1), "SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01), "SGD",
     dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), "SGD",
     dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("RMSProp", dict(lr=0.01, weight_decay=0.01), "RMSprop", dict(lr=0.01, weight_decay=0.01)),
    ("RMSProp", dict(lr=0.01, momentum=0.5, centered=True), "RMSprop",
     dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.01, lr_decay=0.01), "Adagrad",
     dict(lr=0.1, weight_decay=0.01, lr_decay=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.01), "Adam", dict(lr=0.01, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True), "Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1), "AdamW", dict(lr=0.01, weight_decay=0.1)),
]


def grad_at(w):
    return 2 * (w - np.array([1.0, -2.0, 3.0])) + np.sin(5 * w)


@pytest.mark.parametrize("ours, our_kw, theirs, their_kw", CASES)
def test_matches_torch_over_twenty_steps(ours, our_kw, theirs, their_kw):
    w0 = np.array([0.3, -0.1, 0.7])
    p = Param(w0)
    opt = getattr(optim, ours)([p], **our_kw)
    t = torch.tensor(w0, requires_grad=True)
    topt = getattr(torch.optim, theirs)([t], **their_kw)
    for _ in range(20):
        p.grad = grad_at(p.data)
        opt.step()
        t.grad = torch.from_numpy(grad_at(t.detach().numpy().copy()))
        topt.step()
    np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ours, theirs, kw", [
    ("StepLR", "StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", "ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", "CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
])
def test_schedules_match_torch(ours, theirs, kw):
    sched = getattr(optim, ours)(optim.SGD([Param([0.0])], lr=0.1), **kw)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    tsched = getattr(torch.optim.lr_scheduler, theirs)(topt, **kw)
    for _ in range(12):
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-10)
        topt.step()
        sched.step()
        tsched.step()


def test_clip_grad_norm_matches_torch():
    grads = [np.array([3.0, -1.0]), np.array([[0.5, 2.0], [1.0, -4.0]])]
    params = [Param(np.zeros_like(g)) for g in grads]
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, tp, g in zip(params, tparams, grads):
        p.grad = g.copy()
        tp.grad = torch.from_numpy(g.copy())
    total = optim.clip_grad_norm_(params, 2.0)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 2.0)
    assert total == pytest.approx(float(ttotal), rel=1e-12)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12)


def test_chained_schedulers_and_a_hand_set_rate_match_torch():
    opt = optim.SGD([Param([0.0])], lr=1.0)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    ours = [optim.MultiStepLR(opt, [2, 4], 0.5), optim.CosineAnnealingLR(opt, T_max=3)]
    theirs = [torch.optim.lr_scheduler.MultiStepLR(topt, [2, 4], 0.5),
              torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=3)]
    for epoch in range(10):
        if epoch == 5:
            opt.param_groups[0]["lr"] = topt.param_groups[0]["lr"] = 0.3
        topt.step()
        for a, b in zip(ours, theirs):
            a.step()
            b.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-10)
