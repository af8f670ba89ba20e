"""`nerve train` usage errors: a --val-split that leaves some class out of a part names
--val-split (not train_test_split's stratify wording); --config without a TOML reader
names the extra."""
import sys

import pytest

from nerve.cli import main


@pytest.mark.parametrize("split, words", [
    ("0.001", "--val-split 0.001 holds out 2 examples of 'digits' for validation, fewer "
              "than its 10 classes"),
    ("0.999", "--val-split 0.999 leaves 1 examples of 'digits' to train on, fewer than "
              "its 10 classes"),
])
def test_a_val_split_too_small_for_every_class_names_the_flag(tmp_path, monkeypatch, capsys,
                                                              split, words):
    monkeypatch.chdir(tmp_path)
    code = main(["train", "--dataset", "digits", "--val-split", split, "--epochs", "1",
                 "--quiet", "--no-plots", "--out", "r"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and words in err
    assert "stratify" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r" / "model.npz").exists()


def test_config_without_a_toml_reader_names_the_extra(tmp_path, monkeypatch, capsys):
    """Python 3.10 without tomli (a --no-deps install, a source checkout): a one-line
    usage error naming nerve[toml], not a traceback."""
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.toml").write_text('dataset = "xor"\nepochs = 1\n')
    code = main(["train", "--config", "c.toml", "--quiet", "--no-plots", "--out", "r"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "pip install 'nerve[toml]'" in err and len(err.splitlines()) == 1
