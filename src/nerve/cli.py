"""The ``nerve`` command line: train, evaluate, predict, demo, bench.

    nerve train                       # the digits, a 2-layer net, a few seconds
    nerve train --dataset spiral --hidden 100 --epochs 300 --out runs/spiral
    nerve evaluate runs/digits/model.npz --dataset digits
    nerve predict runs/digits/model.npz images.npy --out labels.csv
    nerve demo backprop

Every user mistake is one line on stderr (``nerve: error: ...``) and exit code 2
(usage) or 1 (a failure while running); never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tokenize
import warnings
from typing import Any, Sequence

import numpy as np

from ._extras import MissingExtraError

__all__ = ["main", "CLIError"]


class CLIError(Exception):
    """A user mistake on the command line, reported as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CLIError(f"{message} (see '{self.prog} --help')")


# ----------------------------------------------------------------------------- value types
def _number(kind: type, minimum: float | None = None, below: float | None = None,
            what: str = "") -> Any:
    def convert(text: Any) -> Any:
        try:
            if isinstance(text, bool):
                raise ValueError
            value = kind(text)
            if kind is int and isinstance(text, float) and text != int(text):
                raise ValueError
        except (TypeError, ValueError, OverflowError):  # int(inf) from TOML
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}{what}, got {text!r}"
            ) from None
        if value != value or (kind is float and math.isinf(value)):
            raise argparse.ArgumentTypeError(f"expected a finite number{what}, got {text!r}")
        if (minimum is not None and value < minimum) or (below is not None and value >= below):
            # "> 0" stands for a tiny positive minimum: name it when that is the bound
            # missed (1e-320 is > 0, but below 1e-300)
            tiny = 0 < value < minimum if minimum is not None and minimum > 0 else False
            raise argparse.ArgumentTypeError(
                f"expected a number{what}, got {text!r}"
                + (f" (the smallest accepted is {minimum:g})" if tiny else ""))
        return value
    convert.__name__ = kind.__name__
    return convert


_positive_int = _number(int, 1, what=" >= 1")
_seed = _number(int, 0, what=" >= 0")
_positive_float = _number(float, 1e-300, what=" > 0")
_non_negative = _number(float, 0.0, what=" >= 0")
_fraction = _number(float, 1e-12, 1.0, what=" in (0, 1)")
_dropout = _number(float, 0.0, 1.0, what=" in [0, 1)")


def _hidden(text: Any) -> list[int]:
    """'100,100' (or a TOML list) -> [100, 100]; '' or 'none' -> [] (a linear model)."""
    if isinstance(text, (list, tuple)):
        items = list(text)
    else:
        text = str(text).strip()
        items = [] if text.lower() in ("", "none", "0") else text.split(",")
    try:
        sizes = [int(str(s).strip()) for s in items]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 100,50, got {text!r}") \
            from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got {text!r}")
    return sizes


def _folder(text: Any) -> str:
    """A folder path: a non-empty string (a TOML number is not turned into a folder name,
    and an empty --out does not fall back to the default folder)."""
    if not isinstance(text, str):
        raise argparse.ArgumentTypeError(f"expected a folder path (a string), got {text!r}")
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder path, got an empty string")
    return text


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def _choice(options: Sequence[str], what: str) -> Any:
    def convert(text: Any) -> str:
        key = str(text).strip().lower().replace("-", "_")
        if key not in options:
            raise argparse.ArgumentTypeError(f"unknown {what} {text!r}; valid: "
                                             f"{', '.join(options)}")
        return key
    convert.__name__ = what
    return convert


# ----------------------------------------------------------------------------- train options
_DATASETS = ("spiral", "xor", "moons", "circles", "blobs", "digits", "mnist1d", "mnist",
             "fashion_mnist", "cifar10")
#: The datasets read from files in --data-root; the others ship with nerve or are generated.
_FILE_DATASETS = ("mnist", "fashion_mnist", "cifar10")
_LOSSES = ("cross_entropy", "hinge", "mse")
_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad")


def _activations() -> tuple[str, ...]:
    from .nn import ACTIVATIONS
    return tuple(name for name in ACTIVATIONS if name not in ("softmax", "maxout"))


def _activation(text: Any) -> str:
    """--activation as the other choice flags: any case, ``-`` for ``_``, all names listed."""
    return _choice(_activations(), "activation")(text)


#: option -> (converter, global default). None as default = chosen per dataset/optimizer.
_TRAIN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "dataset": (_choice(_DATASETS, "dataset"), "digits"),
    "data_root": (_folder, None),
    "download": (_flag, False),
    "hidden": (_hidden, [100]),
    "activation": (_activation, "relu"),
    "loss": (_choice(_LOSSES, "loss"), "cross_entropy"),
    "optimizer": (_choice(_OPTIMIZERS, "optimizer"), "adam"),
    "lr": (_positive_float, None),
    "epochs": (_positive_int, None),
    "batch_size": (_positive_int, None),
    "l2": (_non_negative, 0.0),
    "l1": (_non_negative, 0.0),
    "weight_decay": (_non_negative, 0.0),
    "dropout": (_dropout, 0.0),
    "batchnorm": (_flag, False),
    "seed": (_seed, 0),
    "val_split": (_fraction, 0.2),
    "out": (_folder, None),
}

