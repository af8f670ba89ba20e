"""The capacity demo: hidden units x L2 strength on the spiral."""
import io

import numpy as np
import pytest

from nerve.demos import capacity

FAST = dict(epochs=120, n_per_class=40, seed=0)


@pytest.fixture(scope="module")
def grid_run():
    return capacity.run(stream=io.StringIO(), **FAST)


def test_grid_has_every_cell(grid_run):
    assert grid_run["hidden"] == (3, 6, 20)
    assert grid_run["regs"] == (0.001, 0.01, 0.1)
    assert grid_run["grid"].shape == (3, 3)
    assert set(grid_run["accuracy"]) == {3, 6, 20}
    for h, row in grid_run["accuracy"].items():
        assert set(row) == {0.001, 0.01, 0.1}
        for acc in row.values():
            assert 0.0 <= acc <= 1.0
    assert grid_run["accuracy"][20][0.001] == grid_run["grid"][2, 0]


def test_more_units_fit_the_spiral_better(grid_run):
    acc = grid_run["accuracy"]
    assert acc[20][0.001] > 0.9
    assert acc[20][0.001] > acc[3][0.001] + 0.2


def test_strong_regularisation_lowers_training_fit(grid_run):
    acc = grid_run["accuracy"]
    assert acc[20][0.1] < acc[20][0.001] - 0.2


def test_table_is_printed(grid_run):
    assert "λ = 0.001" in grid_run["table"] and "hidden units" in grid_run["table"]
    for h in (3, 6, 20):
        assert f"\n{h:>12} " in grid_run["table"]


def test_figure_is_saved(tmp_path):
    pytest.importorskip("matplotlib")
    out = io.StringIO()
    result = capacity.run(tmp_path, hidden=(3, 20), regs=(0.001, 0.1), epochs=5,
                          n_per_class=20, stream=out)
    assert result["grid"].shape == (2, 2)
    assert result["figure"] == str(tmp_path / "capacity.png")
    assert (tmp_path / "capacity.png").stat().st_size > 5000


def test_out_is_an_alias_of_out_dir(tmp_path):
    pytest.importorskip("matplotlib")
    result = capacity.run(out=tmp_path, hidden=(2,), regs=(0.01,), epochs=2, n_per_class=10,
                          stream=io.StringIO())
    assert (tmp_path / "capacity.png").exists() and result["figure"]


def test_same_seed_same_result():
    a = capacity.run(hidden=(4,), regs=(0.01,), epochs=20, n_per_class=20,
                     stream=io.StringIO())
    b = capacity.run(hidden=(4,), regs=(0.01,), epochs=20, n_per_class=20,
                     stream=io.StringIO())
    np.testing.assert_array_equal(a["grid"], b["grid"])


@pytest.mark.parametrize("kwargs, error, words", [
    ({"hidden": (0, 3)}, ValueError, "hidden"),
    ({"hidden": 3}, TypeError, "sequences"),
    ({"regs": (-0.1,)}, ValueError, "regs"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"lr": 0.0}, ValueError, "lr"),
])
def test_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        capacity.run(stream=io.StringIO(), **kwargs)
