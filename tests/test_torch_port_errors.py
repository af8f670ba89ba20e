"""Slips a PyTorch user makes when porting code, each met by an error that says what to do."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn

X = np.random.default_rng(0).standard_normal((20, 4)).astype(np.float32)
Y = np.arange(20) % 2


@pytest.mark.parametrize("call", [
    lambda: nv.fit(nn.Sequential(nn.Linear(4, 2)), (X, Y), Y, loss="cross_entropy",
                   optimizer="sgd", epochs=1, batch_size=4, progress=False),
    lambda: nv.data.DataLoader((X, Y), batch_size=4),
], ids=["fit", "DataLoader"])
def test_an_x_y_pair_passed_as_x_says_to_pass_them_separately(call):
    with pytest.raises(ValueError, match=r"X must be one array.*tuple of 2 arrays of shapes "
                                         r"\(20, 4\), \(20,\).*two arguments"):
        call()


def test_stack_concatenate_and_cat_take_dim_or_axis():
    a = nv.tensor(np.ones((2, 3)))
    assert nv.stack([a, a], dim=1).shape == (2, 2, 3)
    assert nv.concatenate([a, a], dim=1).shape == nv.cat([a, a], axis=1).shape == (2, 6)
    with pytest.raises(TypeError, match="stack: got both axis=1 and dim=0"):
        nv.stack([a, a], 1, dim=0)
    with pytest.raises(TypeError, match="cat: got both dim=1 and axis=0"):
        nv.cat([a, a], 1, axis=0)


def test_a_pytorch_layout_weight_gets_the_transpose_hint():
    torch_like = {"weight": np.zeros((4, 3), np.float32), "bias": np.zeros(4, np.float32)}
    with pytest.raises(ValueError, match=r"weight: checkpoint has shape \(4, 3\), the model "
                                         r"has \(3, 4\) \(transposed.*weight\.T"):
        nn.Linear(3, 4).load_state_dict(torch_like)
    torch_like["weight"] = torch_like["weight"].T
    nn.Linear(3, 4).load_state_dict(torch_like)  # transposed, it loads


class _Projected(nn.Module):
    """A custom module whose first Linear does not see the raw input."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.ones((3, 2), np.float32))
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        return self.lin(x @ self.w)


def test_summary_of_a_custom_module_does_not_crash_on_a_wrong_guess():
    text = str(_Projected().summary())
    assert "? (pass summary(input_shape=...)" in text and "Total parameters: 12" in text
    assert "lin: Linear(2, 2)  (N, 2)" in str(_Projected().summary(input_shape=3))
    with pytest.raises(ValueError, match=r"summary: the model does not run on input_shape \(4,\)"):
        _Projected().summary(input_shape=4)


def test_init_names_from_keras_and_pytorch_and_the_in_place_functions():
    assert nn.Linear(3, 2, init="Kaiming").init == "he"
    assert nn.Linear(3, 2, init="glorot_uniform").init == "xavier_uniform"
    with pytest.raises(ValueError, match="unknown init 'orthogonal'.*alias: kaiming"):
        nn.Linear(3, 2, init="orthogonal")
    nv.manual_seed(0)
    big = nn.Linear(400, 300)
    nn.init.zeros_(big.bias)
    for fn, std in ((nn.init.kaiming_normal_, np.sqrt(2 / 400)),
                    (nn.init.kaiming_uniform_, np.sqrt(2 / 400)),
                    (nn.init.xavier_normal_, np.sqrt(2 / 700)),
                    (nn.init.xavier_uniform_, np.sqrt(2 / 700))):
        weight = big.weight.data
        assert fn(big.weight) is big.weight and big.weight.data is weight  # in place
        assert abs(weight.std() / std - 1) < 0.02, fn.__name__
    nn.init.normal_(big.weight, mean=1.0, std=0.5)
    assert abs(big.weight.data.mean() - 1) < 0.01 and abs(big.weight.data.std() - 0.5) < 0.01
    nn.init.uniform_(big.weight, -2, 2)
    assert big.weight.data.min() >= -2 and big.weight.data.max() <= 2
    assert nn.init.constant_(big.bias, 0.25).data.tolist() == [0.25] * 300
    assert nn.init.ones_(big.bias).data.sum() == 300
    with pytest.raises(ValueError, match="2 or more axes.*zeros_ or constant_"):
        nn.init.kaiming_normal_(big.bias)


def test_module_apply_visits_every_module_for_an_init_function():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    seen = []

    def init_weights(m):
        seen.append(type(m).__name__)
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
            nn.init.zeros_(m.bias)

    assert model.apply(init_weights) is model
    assert sorted(seen) == ["Linear", "Linear", "ReLU", "Sequential"]
    np.testing.assert_array_equal(model(nv.tensor(np.ones((1, 3)))).data, [[3.0, 3.0]])