#: dataset -> (epochs, batch size, Adam learning rate): a few seconds on a laptop.
_DATASET_DEFAULTS = {
    "spiral": (300, 32, 0.01), "xor": (100, 32, 0.01), "moons": (100, 32, 0.01),
    "circles": (100, 32, 0.01), "blobs": (50, 32, 0.01), "digits": (20, 32, 0.001),
    "mnist1d": (30, 64, 0.001), "mnist": (5, 64, 0.001), "fashion_mnist": (5, 64, 0.001),
    "cifar10": (5, 64, 0.0001),
}
#: learning rate of each optimizer relative to Adam's.
_LR_FACTOR = {"adam": 1.0, "adamw": 1.0, "rmsprop": 1.0, "adagrad": 10.0, "momentum": 10.0,
              "nesterov": 10.0, "sgd": 100.0}


_MODEL_FILE = "model.npz"  # what 'nerve train' writes into its --out folder


def _load_config(path: str) -> dict[str, Any]:
    if os.path.isdir(path):
        raise CLIError(f"config file {path!r} is a folder; expected a TOML file")
    if not os.path.isfile(path):
        if os.path.exists(path):  # a FIFO or device: reading it could block forever
            raise CLIError(f"config file {path!r} is not a regular file; expected a TOML file")
        raise CLIError(f"config file {path!r} does not exist")
    try:
        import tomllib
    except ImportError:  # Python 3.10: the same parser, as the tomli package
        try:
            import tomli as tomllib
        except ImportError:
            raise CLIError("--config needs a TOML reader: Python 3.11+ has one (tomllib); on "
                           "Python 3.10 install it with: pip install 'nerve[toml]' (or pass "
                           "the options as flags)") from None
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CLIError(f"config file {path!r} is not valid TOML: {exc}") from None
    except RecursionError:
        raise CLIError(f"config file {path!r} is not a usable TOML file: its values are "
                       "nested too deeply") from None
    raw = raw.get("train", raw)
    if not isinstance(raw, dict):
        raise CLIError(f"config file {path!r}: [train] must be a table of options, got "
                       f"{type(raw).__name__}")
    config = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in _TRAIN_OPTIONS:
            raise CLIError(f"unknown option {key!r} in {path}; valid options: "
                           f"{', '.join(k.replace('_', '-') for k in _TRAIN_OPTIONS)}")
        try:
            config[name] = _TRAIN_OPTIONS[name][0](value)
        except argparse.ArgumentTypeError as exc:
            raise CLIError(f"option {key!r} in {path}: {exc}") from None
    return config


def _resolve_train_options(args: argparse.Namespace) -> dict[str, Any]:
    """Flags override the config file, which overrides the defaults."""
    config = _load_config(args.config) if args.config else {}
    opts = {}
    for name, (_, default) in _TRAIN_OPTIONS.items():
        flag = getattr(args, name)
        opts[name] = flag if flag is not None else config.get(name, default)
    if opts["dataset"] not in _FILE_DATASETS:
        given = [f"--{n.replace('_', '-')}" for n in ("data_root", "download")
                 if getattr(args, n) is not None]
        if given:
            raise CLIError(f"dataset {opts['dataset']!r} reads no files (it ships with nerve "
                           f"or is generated): it takes no {' or '.join(given)}; those are "
                           f"for {', '.join(_FILE_DATASETS)}")
        # a config shared with file-based runs may set them: not used, so not recorded
        # (a run.json naming a folder the run never read would send `nerve evaluate` to it)
        unused = [n for n in ("data_root", "download") if config.get(n)]
        if unused:
            print(f"note: {' and '.join(unused)} in {args.config} not used: dataset "
                  f"{opts['dataset']!r} reads no files", file=sys.stderr)
        opts["data_root"], opts["download"] = None, False
    epochs, batch, adam_lr = _DATASET_DEFAULTS[opts["dataset"]]
    opts["epochs"] = opts["epochs"] or epochs
    opts["batch_size"] = opts["batch_size"] or batch
    opts["lr"] = opts["lr"] or adam_lr * _LR_FACTOR[opts["optimizer"]]
    try:
        opts["activation"] = _activation(opts["activation"])
    except argparse.ArgumentTypeError as exc:
        raise CLIError(str(exc)) from None
    if opts["out"] is None:
        opts["out"] = os.path.join("runs", opts["dataset"])
    return opts


