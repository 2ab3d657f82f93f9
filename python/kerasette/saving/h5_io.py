"""HDF5 attribute and file helpers shared by the `.h5` readers and writers.

Keras files store strings in several HDF5 spellings (variable- or fixed-length, ASCII or UTF-8,
scalar or 1-D), an empty list as a zero-length float64 array, and a list too large for an object
header as `NAME0`, `NAME1`, ... chunks. This module reads all of them and writes the spelling
Keras 2 writes. It also turns h5py's low-level failures into errors that name the file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import uuid
from typing import Any, Callable, Iterator

import h5py
import numpy as np

# HDF5 object headers hold at most 64 KiB; Keras splits longer attribute lists (its
# `HDF5_OBJECT_HEADER_LIMIT`).
HDF5_OBJECT_HEADER_LIMIT = 64512

_ASCII = h5py.string_dtype("ascii")
_UTF8 = h5py.string_dtype("utf-8")


# ---- reading ----
def _to_str(value: Any) -> str:
    try:
        if isinstance(value, (bytes, np.bytes_)):
            return bytes(value).rstrip(b"\x00").decode("utf-8")
        text = str(value)
        text.encode("utf-8")  # h5py keeps undecodable bytes as lone surrogates
        return text
    except UnicodeError as e:
        raise ValueError(
            f"A string attribute in the file is not valid UTF-8: the file is corrupted ({e})."
        ) from e


def read_str_attr(obj: h5py.HLObject, name: str, default: str | None = None) -> str | None:
    """Reads a scalar string attribute, whatever its HDF5 string type."""
    if name not in obj.attrs:
        return default
    value = obj.attrs[name]
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"Expected attribute `{name}` of {obj.name} to be one string.")
        value = value.reshape(-1)[0]
    return _to_str(value)


def read_str_list_attr(obj: h5py.HLObject, name: str) -> list[str]:
    """Reads a list of strings stored as `name`, or as chunks `name0`, `name1`, ...

    A missing attribute and a zero-length numeric array (how h5py stores an empty list) both
    read as `[]`.
    """
    if name in obj.attrs:
        chunks = [obj.attrs[name]]
    else:
        chunks, i = [], 0
        while f"{name}{i}" in obj.attrs:
            chunks.append(obj.attrs[f"{name}{i}"])
            i += 1
    out: list[str] = []
    for chunk in chunks:
        arr = np.asarray(chunk)
        if arr.size == 0:
            continue
        if arr.dtype.kind in "fiu":
            raise ValueError(f"Expected attribute `{name}` of {obj.name} to hold strings.")
        out.extend(_to_str(v) for v in arr.reshape(-1))
    return out


def read_json_attr(obj: h5py.HLObject, name: str, filepath: str) -> Any:
    text = read_str_attr(obj, name)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise ValueError(f"The `{name}` attribute of '{filepath}' is not valid JSON: {e}") from e


# ---- writing ----
def write_str_attr(obj: h5py.HLObject, name: str, value: str, utf8: bool = False) -> None:
    """A scalar variable-length string: UTF-8 `str` (root `keras_version`/`backend` in Keras
    files) or ASCII bytes (JSON configs and the weight groups' version attributes)."""
    if utf8:
        obj.attrs.create(name, value, dtype=_UTF8)
    else:
        obj.attrs.create(name, value.encode("utf-8"), dtype=_ASCII)


def write_str_list_attr(obj: h5py.HLObject, name: str, values: list[str]) -> None:
    """A list of strings as Keras writes it: variable-length ASCII; `[]` as an empty float64
    array; over the header limit, as fixed-length chunks `name0`, `name1`, ..."""
    data = [v.encode("utf-8") for v in values]
    if not data:
        obj.attrs.create(name, np.zeros((0,), dtype="<f8"))
        return
    if sum(len(d) for d in data) <= HDF5_OBJECT_HEADER_LIMIT:
        obj.attrs.create(name, data, dtype=_ASCII)
        return
    chunks, current, size = [], [], 0
    for d in data:
        if current and size + len(d) > HDF5_OBJECT_HEADER_LIMIT:
            chunks.append(current)
            current, size = [], 0
        current.append(d)
        size += len(d)
    chunks.append(current)
    for i, chunk in enumerate(chunks):
        obj.attrs.create(f"{name}{i}", np.array(chunk))  # numpy |S: fixed-length, as Keras


def json_dumps(obj: Any, **kwargs) -> str:
    """JSON for a config: numpy scalars and arrays become plain numbers and lists. `kwargs` go to
    `json.dumps` (`indent=2`, ...)."""

    def default(o: Any) -> Any:
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        raise TypeError(f"Cannot write {o!r} (of type {type(o).__name__}) into a model config.")

    return json.dumps(obj, default=default, **kwargs)


# ---- files ----
@contextlib.contextmanager
def open_for_reading(filepath: str) -> Iterator[h5py.File]:
    """Opens an HDF5 file; low-level failures become `OSError`s that name the file."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file or directory found at {filepath}")
    if os.path.isdir(filepath):
        # Keras's error for a folder (such as a TensorFlow SavedModel) given to `load_model`.
        raise ValueError(
            f"File format not supported: filepath={filepath} is a directory. kerasette reads "
            "`.keras` zip files and HDF5 (`.h5`) files only."
        )
    try:
        f = h5py.File(filepath, "r")
    except OSError as e:
        raise OSError(
            f"Unable to open '{filepath}' as an HDF5 file: it is truncated, corrupted or not an "
            f"HDF5 file ({e})."
        ) from e
    try:
        with f:
            yield f
    except KeyError as e:  # a missing object, found by h5py rather than by our checks
        raise ValueError(f"'{filepath}' is missing an expected object: {e}") from e
    except (OSError, RuntimeError) as e:
        if filepath in str(e):
            raise
        raise OSError(f"'{filepath}' could not be read: it is truncated or corrupted ({e}).") from e


def read_array(dataset: Any, what: str) -> np.ndarray:
    """Reads a dataset fully; a link to a group or an unreadable dataset is a clear error."""
    if not isinstance(dataset, h5py.Dataset):
        raise ValueError(f"Expected {what} to be a dataset. Received: a group.")
    return np.asarray(dataset[()])


def _create_temporary_beside(target: str, filepath: str) -> str:
    """Creates an empty file next to `target` with the permissions a plain `open(target, "w")`
    would give (0666 less the umask; mkstemp's 0600 would hide saved models from other users)."""
    folder = os.path.dirname(target)
    tmp = os.path.join(folder, f".{os.path.basename(target)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as e:
        reason = "it does not exist" if not os.path.exists(folder) else e.strerror
        raise type(e)(
            e.errno, f"Cannot save to '{filepath}': unable to create a file in '{folder}' "
            f"({reason})."
        ) from e
    return tmp


def atomic_write(filepath: str, overwrite: bool, write: Callable[[str], None]) -> None:
    """Calls `write(tmp_path)` on a temporary file in the same folder, then renames it over
    `filepath`, so an exception mid-write leaves any previous file intact. A symbolic link is
    written through (its target is replaced, as `open(filepath, "w")` would), and a replaced
    file keeps its permissions."""
    filepath = os.fspath(filepath)
    target = os.path.realpath(filepath)
    if os.path.isdir(target):
        raise IsADirectoryError(
            errno.EISDIR, f"Cannot save to '{filepath}': it is a directory. Pass a file name."
        )
    existing = os.path.exists(target)
    if existing and not overwrite:
        raise FileExistsError(
            f"The file '{filepath}' already exists. Pass `overwrite=True` to replace it."
        )
    tmp = _create_temporary_beside(target, filepath)
    try:
        if existing:
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
