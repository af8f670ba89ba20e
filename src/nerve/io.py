"""Model and state files: architecture as JSON plus weights as arrays, never pickle.

A model file (``nv.save(model, "net.npz")``) is an ordinary ``.npz`` archive:

* ``__nerve__``  — the format marker, ``"nerve-model"`` or ``"nerve-state"``;
* ``__version__`` — the format version (an integer);
* ``__config__`` — the architecture as JSON (layer types and constructor
  arguments, see :mod:`nerve.nn.registry`), model files only;
* ``state/<name>`` — one array per entry of ``model.state_dict()``.

Loading uses ``np.load(allow_pickle=False)`` and builds layers only from the
registry, so a file cannot run code. Writes go to a temporary file that is
renamed over the target on success (:func:`nerve.atomic.atomic_path`), so a
failed save leaves the old file untouched. Paths ending in ``.safetensors``
use the safetensors format instead (the optional ``safetensors`` extra), with
the marker, version, config and any string entries in its metadata.

>>> nv.save(model, "net.npz")          # doctest: +SKIP
>>> same = nv.load("net.npz")          # doctest: +SKIP
... # same layers, same weights, same outputs
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._extras import require
from .atomic import atomic_path
from .tensor import Tensor

FORMAT_VERSION = 1
MODEL_MARK, STATE_MARK = "nerve-model", "nerve-state"
_PREFIX = "state/"
_RESERVED = ("__nerve__", "__version__", "__config__")


def _check_path(path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return os.fspath(path)


def _is_safetensors(path: str) -> bool:
    return path.lower().endswith(".safetensors")


def _state_arrays(state: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Check a state dict and turn its values into NumPy arrays (numbers, bools, strings ok)."""
    if not isinstance(state, Mapping):
        raise TypeError(f"expected a dict of arrays, got {type(state).__name__}")
    out = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise TypeError(f"state dict keys must be strings, got {key!r}")
        try:
            arr = np.asarray(value.data if isinstance(value, Tensor) else value)
        except ValueError:
            raise ValueError(f"state dict entry {key!r} is a ragged sequence (rows of "
                             "different lengths); expected a rectangular numeric array") from None
        if arr.dtype.kind not in "fiubU":
            raise TypeError(f"state dict entry {key!r} is a {type(value).__name__} of dtype "
                            f"{arr.dtype}; only numeric arrays, numbers, bools and strings "
                            "can be saved (never pickled objects)")
        out[key] = arr
    return out


# --------------------------------------------------------------------- writing
def _write(path: str, mark: str, state: dict[str, np.ndarray], config: str | None) -> None:
    if _is_safetensors(path):
        _write_safetensors(path, mark, state, config)
        return
    arrays = {"__nerve__": np.array(mark), "__version__": np.array(FORMAT_VERSION)}
    if config is not None:
        arrays["__config__"] = np.array(config)
    arrays.update({_PREFIX + k: v for k, v in state.items()})
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:  # a file object: np.savez must not append ".npz"
            np.savez(fh, **arrays)


def _write_safetensors(path, mark, state, config) -> None:
    st = require("safetensors.numpy", "safetensors", "saving .safetensors files")
    strings = {k: v.tolist() for k, v in state.items() if v.dtype.kind == "U"}
    # np.ascontiguousarray turns a 0-d array into shape (1,); the reshape keeps a scalar
    # entry (an optimizer's lr or step, a scheduler's last_epoch) a scalar in the file.
    tensors = {k: np.ascontiguousarray(v).reshape(v.shape)
               for k, v in state.items() if v.dtype.kind != "U"}
    meta = {"__nerve__": mark, "__version__": str(FORMAT_VERSION),
            "__strings__": json.dumps(strings)}
    if config is not None:
        meta["__config__"] = config
    with atomic_path(path) as tmp:
        st.save_file(tensors, tmp, metadata=meta)


def save(model, path: str | os.PathLike) -> None:
    """Save ``model``'s architecture and weights (and buffers) to one file.

    ``.npz`` by default (the name is kept as given); ``.safetensors`` if the path
    says so. Only registered layers can be saved (``nerve.nn.LAYERS``); for other
    modules save the weights with ``save_state(model.state_dict(), path)``.
    """
    from .nn.module import Module
    from .nn.registry import to_config
    if not isinstance(model, Module):
        raise TypeError(f"save expects an nn.Module, got {type(model).__name__}; "
                        "use save_state for a dict of arrays")
    path = _check_path(path)
    cfg = to_config(model)
    ties = _parameter_ties(model)
    if ties:
        cfg["tied_parameters"] = ties
    _write(path, MODEL_MARK, model.state_dict(), json.dumps(cfg))


