"""Custom autograd Functions by users: nerve's form and PyTorch's ctx form."""
import numpy as np
import pytest

import nerve as nv


class Legendre3(nv.Function):
    """PyTorch's tutorial op, as written there: P3(x) = (5x³ - 3x)/2, P3'(x) = 1.5(5x² - 1)."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class ScaleBy(nv.Function):
    """y = k x with a non-tensor argument k; backward returns one value per argument."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        ctx.flags = ctx.needs_input_grad
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


class Cube(nv.Function):
    """nerve's form; backward returns a bare array (one input)."""

    def forward(self, x):
        self.x = x
        return x ** 3

    def backward(self, g):
        return 3 * self.x ** 2 * g


def test_pytorch_ctx_form_runs_and_matches_finite_differences():
    x = np.linspace(-1.0, 1.0, 7)
    t = nv.tensor(x, dtype=nv.float64, requires_grad=True)
    y = Legendre3.apply(t)
    np.testing.assert_allclose(y.data, 0.5 * (5 * x ** 3 - 3 * x))
    assert y.op == "Legendre3" and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(t.grad, 1.5 * (5 * x ** 2 - 1))
    assert nv.gradcheck(Legendre3.apply, np.random.default_rng(0).standard_normal((3, 4)))


def test_ctx_form_with_a_number_argument_and_needs_input_grad():
    t = nv.tensor([1.0, -2.0], dtype=nv.float64, requires_grad=True)
    y = ScaleBy.apply(t, 3.0)
    (y * y).sum().backward()
    np.testing.assert_allclose(t.grad, 2 * 9.0 * np.array([1.0, -2.0]))
    assert y._ctx.op == "ScaleBy"
    assert nv.gradcheck(lambda a: ScaleBy.apply(a, -0.5), np.array([0.3, 1.7]))


def test_ctx_form_records_nothing_inside_and_nothing_without_grad():
    seen = {}

    class Probe(nv.Function):
        @staticmethod
        def forward(ctx, x):
            seen["grad_mode"] = nv.is_grad_enabled()
            seen["x_requires_grad"] = x.requires_grad
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    out = Probe.apply(nv.tensor([1.0], requires_grad=True))
    assert seen == {"grad_mode": False, "x_requires_grad": False} and out.requires_grad
    assert not Probe.apply(nv.tensor([1.0])).requires_grad


def test_nerve_form_bare_array_backward_and_numpy_input():
    w = nv.tensor([1.0, 2.0], dtype=nv.float64, requires_grad=True)
    Cube.apply(w).sum().backward()
    np.testing.assert_allclose(w.grad, [3.0, 12.0])
    np.testing.assert_allclose(Cube.apply(np.array([2.0])).data, [8.0])  # array in: constant
    assert nv.gradcheck(Cube.apply, np.array([0.5, -1.5]))


def test_clear_errors_for_wrong_gradient_counts_and_half_ctx_form():
    class TwoForOne(nv.Function):
        def forward(self, x):
            return x + 1

        def backward(self, g):
            return g, g

    with pytest.raises(TypeError, match=r"TwoForOne.backward returned 2 gradient\(s\) for 1 "):
        TwoForOne.apply(nv.tensor([1.0], requires_grad=True)).sum().backward()

    with pytest.raises(TypeError, match="both forward\\(ctx, ...\\) and backward"):
        class Half(nv.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            def backward(self, g):
                return (g,)

    class Pair(nv.Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="one output"):
        Pair.apply(nv.tensor([1.0], requires_grad=True))

    with pytest.raises(TypeError, match="input 0 must be a tensor"):
        Cube.apply("abc")


def test_nerves_own_ops_keep_the_engines_apply():
    from nerve.ops import elementwise as E

    assert "apply" not in E.Exp.__dict__  # the hot path: Function.apply itself
    assert Cube.__dict__["apply"] is not None
