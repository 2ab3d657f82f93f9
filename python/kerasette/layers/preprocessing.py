"""Preprocessing layers that are plain arithmetic: Rescaling."""

from __future__ import annotations

import numpy as np

from kerasette.config import image_data_format
from kerasette.layers.layer import Layer


def _floats(value, name: str) -> list:
    """One float or a per-channel list of floats, as a list."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim > 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(
            f"Expected `{name}` to be a finite float or a list of per-channel floats. "
            f"Received: {name}={value}"
        )
    return [float(v) for v in arr.reshape(-1)]


class Rescaling(Layer):
    """Multiplies inputs by `scale` and adds `offset`: `y = x * scale + offset`.

    Args:
        scale: float, or a list of floats, one per entry of the last (channel) axis.
        offset: float, or a list of floats, one per entry of the last axis.

    Input shape: any. Output shape: the input's.

    Example:
        >>> layer = Rescaling(1.0 / 255)  # [0, 255] pixels -> [0, 1]
    """

    _engine_kind = "rescaling"

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self._scale = _floats(scale, "scale")
        self._offset = _floats(offset, "offset")
        if (
            len(self._scale) > 1 or len(self._offset) > 1
        ) and image_data_format() == "channels_first":
            raise NotImplementedError(
                "Rescaling with per-channel `scale`/`offset` supports channels_last only. "
                f"Received: scale={scale}, offset={offset}"
            )
        self.scale = scale
        self.offset = offset

    def engine_attrs(self) -> dict:
        return {"scale": self._scale, "offset": self._offset}

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"scale": _plain(self.scale), "offset": _plain(self.offset)})
        return config


def _plain(value):
    """JSON-friendly scale/offset: a float or a list of floats."""
    arr = np.asarray(value, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else [float(v) for v in arr]