# ----------------------------------------------------------------------------- nerve train
def _cmd_train(args: argparse.Namespace) -> int:
    import nerve as nv
    from .optim import get_optimizer
    from .train import evaluate, fit
    from .train.build import build_mlp, fold_standardization, l1_penalty, l2_penalty
    opts = _resolve_train_options(args)
    _check_out_folder(opts["out"])  # before any data is loaded or trained
    say = _printer(args.quiet)
    nv.manual_seed(opts["seed"])
    data = _load_train_data(opts)
    _check_network_fits(data.num_features, opts["hidden"], data.num_classes,
                        opts["batchnorm"], opts["optimizer"])
    model = build_mlp(data.num_features, opts["hidden"], data.num_classes, opts["activation"],
                      opts["dropout"], opts["batchnorm"])
    sizes = "-".join(map(str, [data.num_features, *opts["hidden"], data.num_classes]))
    say(f"dataset {data.name}: {len(data.X_train)} training / {len(data.X_val)} validation "
        f"samples" + (f" / {len(data.X_test)} test" if data.X_test is not None else "")
        + f", {data.num_features} features, {data.num_classes} classes")
    say(f"model: {len(opts['hidden']) + 1}-layer network {sizes} ({opts['activation']}), "
        f"{model.num_parameters():,} parameters; {opts['optimizer']} lr={opts['lr']:g}, "
        f"{opts['epochs']} epochs of batch {opts['batch_size']}")
    kwargs = {"weight_decay": opts["weight_decay"]} if opts["weight_decay"] else {}
    optimizer = get_optimizer(opts["optimizer"], model.parameters(), lr=opts["lr"], **kwargs)
    penalties = [make(model, opts[key]) for key, make in (("l2", l2_penalty),
                                                           ("l1", l1_penalty)) if opts[key]]
    def regularizer() -> Any:
        total = penalties[0]()
        for p in penalties[1:]:
            total = total + p()
        return total
    try:
        os.makedirs(opts["out"], exist_ok=True)
    except OSError as exc:
        raise CLIError(f"--out {opts['out']!r}: cannot create the folder: "
                       f"{exc.strerror or exc}") from None
    history = fit(model, data.X_train, data.y_train, loss=opts["loss"], optimizer=optimizer,
                  epochs=opts["epochs"], batch_size=opts["batch_size"],
                  validation_data=(data.X_val, data.y_val), progress=not args.quiet,
                  seed=opts["seed"], regularizer=regularizer if penalties else None)
    metrics = {"train_accuracy": evaluate(model, data.X_train, data.y_train)["accuracy"],
               "val_accuracy": evaluate(model, data.X_val, data.y_val)["accuracy"]}
    if data.X_test is not None:
        metrics["test_accuracy"] = evaluate(model, data.X_test, data.y_test)["accuracy"]
    out = opts["out"]
    # The results first: a failing figure (a full disk, a matplotlib error) must not
    # cost the trained network. The saved model takes raw inputs (the standardization
    # folded into its first layer); the figures use the model as trained, on
    # standardized data, so its weights are put back after the save.
    trained = model.state_dict()
    fold_standardization(model, data.mean, data.std)
    nv_io = __import__("nerve.io", fromlist=["save"])
    nv_io.save(model, os.path.join(out, _MODEL_FILE))
    model.load_state_dict(trained)
    history.save(os.path.join(out, "history.json"))
    options = dict(opts)
    if options.get("data_root") is not None:  # so `nerve evaluate RUN` works from anywhere
        options["data_root"] = os.path.abspath(os.path.expanduser(options["data_root"]))
    run = {"options": options, "metrics": metrics,
           "epochs_run": len(history), "inputs": "raw (the standardization is folded into "
           "the first layer)"}
    from .atomic import atomic_write_bytes
    atomic_write_bytes(os.path.join(out, "run.json"), json.dumps(run, indent=2).encode())
    written = [_MODEL_FILE, "history.json", "run.json"]
    if not args.no_plots:
        _train_plots(model, data, history, out, written)
    line = " - ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in metrics.items())
    print(f"final: {line}")
    print(f"wrote {', '.join(written)} to {out}")
    stale = [name for name in _PLOT_FILES
             if name not in written and os.path.exists(os.path.join(out, name))]
    if stale:  # never deleted: the folder may hold a user's own file of that name
        print(f"note: {out} still holds {', '.join(stale)} from an earlier run (not this "
              "one's); use a fresh --out to keep runs apart", file=sys.stderr)
    return 0


def _load_train_data(opts: dict[str, Any]) -> Any:
    """The dataset, split by --val-split; a split leaving an empty part is a usage error
    that names --val-split (not train_test_split's test_size)."""
    import re

    from .train.build import load_dataset
    try:
        return load_dataset(opts["dataset"], opts["data_root"], opts["val_split"],
                            opts["seed"], download=opts["download"])
    except ValueError as exc:
        strata = re.match(r"stratify: the (test|train) part gets (\d+) examples, fewer than "
                          r"the (\d+) classes", str(exc))
        if strata is not None:
            part, held, classes = strata.groups()
            what = "holds out" if part == "test" else "leaves"
            where = "for validation" if part == "test" else "to train on"
            raise CLIError(f"--val-split {opts['val_split']:g} {what} {held} examples of "
                           f"{opts['dataset']!r} {where}, fewer than its {classes} classes, "
                           f"so some class would be missing there; "
                           f"{'raise' if part == 'test' else 'lower'} --val-split") from None
        found = re.match(r"test_size=\S+ gives (\d+) examples out of (\d+);", str(exc))
        if found is None:
            raise
        held, n = map(int, found.groups())
        most = math.floor((n - 1) / n * 1e4) / 1e4
        raise CLIError(f"--val-split {opts['val_split']:g} holds out {held} of the {n} "
                       f"examples of {opts['dataset']!r} for validation, leaving {n - held} "
                       f"to train on; both parts need at least one example: use a "
                       f"--val-split of at most {most:g}") from None


#: The figures ``nerve train`` may write into its output folder.
_PLOT_FILES = ("curves.png", "confusion.png", "decision_boundary.png", "weights.png")


