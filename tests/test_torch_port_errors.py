"""Slips a PyTorch user makes when porting code, each met by an error that says what to do."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn, optim

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


def test_log_softmax_then_nll_loss_is_cross_entropy_with_its_gradient():
    rng = np.random.default_rng(1)
    x = nv.tensor(rng.standard_normal((6, 4)), dtype=nv.float64, requires_grad=True)
    y = nv.tensor([0, 3, 1, 1, 2, 0])
    for reduction in ("mean", "sum", "none"):
        split = nn.NLLLoss(reduction)(nn.LogSoftmax(dim=1)(x), y)
        fused = nn.CrossEntropyLoss(reduction)(x, y)
        np.testing.assert_allclose(split.data, fused.data, rtol=1e-12)
        assert nv.gradcheck(lambda t: nv.losses.nll_loss(t.log_softmax(1), y, reduction), x)
    assert isinstance(nn.get_loss("nll"), nn.NLLLoss)
    with pytest.raises(ValueError, match=r"nll_loss: labels must be in \[0, 4\)"):
        nv.losses.nll_loss(x, nv.tensor([0, 4, 1, 1, 2, 0]))


def test_flatten_feeds_images_to_a_linear_layer_and_saves(tmp_path):
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3), nn.LogSoftmax(dim=1))
    x = nv.tensor(np.random.default_rng(0).standard_normal((5, 3, 4)), requires_grad=True)
    out = model(x)
    assert out.shape == (5, 3)
    out.sum().backward()
    assert x.grad.shape == (5, 3, 4)
    nv.save(model, tmp_path / "m.npz")
    again = nv.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(again(x).data, out.data)
    with pytest.raises(TypeError, match="Flatten: start_dim must be an int"):
        nn.Flatten(0.5)


def test_module_requires_grad_zero_grad_options_and_tensor_buffers():
    model = nn.Sequential(nn.Linear(2, 2))
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    model(nv.tensor(np.ones((1, 2)))).sum().backward()
    grad = model[0].weight.grad
    model.zero_grad(set_to_none=False)
    assert model[0].weight.grad is grad and not grad.any()
    model.zero_grad()
    assert model[0].weight.grad is None
    holder = nn.Module()
    holder.register_buffer("running", nv.zeros(3))
    assert isinstance(holder.running, np.ndarray) and "running" in holder.state_dict()


def test_factories_as_pytorch_names_them():
    assert nv.arange(4).dtype == np.int64 and nv.arange(4).data.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(nv.arange(0, 1, 0.25).data, [0, 0.25, 0.5, 0.75])
    assert nv.arange(0, 1, 0.25).dtype == np.float32
    assert nv.full((2, 3), 1.5).data.tolist() == [[1.5] * 3] * 2
    np.testing.assert_array_equal(nv.eye(2, 3).data, np.eye(2, 3))
    r = nv.rand(1000, seed=0)
    assert r.dtype == np.float32 and 0 <= r.data.min() and r.data.max() < 1
    assert abs(r.data.mean() - 0.5) < 0.05
    a = np.ones(3)
    t = nv.from_numpy(a)
    assert t.dtype == np.float64 and np.shares_memory(t.data, a)


def test_pytorch_layer_flags_and_names_are_accepted():
    assert nn.LeakyReLU(negative_slope=0.2).alpha == 0.2
    with pytest.raises(TypeError, match="both alpha and negative_slope"):
        nn.LeakyReLU(0.3, negative_slope=0.2)
    x = nv.tensor([[-1.0, 2.0]])
    for layer, plain in ((nn.ReLU(inplace=True), nn.ReLU()), (nn.ELU(inplace=True), nn.ELU()),
                         (nn.LeakyReLU(inplace=True), nn.LeakyReLU())):
        np.testing.assert_array_equal(layer(x).data, plain(x).data)
        assert x.data.tolist() == [[-1.0, 2.0]]  # the input is left alone either way
    assert nn.Dropout(0.1, inplace=True).p == 0.1
    with pytest.raises(TypeError, match="inplace must be True or False"):
        nn.ReLU(inplace="yes")
    bn = nn.BatchNorm1d(3)
    assert bn.weight is bn.gamma and bn.bias is bn.beta
    assert list(bn.state_dict()) == ["gamma", "beta", "running_mean", "running_var"]


def test_grad_modes_grad_fn_clamp_and_t():
    x = nv.tensor([[1.0, -2.0]], requires_grad=True)
    assert x.grad_fn is None and (x * 2).grad_fn is not None
    for ctx in (nv.set_grad_enabled(False), nv.inference_mode()):
        with ctx:
            assert not (x * 2).requires_grad
    with nv.no_grad(), nv.set_grad_enabled(True):
        assert (x * 2).requires_grad
    with pytest.raises(TypeError, match="expects True or False"):
        nv.set_grad_enabled(1)
    np.testing.assert_array_equal(x.clamp(min=0).data, [[1.0, 0.0]])
    assert x.t().shape == (2, 1) and nv.tensor([1.0, 2.0]).t().shape == (2,)
    with pytest.raises(ValueError, match="at most 2 axes"):
        nv.tensor(np.zeros((2, 2, 2))).t()


def test_sklearn_estimator_takes_logistic_and_reports_loss_():
    from nerve.sklearn import MLPClassifier
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    est = MLPClassifier((8,), activation="logistic", max_iter=5, random_state=0)
    with pytest.warns(UserWarning, match="reached max_iter=5"):  # ConvergenceWarning
        est.fit(X, y)
    assert isinstance(est.network_[1], nn.Sigmoid)
    assert est.loss_ == est.loss_curve_[-1]


def test_set_grad_enabled_called_alone_switches_recording():
    x = nv.tensor([1.0], requires_grad=True)
    try:
        nv.set_grad_enabled(False)
        assert not (x * 2).requires_grad
    finally:
        nv.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_flatten_checks_its_axis_and_handles_empty_batches():
    cube = nv.tensor(np.zeros((2, 3, 4)))
    assert cube.flatten().shape == (24,) and cube.flatten(1).shape == (2, 12)
    assert nn.Flatten()(nv.tensor(np.zeros((0, 3, 4)))).shape == (0, 12)
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=3\) needs inputs with more than 3"):
        nn.Flatten(3)(cube)
    with pytest.raises(ValueError, match=r"flatten: start_dim must be an int in \[-3, 3\)"):
        cube.flatten(5)
    with pytest.raises(ValueError, match="may hold one -1"):
        cube.view(-2, 12)


def test_fit_trains_a_model_that_flattens_images_first():
    rng = np.random.default_rng(0)
    images, labels = rng.standard_normal((40, 3, 4)).astype(np.float32), np.arange(40) % 2
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    history = nv.fit(model, images, labels, loss="cross_entropy", optimizer="sgd", epochs=2,
                     batch_size=8, progress=False)
    assert len(history.history["loss"]) == 2
    assert nv.predict(model, images).shape == (40, 2)
    with pytest.raises(ValueError, match=r"could not process X of shape \(40, 5\)"):
        nv.fit(model, images[:, 0, :3].repeat(2, 1)[:, :5], labels, loss="cross_entropy",
               optimizer="sgd", epochs=1, batch_size=8, progress=False)


def test_fit_carries_on_eagerly_when_a_callback_freezes_a_layer():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)).astype(np.float32), np.arange(40) % 2
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    frozen = {}

    class Freeze(nv.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                model[0].requires_grad_(False)
                frozen["weight"] = model[0].weight.data.copy()
                frozen["head"] = model[2].weight.data.copy()

    nv.fit(model, X, y, loss="cross_entropy", optimizer="sgd", epochs=3, batch_size=8,
           progress=False, callbacks=[Freeze()])  # compile="auto": captured, then eager
    np.testing.assert_array_equal(model[0].weight.data, frozen["weight"])
    assert not np.array_equal(model[2].weight.data, frozen["head"])


_W = nn.Linear(3, 2).weight
_PLATEAU = optim.ReduceLROnPlateau(optim.SGD([nv.tensor([1.0], requires_grad=True)], lr=1.0))


@pytest.mark.parametrize("call, error, message", [
    (lambda: nv.arange(0, 5, 0), ValueError, "arange: step must not be 0"),
    (lambda: nv.arange(0, float("inf")), TypeError, "arange: .* must be finite numbers"),
    (lambda: nv.arange(1e15), ValueError, "more than nerve will allocate"),
    (lambda: nv.full(2, None), TypeError, "full: fill_value must be a number"),
    (lambda: nv.tensor([1.0]).to(None), TypeError, r"to\(\) needs a dtype"),
    (lambda: nv.tensor([[1.0]]).max(dim=(0, 1)), TypeError, r"max\(dim=...\) takes one axis"),
    (lambda: (nv.tensor([1.0]) > 0).any(dim=2), ValueError, "any: axis 2 is out of range"),
    (lambda: nn.init.constant_(_W, None), ValueError, "constant_: value must be a finite"),
    (lambda: nn.init.normal_(_W, 0, -1), ValueError, "std must be a finite number >= 0"),
    (lambda: nn.init.uniform_(_W, 1, -1), ValueError, "a <= b"),
    (lambda: nn.init.normal_(nv.tensor([1, 2])), TypeError, "needs a float tensor"),
    (lambda: nn.init.xavier_uniform_(np.zeros((2, 2))), TypeError, "draws into a nerve tensor"),
    (lambda: nn.init.kaiming_normal_(nv.tensor(np.zeros((0, 5)))), ValueError, "empty weight"),
    (lambda: _PLATEAU.step(None), TypeError, r"step\(metric\) takes one number"),
    (lambda: _PLATEAU.step(np.array([0.5, 0.2])), TypeError, "takes one number"),
    (lambda: nn.NLLLoss(weight=1), ValueError, "NLLLoss: weight must be a 1-D array of one number per class"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=2.0), ValueError, "label_smoothing must be a number in"),
    (lambda: nv.inference_mode(1), TypeError, "expects True or False"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_pytorch_style_calls_with_bad_values_get_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_no_grad_decorates_with_or_without_parentheses_and_inference_mode_takes_a_flag():
    x = nv.tensor([1.0], requires_grad=True)

    @nv.no_grad
    def bare():
        return x * 2

    @nv.no_grad()
    def called():
        return x * 2

    assert not bare().requires_grad and not called().requires_grad
    with nv.inference_mode(False):
        assert (x * 2).requires_grad
    assert optim.ReduceLROnPlateau(_PLATEAU.optimizer, monitor="val_accuracy").mode == "max"


def test_init_takes_pytorchs_gain_mode_and_slope_arguments():
    import math
    nv.manual_seed(1)
    w = nn.Linear(400, 300).weight  # nerve's layout: fan_in 400, fan_out 300
    cases = [
        (lambda: nn.init.kaiming_uniform_(w, a=math.sqrt(5)), 1 / math.sqrt(3 * 400)),
        (lambda: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
         math.sqrt(2 / 300)),
        (lambda: nn.init.xavier_uniform_(w, gain=2.0), 2 * math.sqrt(2 / 700)),
        (lambda: nn.init.xavier_normal_(w, gain=nn.init.calculate_gain("tanh")),
         5 / 3 * math.sqrt(2 / 700)),
    ]
    for draw, std in cases:
        draw()
        assert abs(w.data.std() / std - 1) < 0.02
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert nn.Linear(3, 2, init="kaiming_uniform").init == "he_uniform"
    big = nn.Linear(600, 200, init="he_uniform").weight.data
    assert abs(big.std() / math.sqrt(2 / 600) - 1) < 0.02
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        nn.init.kaiming_normal_(w, mode="fan_avg")
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        nn.init.kaiming_normal_(w, nonlinearity="gelu")


def test_init_functions_are_in_place_changes_like_the_others():
    model = nn.Linear(3, 2)
    loss = model(nv.tensor(np.ones((1, 3)))).sum()
    nn.init.zeros_(model.weight)  # the graph saw the old weights
    with pytest.raises(RuntimeError, match="was changed in place after the op recorded it"):
        loss.backward()
    frozen = nv.tensor(np.zeros((2, 3)), requires_grad=True)
    frozen.data.flags.writeable = False
    with pytest.raises(ValueError, match=r"\(normal_\): its data is a read-only array"):
        nn.init.normal_(frozen)
