"""The CIFAR-10 pipeline demo, end to end on small files in CIFAR-10's binary format."""
import io

import numpy as np
import pytest

from nerve.data import load_cifar10
from nerve.demos import cifar10

PER_FILE = 40  # 5 training batches of 40 images: 200 images in all

FAST = {
    "random_search_pixels": {"tries": 30, "samples": 100},
    "softmax_pixels": {"epochs": 2, "batch_size": 50},
    "svm_pixels": {"epochs": 2, "batch_size": 50},
    "softmax_features": {"epochs": 2, "batch_size": 50},
    "svm_features": {"epochs": 2, "batch_size": 50},
    "two_layer_pixels": {"hidden": 16, "epochs": 2, "batch_size": 50},
    "two_layer_features": {"hidden": 16, "epochs": 6, "batch_size": 50},
}


def _patterned_images(labels, rng):
    """Class c: a tint that depends on c, stripes at an angle that depends on c, noise."""
    n = len(labels)
    rows, cols = np.mgrid[0:32, 0:32]
    angle = labels[:, None, None] * np.pi / 10
    stripes = np.sin((rows * np.cos(angle) + cols * np.sin(angle)) * 0.8)
    tint = np.stack([np.cos(labels * 0.6), np.sin(labels * 0.6), labels / 9.0], axis=1)
    images = 128 + 60 * stripes[..., None] + 50 * tint[:, None, None, :]
    images = images + rng.normal(0, 20, size=(n, 32, 32, 3))
    return np.clip(images, 0, 255).astype(np.uint8)


def write_cifar_batches(folder, seed=0):
    """data_batch_1..5.bin with the exact record layout: label byte + R, G, B planes."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    for i in range(1, 6):
        labels = rng.integers(0, 10, size=PER_FILE).astype(np.uint8)
        images = _patterned_images(labels, rng)
        planes = images.transpose(0, 3, 1, 2).reshape(PER_FILE, 3072)  # (N, 32, 32, 3) -> planes
        records = np.concatenate([labels[:, None], planes], axis=1)
        (folder / f"data_batch_{i}.bin").write_bytes(records.tobytes())


@pytest.fixture(scope="module")
def cifar_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    write_cifar_batches(root / "cifar-10-batches-bin")
    return root


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cifar_out")


@pytest.fixture(scope="module")
def result(cifar_root, out_dir):
    """One run for most tests; it writes the templates figure when matplotlib is present."""
    return cifar10.run(cifar_root, out_dir, num_val=40, params=FAST, stream=io.StringIO())


def test_the_fixture_is_real_cifar10_format(cifar_root):
    images, labels = load_cifar10(cifar_root)
    assert images.shape == (5 * PER_FILE, 32, 32, 3) and labels.shape == (5 * PER_FILE,)
    assert (cifar_root / "cifar-10-batches-bin" / "data_batch_1.bin").stat().st_size == \
        PER_FILE * 3073


def test_table_has_every_row_with_accuracies_in_range(result):
    keys = [row[0] for row in cifar10.ROWS]
    assert [row["key"] for row in result["rows"]] == keys
    assert set(result["accuracy"]) == set(keys)
    for row in result["rows"]:
        assert 0.0 <= row["val_accuracy"] <= 1.0
        assert row["seconds"] >= 0
        assert row["reference"]
    for method, source in {(r[1], r[2]) for r in cifar10.ROWS}:
        assert method in result["table"] and source in result["table"]
    assert "~15%" in result["table"] and "~50%" in result["table"]


def test_split_sizes(result):
    assert result["n_val"] == 40
    assert result["n_train"] == 5 * PER_FILE - 40


def test_learned_classifiers_beat_chance_on_patterned_images(result):
    acc = result["accuracy"]
    # the classes differ in tint and stripe angle: features and nets pick that up
    assert acc["softmax_features"] > 0.3
    assert acc["svm_features"] > 0.3
    assert acc["two_layer_features"] > 0.3


def test_max_train_limits_the_training_set(cifar_root):
    small = cifar10.run(cifar_root, num_val=20, max_train=50, params=FAST,
                        stream=io.StringIO())
    assert small["n_train"] == 50 and small["n_val"] == 20


def test_templates_figure(result, out_dir):
    pytest.importorskip("matplotlib")
    assert result["figure"] == str(out_dir / "cifar10_templates.png")
    assert (out_dir / "cifar10_templates.png").stat().st_size > 1000


def test_missing_dataset_says_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-bin"):
        cifar10.run(tmp_path, stream=io.StringIO())


@pytest.mark.parametrize("kwargs, words", [
    ({"params": {"mlp": {}}}, "unknown row"),
    ({"params": {"svm_pixels": {"learning_rate": 1}}}, "keys among"),
    ({"max_train": 1}, "max_train"),
    ({"num_val": 0}, "num_val"),
])
def test_bad_arguments(cifar_root, kwargs, words):
    with pytest.raises(ValueError, match=words):
        cifar10.run(cifar_root, stream=io.StringIO(), **kwargs)


def test_without_root_says_how_to_pass_it():
    with pytest.raises(ValueError, match="--data-root DIR"):
        cifar10.run(stream=io.StringIO())