def _check_out_folder(out: str, replaces: Sequence[str] = (_MODEL_FILE, "history.json",
                                                          "run.json"),
                      nothing: str = "nothing was trained") -> None:
    """--out must be a writable folder or creatable as one (no file in the way, itself or
    above, and the nearest existing folder writable): checked before any data is loaded
    or trained, so that a run's results can always be saved. ``replaces``: the files the
    command writes there, each of which must be a writable regular file if it exists."""
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise CLIError(f"--out {out!r} is a file; expected a folder")
        _check_writable(out, out, nothing)
        for name in replaces:  # what the run replaces
            target = os.path.join(out, name)
            if os.path.exists(target) and not (os.path.isfile(target)
                                               and os.access(target, os.W_OK)):
                what = "is not a regular file" if not os.path.isfile(target) \
                    else "is read-only"
                raise CLIError(f"--out {out!r}: {target!r} {what}, so the run could not be "
                               f"saved; use another --out ({nothing})")
        return
    path = os.path.dirname(os.path.normpath(out))
    while path and not os.path.exists(path):  # "" is the working folder, "/" the root
        path = os.path.dirname(path)
    if path and not os.path.isdir(path):
        raise CLIError(f"--out {out!r}: {path!r} is a file; expected a folder")
    _check_writable(out, path or os.curdir, nothing)


def _check_writable(out: str, folder: str, nothing: str = "nothing was trained") -> None:
    """Create and delete a temporary file in ``folder``: the one reliable test that the
    run's files can be written there (permissions, read-only file systems, root)."""
    import tempfile
    try:
        fd, probe = tempfile.mkstemp(prefix=".nerve-write-test.", dir=folder)
    except OSError as exc:
        where = "it" if os.path.abspath(folder) == os.path.abspath(out) \
            else f"the folder {folder!r} that would hold it"
        raise CLIError(f"--out {out!r}: cannot write in {where} ({exc.strerror or exc}); "
                       f"the output folder must be writable ({nothing})") from None
    os.close(fd)
    try:
        os.remove(probe)
    except OSError:
        pass


#: optimizer -> state arrays it keeps per parameter (momentum, Adam's two moments, ...).
_OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "nesterov": 1, "adam": 2, "adamw": 2,
                    "rmsprop": 1, "adagrad": 1}


def _size(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.1f} MiB"


def _check_network_fits(n_in: int, hidden: list[int], n_out: int, batchnorm: bool,
                        optimizer: str) -> None:
    """Refuse, before allocating anything, a network whose training state (weights,
    gradients, optimizer state) is larger than this machine's memory."""
    from .io import memory_limit
    from .tensor import get_default_dtype
    itemsize = get_default_dtype().itemsize
    sizes = [n_in, *hidden, n_out]
    layers = list(zip(sizes[:-1], sizes[1:]))
    params = sum(a * b + b for a, b in layers) + (4 * sum(hidden) if batchnorm else 0)
    weights = params * itemsize
    training = weights * (2 + _OPTIMIZER_SLOTS.get(optimizer, 2))
    limit = memory_limit()
    if limit is None or training <= limit:
        return
    a, b = max(layers, key=lambda ab: ab[0] * ab[1])
    raise CLIError(
        f"the network needs {_size(weights)} for its weights ({params:,} parameters; the "
        f"layer {a}x{b} alone {_size(a * b * itemsize)}) and about {_size(training)} to "
        f"train them with {optimizer} (weights, gradients and optimizer state), more than "
        f"this machine's memory ({_size(limit)}); use smaller --hidden")


