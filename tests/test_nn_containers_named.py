"""Named children: Sequential(OrderedDict(...)) and ModuleDict, as in PyTorch — their
parameter names, attribute access, training through them, saving and loading."""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import nerve as nv
import nerve.nn as nn


def named_net():
    nv.manual_seed(0)
    return nn.Sequential(OrderedDict([("fc1", nn.Linear(3, 4)), ("act", nn.ReLU()),
                                      ("fc2", nn.Linear(4, 2))]))


def test_sequential_from_an_ordered_dict_names_its_children():
    net = named_net()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight",
                                                      "fc2.bias"]
    assert net.fc1 is net[0] and net.fc2 is net[2] and len(net) == 3
    assert [n for n, _ in net[1:].named_children()] == ["act", "fc2"]
    net.append(nn.Softmax())
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2", "3"]
    with pytest.raises(AttributeError, match="no attribute 'fc3'"):
        net.fc3  # noqa: B018


def test_a_named_sequential_computes_what_the_numbered_one_does():
    named = named_net()
    nv.manual_seed(0)
    numbered = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = nv.tensor(np.random.default_rng(1).normal(size=(5, 3)))
    np.testing.assert_array_equal(named(x).data, numbered(x).data)
    numbered.load_state_dict({k.replace("fc1", "0").replace("fc2", "2"): v
                              for k, v in named.state_dict().items()})


def test_a_named_sequential_trains_and_deep_copies():
    net = named_net()
    X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    history = nv.fit(net, X, y, loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=15,
                     batch_size=16, progress=False)
    assert history.history["loss"][-1] < history.history["loss"][0]
    twin = copy.deepcopy(net)
    assert twin.fc1 is not net.fc1
    np.testing.assert_array_equal(twin.fc1.weight.data, net.fc1.weight.data)


def test_module_dict_behaves_as_a_dict_of_modules():
    heads = nn.ModuleDict({"digit": nn.Linear(8, 10), "parity": nn.Linear(8, 2)})
    assert list(heads) == ["digit", "parity"] and len(heads) == 2 and "digit" in heads
    assert [n for n, _ in heads.named_parameters()] == ["digit.weight", "digit.bias",
                                                        "parity.weight", "parity.bias"]
    heads["extra"] = nn.Linear(8, 1)
    assert heads.num_parameters() == 8 * 10 + 10 + 8 * 2 + 2 + 8 + 1
    assert isinstance(heads.pop("extra"), nn.Linear) and "extra" not in heads
    heads.update([("more", nn.Linear(8, 3))])
    assert list(heads.keys()) == ["digit", "parity", "more"]
    heads.eval()
    assert not any(m.training for m in heads.values())
    heads.clear()
    assert len(heads) == 0 and heads.num_parameters() == 0


def test_a_module_dict_inside_a_model_is_trained():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(2, 8)
            self.heads = nn.ModuleDict({"a": nn.Linear(8, 2), "b": nn.Linear(8, 2)})

        def forward(self, x):
            h = self.body(x).relu()
            return self.heads["a"](h) + self.heads["b"](h)

    nv.manual_seed(0)
    model = TwoHeads()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["body.weight", "body.bias", "heads.a.weight", "heads.a.bias",
                     "heads.b.weight", "heads.b.bias"]
    opt = nv.optim.SGD(model.parameters(), lr=0.1)
    before = model.heads["b"].weight.data.copy()
    x = nv.tensor(np.ones((4, 2)))
    loss = nn.CrossEntropyLoss()(model(x), [0, 1, 0, 1])
    loss.backward()
    opt.step()
    assert not np.array_equal(model.heads["b"].weight.data, before)


def test_named_containers_save_and_load(tmp_path):
    net = named_net()
    nv.save(net, tmp_path / "net.npz")
    again = nv.load(tmp_path / "net.npz")
    assert [n for n, _ in again.named_children()] == ["fc1", "act", "fc2"]
    np.testing.assert_array_equal(again.fc2.weight.data, net.fc2.weight.data)
    heads = nn.ModuleDict({"x": nn.Linear(2, 3), "y": nn.Sequential(nn.Linear(3, 1))})
    nv.save(heads, tmp_path / "heads.npz")
    back = nv.load(tmp_path / "heads.npz")
    assert list(back) == ["x", "y"]
    np.testing.assert_array_equal(back["y"][0].weight.data, heads["y"][0].weight.data)


@pytest.mark.parametrize("make,error,message", [
    (lambda: nn.ModuleDict({"a.b": nn.ReLU()}), ValueError, "without '.'"),
    (lambda: nn.ModuleDict({1: nn.ReLU()}), TypeError, "non-empty string"),
    (lambda: nn.ModuleDict({"a": np.zeros(2)}), TypeError, "expects Modules"),
    (lambda: nn.ModuleDict([("a",)]), TypeError, r"\(name, module\) pairs"),
    (lambda: nn.ModuleDict({"a": nn.ReLU()})["b"], KeyError, "no module named 'b'"),
    (lambda: nn.ModuleDict({"a": nn.ReLU()})(nv.tensor([1.0])), NotImplementedError,
     "call its modules by name"),
    (lambda: nn.Sequential(OrderedDict([("", nn.ReLU())])), ValueError, "non-empty string"),
    (lambda: nn.from_config({"type": "ModuleDict", "config": {}, "layers": [
        {"type": "ReLU", "config": {}}]}), ValueError, "'names'"),
])
def test_bad_names_get_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
