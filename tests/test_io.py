"""Model and state files: round trips, atomic saves, and clear errors on bad files."""
import json
import os
import pickle

import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn
from nerve import io as nio
from nerve.io import load, load_state, save, save_state

X = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)


def make_model():
    nv.manual_seed(0)
    return nn.Sequential(
        nn.Linear(3, 8), nn.BatchNorm1d(8), nn.PReLU(8), nn.Dropout(0.3),
        nn.Sequential(nn.Maxout(8, 6, pieces=3), nn.LeakyReLU(0.05)),
        nn.Linear(6, 4, init="xavier"), nn.ELU(0.5), nn.Linear(4, 2), nn.Softmax(axis=1))


def test_save_load_gives_identical_predictions(tmp_path):
    model = make_model()
    model(X)                                       # one training step moves the running stats
    path = tmp_path / "net.npz"
    save(model, path)
    again = load(path)
    assert repr(again) == repr(model)
    assert isinstance(again[4], nn.Sequential)     # nested Sequential rebuilt
    model.eval()
    again.eval()
    np.testing.assert_array_equal(again(X).data, model(X).data)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[key], value)
    assert not np.all(again[1].running_mean == 0)  # buffers were restored


def test_float64_models_stay_float64(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2, dtype=nv.float64), nn.Tanh())
    save(model, tmp_path / "m.npz")
    again = load(tmp_path / "m.npz")
    assert again.dtype == nv.float64
    np.testing.assert_array_equal(again(X.astype(np.float64)).data,
                                  model(X.astype(np.float64)).data)


