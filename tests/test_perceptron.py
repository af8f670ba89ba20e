"""nerve.perceptron: the learning rule, hand-weighted gates, XOR and its two fixes."""
import re

import numpy as np
import pytest

from nerve import perceptron as P

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
TRUTH = {  # outputs for the rows of X: (0,0), (0,1), (1,0), (1,1)
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0],
    "XOR": [0, 1, 1, 0],
}
LINEAR_GATES = ["AND", "OR", "NAND", "NOR"]


@pytest.mark.parametrize("name", LINEAR_GATES)
def test_hand_weighted_gates_match_truth_tables(name):
    gate = getattr(P, name)
    np.testing.assert_array_equal(gate(X), TRUTH[name])
    np.testing.assert_array_equal(gate.predict(X), TRUTH[name])
    assert P.GATES[name] is gate
    assert gate.weights.shape == (2,) and isinstance(gate.bias, float)


def test_and_gate_has_the_lecture_weights():
    np.testing.assert_array_equal(P.AND.weights, [1.0, 1.0])
    assert P.AND.bias == -1.5
    assert P.AND.decision_boundary() == "-1.5 + 1*x1 + 1*x2 = 0"
    assert P.NAND.decision_boundary() == "1.5 - 1*x1 - 1*x2 = 0"


def test_gate_weights_cannot_be_changed_through_the_property():
    w = P.AND.weights
    w[0] = 100.0
    np.testing.assert_array_equal(P.AND.weights, [1.0, 1.0])


def test_step_is_zero_on_the_boundary():
    unit = P.Gate("half", [1.0, 0.0], -0.5)
    np.testing.assert_array_equal(unit([[0.5, 0.0], [0.5001, 0.0], [0.4999, 3.0]]), [0, 1, 0])
    np.testing.assert_allclose(unit.decision_function([[2.0, 7.0]]), [1.5])


@pytest.mark.parametrize("name", LINEAR_GATES)
def test_perceptron_learns_linearly_separable_gates(name):
    model = P.Perceptron(n_inputs=2, lr=1.0, max_epochs=100, seed=0)
    assert model.fit(X, TRUTH[name]) is model
    np.testing.assert_array_equal(model.predict(X), TRUTH[name])
    assert model.converged_
    assert model.errors_[-1] == 0 and all(e > 0 for e in model.errors_[:-1])
    assert model.n_epochs_ == len(model.errors_) < 100
    assert model.score(X, TRUTH[name]) == 1.0
    assert model.weights.dtype == np.float32


def test_perceptron_update_rule_by_hand():
    # from w = (0, 0), b = 0 on AND: (0,0) ok, (0,1) ok, (1,0) ok, (1,1) -> y_hat 0, error +1
    model = P.Perceptron(lr=0.5, max_epochs=1, seed=0)
    model._init_weights = lambda: (setattr(model, "_w", np.zeros(2, np.float32)),
                                   setattr(model, "_b", 0.0))
    with pytest.warns(P.ConvergenceWarning, match="linearly separable"):
        model.fit(X, TRUTH["AND"])  # one epoch with a mistake: not converged yet
    np.testing.assert_allclose(model.weights, [0.5, 0.5])
    assert model.bias == 0.5
    assert model.errors_ == [1] and not model.converged_


def test_single_perceptron_never_solves_xor():
    for seed in range(3):
        with pytest.warns(P.ConvergenceWarning, match="linearly separable"):
            model = P.Perceptron(max_epochs=500, seed=seed).fit(X, TRUTH["XOR"])
        assert not model.converged_
        assert len(model.errors_) == 500 and min(model.errors_) >= 1
        assert model.score(X, TRUTH["XOR"]) <= 0.75  # a line gets at most 3 of 4 right


def test_xor_network_from_nand_or_and():
    np.testing.assert_array_equal(P.xor_network(X), TRUTH["XOR"])
    hidden = np.stack([P.NAND(X), P.OR(X)], axis=1)
    np.testing.assert_array_equal(P.AND(hidden), TRUTH["XOR"])


def test_kernel_perceptron_solves_xor():
    np.testing.assert_allclose(P.expand_features(X), np.column_stack([X, X[:, 0] * X[:, 1]]))
    for seed in range(3):
        model = P.kernel_perceptron(X, TRUTH["XOR"], seed=seed)
        assert isinstance(model, P.KernelPerceptron)
        assert model.converged_
        np.testing.assert_array_equal(model.predict(X), TRUTH["XOR"])
        assert model.weights.shape == (3,)
        assert model.weights[2] < 0  # the product term is what bends the boundary
        assert "*x1*x2 = 0" in model.decision_boundary()


def test_decision_boundary_string_has_the_learned_numbers():
    model = P.Perceptron(seed=1).fit(X, TRUTH["OR"])
    text = model.decision_boundary()
    assert re.fullmatch(r"-?[\d.e+-]+ [+-] [\d.e+-]+\*x1 [+-] [\d.e+-]+\*x2 = 0", text), text
    assert f"{abs(model.bias):.4g}" in text and f"{abs(model.weights[0]):.4g}" in text


def test_seed_makes_training_reproducible():
    a = P.Perceptron(seed=5).fit(X, TRUTH["NAND"])
    b = P.Perceptron(seed=5).fit(X, TRUTH["NAND"])
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.errors_ == b.errors_


