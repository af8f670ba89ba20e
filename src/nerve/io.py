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
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._extras import require
from .atomic import atomic_path, check_path, check_readable_file
from .tensor import Tensor

FORMAT_VERSION = 1
MODEL_MARK, STATE_MARK = "nerve-model", "nerve-state"
_PREFIX = "state/"
_RESERVED = ("__nerve__", "__version__", "__config__")


_check_path = check_path  # the one "path must be a str or os.PathLike" check


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
#: Containers nested deeper than this are refused before anything is built (a saved
#: model is never so deep; rebuilding one recurses once per level).
MAX_DEPTH = 256

#: Layers whose integer config values multiply to (at most) their parameter count.
_SIZED_LAYERS = ("Linear", "Maxout", "BatchNorm1d", "PReLU")
#: The built-in containers and the only config key they take.
_CONTAINER_KEYS = {"Sequential": ("names",), "ModuleList": ("names",),
                   "ModuleDict": ("names",)}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # what NumPy takes for a zip (.npz)


def _read(path: Any, model: bool = False) -> tuple[str, dict[str, np.ndarray], Any]:
    """(marker, state arrays, parsed architecture or None) of a nerve file.

    The marker, the version and (for ``model``) the architecture are read and checked
    before any state array is unpacked, so a foreign or crafted file is refused
    without unpacking its arrays; clear errors naming the file otherwise.
    """
    path = _check_path(path)
    check_readable_file(path, f"no such file: {path!r}", "a nerve model or state file",
                        folder=f"{path!r} is a folder, not a nerve model or state file")

    def check(meta: dict, sizes: Any) -> Any:
        return _check_meta(path, meta, sizes, model)

    if _is_safetensors(path):
        return _read_safetensors(path, check)
    return _read_npz(path, check)


def _check_meta(path: str, meta: dict, sizes: Any, model: bool) -> Any:
    """Check the marker and version (and, for a model, its architecture against
    ``sizes()``, the stored values per entry); return the architecture (or None)."""
    mark = meta.get("__nerve__")
    if mark not in (MODEL_MARK, STATE_MARK):
        raise ValueError(f"{path!r} is not a nerve file: it has no valid format marker "
                         f"(found {mark!r:.80}, expected {MODEL_MARK!r} or {STATE_MARK!r})")
    try:
        version = int(meta.get("__version__", ""))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{path!r}: the format version is missing or unreadable") from None
    if version > FORMAT_VERSION:
        raise ValueError(f"{path!r} was written by a newer nerve (format version {version}; "
                         f"this one reads up to {FORMAT_VERSION}); upgrade nerve")
    stored = sum(sizes().values())  # every entry's header read, object arrays refused
    if not model:
        return None
    if mark != MODEL_MARK:
        raise ValueError(f"{path!r} holds a state dict, not a model; read it with "
                         "nv.load_state(path) and model.load_state_dict(...)")
    config = meta.get("__config__")
    if not isinstance(config, str):
        raise ValueError(f"{path!r} is marked as a nerve model but has no "
                         "architecture entry (__config__); the file is corrupt")
    prefix = f"{path!r}: cannot rebuild the model"
    try:
        cfg = json.loads(config)
    except RecursionError:  # a crafted file: layers nested thousands deep
        raise ValueError(f"{prefix}: its architecture is nested too deeply (corrupt or "
                         "crafted file)") from None
    except ValueError as exc:
        raise ValueError(f"{prefix}: its architecture is not valid JSON: {exc}") from None
    declared = _check_architecture(cfg, prefix)
    if declared > stored:
        raise ValueError(f"{prefix}: its architecture declares {declared:,} weights in all "
                         f"but the file stores {stored:,} values (corrupt or crafted file)")
    return cfg


