"""Audit 11, findings 2 and 3: a DataLoader over nerve Tensors yields nerve Tensors (as
PyTorch's yields torch tensors), and Tensor has PyTorch's eq/ne/lt/le/gt/ge, view_as,
sort, argsort and topk, so the pytorch/examples MNIST loop runs as written."""
import numpy as np
import pytest

import nerve as nv
from nerve import nn
from nerve.data import DataLoader, TensorDataset, random_split

RNG = np.random.default_rng(11)
X = RNG.standard_normal((10, 4)).astype(np.float32)
Y = np.arange(10) % 3


def _rows_seen(loader):
    xs, ys = zip(*loader)
    return np.concatenate([x.data for x in xs]), np.concatenate([y.data for y in ys])


# ------------------------------------------------------- finding 2: DataLoader
@pytest.mark.parametrize("shuffle", [False, True])
def test_loader_over_a_tensor_dataset_yields_constant_tensors(shuffle):
    ds = TensorDataset(nv.tensor(X, requires_grad=True), nv.tensor(Y))
    loader = DataLoader(ds, batch_size=4, shuffle=shuffle, seed=0)
    batches = list(loader)
    assert [b[0].size(0) for b in batches] == [4, 4, 2]
    for xb, yb in batches:
        assert isinstance(xb, nv.Tensor) and isinstance(yb, nv.Tensor)
        assert xb.dtype == np.float32 and yb.dtype == np.int64  # labels stay integer
        assert not xb.requires_grad and xb.grad_fn is None
    xs, ys = _rows_seen(loader)
    order = np.lexsort((ys, xs[:, 0]))
    ref = np.lexsort((Y, X[:, 0]))
    np.testing.assert_array_equal(xs[order], X[ref])  # every row once, rows paired
    np.testing.assert_array_equal(ys[order], Y[ref])


def test_loader_over_tensors_given_separately_or_mixed():
    xb, yb = next(iter(DataLoader(nv.tensor(X), nv.tensor(Y), batch_size=3, shuffle=False)))
    assert isinstance(xb, nv.Tensor) and isinstance(yb, nv.Tensor)
    np.testing.assert_array_equal(yb.data, Y[:3])
    alone = next(iter(DataLoader(nv.tensor(X), batch_size=5)))
    assert isinstance(alone, nv.Tensor) and alone.shape == (5, 4)
    # each part keeps the type it came in; arrays stay arrays (what nv.fit batches)
    xb, yb = next(iter(DataLoader(nv.tensor(X), Y, batch_size=3)))
    assert isinstance(xb, nv.Tensor) and type(yb) is np.ndarray
    xb, yb = next(iter(DataLoader(X, Y, batch_size=3)))
    assert type(xb) is np.ndarray and type(yb) is np.ndarray


def test_loader_keeps_a_float64_tensor_float64():
    x64 = nv.tensor(X, dtype=nv.float64)
    xb = next(iter(DataLoader(x64, batch_size=4)))
    assert isinstance(xb, nv.Tensor) and xb.dtype == np.float64


@pytest.mark.parametrize("make", [nv.tensor, nv.from_numpy])
@pytest.mark.parametrize("shuffle", [False, True])
def test_tensor_batches_never_write_into_the_dataset(make, shuffle):
    source = X.copy()
    ds = TensorDataset(make(source), nv.tensor(Y))
    for xb, _ in DataLoader(ds, batch_size=4, shuffle=shuffle, seed=1):
        assert not np.may_share_memory(xb.data, source)
        xb += 100.0
        xb[0] = -1.0
        xb.numpy()[...] = 7.0
    np.testing.assert_array_equal(source, X)


def test_a_split_of_a_tensor_dataset_and_a_dataset_of_tensor_items_yield_tensors():
    ds = TensorDataset(nv.tensor(X), nv.tensor(Y))
    part, _ = random_split(ds, [6, 4], seed=0)
    xb, yb = next(iter(DataLoader(part, batch_size=6, shuffle=False)))
    assert isinstance(xb, nv.Tensor) and isinstance(yb, nv.Tensor)
    np.testing.assert_array_equal(yb.data, Y[part.indices])

    class Items:  # a map-style dataset whose items are nerve tensors, read every epoch
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return nv.tensor(X[i]), i

    loader = DataLoader(Items(), batch_size=5, shuffle=False)
    for _ in range(2):  # the second epoch re-reads the items
        xb, yb = next(iter(loader))
        assert isinstance(xb, nv.Tensor) and isinstance(yb, nv.Tensor)  # numbers too, as torch
        np.testing.assert_array_equal(xb.data, X[:5])