def _train_plots(model: Any, data: Any, history: Any, out: str, names: list[str]) -> None:
    """Draw the run's figures, appending each one written to ``names``; a missing
    matplotlib is a note, any other failure a warning (the results are saved already)."""
    try:
        from . import plot
        from .train import predict
        plot.plot_history(history, path=os.path.join(out, "curves.png"))
        names.append("curves.png")
        X_eval, y_eval = (data.X_test, data.y_test) if data.X_test is not None \
            else (data.X_val, data.y_val)
        predicted = predict(model, X_eval).argmax(axis=1)
        plot.plot_confusion_matrix(y_eval, predicted, path=os.path.join(out, "confusion.png"))
        names.append("confusion.png")
        if data.is_2d:
            plot.plot_decision_boundary(model, data.X_train, data.y_train,
                                        path=os.path.join(out, "decision_boundary.png"),
                                        title=f"{data.name} (standardized inputs)")
            names.append("decision_boundary.png")
        if data.image_shape is not None:
            plot.plot_weights(model, data.image_shape, path=os.path.join(out, "weights.png"))
            names.append("weights.png")
    except MissingExtraError as exc:  # a note, like the others: stdout keeps the results
        print(f"plots skipped: {exc}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - a figure is never worth the run
        print(f"warning: could not write the plots ({_one_line(exc)}); the model "
              f"({_MODEL_FILE}), history.json and run.json were saved to {out}",
              file=sys.stderr)


def _printer(quiet: bool) -> Any:
    def say(text: str) -> None:
        if not quiet:
            print(text)
    return say


# ----------------------------------------------------------------------------- evaluate/predict
def _model_path(path: str) -> str:
    """The model file: ``path`` itself, or the model.npz inside a run folder."""
    if os.path.isdir(path):
        inside = os.path.join(path, _MODEL_FILE)
        if os.path.isfile(inside):
            return inside
        raise FileNotFoundError(f"{path!r} is a folder without a {_MODEL_FILE}; pass a model "
                                f"file, or the folder 'nerve train --out' wrote")
    _check_file(path, "model")
    return path


def _check_file(path: str, what: str) -> None:
    """``path`` must be an existing regular file (a FIFO or device would block or mislead)."""
    from .atomic import check_readable_file
    check_readable_file(path, f"{what} file {path!r} does not exist", f"a {what} file",
                        folder=f"{what} file {path!r} is a folder; expected a file")


def _load_model(path: str) -> Any:
    from .io import load
    return load(path)


def _load_array(path: str, what: str, ndmin: int = 2) -> np.ndarray:
    _check_file(path, what)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        _check_npy_size(path, what)
        try:
            array = np.load(path, allow_pickle=False)
        except _BAD_NPY as exc:
            raise ValueError(f"{what} file {path!r} is not a valid .npy file: "
                             f"{_npy_reason(exc)}") from None
        if array.dtype.kind == "c":  # a cast to float would drop the imaginary part
            raise ValueError(f"{what} file {path!r} holds complex numbers (dtype "
                             f"{array.dtype}): complex data is not supported; nerve computes "
                             "in float32 or float64")
        return array
    if ext in (".csv", ".txt"):
        try:
            with warnings.catch_warnings():  # an empty file: our error below, not NumPy's
                warnings.filterwarnings("ignore", message="loadtxt: input contained no data")
                array = np.loadtxt(path, delimiter=",", ndmin=ndmin, dtype=np.float64)
        except ValueError as exc:
            # NumPy's reason, less its advice about `usecols` (a loadtxt argument the user
            # cannot pass here): "the number of columns changed from 3 to 2 at row 2".
            reason = str(exc).split("; use `usecols`")[0]
            raise ValueError(f"{what} file {path!r} must hold comma-separated numbers, the "
                             f"same count on every row (no header): {reason}") from None
        if array.size == 0:
            raise ValueError(f"{what} file {path!r} holds no data; expected comma-separated "
                             "numbers, one row per sample")
        return array
    raise ValueError(f"{what} file {path!r} must be a .npy or .csv file")


#: What NumPy raises for a .npy file that is not one: a header cut off mid-way is a
#: tokenize.TokenError (neither a ValueError nor a SyntaxError).
_BAD_NPY = (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError)

def _npy_reason(exc: BaseException) -> str:
    """NumPy's reason a .npy file could not be read, in one line."""
    if isinstance(exc, tokenize.TokenError):  # args: (message, (line, column))
        return f"its header is cut off or malformed ({exc.args[0] if exc.args else exc})"
    return _one_line(exc)


#: The options of a run.json that ``nerve evaluate`` uses, and the type each must have.
_RUN_OPTIONS = {"dataset": str, "data_root": str, "val_split": float, "seed": int}


def _check_npy_size(path: str, what: str) -> None:
    """Compare a .npy header's shape and dtype with the file's size, before NumPy
    allocates what the header claims (a corrupt header is no reason for "out of memory")."""
    fmt = np.lib.format
    try:
        with open(path, "rb") as fh:
            version = fmt.read_magic(fh)
            read_header = fmt.read_array_header_1_0 if version == (1, 0) \
                else fmt.read_array_header_2_0  # 3.0 differs only in the text encoding
            shape, _, dtype = read_header(fh)
            data_start = fh.tell()
            size = os.fstat(fh.fileno()).st_size
    except _BAD_NPY as exc:
        raise ValueError(f"{what} file {path!r} is not a valid .npy file: "
                         f"{_npy_reason(exc)}") from None
    if dtype.hasobject:
        return  # np.load refuses it (no pickles) with its own message
    needs = math.prod(shape) * dtype.itemsize
    if data_start + needs > size:
        raise ValueError(f"{what} file {path!r} is not a valid .npy file: its header claims "
                         f"an array of shape {shape} and dtype {dtype} ("
                         f"{_bytes(needs)}) but the "
                         f"file has {size} bytes (truncated or corrupt)")


def _bytes(n: int) -> str:
    """A byte count for people: 64 bytes, 7.6 MiB, 6.9 EiB."""
    if n < 1024:
        return f"{n} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        n /= 1024
        if n < 1024 or unit == "EiB":
            return f"{n:,.1f} {unit}"
    return f"{n} bytes"  # pragma: no cover


def _run_info(model_path: str) -> dict[str, Any]:
    """The options in the run.json written next to a model by ``nerve train`` ({} if there
    is none); a run.json that cannot be used is an error naming it."""
    path = os.path.join(os.path.dirname(os.path.abspath(model_path)), "run.json")
    if not os.path.lexists(path):
        return {}
    advice = "fix or delete it, or pass --dataset (or --x and --y)"
    if not os.path.isfile(path):
        raise ValueError(f"{path} is not a regular file; {advice}")
    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except RecursionError:
        raise ValueError(f"{path} is not a usable run.json: it is nested too deeply; "
                         f"{advice}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON text ({exc.reason}); {advice}") from None
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); {advice}") from None
    except OSError as exc:
        from .atomic import plain_error
        raise plain_error(type(exc), exc.errno,
                          f"cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a JSON object holding the run's 'options' (got "
                         f"a {type(raw).__name__}); {advice}")
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise ValueError(f"{path}: 'options' must be a table of train options (got "
                         f"{type(options).__name__}); {advice}")
    info = {}
    for key, kind in _RUN_OPTIONS.items():
        value = options.get(key)
        if value is None:
            continue
        try:
            if kind is str and not isinstance(value, str):
                raise argparse.ArgumentTypeError(f"expected a string, got {value!r:.60}")
            info[key] = _TRAIN_OPTIONS[key][0](value)
        except argparse.ArgumentTypeError as exc:
            raise ValueError(f"{path}: option {key!r}: {exc}; {advice}") from None
    return info


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .train import evaluate
    from .train.build import load_dataset
    if (args.x is None) != (args.y is None):
        raise CLIError("pass both --x and --y (or neither, to use --dataset)")
    given = [flag for flag, value in (("--dataset", args.dataset), ("--split", args.split),
                                      ("--data-root", args.data_root)) if value is not None]
    if args.x is not None and given:
        raise CLIError(f"--x/--y and {'/'.join(given)} are alternatives: evaluate on files "
                       "or on a dataset split, not both")
    model_path = _model_path(args.model)
    model = _load_model(model_path)
    if args.x is not None:
        X = _load_array(args.x, "--x")
        y = _load_array(args.y, "--y", ndmin=1)
        if X.ndim > 2:  # images (N, H, W[, C]): one row of features each, as predict
            X = X.reshape(len(X), -1)
        where = f"{args.x}"
    else:
        info = _run_info(model_path)
        name = args.dataset or info.get("dataset")
        if name is None:
            raise CLIError("say what to evaluate on: --dataset NAME or --x FILE --y FILE")
        if name not in _FILE_DATASETS:
            if args.data_root is not None:
                raise CLIError(f"dataset {name!r} reads no files (it ships with nerve or is "
                               "generated): it takes no --data-root")
            info.pop("data_root", None)  # an older run.json may name one; never read
        elif args.data_root is not None and not os.path.isdir(args.data_root):
            raise CLIError(f"--data-root {args.data_root!r} is not a folder")
        if args.data_root is None and info.get("data_root") is not None \
                and not os.path.isdir(info["data_root"]):
            raise CLIError(f"the run was trained on {name!r} from {info['data_root']!r}, "
                           "which is not a folder here; pass --data-root DIR")
        data = load_dataset(name, args.data_root or info.get("data_root"),
                            info.get("val_split", 0.2) if name == info.get("dataset") else 0.2,
                            info.get("seed", 0) if name == info.get("dataset") else 0,
                            standardized=False)
        split = args.split or ("test" if data.X_test is not None else "val")
        if split == "test" and data.X_test is None:
            raise CLIError(f"dataset {name!r} has no test split; use --split val or train")
        X, y = {"train": (data.X_train, data.y_train), "val": (data.X_val, data.y_val),
                "test": (data.X_test, data.y_test)}[split]
        where = f"{name} ({split} split)"
    from .train.outputs import output_kind
    kind = output_kind(model)
    if args.loss is not None:
        _check_loss_fits(args.loss, kind)
        result = evaluate(model, X, y, loss=args.loss)
    elif kind == "sigmoid":  # probabilities: a row is right when p > 0.5 matches its 0/1
        result = _sigmoid_accuracy(evaluate, model, X, y)
    else:  # logits, log-probabilities or probabilities: the highest score is the label
        result = evaluate(model, X, y)
    parts = " - ".join(f"{k} {v:.4f}" for k, v in result.items())
    print(f"{where}: {len(X)} samples - {parts}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from .train import predict
    model = _load_model(_model_path(args.model))
    X = _load_array(args.input, "input")
    if X.ndim < 2:
        raise CLIError(f"input {args.input!r} holds an array of shape {X.shape}; expected one "
                       f"row of features per sample, shape (N, features)")
    if X.ndim > 2:
        X = X.reshape(len(X), -1)
    scores = predict(model, X).astype(np.float64)
    if scores.ndim != 2:
        raise ValueError(f"the model's output has shape {scores.shape}; predict expects one "
                         "row of scores per sample, shape (N, classes)")
    from .train.outputs import labels_or_proba, output_kind
    result = labels_or_proba(scores, output_kind(model), args.proba)
    if args.out is None:
        fmt = "%.6f" if args.proba else "%d"
        np.savetxt(sys.stdout, result, fmt=fmt, delimiter=",")
        return 0
    ext = os.path.splitext(args.out)[1].lower()
    from .atomic import atomic_path
    if ext == ".npy":
        with atomic_path(args.out) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, result)
    elif ext in (".csv", ".txt"):
        with atomic_path(args.out) as tmp:
            np.savetxt(tmp, result, fmt="%.6f" if args.proba else "%d", delimiter=",")
    else:
        raise CLIError(f"--out {args.out!r} must end in .npy or .csv")
    print(f"wrote {len(result)} {'probability rows' if args.proba else 'labels'} to {args.out}")
    return 0