def _parameter_ties(model) -> list[list[str]]:
    """``[later name, first name]`` for each parameter that occurs under two names (one
    Parameter set on two layers, ``m[2].weight = m[0].weight``), so that loading ties
    them again; ``to_config``'s ``same_as`` already covers a whole layer used twice."""
    first: dict[int, str] = {}
    ties = []
    for name, param in model._walk("", False):
        if id(param) in first:
            ties.append([name, first[id(param)]])
        else:
            first[id(param)] = name
    return ties


def _tie_parameters(model, ties: Any) -> None:
    """Make each ``[later, first]`` name of ``ties`` the same Parameter in ``model``."""
    from .nn.module import Module, Parameter

    modules: dict[str, Any] = {}

    def walk(module, prefix):
        modules[prefix] = module
        for child_name, child in module.named_children():
            walk(child, f"{prefix}{child_name}.")

    walk(model, "")
    if not isinstance(ties, list):
        raise ValueError(f"'tied_parameters' must be a list of [name, name] pairs, got "
                         f"{ties!r:.80}")
    for pair in ties:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, str)
                                                                  for n in pair)):
            raise ValueError(f"'tied_parameters' must hold [name, name] pairs, got {pair!r:.80}")
        (later_owner, later_attr), (first_owner, first_attr) = (
            (n.rpartition(".")[0] + "." if "." in n else "", n.rpartition(".")[2])
            for n in pair)
        owner, source = modules.get(later_owner), modules.get(first_owner)
        param = getattr(source, first_attr, None) if isinstance(source, Module) else None
        if not isinstance(owner, Module) or not isinstance(param, Parameter) \
                or not isinstance(getattr(owner, later_attr, None), Parameter) \
                or getattr(owner, later_attr).data.shape != param.data.shape:
            raise ValueError(f"'tied_parameters' names {pair} do not match two parameters of "
                             "the same shape in the model")
        setattr(owner, later_attr, param)


