"""MNIST/Fashion-MNIST IDX and CIFAR-10 binary readers, on small files written here."""
import gzip
import hashlib
import io
import struct
import tarfile

import numpy as np
import pytest

from nerve.data import (load_cifar10, load_fashion_mnist, load_mnist, read_cifar10_batch,
                        read_idx)
from nerve.data import cifar10 as cifar_module
from nerve.data import mnist as mnist_module
from nerve.data._download import download


def idx_bytes(array, type_code=0x08):
    """IDX encoding written by hand: 00 00 type ndim, big-endian sizes, big-endian data."""
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.asarray(array, dtype=dtype).tobytes()


def write_mnist(root, prefix="train", n=5, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
        data = idx_bytes(array)
        name = f"{prefix}-{kind}-ubyte"
        if gz:
            (root / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (root / name).write_bytes(data)
    return images, labels


def cifar_bytes(images, labels):
    """CIFAR-10 records: label byte, then the R, G and B 32x32 planes."""
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    return np.concatenate([labels.astype(np.uint8)[:, None], planes], axis=1).tobytes()


def write_cifar(folder, names, n=3, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names:
        images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n)
        (folder / name).write_bytes(cifar_bytes(images, labels))
        out.append((images, labels))
    return out


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_mnist_roundtrip(tmp_path, gz, loader):
    images, labels = write_mnist(tmp_path, "t10k", n=4, gz=gz)
    X, y = loader(tmp_path, train=False)
    assert X.dtype == np.uint8 and X.shape == (4, 28, 28)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)


def test_mnist_train_split_and_dotted_names(tmp_path):
    images, labels = write_mnist(tmp_path, "train", n=3, gz=False)
    for old in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (tmp_path / old).rename(tmp_path / old.replace("-idx", ".idx"))
    X, y = load_mnist(str(tmp_path), train=True)
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)


def test_read_idx_other_types_big_endian(tmp_path):
    values = np.array([[1.5, -2.0, 3.25], [0.0, 1e6, -7.5]])
    (tmp_path / "f.idx").write_bytes(idx_bytes(values, 0x0D))
    out = read_idx(tmp_path / "f.idx")
    assert out.dtype == np.float32 and out.dtype.isnative
    np.testing.assert_array_equal(out, values.astype(np.float32))
    shorts = np.array([-300, 2, 70], dtype=np.int16)
    (tmp_path / "s.idx").write_bytes(idx_bytes(shorts, 0x0B))
    np.testing.assert_array_equal(read_idx(tmp_path / "s.idx"), shorts)


@pytest.mark.parametrize("damage,match", [
    (lambda d: d[:-10], "truncated"),
    (lambda d: d + b"\x00", "trailing"),
    (lambda d: b"\x01" + d[1:], "not an IDX file"),
    (lambda d: d[:2], "too short"),
    (lambda d: b"PK\x03\x04" + d[4:], "not an IDX file"),
    (lambda d: d[:4] + struct.pack(">3I", 2**31, 2**31, 2**31) + d[16:], "truncated"),
])
def test_damaged_idx_names_the_file(tmp_path, damage, match):
    write_mnist(tmp_path, "train", n=2, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=match) as info:
        load_mnist(tmp_path)
    assert "train-images-idx3-ubyte" in str(info.value)


def test_truncated_gzip_names_the_file(tmp_path):
    write_mnist(tmp_path, "train", n=2, gz=True)
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz.*gzip"):
        load_mnist(tmp_path)


def test_swapped_images_and_labels_rejected(tmp_path):
    write_mnist(tmp_path, "train", n=2, gz=False)
    images = tmp_path / "train-images-idx3-ubyte"
    labels = tmp_path / "train-labels-idx1-ubyte"
    data = images.read_bytes()
    images.write_bytes(labels.read_bytes())
    labels.write_bytes(data)
    with pytest.raises(ValueError, match=r"train-images.*0x00000803.*0x00000801"):
        load_mnist(tmp_path)


def test_count_mismatch_and_bad_labels(tmp_path):
    write_mnist(tmp_path, "train", n=3, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2], np.uint8)))
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        load_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2, 12], np.uint8)))
    with pytest.raises(ValueError, match="labels must be 0..9"):
        load_mnist(tmp_path)