def _check_architecture(cfg: Any, prefix: str) -> int:
    """The weights the built-in sized layers of ``cfg`` declare, summed over the whole
    tree (an iterative walk, so no nesting hides a layer); nesting deeper than
    :data:`MAX_DEPTH` and unknown config keys of a container are refused."""
    total = 0
    stack = [(cfg, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"{prefix}: its architecture is nested more than {MAX_DEPTH} "
                             "levels deep (corrupt or crafted file)")
        if not isinstance(node, dict):
            continue  # from_config names the problem
        kind, config = node.get("type"), node.get("config")
        if isinstance(config, dict) and kind in _CONTAINER_KEYS:
            unknown = [k for k in config if k not in _CONTAINER_KEYS[kind]]
            if unknown:
                raise ValueError(f"{prefix}: the config of {kind} has unknown config key(s) "
                                 f"{', '.join(repr(k)[:40] for k in unknown[:5])}; a "
                                 f"{kind} takes only "
                                 f"{', '.join(map(repr, _CONTAINER_KEYS[kind]))}")
        if isinstance(config, dict) and kind in _SIZED_LAYERS:
            size = 1
            for v in config.values():
                if isinstance(v, int) and not isinstance(v, bool) and v > 0:
                    size *= v
            if kind == "BatchNorm1d" and config.get("affine") is False \
                    and config.get("track_running_stats") is False:
                size = 0  # no weights and no running statistics: nothing stored
            total += size
        children = node.get("layers")
        if isinstance(children, list):
            stack.extend((child, depth + 1) for child in reversed(children))
    return total


def _read_npz(path: str, check: Any) -> tuple[str, dict, Any]:
    # nerve opens the file itself, so a corrupt archive that NumPy gives up on midway
    # still has its file closed.
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        if head not in _ZIP_MAGIC:  # what NumPy reads as a zip; anything else is no .npz
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
                             f"{_reason(exc)}") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"{path!r} holds a single NumPy array, not a nerve model or "
                             "state file (.npz archive expected)")
        with archive:
            _check_unpacked_size(path, sum(info.file_size for info in archive.zip.infolist()))
            members = {}  # key -> name in the zip
            for name in archive.zip.namelist():
                key = name[:-4] if name.endswith(".npy") else name
                if key not in _RESERVED and not key.startswith(_PREFIX):
                    raise ValueError(f"{path!r} is corrupt or not a nerve file: unexpected "
                                     f"entry {key!r:.80}")
                members[key] = name
            meta = {}
            try:
                for key in _RESERVED:
                    if key in members:
                        value = archive[key]
                        meta[key] = value.item() if value.ndim == 0 else None
            except Exception as exc:  # noqa: BLE001 - corrupt data, object arrays, bad CRC
                raise ValueError(f"{path!r} is corrupt or not a nerve file: "
                                 f"{_reason(exc)}") from None
            state = [k for k in members if k.startswith(_PREFIX)]

            def sizes() -> dict[str, int]:
                try:
                    return {k: _npy_size(archive.zip, members[k]) for k in state}
                except Exception as exc:  # noqa: BLE001
                    raise ValueError(f"{path!r} is corrupt or not a nerve file: "
                                     f"{_reason(exc)}") from None

            cfg = check(meta, sizes)
            arrays = {}
            try:
                for key in state:
                    arrays[key[len(_PREFIX):]] = archive[key]
            except Exception as exc:  # noqa: BLE001 - corrupt data, object arrays, bad CRC
                raise ValueError(f"{path!r} is corrupt or not a nerve file: "
                                 f"{_reason(exc)}") from None
    return meta["__nerve__"], arrays, cfg


def _npy_size(archive: Any, name: str) -> int:
    """The number of values the .npy member ``name`` holds, from its header alone
    (nothing is unpacked); an entry of Python objects is refused here."""
    fmt = np.lib.format
    with archive.open(name) as member:
        version = fmt.read_magic(member)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) \
            else fmt.read_array_header_2_0  # 2.0 and 3.0 differ only in the text encoding
        shape, _, dtype = read_header(member)
    if dtype.hasobject:
        raise ValueError(f"entry {name!r:.80} holds Python objects (pickled data), which "
                         "nerve never loads")
    return math.prod(shape)


def _reason(exc: BaseException) -> str:
    """``Type: message`` of a reading failure, without NumPy's advice to unpickle."""
    text = str(exc)
    if "allow_pickle" in text or "pickle.load" in text:
        text = "it holds Python objects (pickled data), which nerve never loads"
    return f"{type(exc).__name__}: {text}"


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


