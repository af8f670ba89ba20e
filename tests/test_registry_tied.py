"""A layer used twice (tied weights) stays one layer through nv.save / nv.load."""
import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn


def tied_model():
    nv.manual_seed(0)
    shared = nn.Linear(4, 4)
    return nn.Sequential(shared, nn.Tanh(), shared, nn.Linear(4, 2))


def test_a_reused_layer_is_written_once_and_loaded_as_one(tmp_path):
    model = tied_model()
    cfg = nn.to_config(model)
    assert cfg["layers"][2] == {"type": "same_as", "index": 1}
    nv.save(model, tmp_path / "tied.npz")
    loaded = nv.load(tmp_path / "tied.npz")
    assert loaded[0] is loaded[2]
    assert loaded.num_parameters() == model.num_parameters() == 4 * 4 + 4 + 4 * 2 + 2
    X = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    for m in (model, loaded):
        nv.fit(m, X, y, loss="cross_entropy", optimizer="sgd", lr=0.5, epochs=3,
               batch_size=8, seed=1, progress=False)
    for a, b in zip(model.parameters(), loaded.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_sharing_across_nested_containers_round_trips(tmp_path):
    nv.manual_seed(1)
    block = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    model = nn.Sequential(block, nn.ModuleList([block, nn.Linear(3, 3)]), block[0])
    nv.save(model, tmp_path / "nested.npz")
    loaded = nv.load(tmp_path / "nested.npz")
    assert loaded[0] is loaded[1][0] and loaded[2] is loaded[0][0]
    assert loaded.num_parameters() == model.num_parameters()


@pytest.mark.parametrize("cfg", [
    {"type": "Sequential", "config": {}, "layers": [{"type": "same_as", "index": 0}]},
    {"type": "Sequential", "config": {}, "layers": [{"type": "same_as", "index": 5}]},
    {"type": "same_as", "index": "0"},
])
def test_a_same_as_entry_must_name_a_layer_written_before_it(cfg):
    with pytest.raises(ValueError, match="must name a layer written before it"):
        nn.from_config(cfg)


@pytest.mark.parametrize("ext", ["npz", "safetensors"])
def test_one_parameter_set_on_two_layers_stays_one_through_save_and_load(tmp_path, ext):
    if ext == "safetensors":
        pytest.importorskip("safetensors")
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(),
                          nn.Sequential(nn.Linear(4, 4), nn.Tanh()), nn.Linear(4, 4))
    model[2][0].weight = model[0].weight
    model[3].bias = model[2][0].bias
    nv.save(model, tmp_path / f"m.{ext}")
    loaded = nv.load(tmp_path / f"m.{ext}")
    assert loaded[2][0].weight is loaded[0].weight and loaded[3].bias is loaded[2][0].bias
    assert loaded[3].weight is not loaded[0].weight
    assert loaded.num_parameters() == model.num_parameters() == 16 + 4 + 4 + 16  # 2.0.weight, 3.bias tied
    x = nv.tensor(np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32))
    np.testing.assert_array_equal(loaded(x).data, model(x).data)


def test_a_corrupt_tie_list_is_a_clear_error(tmp_path):
    import json

    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    model[1].weight = model[0].weight
    path = tmp_path / "m.npz"
    nv.save(model, path)
    with np.load(path) as f:
        arrays = dict(f)
    cfg = json.loads(str(arrays["__config__"]))
    assert cfg["tied_parameters"] == [["1.weight", "0.weight"]]
    cfg["tied_parameters"] = [["1.weight", "0.bias"]]  # shapes (2, 2) and (2,)
    arrays["__config__"] = np.array(json.dumps(cfg))
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="tied_parameters"):
        nv.load(path)
