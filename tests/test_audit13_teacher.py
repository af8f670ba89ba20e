"""Audit 13, "teacher": decision boundaries of Sigmoid models and estimators, every class
in the perceptron plot, the xor demo's accuracy, labelled activation parameters, the
optimizers demo, integer epoch ticks, the weights title, softmax_jacobian and the
`nerve demo` hint about --out."""
import io

import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.cli import main
from nerve.nn import derivatives as D


@pytest.fixture
def mpl():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    return matplotlib


def _filled_levels(ax):
    """Which class levels of the filled contour cover some area (a non-empty path)."""
    (cs,) = [c for c in ax.collections
             if type(c).__name__ == "QuadContourSet" and c.filled]
    return [len(p.vertices) > 0 for p in cs.get_paths()]


def _points(ax):
    return sum(len(c.get_offsets()) for c in ax.collections
               if type(c).__name__ == "PathCollection")


# ----------------------------------------------------------------------------- finding 1
def test_sigmoid_model_is_split_at_p_one_half(mpl):
    from nerve import plot
    from nerve.train.outputs import labels_or_proba, output_kind
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    model[0].weight.data[...] = [[4.0], [0.0]]  # p > 0.5 iff x1 > 0
    model[0].bias.data[...] = 0.0
    X = np.array([[-1.0, -1.0], [1.0, 1.0], [-0.5, 1.0], [0.5, -1.0]], np.float32)
    y = np.array([0, 1, 0, 1])
    fig = plot.plot_decision_boundary(model, X, y, resolution=41)
    assert _filled_levels(fig.axes[0]) == [True, True]  # was: all class 1 (p > 0 always)
    grid = np.array([[-0.3, 0.0], [0.3, 0.0], [-2.0, 5.0], [2.0, -5.0]])
    labels = plot._module_labels(model, grid)
    assert labels.tolist() == [0, 1, 0, 1]
    scores = nv.predict(model, grid)
    assert np.array_equal(labels, labels_or_proba(scores, output_kind(model), False))


def test_one_column_logits_still_split_at_zero_and_softmax_at_argmax(mpl):
    from nerve import plot
    grid = np.array([[-0.3, 0.0], [0.3, 0.0]])
    logit = nn.Sequential(nn.Linear(2, 1))
    logit[0].weight.data[...] = [[1.0], [0.0]]
    logit[0].bias.data[...] = 0.0
    assert plot._module_labels(logit, grid).tolist() == [0, 1]
    soft = nn.Sequential(nn.Linear(2, 2), nn.Softmax(axis=1))
    soft[0].weight.data[...] = [[-1.0, 1.0], [0.0, 0.0]]
    soft[0].bias.data[...] = 0.0
    assert plot._module_labels(soft, grid).tolist() == [0, 1]


# ----------------------------------------------------------------------------- finding 6
def test_decision_boundary_accepts_nerve_linear_classifiers(mpl, tmp_path):
    from nerve import plot
    from nerve.linear import SVMClassifier, SoftmaxClassifier
    X, y = nv.data.spiral(seed=0)
    for cls in (SoftmaxClassifier, SVMClassifier):
        c = cls(lr=1.0, epochs=30, seed=0).fit(X, y)
        fig = plot.plot_decision_boundary(c, X, y, resolution=60, path=tmp_path / "b.png")
        assert _filled_levels(fig.axes[0]) == [True, True, True]
        assert _points(fig.axes[0]) == len(X)
        grid = np.array([[0.5, 0.5], [-0.5, -0.5], [0.9, -0.1]])
        assert np.array_equal(plot._estimator_labels(c, grid), c.predict(grid))


def test_decision_boundary_accepts_nerve_sklearn_and_sklearn(mpl):
    from nerve import plot
    from nerve.sklearn import MLPClassifier
    X, y = nv.data.moons(n=120, seed=0)
    m = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with pytest.warns(Warning):
        m.fit(X, y)
    fig = plot.plot_decision_boundary(m, X, y, resolution=30)
    assert _points(fig.axes[0]) == len(X)
    sklearn_lm = pytest.importorskip("sklearn.linear_model")
    names = np.array(["left", "right"])[(X[:, 0] > 0.5).astype(int)]
    lr = sklearn_lm.LogisticRegression().fit(X, names)
    fig = plot.plot_decision_boundary(lr, X, names, resolution=30)
    ax = fig.axes[0]
    assert _filled_levels(ax) == [True, True]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["left", "right"]


class _Scores:
    """An estimator with only decision_function (1-D margins) and classes_ −1/+1."""
    classes_ = np.array([-1, 1])

    def decision_function(self, X):
        return np.asarray(X)[:, 0] - 0.5


class _Proba:
    """An estimator with only predict_proba (two columns, no classes_)."""

    def predict_proba(self, X):
        p = 1.0 / (1.0 + np.exp(-(np.asarray(X)[:, 1] - 0.25)))
        return np.stack([1 - p, p], axis=1)