#: The losses that take raw scores (logits), and those that take log-probabilities.
_LOGIT_LOSSES = ("cross_entropy", "softmax", "hinge", "svm", "bce_with_logits")
_LOG_PROB_LOSSES = ("nll",)


def _check_loss_fits(loss: str, kind: str) -> None:
    """Refuse an --loss that reads the model's outputs as something they are not (the
    number would be silently wrong): a logit loss on probabilities, bce (which takes
    probabilities) on logits, nll (which takes log-probabilities) on anything else."""
    if kind == "unknown":
        return  # a custom module: its forward says what it returns
    ends = {"sigmoid": "Sigmoid, so its outputs are probabilities",
            "softmax": "Softmax, so its outputs are probabilities",
            "log_softmax": "LogSoftmax, so its outputs are log-probabilities",
            "logits": "a layer that gives raw scores (logits)"}[kind]
    if kind in ("sigmoid", "softmax") and loss in _LOGIT_LOSSES + _LOG_PROB_LOSSES:
        fits = "bce" if kind == "sigmoid" else "mse (against one-hot labels)"
        takes = "log-probabilities" if loss in _LOG_PROB_LOSSES else "raw scores (logits)"
        raise CLIError(f"--loss {loss} takes {takes}, but the model ends in {ends}; use "
                       f"--loss {fits}, or no --loss for the accuracy alone")
    if loss == "bce" and kind in ("logits", "log_softmax"):
        raise CLIError(f"--loss bce takes probabilities (a model ending in Sigmoid), but the "
                       f"model ends in {ends}; use "
                       + ("bce_with_logits" if kind == "logits" else "nll"))
    if loss in _LOG_PROB_LOSSES and kind == "logits":
        raise CLIError(f"--loss {loss} takes log-probabilities (a model ending in "
                       f"LogSoftmax), but the model ends in {ends}; use cross_entropy")