def test_missing_mnist_files_explain_placement(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(tmp_path / "nowhere", train=False)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "nowhere" in message and "download=True" in message


def test_loader_argument_types(tmp_path):
    with pytest.raises(TypeError, match="root"):
        load_mnist(42)
    with pytest.raises(TypeError, match="train"):
        load_cifar10(tmp_path, train="yes")


def test_cifar10_roundtrip_train_and_test(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    train = write_cifar(folder, [f"data_batch_{i}.bin" for i in range(1, 6)], n=2)
    (test,) = write_cifar(folder, ["test_batch.bin"], n=3, seed=1)
    X, y = load_cifar10(tmp_path, train=True)
    assert X.shape == (10, 32, 32, 3) and X.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(X, np.concatenate([t[0] for t in train]))
    np.testing.assert_array_equal(y, np.concatenate([t[1] for t in train]))
    X_te, y_te = load_cifar10(folder, train=False)  # the batch folder itself also works
    np.testing.assert_array_equal(X_te, test[0])
    np.testing.assert_array_equal(y_te, test[1])


def test_cifar10_channel_layout(tmp_path):
    record = np.zeros(3073, np.uint8)
    record[0] = 7
    record[1:1025] = 10     # red plane
    record[1025:2049] = 20  # green plane
    record[2049 + 32 + 1] = 99  # blue, row 1, column 1
    (tmp_path / "test_batch.bin").write_bytes(record.tobytes())
    X, y = read_cifar10_batch(tmp_path / "test_batch.bin")
    assert y.tolist() == [7]
    assert X[0, 5, 5].tolist() == [10, 20, 0]
    assert X[0, 1, 1].tolist() == [10, 20, 99]


@pytest.mark.parametrize("content,match", [
    (b"\x00" * 3072, "3073-byte records"),
    (b"", "3073-byte records"),
    (bytes([11]) + b"\x00" * 3072, "labels are 0..9"),
])
def test_cifar10_bad_files_name_the_file(tmp_path, content, match):
    (tmp_path / "test_batch.bin").write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        load_cifar10(tmp_path, train=False)
    assert "test_batch.bin" in str(info.value)


def test_cifar10_missing_files_explain_placement(tmp_path):
    write_cifar(tmp_path, ["data_batch_1.bin"])
    with pytest.raises(FileNotFoundError) as info:
        load_cifar10(tmp_path)
    message = str(info.value)
    assert "data_batch_2.bin" in message and "data_batch_1.bin" not in message
    assert "cifar-10-batches-bin" in message and "download=True" in message


# ---- downloads, over file:// URLs so that no test touches the network ----

def md5(data):
    return hashlib.md5(data).hexdigest()


def test_download_verifies_checksum_and_leaves_nothing_on_mismatch(tmp_path):
    source = tmp_path / "src.bin"
    source.write_bytes(b"payload")
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(ValueError, match="checksum mismatch"):
        download(source.as_uri(), dest, md5(b"other"))
    assert list(dest.parent.iterdir()) == []
    missing = (tmp_path / "absent.bin").as_uri()
    assert download([missing, source.as_uri()], dest, md5(b"payload")) == dest
    assert dest.read_bytes() == b"payload"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["file.bin"]
    with pytest.raises(OSError, match="absent.bin"):
        download(missing, tmp_path / "x.bin", md5(b"payload"))


def test_load_mnist_download(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    images, labels = write_mnist(mirror, "train", n=3)
    sums = {p.name: md5(p.read_bytes()) for p in mirror.iterdir()}
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", (mirror.as_uri() + "/",))
    monkeypatch.setattr(mnist_module, "MNIST_MD5", sums)
    root = tmp_path / "data"
    X, y = load_mnist(root, download=True)
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)
    assert sorted(p.name for p in root.iterdir()) == sorted(sums)
    # a mirror serving different bytes is rejected and leaves no file behind
    sums["train-images-idx3-ubyte.gz"] = md5(b"something else")
    with pytest.raises(ValueError, match="checksum"):
        load_mnist(tmp_path / "data2", download=True)
    assert not (tmp_path / "data2" / "train-images-idx3-ubyte.gz").exists()


def test_load_cifar10_download_extracts_only_batches(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(2, 32, 32, 3), dtype=np.uint8)
    labels = np.array([3, 9])
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in [("cifar-10-batches-bin/test_batch.bin", cifar_bytes(images, labels)),
                           ("../evil.txt", b"outside"),
                           ("cifar-10-batches-bin/extra.py", b"print('no')")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "mirror.tar.gz"
    archive.write_bytes(buffer.getvalue())
    monkeypatch.setattr(cifar_module, "CIFAR10_URLS", (archive.as_uri(),))
    monkeypatch.setattr(cifar_module, "CIFAR10_MD5", md5(buffer.getvalue()))
    root = tmp_path / "root"
    X, y = load_cifar10(root, train=False, download=True)
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)
    assert sorted(p.name for p in (root / "cifar-10-batches-bin").iterdir()) == ["test_batch.bin"]
    assert not (tmp_path / "evil.txt").exists()
    # an archive already present with the wrong checksum is not used
    (root / "cifar-10-batches-bin" / "test_batch.bin").unlink()
    (root / "cifar-10-binary.tar.gz").write_bytes(b"not the archive")
    with pytest.raises(ValueError, match="MD5"):
        load_cifar10(root, train=False, download=True)


def test_gzip_header_beyond_memory_refused_before_unpacking(tmp_path, monkeypatch):
    import nerve.io

    monkeypatch.setattr(nerve.io, "memory_limit", lambda: 2**20)
    # 3000 × 28 × 28 zero bytes (2.2 MiB) gzip to a few KiB: more than the 1 MiB "memory".
    data = idx_bytes(np.zeros((3000, 28, 28), np.uint8))
    path = tmp_path / "big-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(data))
    with pytest.raises(ValueError, match=r"big-idx3-ubyte.gz: header says shape \(3000, 28, 28\)"
                                         r".*more than this machine's memory"):
        read_idx(path)


def test_gzip_trailing_bomb_stops_after_the_announced_bytes(tmp_path):
    import tracemalloc

    # A valid 2-image header and body, then 64 MiB of zeros: about 64 KiB gzipped.
    data = idx_bytes(np.ones((2, 28, 28), np.uint8)) + bytes(64 * 2**20)
    path = tmp_path / "bomb-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(data, compresslevel=1))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="bomb-idx3-ubyte.gz: IDX file has trailing bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20  # unpacking it all would hold 64 MiB


def test_plain_idx_size_checked_before_reading(tmp_path):
    path = tmp_path / "short-idx1-ubyte"
    path.write_bytes(idx_bytes(np.arange(5, dtype=np.uint8))[:-2])
    with pytest.raises(ValueError, match=r"short-idx1-ubyte: IDX file truncated: header says "
                                         r"shape \(5,\) of uint8, which needs 13 bytes, but the "
                                         r"file has 11"):
        read_idx(path)
