"""Audit 11 (features): fixes in nerve.features, nerve.perceptron, nerve.linear and the
dataset downloads. No test touches the network: downloads go to local sockets."""
import socket
import threading
import time
import urllib.request
import warnings

import numpy as np
import pytest

from nerve import features as F
from nerve.data import load_cifar10
from nerve.data._download import download
from nerve.linear import SoftmaxClassifier, SVMClassifier
from nerve.perceptron import Gate, expand_features, kernel_perceptron


# --------------------------------------------------------------------------- 1. color_histogram
def test_color_histogram_row_does_not_depend_on_the_rest_of_the_batch():
    edge = np.tile(np.array([171, 181, 196]) / 255.0, (1, 2, 2, 1))  # u/255, hue exactly 0.6
    other = np.full((1, 2, 2, 3), [0.5001, 0.2, 0.1])  # not 8-bit levels
    alone = F.color_histogram(edge, 10)
    together = F.color_histogram(np.concatenate([edge, other]), 10)
    np.testing.assert_array_equal(together[:1], alone)
    # the edge hue goes to the bin above, as for the same colour stored as uint8
    np.testing.assert_array_equal(alone, F.color_histogram(np.uint8([[[[171, 181, 196]]]]), 10))


def test_color_histogram_batch_equals_image_by_image_for_mixed_batches():
    rng = np.random.default_rng(0)
    levels = rng.integers(0, 256, (6, 20, 20, 3))
    batch = np.concatenate([levels / 255.0, rng.random((3, 20, 20, 3)),
                            levels[:2].astype(np.float64)])  # u/255, random floats, u
    batch = batch[rng.permutation(len(batch))]
    together = F.color_histogram(batch, 12, dtype=np.float64)
    one_by_one = np.concatenate([F.color_histogram(img[None], 12, dtype=np.float64)
                                 for img in batch])
    np.testing.assert_array_equal(together, one_by_one)
    # 8-bit levels stored as floats bin exactly as the uint8 image does, batched or not
    exact = F.color_histogram(levels.astype(np.uint8), 12, dtype=np.float64)
    mixed = F.color_histogram(np.concatenate([levels / 255.0, rng.random((1, 20, 20, 3))]), 12,
                              dtype=np.float64)
    np.testing.assert_array_equal(mixed[:len(levels)], exact)


# --------------------------------------------------------------------------- 2. one-input gate
def test_one_input_gate_takes_a_number_or_a_vector():
    NOT = Gate("NOT", [-1.0], 0.5)
    assert NOT(0) == 1 and NOT(1) == 0 and type(NOT(0)) is int
    np.testing.assert_array_equal(NOT([0, 1]), [1, 0])
    np.testing.assert_array_equal(NOT(np.array([1.0])), [0])
    np.testing.assert_array_equal(NOT([[0], [1]]), [1, 0])  # the (N, 1) form still works
    with pytest.raises(ValueError, match=r"^NOT\.predict: X must have shape \(N, 1\)"):
        NOT([[0, 1]])


# --------------------------------------------------------------------------- 3. extract dtype
def test_extract_float64_holds_the_float64_features():
    X = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    got = F.extract(X, ["hog", ("color_histogram", {"bins": 7})], dtype=np.float64)
    want = np.hstack([F.hog(X, dtype=np.float64), F.color_histogram(X, 7, dtype=np.float64)])
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)
    # a dtype the caller gives a feature wins; callables get no dtype argument
    got = F.extract(X, [("hog", {"dtype": np.float32}), lambda im: im.reshape(len(im), -1)[:, :2]],
                    dtype=np.float64)
    np.testing.assert_array_equal(got[:, :-2], F.hog(X).astype(np.float64))