def _sigmoid_accuracy(evaluate: Any, model: Any, X: np.ndarray, y: np.ndarray
                      ) -> dict[str, float]:
    """Accuracy of a model ending in Sigmoid: p > 0.5 against 0/1 labels (one column
    each), measured as evaluate measures it with the binary cross-entropy."""
    try:
        result = evaluate(model, X, y, loss="bce")
    except ValueError as exc:
        raise ValueError(f"the model ends in Sigmoid (a probability per output column), "
                         f"so y must hold 0/1 labels, one column per output: {exc}") from None
    if "accuracy" not in result:
        raise ValueError("the model ends in Sigmoid (a probability per output column), so "
                         "the accuracy needs 0/1 labels in y; pass --loss bce (or mse) to "
                         "measure a loss against other targets")
    return {"accuracy": result["accuracy"]}


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demos import DEMOS, NEEDS_DATA_ROOT, run_demo
    if args.name is None:  # `nerve demo` alone: the menu
        width = max(len(name) for name in DEMOS)
        print("nerve demo NAME runs a lesson; the lessons:")
        for name, (_, about) in DEMOS.items():
            print(f"  {name:<{width}}  {about}")
        return 0
    if args.out is not None:  # before the lesson runs (cifar10 trains for minutes)
        _check_out_folder(args.out, replaces=(), nothing="the demo did not run")
    kwargs: dict[str, Any] = {"out": args.out}
    if args.name in NEEDS_DATA_ROOT:
        if args.data_root is None:
            raise CLIError(f"demo {args.name!r} reads its dataset from files: pass "
                           "--data-root DIR")
        kwargs["root"] = args.data_root
        kwargs["download"] = args.download
    elif args.data_root is not None or args.download:
        raise CLIError(f"demo {args.name!r} takes no --data-root or --download")
    run_demo(args.name, **kwargs)
    if args.out is None:  # the figures are written only on request: say how
        print(f"(no figures written: 'nerve demo {args.name} --out DIR' writes this "
              "lesson's figures into DIR)")
    return 0


def _cmd_bench(argv: list[str]) -> int:
    try:
        from .bench import main as bench_main
    except ImportError as exc:
        raise CLIError(f"the benchmark is not available: {exc}") from None
    return int(bench_main(argv) or 0)