def test_estimators_without_predict_use_scores_or_probabilities(mpl):
    from nerve import plot
    grid = np.array([[0.0, 0.0], [1.0, 1.0], [0.9, 0.0], [0.1, 0.9]])
    assert plot._estimator_labels(_Scores(), grid).tolist() == [-1, 1, 1, -1]
    assert plot._estimator_labels(_Proba(), grid).tolist() == [0, 1, 0, 1]
    y = np.array([-1, 1, 1, -1])
    fig = plot.plot_decision_boundary(_Scores(), grid, y, resolution=20)
    assert _filled_levels(fig.axes[0]) == [True, True]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["-1", "1"]


def test_decision_boundary_refuses_what_is_no_model(mpl):
    from nerve import plot
    with pytest.raises(TypeError, match="predict, decision_function or predict_proba"):
        plot.plot_decision_boundary("model", np.zeros((3, 2)), np.zeros(3, int))


# ----------------------------------------------------------------------------- finding 2
def test_perceptron_plot_draws_every_class(mpl):
    import matplotlib.pyplot as plt
    from nerve.linear import SoftmaxClassifier
    from nerve.perceptron import plot_decision_boundary
    X, y = nv.data.spiral(seed=0)
    c = SoftmaxClassifier(lr=1.0, epochs=30, seed=0).fit(X, y)
    ax = plot_decision_boundary(c.predict, X, y, resolution=60)
    assert _points(ax) == len(X)  # was 200 of 300
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["decision boundary", "y = 0", "y = 1", "y = 2"]
    assert _filled_levels(ax) == [True, True, True]  # class 2's region was left white
    plt.close(ax.figure)
    names = np.array(["a", "b", "c"])
    ax = plot_decision_boundary(lambda G: names[c.predict(G)], X, names[y], resolution=30)
    assert [t.get_text() for t in ax.get_legend().get_texts()][1:] == \
        ["y = a", "y = b", "y = c"]
    plt.close(ax.figure)


# ----------------------------------------------------------------------------- finding 4
def test_xor_demo_prints_the_accuracy_of_the_final_weights(monkeypatch):
    import nerve.train as train
    from nerve.demos import xor
    models = []
    real_fit = train.fit

    def fit(model, *args, **kwargs):
        models.append(model)
        return real_fit(model, *args, **kwargs)

    monkeypatch.setattr(train, "fit", fit)
    out = io.StringIO()
    r = xor(stream=out)
    X, y = nv.data.xor(200, seed=0)
    for key, model in zip(("linear", "hidden"), models):
        final = nv.evaluate(model, X, y)["accuracy"]
        assert r[key]["accuracy"] == final
        assert f"training accuracy {final:.3f}" in out.getvalue()
    # the running last-epoch accuracy (what was printed before) is another number here
    assert r["linear"]["accuracy"] != r["linear"]["last_epoch_accuracy"]


# ----------------------------------------------------------------------------- finding 5
def test_activation_parameters_are_written_and_can_be_set(mpl):
    from nerve import plot
    fig = plot.plot_activations(["leaky_relu", "relu"])
    f_ax, df_ax, relu_ax, _ = fig.axes
    assert [t.get_text() for t in f_ax.texts] == ["α = 0.1"]
    assert [t.get_text() for t in df_ax.texts] == ["α = 0.1"]
    assert len(relu_ax.texts) == 0  # relu has no parameter
    fig = plot.plot_activations(["leaky_relu", "prelu"],
                                params={"leaky_relu": {"alpha": 0.01}, "prelu": {"a": 0.3}})
    x, dy = map(np.asarray, fig.axes[1].lines[-1].get_data())
    assert np.allclose(dy[x < 0], 0.01) and fig.axes[1].texts[0].get_text() == "α = 0.01"
    x, dy = map(np.asarray, fig.axes[3].lines[-1].get_data())
    assert np.allclose(dy[x < 0], 0.3) and fig.axes[3].texts[0].get_text() == "a = 0.3"
    with pytest.raises(ValueError, match="leaky_relu has no parameter 'beta'; it takes alpha"):
        plot.plot_activations(["leaky_relu"], params={"leaky_relu": {"beta": 1}})
    with pytest.raises(ValueError, match="not drawn"):
        plot.plot_activations(["relu"], params={"elu": {"alpha": 2.0}})
    with pytest.raises(ValueError, match="softmax_jacobian"):
        plot.plot_activations(["softmax"])


