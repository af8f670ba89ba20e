"""The optimisation-ladder demo: random search < local search < numerical < analytic gradient."""
import io
import math

import numpy as np
import pytest

from nerve.demos import optimization

SMALL = dict(tries=300, local_steps=300, steps=20, numerical_steps=2, n_train=100, seed=0)


@pytest.fixture(scope="module")
def ladder():
    return optimization.run(stream=io.StringIO(), **SMALL)


def test_every_method_reports_a_curve(ladder):
    methods = ladder["methods"]
    assert list(methods) == list(optimization.METHODS)
    for key, steps in [("random_search", 300), ("random_local_search", 300),
                       ("numerical_gradient", 2), ("analytic_gradient", 20)]:
        result = methods[key]
        assert result["loss"].shape == result["seconds"].shape == (steps,)
        assert np.all(np.diff(result["seconds"]) >= 0)
        assert result["final_loss"] == result["loss"][-1]
        assert 0.0 <= result["accuracy"] <= 1.0


def test_analytic_gradient_beats_random_search(ladder):
    """Lower final loss, and less wall time to reach random search's best loss."""
    methods, target = ladder["methods"], ladder["target_loss"]
    search, analytic = methods["random_search"], methods["analytic_gradient"]
    assert target == search["final_loss"]
    assert analytic["final_loss"] < search["final_loss"]
    # random search finds its best late (try 118 of 300 with this seed), gradient
    # descent passes it after one step: the times differ by far more than noise
    assert int(np.argmin(search["loss"])) > 100
    assert optimization.time_to_reach(analytic, target) < \
        optimization.time_to_reach(search, target)
    assert analytic["accuracy"] > 0.9 > search["accuracy"]


def test_random_search_history_never_gets_worse(ladder):
    for key in ("random_search", "random_local_search"):
        assert np.all(np.diff(ladder["methods"][key]["loss"]) <= 0)
    # starting near W = 0, the first losses are about ln 10
    assert ladder["methods"]["random_local_search"]["loss"][0] == pytest.approx(
        math.log(10), abs=0.05)


def test_numerical_gradient_follows_the_analytic_path(ladder):
    """Same start, same step size: the finite-difference and backprop steps agree."""
    numerical = ladder["methods"]["numerical_gradient"]["loss"]
    analytic = ladder["methods"]["analytic_gradient"]["loss"]
    np.testing.assert_allclose(numerical, analytic[:2], rtol=1e-6)


def test_numerical_gradient_costs_two_evaluations_per_weight(ladder):
    assert ladder["methods"]["numerical_gradient"]["evaluations"] == 2 * (2 * 650 + 1)


def test_table_lists_every_method(ladder):
    for label in optimization.METHODS.values():
        assert label in ladder["table"]
    assert "s to reach RS best" in ladder["table"]


def test_time_to_reach():
    result = {"loss": np.array([3.0, 2.0, 1.0]), "seconds": np.array([0.1, 0.2, 0.3])}
    assert optimization.time_to_reach(result, 2.0) == 0.2
    assert optimization.time_to_reach(result, 0.5) == math.inf


def test_figure_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    out = io.StringIO()
    result = optimization.run(out_dir=tmp_path, stream=out, tries=20, local_steps=20,
                              steps=3, numerical_steps=1, n_train=30)
    assert result["figure"] == str(tmp_path / "optimization.png")
    assert (tmp_path / "optimization.png").stat().st_size > 1000
    assert "wrote" in out.getvalue()


@pytest.mark.parametrize("kwargs, words", [
    ({"tries": 0}, "tries"), ({"steps": 1.5}, "steps"), ({"lr": 0}, "lr"),
    ({"reg": -1.0}, "reg"), ({"n_train": True}, "n_train"),
])
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        optimization.run(stream=io.StringIO(), **kwargs)