def test_the_file_is_plain_npz_with_a_marker(tmp_path):
    save(nn.Sequential(nn.Linear(3, 2)), tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        assert str(z["__nerve__"]) == "nerve-model"
        assert int(z["__version__"]) == nio.FORMAT_VERSION
        config = json.loads(str(z["__config__"]))
        assert config["layers"][0] == {"type": "Linear", "config": {
            "in_features": 3, "out_features": 2, "bias": True, "init": "he",
            "dtype": "float32"}}
        assert z["state/0.weight"].shape == (3, 2)  # (in, out), as X·W


def test_state_round_trip_with_strings_and_numbers(tmp_path):
    state = {"optimizer": "SGD", "param_groups.0.lr": 0.1, "param_groups.0.nesterov": True,
             "state.0.velocity": np.arange(6.0).reshape(2, 3), "step": 7}
    save_state(state, tmp_path / "opt.npz")
    back = load_state(tmp_path / "opt.npz")
    assert set(back) == set(state)
    assert str(back["optimizer"]) == "SGD" and float(back["param_groups.0.lr"]) == 0.1
    assert bool(back["param_groups.0.nesterov"]) and int(back["step"]) == 7
    np.testing.assert_array_equal(back["state.0.velocity"], state["state.0.velocity"])


def test_model_state_dict_round_trip(tmp_path):
    model = make_model()
    save_state(model.state_dict(), tmp_path / "w.npz")
    other = make_model()
    other.load_state_dict(load_state(tmp_path / "w.npz"))
    for p, q in zip(model.parameters(), other.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    with pytest.raises(ValueError, match="load_state"):
        load(tmp_path / "w.npz")
    assert set(load_state_of_model(tmp_path)) == set(model.state_dict())


def load_state_of_model(tmp_path):
    save(make_model(), tmp_path / "m.npz")
    return load_state(tmp_path / "m.npz")                # a model file's weights


def test_save_state_rejects_objects(tmp_path):
    with pytest.raises(TypeError, match="'bad'"):
        save_state({"bad": None}, tmp_path / "s.npz")
    with pytest.raises(TypeError, match="dict"):
        save_state([1, 2], tmp_path / "s.npz")
    assert not os.listdir(tmp_path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError):
        save(make_model(), tmp_path / "no_such_dir" / "m.npz")


class Exploit:
    """Unpickling this would create a folder: proof that code ran."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.makedirs, (self.target,))


def _write(path, payload):
    path.write_bytes(payload)
    return path


def _good_bytes(tmp_path):
    save(make_model(), tmp_path / "good.npz")
    return (tmp_path / "good.npz").read_bytes()


@pytest.mark.parametrize("kind", ["random", "truncated", "empty", "text", "pickle",
                                  "npy", "object_array", "foreign_npz", "wrong_marker",
                                  "newer_version", "unknown_layer", "bad_shapes",
                                  "bad_json", "flipped_byte"])
def test_bad_files_raise_a_clear_value_error(tmp_path, kind):
    marker = tmp_path / "pwned"
    path = tmp_path / f"{kind}.npz"
    good = _good_bytes(tmp_path)
    if kind == "random":
        _write(path, np.random.default_rng(0).bytes(500))
    elif kind == "truncated":
        _write(path, good[: len(good) // 2])
    elif kind == "empty":
        _write(path, b"")
    elif kind == "text":
        _write(path, b"hello, I am not a model")
    elif kind == "pickle":
        _write(path, pickle.dumps(Exploit(str(marker))))
    elif kind == "npy":
        with open(path, "wb") as fh:
            np.save(fh, np.ones(3))
    elif kind == "object_array":
        with open(path, "wb") as fh:
            np.savez(fh, __nerve__=np.array("nerve-model"),
                     **{"state/x": np.array([Exploit(str(marker))], dtype=object)})
    elif kind == "flipped_byte":
        data = bytearray(good)
        data[len(data) // 3] ^= 0xFF
        _write(path, bytes(data))
    else:
        with np.load(tmp_path / "good.npz") as z:
            arrays = dict(z)
        if kind == "foreign_npz":
            arrays = {"W1": np.ones((3, 3)), "b1": np.zeros(3)}
        elif kind == "wrong_marker":
            arrays["__nerve__"] = np.array("keras-model")
        elif kind == "newer_version":
            arrays["__version__"] = np.array(99)
        elif kind == "unknown_layer":
            arrays["__config__"] = np.array(json.dumps({"type": "Evil", "config": {}}))
        elif kind == "bad_shapes":
            arrays["state/0.weight"] = np.ones((5, 5), dtype=np.float32)
        elif kind == "bad_json":
            arrays["__config__"] = np.array("{not json")
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
    with pytest.raises(ValueError) as err:
        load(path)
    assert str(path) in str(err.value)
    assert not marker.exists()                        # nothing was executed
    if kind == "unknown_layer":
        assert "Evil" in str(err.value) and "Linear" in str(err.value)
    if kind == "bad_shapes":
        assert "(5, 5)" in str(err.value) and "(3, 8)" in str(err.value)
    if kind == "newer_version":
        assert "99" in str(err.value)


def test_unregistered_modules_explain_and_registered_ones_work(tmp_path):
    class Scale(nn.Module):
        def __init__(self, factor=2.0):
            super().__init__()
            self.factor = factor

        def forward(self, x):
            return x * self.factor

        def get_config(self):
            return {"factor": self.factor}

    model = nn.Sequential(nn.Linear(3, 2), Scale(3.0))
    with pytest.raises(ValueError, match="register_layer"):
        save(model, tmp_path / "m.npz")
    assert not os.listdir(tmp_path)
    nn.register_layer(Scale)
    try:
        save(model, tmp_path / "m.npz")
        np.testing.assert_array_equal(load(tmp_path / "m.npz")(X).data, model(X).data)
    finally:
        del nn.LAYERS["Scale"]


def test_path_is_kept_as_given(tmp_path):
    save(nn.Sequential(nn.Linear(3, 2)), tmp_path / "model")
    assert os.listdir(tmp_path) == ["model"]
    assert isinstance(load(str(tmp_path / "model")), nn.Sequential)
    with pytest.raises(TypeError, match="Module"):
        save({"w": 1}, tmp_path / "x.npz")


def test_safetensors_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    model = make_model()
    model(X)
    save(model, tmp_path / "net.safetensors")
    again = load(tmp_path / "net.safetensors")
    model.eval()
    again.eval()
    np.testing.assert_array_equal(again(X).data, model(X).data)
    save_state({"name": "Adam", "state.0.m": np.ones(3)}, tmp_path / "s.safetensors")
    back = load_state(tmp_path / "s.safetensors")
    assert str(back["name"]) == "Adam" and back["state.0.m"].tolist() == [1, 1, 1]
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.safetensors"):
        load(tmp_path / "bad.safetensors")