# ----------------------------------------------------------------------------- finding 7
def test_optimizers_demo_is_registered_and_runs_nerve_optimizers(tmp_path, mpl):
    from nerve.demos import DEMOS
    from nerve.demos.optimizers import SURFACES, run
    assert "optimizers" in DEMOS
    out = io.StringIO()
    r = run(out=tmp_path, stream=out)
    assert (tmp_path / "optimizers.png").stat().st_size > 10_000
    text = out.getvalue()
    for surface, runs in r.items():
        spec = SURFACES[surface]
        assert list(runs) == ["SGD", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adam"]
        for label, res in runs.items():
            path = res["path"]
            assert path.shape == (spec["steps"] + 1, 2)
            assert tuple(path[0]) == spec["start"]
            assert res["final_loss"] == pytest.approx(float(spec["loss"](path[-1])))
            assert f"{res['final_loss']:.4g}" in text
    # plain SGD on the ravine L = c1 w1² + c2 w2²: w_t = w_0 (1 − 2 c lr)^t per coordinate
    spec, sgd = SURFACES["ravine"], r["ravine"]["SGD"]
    lr, t = spec["settings"]["SGD"]["lr"], np.arange(spec["steps"] + 1)
    c = np.array([0.05, 2.0])
    assert spec["loss"](np.array([1.0, 1.0])) == pytest.approx(c.sum())
    expected = np.array(spec["start"])[None, :] * (1 - 2 * c * lr)[None, :] ** t[:, None]
    np.testing.assert_allclose(sgd["path"], expected, rtol=1e-12, atol=1e-12)
    # heavy-ball momentum, PyTorch's form: v ← μv + g, w ← w − lr·v
    s = spec["settings"]["momentum"]
    w, v, path = np.array(spec["start"]), np.zeros(2), [np.array(spec["start"])]
    for _ in range(spec["steps"]):
        v = s["momentum"] * v + 2 * c * w
        w = w - s["lr"] * v
        path.append(w)
    np.testing.assert_allclose(r["ravine"]["momentum"]["path"], path, rtol=1e-12, atol=1e-12)
    # what the printed lesson says: SGD is the slowest on the ravine; momentum beats plain
    # SGD at the same lr in Rosenbrock's valley
    losses = {k: v["final_loss"] for k, v in r["ravine"].items()}
    assert max(losses, key=losses.get) == "SGD"
    ros = r["rosenbrock"]
    assert ros["momentum"]["settings"]["lr"] == ros["SGD"]["settings"]["lr"]
    assert ros["momentum"]["final_loss"] < ros["SGD"]["final_loss"] / 100


def test_optimizers_demo_from_the_command_line(capsys):
    assert main(["demo", "optimizers"]) == 0
    out = capsys.readouterr().out
    assert "rosenbrock" in out and "Adam (lr" in out and "--out DIR" in out


# ----------------------------------------------------------------------------- findings 8, 9
def test_history_ticks_are_whole_epochs(mpl):
    from nerve import plot
    fig = plot.plot_history({"loss": [1.0, 0.6, 0.4, 0.3, 0.25, 0.2, 0.18, 0.17, 0.16, 0.15] * 2})
    fig.canvas.draw()
    ticks = fig.axes[0].get_xticks()
    assert len(ticks) >= 3 and np.array_equal(ticks, np.round(ticks))


def test_weights_title_says_how_many_units_are_drawn(mpl):
    from nerve import plot
    big = nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 10))
    assert "first 64 of 100 units" in plot.plot_weights(big, (8, 8)).axes[0].get_title()
    small = nn.Sequential(nn.Linear(64, 10))
    assert ": 10 units as 8x8" in plot.plot_weights(small, (8, 8)).axes[0].get_title()


# ----------------------------------------------------------------------------- finding 10
def test_softmax_jacobian_matches_finite_differences():
    z = np.random.default_rng(0).normal(size=(4, 5)) * 2.0
    J = D.softmax_jacobian(z)
    assert J.shape == (4, 5, 5) and J.dtype == np.float64
    h = 1e-6
    numeric = np.empty_like(J)
    for j in range(5):
        e = np.zeros(5)
        e[j] = h
        numeric[:, :, j] = (D.softmax(z + e) - D.softmax(z - e)) / (2 * h)
    np.testing.assert_allclose(J, numeric, atol=1e-9)
    np.testing.assert_allclose(np.diagonal(J, axis1=1, axis2=2), D.softmax_prime(z),
                               atol=1e-15)
    np.testing.assert_allclose(J.sum(axis=2), 0.0, atol=1e-15)  # softmax sums to 1
    # backprop through softmax is Jᵀ g: the same as nerve's autograd
    g = np.random.default_rng(1).normal(size=(4, 5))
    t = nv.tensor(z, dtype=nv.float64, requires_grad=True)
    (t.softmax(axis=1) * nv.tensor(g, dtype=nv.float64)).sum().backward()
    np.testing.assert_allclose(np.einsum("nij,ni->nj", J, g), t.grad, atol=1e-12)


def test_softmax_jacobian_shapes_and_errors():
    assert D.softmax_jacobian(np.zeros(3)).shape == (3, 3)
    assert D.softmax_jacobian(np.zeros((2, 3), np.float32)).dtype == np.float32
    assert D.softmax_jacobian(np.zeros((2, 4, 3))).shape == (2, 4, 3, 3)
    with pytest.raises(ValueError, match="at least one axis"):
        D.softmax_jacobian(1.0)
    with pytest.raises(TypeError, match="softmax_jacobian"):
        D.softmax_jacobian(["a", "b"])


# ----------------------------------------------------------------------------- finding 11
def test_demo_without_out_says_how_to_get_the_figures(in_tmp, capsys):
    assert main(["demo", "activations"]) == 0
    assert "nerve demo activations --out DIR" in capsys.readouterr().out
    assert main(["demo", "activations", "--out", "figs"]) == 0
    out = capsys.readouterr().out
    assert "--out DIR" not in out