def save_state(state_dict: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Save a flat dict of arrays, numbers and strings (a model's or optimizer's state)."""
    path = _check_path(path)
    _write(path, STATE_MARK, _state_arrays(state_dict), None)


# --------------------------------------------------------------------- reading
def _read(path: Any) -> tuple[str, dict[str, np.ndarray], str | None]:
    """(marker, state arrays, config JSON or None) of a nerve file; clear errors otherwise."""
    path = _check_path(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"{path!r} is a folder, not a nerve model or state file")
    if _is_safetensors(path):
        meta, arrays = _read_safetensors(path)
    else:
        meta, arrays = _read_npz(path)
    mark = meta.get("__nerve__")
    if mark not in (MODEL_MARK, STATE_MARK):
        raise ValueError(f"{path!r} is not a nerve file: it has no valid format marker "
                         f"(found {mark!r}, expected {MODEL_MARK!r} or {STATE_MARK!r})")
    try:
        version = int(meta.get("__version__", ""))
    except (TypeError, ValueError):
        raise ValueError(f"{path!r}: the format version is missing or unreadable") from None
    if version > FORMAT_VERSION:
        raise ValueError(f"{path!r} was written by a newer nerve (format version {version}; "
                         f"this one reads up to {FORMAT_VERSION}); upgrade nerve")
    return mark, arrays, meta.get("__config__")


def _read_npz(path: str) -> tuple[dict, dict]:
    # nerve opens the file itself, so a corrupt archive that NumPy gives up on midway
    # still has its file closed.
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        if head[:2] != b"PK":  # every zip archive (.npz) starts so
            kind = "an empty file" if not head else f"a file starting with {head!r}"
            if head[:2] == b"\x1f\x8b":
                kind = "a gzip file"
            elif head[:1] == b"\x93":
                kind = "a single NumPy array (.npy)"
            raise ValueError(f"{path!r} is not a nerve model or state file: it is {kind}, "
                             "not an .npz (zip) archive")
        try:
            archive = np.load(fh, allow_pickle=False)
        except Exception as exc:  # noqa: BLE001 - every reading failure means "not our file"
            raise ValueError(f"{path!r} is not a readable nerve file (.npz expected): "
                             f"{type(exc).__name__}: {exc}") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"{path!r} holds a single NumPy array, not a nerve model or "
                             "state file (.npz archive expected)")
        meta, arrays = {}, {}
        with archive:
            _check_unpacked_size(path, sum(info.file_size for info in archive.zip.infolist()))
            try:
                for key in archive.files:
                    value = archive[key]
                    if key in _RESERVED:
                        meta[key] = value.item() if value.ndim == 0 else None
                    elif key.startswith(_PREFIX):
                        arrays[key[len(_PREFIX):]] = value
                    else:
                        raise ValueError(f"unexpected entry {key!r}")
            except Exception as exc:  # noqa: BLE001 - corrupt data, object arrays, bad CRC
                raise ValueError(f"{path!r} is corrupt or not a nerve file: "
                                 f"{type(exc).__name__}: {exc}") from None
    return meta, arrays


def memory_limit() -> int | None:
    """Bytes of physical memory on this machine (None where the platform does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _check_unpacked_size(path: str, total: int) -> None:
    """Refuse an archive whose members unpack to more bytes than the machine's memory
    (a zip bomb: a small compressed file that would fill the memory as it is read)."""
    limit = memory_limit()
    if limit is not None and total > limit:
        raise ValueError(f"{path!r} would unpack to {total / 2**30:.1f} GiB, more than this "
                         f"machine's memory ({limit / 2**30:.1f} GiB); refusing to read it "
                         "(a corrupt or malicious archive?)")


def _read_safetensors(path: str) -> tuple[dict, dict]:
    st = require("safetensors", "safetensors", "reading .safetensors files")
    try:
        with st.safe_open(path, framework="numpy") as fh:
            meta = dict(fh.metadata() or {})
            arrays = {k: fh.get_tensor(k) for k in fh.keys()}
        strings = json.loads(meta.get("__strings__", "{}"))
        arrays.update({k: np.array(v) for k, v in strings.items()})
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"{path!r} is not a readable nerve .safetensors file: "
                         f"{type(exc).__name__}: {exc}") from None
    return meta, arrays


#: Layers whose integer config values multiply to (at most) their parameter count.
_SIZED_LAYERS = ("Linear", "Maxout", "BatchNorm1d", "PReLU")


def _declared_sizes(cfg: Any, depth: int = 0):
    """(layer type, product of its integer config values) for the built-in sized layers."""
    if depth > 200 or not isinstance(cfg, dict):
        return
    if cfg.get("type") in _SIZED_LAYERS and isinstance(cfg.get("config"), dict):
        size = 1
        for v in cfg["config"].values():
            if isinstance(v, int) and not isinstance(v, bool) and v > 0:
                size *= v
        yield cfg["type"], size
    for child in cfg.get("layers", []) if isinstance(cfg.get("layers"), list) else []:
        yield from _declared_sizes(child, depth + 1)


def _check_declared_sizes(path: str | os.PathLike, cfg: Any, arrays: dict) -> None:
    """Refuse an architecture larger than the weights stored with it, before building it
    (a crafted file could otherwise make nerve allocate any amount of memory)."""
    stored = sum(int(a.size) for a in arrays.values())
    for kind, size in _declared_sizes(cfg):
        if size > stored:
            raise ValueError(f"{os.fspath(path)!r}: cannot rebuild the model: a {kind} layer "
                             f"declares {size:,} weights but the file stores {stored:,} values "
                             "in all (corrupt or crafted file)")


def load(path: str | os.PathLike):
    """Rebuild the model saved by :func:`save`: same layers, weights and buffers.

    The model comes back in training mode, as a freshly built one (call
    ``model.eval()`` before predicting if it has dropout or batch norm).

    Loading leaves the library-wide random generator (:func:`nerve.get_rng`) as it
    was: the layers' constructors draw initial weights that the saved ones then
    replace, so its state is saved before building and put back after. A resume
    that restores the generator's state before or after ``load`` continues the same
    random stream either way.
    """
    from .nn.registry import from_config
    from .random import get_rng
    mark, arrays, config = _read(path)
    if mark != MODEL_MARK:
        raise ValueError(f"{os.fspath(path)!r} holds a state dict, not a model; read it with "
                         "nv.load_state(path) and model.load_state_dict(...)")
    if not isinstance(config, str):
        raise ValueError(f"{os.fspath(path)!r} is marked as a nerve model but has no "
                         "architecture entry (__config__); the file is corrupt")
    rng = get_rng()
    rng_state = rng.bit_generator.state
    try:
        cfg = json.loads(config)
        _check_declared_sizes(path, cfg, arrays)
        model = from_config(cfg)
        if "tied_parameters" in cfg:
            _tie_parameters(model, cfg["tied_parameters"])
        model.load_state_dict(arrays)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{os.fspath(path)!r}: cannot rebuild the model: {exc}") from None
    except RecursionError:  # a crafted file: layers nested thousands deep
        raise ValueError(f"{os.fspath(path)!r}: cannot rebuild the model: its architecture "
                         "is nested too deeply (corrupt or crafted file)") from None
    except MemoryError as exc:  # a crafted file: layer sizes far beyond its own weights
        raise ValueError(f"{os.fspath(path)!r}: cannot rebuild the model: its architecture "
                         f"needs more memory than is available ({exc})") from None
    finally:
        rng.bit_generator.state = rng_state
    return model


def load_state(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read the dict saved by :func:`save_state` (or a model file's weights)."""
    return _read(path)[1]