# ----------------------------------------------------------------------------- the parser
def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .demos import DEMOS
    parser = _Parser(prog="nerve", description="nerve: neural networks from first principles "
                     "on NumPy. Train, evaluate and use small networks; run the lessons.")
    parser.add_argument("--version", action="version", version=f"nerve {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    t = sub.add_parser("train", help="train a network on a dataset (default: the digits)",
                       description="Train a fully connected network. Flags override "
                       "--config values; unset options take per-dataset defaults chosen to "
                       "train in seconds. Writes model.npz, history.json, run.json and plots.")
    t.add_argument("--dataset", type=_TRAIN_OPTIONS["dataset"][0],
                   help=f"one of {', '.join(_DATASETS)} (default digits)")
    t.add_argument("--data-root", type=_folder,
                   help="folder with the files of mnist, fashion_mnist, cifar10")
    t.add_argument("--download", action="store_const", const=True,
                   help="fetch the dataset's published files into --data-root if missing")
    t.add_argument("--hidden", type=_hidden, help="hidden layer sizes, e.g. 100,100 "
                   "(default 100; 'none' for a linear classifier)")
    t.add_argument("--activation", type=_activation,
                   help=f"hidden activation: {', '.join(_activations())} (default relu)")
    t.add_argument("--loss", type=_TRAIN_OPTIONS["loss"][0],
                   help="cross_entropy (softmax), hinge (multiclass SVM) or mse (one-hot)")
    t.add_argument("--optimizer", type=_TRAIN_OPTIONS["optimizer"][0],
                   help=f"one of {', '.join(_OPTIMIZERS)} (default adam)")
    t.add_argument("--lr", type=_positive_float, help="learning rate (default per dataset "
                   "and optimizer, e.g. 0.001 for Adam on the digits)")
    t.add_argument("--epochs", type=_positive_int, help="passes over the training data")
    t.add_argument("--batch-size", type=_positive_int, help="minibatch size (default 32)")
    t.add_argument("--l2", type=_non_negative, help="L2 penalty strength: loss + l2 * sum(W^2)")
    t.add_argument("--l1", type=_non_negative, help="L1 penalty strength: loss + l1 * sum|W|")
    t.add_argument("--weight-decay", type=_non_negative, help="optimizer weight decay")
    t.add_argument("--dropout", type=_dropout, help="dropout probability after each hidden "
                   "activation (default 0)")
    t.add_argument("--batchnorm", action="store_const", const=True,
                   help="BatchNorm1d after each hidden Linear")
    t.add_argument("--seed", type=_seed, help="seed for data, init, shuffling, dropout "
                   "(default 0)")
    t.add_argument("--val-split", type=_fraction, help="fraction held out for validation "
                   "(default 0.2)")
    t.add_argument("--config", help="a TOML file of these options (keys like batch_size)")
    t.add_argument("--out", type=_folder, help="output folder (default runs/DATASET)")
    t.add_argument("--quiet", action="store_true",
                   help="print only the final result and the files written (no progress, "
                        "no dataset or model summary)")
    t.add_argument("--no-plots", action="store_true", help="write no figures")
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("evaluate", help="accuracy (and loss) of a saved model",
                       description="Evaluate a model saved by 'nerve train' on a dataset "
                       "split (by default the run's own test or validation split) or on "
                       "--x/--y files (.npy or .csv).")
    e.add_argument("model", help="a model file (model.npz) or the run folder holding it")
    e.add_argument("--dataset", type=_TRAIN_OPTIONS["dataset"][0], help="dataset name")
    e.add_argument("--data-root", type=_folder,
                   help="folder with the dataset's files (mnist, fashion_mnist, cifar10)")
    e.add_argument("--split", choices=("train", "val", "test"), help="which split")
    e.add_argument("--x", help="inputs, .npy or .csv (N rows of features)")
    e.add_argument("--y", help="integer labels, .npy or .csv")
    from .nn import LOSSES
    e.add_argument("--loss", type=_choice(tuple(LOSSES), "loss"),
                   help=f"also report this loss: one of {', '.join(LOSSES)} (bce for a "
                   "model ending in Sigmoid, nll for one ending in LogSoftmax)")
    e.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("predict", help="class labels (or probabilities) for new inputs",
                       description="Predict with a saved model on raw inputs (the training "
                       "standardization is part of the model).")
    p.add_argument("model", help="a model file (model.npz) or the run folder holding it")
    p.add_argument("input", help="inputs, .npy or .csv (N rows of features)")
    p.add_argument("--out", help="write to this .npy or .csv file instead of stdout")
    p.add_argument("--proba", action="store_true",
                   help="class probabilities: softmax of the scores, or the model's own "
                   "probabilities when it ends in Sigmoid, Softmax or LogSoftmax")
    p.set_defaults(func=_cmd_predict)

    d = sub.add_parser("demo", help="a lesson: " + ", ".join(DEMOS),
                       description="Run a lesson. " + "; ".join(
                           f"{k}: {v[1]}" for k, v in DEMOS.items()) + ".")
    d.add_argument("name", nargs="?", choices=tuple(DEMOS), metavar="NAME",
                   help=f"one of {', '.join(DEMOS)} (none: list them)")
    d.add_argument("--out", type=_folder, help="folder for the demo's figures (without "
                   "it, none are written)")
    d.add_argument("--data-root", "--root", dest="data_root",
                   help="dataset folder, for the demos that need one (cifar10)")
    d.add_argument("--download", action="store_true",
                   help="fetch the dataset into --data-root when its files are missing "
                        "(needs the internet)")
    d.set_defaults(func=_cmd_demo)

    sub.add_parser("bench", help="speed benchmark against PyTorch and NumPy (see nerve bench "
                   "--help)", add_help=False)
    return parser


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        text = str(exc.args[0])
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _parse_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """``parser.parse_args``, but arguments a subcommand does not know point to that
    subcommand's help ('nerve train --help'), where its flags are listed."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        command = getattr(args, "command", None)
        first = argv.index(extra[0]) if extra[0] in argv else len(argv)
        after = command is not None and command in argv[:first]
        prog = f"{parser.prog} {command}" if after else parser.prog
        raise CLIError(f"unrecognized arguments: {' '.join(extra)} (see '{prog} --help')")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failed, 2 usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "bench":
            return _cmd_bench(argv[1:])
        args = _parse_args(build_parser(), argv)
        return int(args.func(args) or 0)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except CLIError as exc:
        print(f"nerve: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `nerve predict ... | head`: the reader left; stop quietly
        try:  # and keep Python's exit-time flush of stdout from raising again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 141  # 128 + SIGPIPE, what a shell reports for a Unix tool cut off so
    except (ValueError, TypeError, KeyError, OSError, MissingExtraError) as exc:
        print(f"nerve: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except MemoryError as exc:
        print(f"nerve: error: out of memory: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("nerve: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