def test_tensor_dataset_items_are_tensors_where_tensors_were_given():
    ds = TensorDataset(nv.tensor(X), Y)
    x3, y3 = ds[3]
    assert isinstance(x3, nv.Tensor) and x3.size(0) == 4 and not x3.requires_grad
    assert not isinstance(y3, nv.Tensor) and y3 == Y[3]
    assert isinstance(ds.arrays[0], np.ndarray)  # fit(model, *ds.arrays) still gets arrays


def test_pytorch_mnist_style_loop_runs_as_written():
    Xd, yd = nv.data.load_digits()
    Xd, yd = Xd[:300] / 16, yd[:300]
    ds = TensorDataset(nv.tensor(Xd), nv.tensor(yd))
    train_loader = DataLoader(ds, batch_size=64, shuffle=True, seed=0)
    test_loader = DataLoader(ds, batch_size=100, shuffle=False)
    nv.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nv.optim.SGD(model.parameters(), lr=0.1)
    device = "cpu"
    running_loss, seen = 0.0, 0
    for inputs, labels in train_loader:
        inputs, labels = inputs.to(device).float(), labels.to(device).long()
        optimizer.zero_grad()
        loss = loss_fn(model(inputs.view(-1, 64)), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * inputs.size(0)
        seen += inputs.size(0)
    assert seen == 300 and np.isfinite(running_loss)
    correct = 0
    with nv.no_grad():
        for data, target in test_loader:
            pred = model(data).argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    scores = model(nv.tensor(Xd)).data
    assert correct == int((scores.argmax(1) == yd).sum())


# ----------------------------------------------- finding 3: comparison names
def test_comparison_methods_are_the_operators_without_gradient():
    a = nv.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = nv.tensor([3.0, 2.0, 1.0])
    for name, want in [("eq", [False, True, False]), ("ne", [True, False, True]),
                       ("lt", [True, False, False]), ("le", [True, True, False]),
                       ("gt", [False, False, True]), ("ge", [False, True, True])]:
        out = getattr(a, name)(b)
        assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None
        assert out.data.tolist() == want, name
        np.testing.assert_array_equal(getattr(a, name)(2.0).data,
                                      getattr(np, {"eq": "equal", "ne": "not_equal",
                                                   "lt": "less", "le": "less_equal",
                                                   "gt": "greater", "ge": "greater_equal"}
                                              [name])(a.data, 2.0))
    labels = nv.tensor([[0], [2], [1]])
    assert nv.tensor([0, 1, 1]).view_as(labels).eq(labels).sum().item() == 2
    with pytest.raises(ValueError, match=r"cannot compare a tensor of shape \(3,\)"):
        a.eq(nv.tensor([1.0, 2.0]))


def test_view_as_reshapes_and_passes_the_gradient_back():
    x = nv.tensor(np.arange(6.0), dtype=nv.float64, requires_grad=True)
    other = nv.zeros(2, 3)
    y = x.view_as(other)
    assert y.shape == (2, 3)
    (y * nv.tensor(np.arange(6.0).reshape(2, 3), dtype=nv.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad, np.arange(6.0))
    assert nv.gradcheck(lambda t: t.view_as(other) ** 2, x)
    with pytest.raises(ValueError, match=r"view_as: cannot view the tensor of shape \(6,\) "
                                         r"\(6 elements\) as shape \(4,\)"):
        x.view_as(nv.zeros(4))
    with pytest.raises(TypeError, match="view_as expects a tensor"):
        x.view_as((2, 3))


# ------------------------------------------------- finding 3: sort, topk
M = np.array([[3.0, 1.0, 2.0, 1.0], [0.5, 4.0, 4.0, -1.0]])


def test_sort_and_argsort_are_stable_in_both_directions():
    t = nv.tensor(M)
    values, indices = t.sort()
    np.testing.assert_array_equal(values.data, np.sort(M, axis=-1))
    np.testing.assert_array_equal(indices.data, [[1, 3, 2, 0], [3, 0, 1, 2]])  # ties: in order
    assert indices.dtype == np.int64 and not indices.requires_grad
    down = t.sort(dim=1, descending=True)
    np.testing.assert_array_equal(down.values.data, -np.sort(-M, axis=1))
    np.testing.assert_array_equal(down.indices.data, [[0, 2, 1, 3], [1, 2, 0, 3]])  # ties too
    np.testing.assert_array_equal(t.argsort(dim=0).data, np.argsort(M, axis=0, kind="stable"))
    np.testing.assert_array_equal(t.argsort(descending=True).data, down.indices.data)
    nan = nv.tensor([1.0, np.nan, -1.0])
    assert nan.argsort().data.tolist() == [2, 0, 1]  # NaN sorts as the largest
    assert nan.argsort(descending=True).data.tolist() == [1, 0, 2]
    ints = nv.tensor([3, 1, 2])
    assert ints.sort().values.dtype == np.int64 and ints.sort().values.data.tolist() == [1, 2, 3]


def test_topk_picks_the_largest_or_smallest_sorted():
    t = nv.tensor(M)
    values, indices = t.topk(2)
    np.testing.assert_array_equal(values.data, [[3.0, 2.0], [4.0, 4.0]])
    np.testing.assert_array_equal(indices.data, [[0, 2], [1, 2]])
    low = t.topk(3, dim=1, largest=False)
    np.testing.assert_array_equal(low.values.data, np.sort(M, axis=1)[:, :3])
    top0 = t.topk(1, dim=0)
    np.testing.assert_array_equal(top0.values.data, M.max(0, keepdims=True))
    assert t.topk(0).values.shape == (2, 0)
    # top-k accuracy, the usual use
    labels = nv.tensor([2, 0])
    hits = t.topk(2, dim=1).indices.eq(labels.view(-1, 1)).any(dim=1)
    assert hits.data.tolist() == [True, False]
    with pytest.raises(ValueError, match=r"topk: k must be an int in \[0, 4\]"):
        t.topk(5)
    with pytest.raises(ValueError, match=r"topk: dim must be an int in \[-2, 2\)"):
        t.topk(1, dim=2)
    with pytest.raises(TypeError, match="largest"):
        t.topk(1, largest="yes")


def test_sort_of_a_scalar_tensor():
    values, indices = nv.tensor(3.0).sort()
    assert values.item() == 3.0 and indices.shape == () and indices.item() == 0


@pytest.mark.parametrize("fn", [
    lambda x: x.sort(dim=1).values,
    lambda x: x.sort(dim=0, descending=True).values,
    lambda x: x.topk(2).values,
    lambda x: x.topk(2, dim=0, largest=False).values ** 2,
])
def test_sorted_values_are_differentiable(fn):
    x = np.random.default_rng(3).permutation(12).reshape(3, 4) * 0.5 - 1.0  # distinct
    assert nv.gradcheck(fn, nv.tensor(x, dtype=nv.float64))


def test_the_gradient_of_topk_reaches_the_picked_entries_only():
    x = nv.tensor(M, dtype=nv.float64, requires_grad=True)
    x.topk(1).values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 0, 0, 0], [0, 1, 0, 0]])  # a tie: the first


