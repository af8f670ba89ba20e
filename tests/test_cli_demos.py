"""The demos behind `nerve demo NAME`, called as functions, and `nerve bench` delegation."""
import io

import pytest

from nerve.cli import main
from nerve.demos import DEMOS, activations, backprop, run_demo, spiral, xor


def test_activations_table_matches_the_lectures():
    out = io.StringIO()
    r = activations(stream=out)
    i0 = 3  # x = 0 in POINTS
    assert r["sigmoid"]["f"][i0] == 0.5 and r["sigmoid"]["df"][i0] == 0.25
    assert r["relu"]["df"][i0] == 0.0 and r["tanh"]["df"][i0] == 1.0
    assert set(r["step"]["df"]) == {0.0}
    assert "sigmoid'" in out.getvalue()


def test_backprop_numbers():
    r = backprop(stream=io.StringIO())
    assert r["add_mul"] == {"q": 3.0, "f": -12.0, "dq": -4.0, "dx": -4.0, "dy": -4.0,
                            "dz": 3.0}
    s = r["sigmoid_neuron"]
    assert s["f"] == pytest.approx(0.7311, abs=1e-4)
    assert s["dw"] == pytest.approx([-0.1966, -0.3932, 0.1966], abs=1e-4)
    assert s["dx"] == pytest.approx([0.3932, -0.5898], abs=1e-4)


def test_xor_demo_single_layer_fails_hidden_layer_learns():
    r = xor(stream=io.StringIO())
    assert r["linear_fails"] and r["linear"]["accuracy"] < 0.8
    assert r["hidden"]["corners"] == r["truth"] and r["hidden"]["accuracy"] > 0.95


def test_spiral_demo():
    r = spiral(stream=io.StringIO())
    assert 0.4 <= r["linear"]["accuracy"] <= 0.6 and r["two_layer"]["accuracy"] >= 0.97


def test_registry_and_unknown_name():
    assert set(DEMOS) >= {"activations", "backprop", "xor", "spiral"}
    with pytest.raises(ValueError, match="valid demos: activations"):
        run_demo("mlp")


def test_bench_is_delegated(capsys):
    assert main(["bench", "--help"]) == 0
    assert "usage: nerve bench" in capsys.readouterr().out