def test_perceptron_learns_a_separable_cloud_in_more_dimensions():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(200, 5))
    true_w = np.array([1.0, -2.0, 0.5, 0.0, 1.5])
    margin = data @ true_w
    keep = np.abs(margin) > 0.3
    data, labels = data[keep], (margin[keep] > 0).astype(int)
    model = P.Perceptron(n_inputs=5, max_epochs=200, seed=0).fit(data, labels)
    assert model.converged_ and model.score(data, labels) == 1.0


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n_inputs": 0}, ValueError, "n_inputs"),
    ({"lr": 0.0}, ValueError, "lr"),
    ({"lr": float("nan")}, ValueError, "lr"),
    ({"max_epochs": 0}, ValueError, "max_epochs"),
    ({"dtype": np.int64}, TypeError, "dtype"),
])
def test_bad_hyperparameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        P.Perceptron(**kwargs)


@pytest.mark.parametrize("inputs, labels, match", [
    (np.zeros((4, 3)), [0, 0, 0, 1], r"shape \(N, 2\)"),
    (X, [0, 0, 1], r"y must have shape \(4,\)"),
    (X, [0, 0, 2, 1], "labels 0 and 1"),
    (np.zeros((0, 2)), [], "at least one example"),
    (np.array([[0, np.nan], [1, 1]]), [0, 1], "NaN"),
])
def test_fit_rejects_bad_data(inputs, labels, match):
    with pytest.raises(ValueError, match=match):
        P.Perceptron().fit(inputs, labels)


def test_predict_rejects_wrong_width_and_accepts_one_sample():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        P.AND.predict(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="numbers"):
        P.OR(np.array([["a", "b"]]))
    np.testing.assert_array_equal(P.AND([1, 1]), [1])


@pytest.mark.parametrize("name", LINEAR_GATES)
def test_gates_accept_one_argument_per_input(name):
    gate = P.GATES[name]
    for (x1, x2), expected in zip(X.tolist(), TRUTH[name]):
        out = gate(x1, x2)
        assert out == expected and type(out) is int
    np.testing.assert_array_equal(gate(X[:, 0], X[:, 1]), TRUTH[name])   # two (N,) columns
    np.testing.assert_array_equal(gate(X[:, 0], 1), gate(np.column_stack([X[:, 0], [1] * 4])))


def test_a_wrong_number_of_inputs_says_how_to_call_the_unit():
    with pytest.raises(TypeError) as err:
        P.AND(1, 0, 1)
    assert str(err.value).startswith("AND takes one array of shape (N, 2), e.g. AND([[1, 0]])")
    assert "got 3 arguments" in str(err.value)
    with pytest.raises(TypeError, match=r"^Perceptron takes one array of shape \(N, 3\)"):
        P.Perceptron(3, seed=0)(1, 0)
    assert P.Perceptron(3, seed=0)(1, 0, 1) in (0, 1)
    with pytest.raises(ValueError, match=r"same length.*\(3,\), \(2,\)"):
        P.OR([0, 1, 1], [1, 0])
    with pytest.raises(TypeError, match="x2 must be a number"):
        P.OR(1, "a")
    with pytest.raises(ValueError, match=r"x1 must be .* shape \(N,\)"):
        P.OR(np.zeros((2, 2)), 1)


# --------------------------------------------------------------------------- plotting
def _boundary_lines(ax):
    return [line for line in ax.lines if line.get_label() == "decision boundary"]


def test_plot_decision_boundary_draws_the_line():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = P.Perceptron(seed=0).fit(X, TRUTH["OR"])
    ax = P.plot_decision_boundary(model, X, TRUTH["OR"])
    (line,) = _boundary_lines(ax)
    xs, ys = line.get_data()
    w, b = model.weights, model.bias
    np.testing.assert_allclose(w[0] * np.asarray(xs) + w[1] * np.asarray(ys) + b, 0, atol=1e-5)
    assert ax.get_title() == model.decision_boundary()
    assert len(ax.collections) >= 3  # filled regions + the two classes' points
    plt.close(ax.figure)


def test_plot_decision_boundary_gates_and_networks_on_given_axes():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3)
    vertical = P.Gate("x1 > 0.5", [1.0, 0.0], -0.5)
    assert P.plot_decision_boundary(vertical, X, [0, 0, 1, 1], ax=axes[0]) is axes[0]
    (line,) = _boundary_lines(axes[0])
    np.testing.assert_allclose(line.get_data()[0], [0.5, 0.5])
    P.plot_decision_boundary(P.xor_network, X, TRUTH["XOR"], ax=axes[1])
    P.plot_decision_boundary(P.kernel_perceptron(X, TRUTH["XOR"], seed=0), X, TRUTH["XOR"],
                             ax=axes[2])
    for ax in axes[1:]:
        assert len(_boundary_lines(ax)) == 1  # contour plus its legend entry
    with pytest.raises(ValueError, match=r"y must have shape \(4,\)"):
        P.plot_decision_boundary(P.AND, X, [0, 1])
    with pytest.raises(TypeError, match="callable"):
        P.plot_decision_boundary("AND", X, TRUTH["AND"])
    plt.close(fig)


def test_kernel_perceptron_rejects_bad_inputs():
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        P.kernel_perceptron(np.zeros(4), [0, 1, 1, 0])
    with pytest.raises(ValueError, match="labels 0 and 1"):
        P.kernel_perceptron(X, [0, 1, 1, -1])
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        P.KernelPerceptron().fit(np.zeros((4, 3)), [0, 1, 1, 0])


def test_predictions_use_the_training_dtype():
    model = P.Perceptron(seed=0, dtype=np.float64).fit(X, TRUTH["AND"])
    assert model.weights.dtype == np.float64
    assert model.decision_function(X).dtype == np.float64
    assert P.Perceptron(seed=0).fit(X, TRUTH["AND"]).decision_function(X).dtype == np.float32
