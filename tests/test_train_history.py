"""History: Keras-style dict, attributes, best epoch, JSON round trip."""
import json
import math

import pytest

from nerve.train import History


def filled():
    h = History()
    for e, (loss, acc) in enumerate([(1.0, 0.5), (0.5, 0.8), (0.7, 0.9)]):
        h.on_batch_end(0, {"loss": loss + 0.1})
        h.on_epoch_end(e, {"loss": loss, "accuracy": acc, "val_loss": loss * 2})
    return h


def test_history_is_a_dict_of_lists_and_attributes():
    h = filled()
    assert h.history == {"loss": [1.0, 0.5, 0.7], "accuracy": [0.5, 0.8, 0.9],
                         "val_loss": [2.0, 1.0, 1.4]}
    assert h.epoch == [0, 1, 2] and len(h) == 3
    assert h.loss == [1.0, 0.5, 0.7] and h["accuracy"][-1] == 0.9
    assert h.val_accuracy == []  # a standard metric not recorded reads as empty
    assert h.iteration_loss == pytest.approx([1.1, 0.6, 0.8])
    with pytest.raises(AttributeError, match="recorded: loss"):
        h.precision


def test_best_epoch_minimises_losses_and_maximises_accuracy():
    h = filled()
    assert h.best("val_loss") == (1, 1.0)
    assert h.best("accuracy") == (2, 0.9)
    with pytest.raises(KeyError):
        h.best("val_accuracy")


def test_json_round_trip_and_nan_as_null(tmp_path):
    h = filled()
    h.on_epoch_end(3, {"loss": math.nan})
    h.params = {"epochs": 4}
    path = tmp_path / "history.json"
    h.save(path)
    raw = json.loads(path.read_text())
    assert raw["history"]["loss"][-1] is None and raw["params"] == {"epochs": 4}
    back = History.load(path)
    assert back.epoch == h.epoch and back.accuracy == h.accuracy
    assert math.isnan(back.loss[-1]) and back.loss[:3] == h.loss[:3]


def test_load_rejects_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        History.load(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"something": 1}')
    with pytest.raises(ValueError, match="not a nerve history file"):
        History.load(bad)
