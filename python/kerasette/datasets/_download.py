"""Keras's `get_file` for the dataset loaders: a cached download, checked against its SHA-256.

Files live in `$KERAS_HOME/datasets/<cache_subdir>` (`~/.keras/datasets/...` by default), the
folder Keras itself uses, so a cache filled by Keras serves kerasette too and the other way round.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path


def cache_dir(cache_subdir: str = "") -> Path:
    """Keras's dataset cache folder (`$KERAS_HOME/datasets`, else `~/.keras/datasets`)."""
    root = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    return root / "datasets" / cache_subdir


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def get_file(fname: str, origin: str, cache_subdir: str, file_hash: str, offline_hint: str) -> Path:
    """The cached `fname`, downloaded from `origin` with a progress bar when missing or corrupt.

    Args:
        fname: File name inside the cache folder.
        origin: URL to download from.
        cache_subdir: Folder under `~/.keras/datasets`.
        file_hash: Expected SHA-256 of the file.
        offline_hint: Sentence appended to the download error, saying how to supply the file.

    Raises:
        RuntimeError: The download failed (offline, URL unreachable).
        ValueError: The downloaded file does not match `file_hash`.
    """
    from kerasette.utils.progbar import Progbar

    target = cache_dir(cache_subdir) / fname
    if target.exists() and sha256(target) == file_hash:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    print(f"Downloading data from {origin}")
    try:
        with urllib.request.urlopen(origin, timeout=30) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = Progbar(total, unit_name="B")
            done = 0
            for chunk in iter(lambda: response.read(1 << 16), b""):
                out.write(chunk)
                done += len(chunk)
                bar.update(done, finalize=False)
            bar.update(done, finalize=True)
    except (OSError, urllib.error.URLError) as e:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"URL fetch failure on {origin}: {e}. {offline_hint}") from None
    if sha256(tmp) != file_hash:
        tmp.unlink(missing_ok=True)
        raise ValueError(
            f"Incomplete or corrupted file detected: the sha256 hash of the file downloaded from "
            f"{origin} does not match the expected value {file_hash}."
        )
    tmp.replace(target)
    return target
