"""The optimizer API around the math: registry, parameter groups, zero_grad, closures."""
import numpy as np
import pytest

from nerve.optim import OPTIMIZERS, SGD, Adam, AdamW, Optimizer, RMSprop, get_optimizer


class Param:
    def __init__(self, data=(1.0, 2.0)):
        self.data = np.array(data)
        self.grad = None


def test_registry_names_and_defaults():
    assert {"sgd", "momentum", "rmsprop", "adagrad", "adam"} <= set(OPTIMIZERS)
    opt = get_optimizer("Momentum", [Param()], lr=0.1)
    assert isinstance(opt, SGD) and opt.param_groups[0]["momentum"] == 0.9
    opt = get_optimizer("momentum", [Param()], lr=0.1, momentum=0.5)
    assert opt.param_groups[0]["momentum"] == 0.5
    assert get_optimizer("nesterov", [Param()], lr=0.1).param_groups[0]["nesterov"] is True
    assert isinstance(get_optimizer("rmsprop", [Param()]), RMSprop)
    assert isinstance(get_optimizer("adamw", [Param()]), AdamW)
    assert get_optimizer("adam", [Param()]).param_groups[0]["lr"] == 0.001


def test_unknown_optimizer_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'; valid names: sgd, momentum"):
        get_optimizer("adamax", [Param()])
    with pytest.raises(TypeError, match="needs a learning rate"):
        get_optimizer("sgd", [Param()])


def test_params_may_be_a_generator():
    params = [Param(), Param()]
    opt = SGD((p for p in params), lr=0.1)
    for p in params:
        p.grad = np.ones(2)
    opt.step()
    np.testing.assert_allclose(params[1].data, [0.9, 1.9])


def test_param_groups_have_their_own_options():
    a, b = Param(), Param()
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 1.0, "weight_decay": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    a.grad, b.grad = np.ones(2), np.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, [0.9, 1.9])
    np.testing.assert_allclose(b.data, [1 - 1.5, 2 - 2.0])  # g + 0.5 w = [1.5, 2]
    opt.add_param_group({"params": [Param()], "lr": 0.2})
    assert len(opt.param_groups) == 3
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [a]})


def test_zero_grad_sets_none_or_zeros_in_place():
    p = Param()
    opt = Adam([p])
    p.grad = np.ones(2)
    opt.zero_grad()
    assert p.grad is None
    grad = np.ones(2)
    p.grad = grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad
    np.testing.assert_array_equal(grad, 0)


def test_step_returns_the_closure_loss():
    p = Param()

    def closure():
        p.grad = 2 * p.data
        return float(np.sum(p.data ** 2))

    opt = SGD([p], lr=0.25)
    assert opt.step(closure) == 5.0
    np.testing.assert_allclose(p.data, [0.5, 1.0])
    assert opt.step() is None


def test_all_optimizers_share_the_base_class_and_repr():
    for name, factory in OPTIMIZERS.items():
        opt = factory([Param()], lr=0.1)
        assert isinstance(opt, Optimizer)
        assert "Parameter Group 0" in repr(opt) and "lr: 0.1" in repr(opt)
