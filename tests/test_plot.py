"""nerve.plot: each function returns a Figure and saves to a path; bad input is refused."""
import numpy as np
import pytest

pytest.importorskip("matplotlib")

import nerve as nv  # noqa: E402
from nerve import nn, plot  # noqa: E402
from nerve.train import History  # noqa: E402


def is_figure(fig):
    from matplotlib.figure import Figure
    return isinstance(fig, Figure)


def test_activations_plot_has_a_function_and_derivative_column(tmp_path):
    fig = plot.plot_activations(["relu", "sigmoid"], path=tmp_path / "a.png")
    assert is_figure(fig) and (tmp_path / "a.png").stat().st_size > 1000
    axes = fig.get_axes()
    assert len(axes) == 4
    x, dy = map(np.asarray, axes[1].lines[-1].get_data())  # relu'
    assert np.array_equal(dy, (x > 0).astype(float))
    with pytest.raises(ValueError, match="valid names"):
        plot.plot_activations(["swish"])


def test_history_plot_draws_train_and_validation_curves(tmp_path):
    h = History()
    for e in range(3):
        h.on_epoch_end(e, {"loss": 1.0 / (e + 1), "accuracy": 0.5 + 0.1 * e,
                           "val_loss": 1.2 / (e + 1), "val_accuracy": 0.4 + 0.1 * e})
    fig = plot.plot_history(h, path=tmp_path / "h.svg")
    loss_ax, acc_ax = fig.get_axes()
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 2
    assert list(acc_ax.lines[1].get_ydata()) == h.val_accuracy
    assert (tmp_path / "h.svg").read_text().startswith("<?xml")
    assert len(plot.plot_history({"loss": [1.0, 0.5]}).get_axes()) == 1
    with pytest.raises(TypeError, match="loss"):
        plot.plot_history({"acc": [1]})


def test_decision_boundary_colours_the_plane_by_predicted_class(tmp_path):
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2))
    model[0].weight.data[...] = [[1.0, 0.0], [-1.0, 0.0]]  # class 0 iff x1 > 0
    X = np.array([[-1.0, 0.0], [1.0, 1.0], [0.5, -1.0]], np.float32)
    fig = plot.plot_decision_boundary(model, X, np.array([1, 0, 0]), resolution=20,
                                      path=tmp_path / "d.png")
    assert is_figure(fig) and (tmp_path / "d.png").exists()
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot.plot_decision_boundary(model, np.zeros((3, 3)), np.zeros(3, int))


def test_confusion_matrix_plot_shows_counts():
    fig = plot.plot_confusion_matrix([0, 1, 1, 2], [0, 1, 0, 2], class_names=["a", "b", "c"])
    ax = fig.get_axes()[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["1", "0", "0", "1", "1", "0", "0", "0", "1"]
    assert "0.750" in ax.get_title()


def test_weights_plot_tiles_one_image_per_unit(tmp_path):
    model = nn.Sequential(nn.Linear(64, 10), nn.ReLU(), nn.Linear(10, 3))
    fig = plot.plot_weights(model, (8, 8), path=tmp_path / "w.png")
    image = fig.get_axes()[0].images[0].get_array()
    assert image.shape == (3 * 9 - 1, 4 * 9 - 1)  # 10 units on a 3x4 grid, 1-pixel gaps
    with pytest.raises(ValueError, match="16 values"):
        plot.plot_weights(model, (4, 4))


def test_saving_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot.plot_history({"loss": [1.0]}, path=tmp_path / "no" / "h.png")