# ------------------------------------------------------ parity with PyTorch
def test_parity_with_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal((4, 6))
    t, tt = nv.tensor(x, dtype=nv.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    for dim in (0, 1, -1):
        for flag in (False, True):
            ours, theirs = t.sort(dim=dim, descending=flag), tt.sort(dim=dim, descending=flag)
            np.testing.assert_array_equal(ours.values.data, theirs.values.detach().numpy())
            np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
            np.testing.assert_array_equal(t.argsort(dim, flag).data,
                                          tt.argsort(dim, flag).numpy())
            ours, theirs = t.topk(3, dim, largest=flag), tt.topk(3, dim, largest=flag)
            np.testing.assert_array_equal(ours.values.data, theirs.values.detach().numpy())
            np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
    w = np.random.default_rng(6).standard_normal((4, 3))
    (t.topk(3).values * nv.tensor(w, dtype=nv.float64)).sum().backward()
    (tt.topk(3).values * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(t.grad, tt.grad.numpy())
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        np.testing.assert_array_equal(getattr(t, name)(0.1).data,
                                      getattr(tt, name)(0.1).numpy())
    # a TensorDataset of tensors: both libraries give tensor batches of the same rows
    tx = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(
        torch.tensor(X), torch.tensor(Y)), batch_size=4)
    ours = DataLoader(TensorDataset(nv.tensor(X), nv.tensor(Y)), batch_size=4, shuffle=False)
    for (xb, yb), (txb, tyb) in zip(ours, tx):
        assert xb.size(0) == txb.size(0) and xb.dtype == np.float32
        np.testing.assert_array_equal(xb.data, txb.numpy())
        np.testing.assert_array_equal(yb.data, tyb.numpy())