# --------------------------------------------------------------------------- 4. one HWC image
def test_hog_on_one_unbatched_rgb_image_says_add_a_batch_axis():
    img = np.random.default_rng(0).random((32, 32, 3))
    with pytest.raises(ValueError, match=r"images\[None\]"):
        F.hog(img)
    with pytest.warns(UserWarning, match=r"read as 32 grayscale images.*images\[None\]"):
        F.hog(img, pixels_per_cell=(1, 1), cells_per_block=(1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.hog(img[None])
        F.hog(np.zeros((2, 32, 32)))
        F.hog(np.zeros((2, 32, 32, 1)))


# --------------------------------------------------------------------------- 5. downloads
@pytest.fixture
def no_proxy(monkeypatch):
    """Go straight to the local test servers, whatever proxy the environment names."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(urllib.request, "_opener", None)  # rebuilt without the proxies


def test_download_from_a_server_that_never_answers_gives_up_quickly(tmp_path, no_proxy, capfd):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections are queued but never answered
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/file.gz"
    try:
        start = time.monotonic()
        with pytest.raises(OSError, match=r"timed out.*save it as"):
            download([url, url], tmp_path / "file.gz", "0" * 32, timeout=0.3)
        assert time.monotonic() - start < 3
    finally:
        silent.close()
    assert capfd.readouterr().err.count(f"downloading file.gz from {url}") == 2
    assert list(tmp_path.iterdir()) == []


def test_download_deadline_stops_a_trickling_transfer(tmp_path, no_proxy):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def trickle():
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 1000000\r\n\r\n")
        while not stop.wait(0.05):  # a byte now and then: no single read times out
            try:
                conn.sendall(b"x")
            except OSError:
                break
        conn.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/big.bin"
    try:
        start = time.monotonic()
        with pytest.raises(OSError, match=r"deadline of 0\.5 s"):
            download(url, tmp_path / "big.bin", "0" * 32, timeout=2.0, deadline=0.5)
        assert time.monotonic() - start < 3
    finally:
        stop.set()
        server.close()
        thread.join(5)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"deadline": -1.0}, {"timeout": "5"}])
def test_download_refuses_bad_time_limits(tmp_path, kwargs):
    with pytest.raises(ValueError, match="positive number of seconds"):
        download("file:///nonexistent", tmp_path / "x", "0" * 32, **kwargs)


# --------------------------------------------------------------------------- 6. CIFAR python
@pytest.mark.parametrize("inside", [False, True])
def test_cifar10_python_version_is_named_in_the_error(tmp_path, inside):
    py = tmp_path / "cifar-10-batches-py"
    py.mkdir()
    (py / "test_batch").write_bytes(b"pickled")
    with pytest.raises(FileNotFoundError) as info:
        load_cifar10(py if inside else tmp_path, train=False)
    message = str(info.value)
    assert "Python version" in message and "binary version" in message
    assert "cifar-10-batches-py/cifar-10-batches-bin" not in message
    assert str(tmp_path / "cifar-10-batches-bin") in message
    assert ("pass root=" in message) == inside


# --------------------------------------------------------------------------- 7. clear errors
def test_perceptron_helpers_name_themselves_on_bad_input():
    with pytest.raises(TypeError, match=r"^expand_features: X must be an array of numbers"):
        expand_features([["a", "b"]])
    with pytest.raises(TypeError, match=r"^kernel_perceptron: X must be an array of numbers"):
        kernel_perceptron([[1, 2], [3]], [0, 1])
    with pytest.raises(ValueError, match=r"^expand_features: X must have shape \(N, D\)"):
        expand_features([1, 2])


def test_hog_output_size_validates_and_agrees_with_hog():
    for shape in (32, (32, 32), (32, 32, 3), (40, 24)):
        size = F.hog_output_size(shape)
        image = np.zeros((1,) + ((shape, shape) if isinstance(shape, int) else tuple(shape)))
        assert size == F.hog(image).shape[1]
    with pytest.raises(ValueError, match="too small"):
        F.hog_output_size((8, 8))
    for bad in ("32x32", (0, 5), (32, 32, 32), 5.0):
        with pytest.raises(ValueError, match="image_shape must be"):
            F.hog_output_size(bad)


# --------------------------------------------------------------------------- 8. hog arguments
def test_hog_flag_must_be_a_bool_and_numpy_pairs_are_pairs():
    x = np.random.default_rng(0).random((2, 16, 16))
    with pytest.raises(TypeError, match="transform_sqrt must be True or False"):
        F.hog(x, transform_sqrt="no")
    np.testing.assert_array_equal(F.hog(x, transform_sqrt=np.bool_(True)),
                                  F.hog(x, transform_sqrt=True))
    np.testing.assert_array_equal(F.hog(x, pixels_per_cell=np.array([8, 8]),
                                        cells_per_block=np.array([1, 2])),
                                  F.hog(x, pixels_per_cell=(8, 8), cells_per_block=(1, 2)))


# --------------------------------------------------------------------------- 10. linear
@pytest.mark.parametrize("cls", [SoftmaxClassifier, SVMClassifier])
def test_linear_classifiers_get_and_set_params(cls):
    clf = cls(lr=0.05, reg=0.0, epochs=3, seed=1, dtype=np.float64)
    params = clf.get_params()
    expected = ["lr", "reg", "epochs", "batch_size", "momentum", "weight_scale", "seed", "dtype"]
    assert list(params) == expected + (["margin"] if cls is SVMClassifier else [])
    assert params["lr"] == 0.05 and params["seed"] == 1 and params["dtype"] == np.float64
    assert cls(**params).get_params() == params
    assert clf.set_params(lr=0.2, epochs=4) is clf and (clf.lr, clf.epochs) == (0.2, 4)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        clf.set_params(lr=-1.0)
    assert clf.lr == 0.2  # a refused change changes nothing
    with pytest.raises(ValueError, match="invalid parameter 'alpha'"):
        clf.set_params(alpha=1.0)


def test_linear_classifiers_work_with_sklearn_clone_and_cross_validation():
    pytest.importorskip("sklearn")
    from sklearn.base import clone, is_classifier
    from sklearn.model_selection import cross_val_score

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = SoftmaxClassifier(lr=0.5, epochs=10, seed=0).fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and not hasattr(copy, "W_")
    assert is_classifier(clf)
    assert cross_val_score(SVMClassifier(lr=0.1, seed=0), X, y, cv=3).shape == (3,)


def test_one_sample_error_suggests_a_row_not_a_column():
    X = np.random.default_rng(0).standard_normal((20, 4))
    clf = SoftmaxClassifier(seed=0).fit(X, np.arange(20) % 2)
    with pytest.raises(ValueError, match=r"got shape \(4,\); one sample\? .*X\.reshape\(1, -1\)"):
        clf.predict(X[0])
    with pytest.raises(ValueError, match=r"flatten images first"):
        clf.predict(X.reshape(20, 2, 2))