def _read_safetensors(path: str, check: Any) -> tuple[str, dict, Any]:
    st = require("safetensors", "safetensors", "reading .safetensors files")

    def unreadable(exc: BaseException) -> ValueError:
        return ValueError(f"{path!r} is not a readable nerve .safetensors file: "
                          f"{type(exc).__name__}: {exc}")

    try:
        handle = st.safe_open(path, framework="numpy")
    except Exception as exc:  # noqa: BLE001
        raise unreadable(exc) from None
    with handle as fh:
        try:
            meta = dict(fh.metadata() or {})
            keys = list(fh.keys())
            strings = _safetensors_strings(meta.get("__strings__", "{}"))
        except Exception as exc:  # noqa: BLE001
            raise unreadable(exc) from None

        def sizes() -> dict[str, int]:
            try:
                found = {k: math.prod(fh.get_slice(k).get_shape()) for k in keys}
            except Exception as exc:  # noqa: BLE001
                raise unreadable(exc) from None
            found.update({k: int(v.size) for k, v in strings.items()})
            return found

        cfg = check(meta, sizes)
        try:
            arrays = {k: fh.get_tensor(k) for k in keys}
        except Exception as exc:  # noqa: BLE001
            raise unreadable(exc) from None
    arrays.update(strings)
    return meta["__nerve__"], arrays, cfg


def _safetensors_strings(text: str) -> dict[str, np.ndarray]:
    """The string entries kept in the metadata (JSON): each a str, or a (nested,
    rectangular) list of str; anything else is refused."""
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise ValueError(f"'__strings__' must map names to strings, got {type(raw).__name__}")
    out = {}
    for key, value in raw.items():
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif not isinstance(item, str):
                raise ValueError(f"'__strings__' entry {key!r:.80} holds a "
                                 f"{type(item).__name__}; only strings or lists of strings "
                                 "are allowed")
        array = np.array(value, dtype=str)  # a ragged list raises ValueError
        if array.dtype.kind != "U":
            raise ValueError(f"'__strings__' entry {key!r:.80} is not a string array")
        out[key] = array
    return out


def _short(text: str, limit: int = 800) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text) - limit} more characters)"


def _names(keys: list[str], shown: int = 5) -> str:
    """At most ``shown`` names, each cut to 60 characters, then how many more."""
    out = ", ".join(k if len(k) <= 60 else k[:28] + "…" + k[-28:] for k in keys[:shown])
    return out + (f" … and {len(keys) - shown} more" if len(keys) > shown else "")


def _short_key_lists(text: str) -> str:
    """``load_state_dict``'s message with its lists of missing and unexpected keys cut
    to a few names each (a deep model's list would fill the screen), then capped."""
    parts = []
    for part in text.split(" | "):
        for label in ("missing keys: ", "unexpected keys: "):
            at = part.find(label)
            if at >= 0:
                keys = part[at + len(label):].split(", ")
                part = part[:at + len(label)] + _names(keys)
                break
        parts.append(part)
    return _short(" | ".join(parts))


def load(path: str | os.PathLike):
    """Rebuild the model saved by :func:`save`: same layers, weights and buffers.

    The model comes back in training mode, as a freshly built one (call
    ``model.eval()`` before predicting if it has dropout or batch norm).

    The marker, format version and architecture are checked before the weights are
    unpacked or any layer is built: an architecture that declares more weights than
    the file stores, or nests containers more than :data:`MAX_DEPTH` deep, is
    refused (a crafted file could otherwise make nerve allocate any amount of memory).

    Loading leaves the library-wide random generator (:func:`nerve.get_rng`) as it
    was: the layers' constructors draw initial weights that the saved ones then
    replace, so its state is saved before building and put back after. A resume
    that restores the generator's state before or after ``load`` continues the same
    random stream either way.
    """
    from .nn.registry import from_config
    from .random import get_rng
    _, arrays, cfg = _read(path, model=True)
    name = os.fspath(path)
    rng = get_rng()
    rng_state = rng.bit_generator.state
    try:
        model = from_config(cfg)
        if "tied_parameters" in cfg:
            _tie_parameters(model, cfg["tied_parameters"])
        model.load_state_dict(arrays)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name!r}: cannot rebuild the model: "
                         f"{_short_key_lists(str(exc))}") from None
    except RecursionError:  # a crafted file: layers nested thousands deep
        raise ValueError(f"{name!r}: cannot rebuild the model: its architecture "
                         "is nested too deeply (corrupt or crafted file)") from None
    except MemoryError as exc:  # a crafted file: layer sizes far beyond its own weights
        raise ValueError(f"{name!r}: cannot rebuild the model: its architecture "
                         f"needs more memory than is available ({exc})") from None
    finally:
        rng.bit_generator.state = rng_state
    return model


def load_state(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read the dict saved by :func:`save_state` (or a model file's weights)."""
    return _read(path)[1]
