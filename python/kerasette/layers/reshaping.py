"""Spatial reshaping layers (NHWC): ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D.

Padding and cropping share one engine layer (a crop is a negative pad); upsampling repeats pixels
(nearest) and sums the repeated gradients in backward.
"""

from __future__ import annotations

from kerasette.layers.convolutional import (
    standardize_data_format,
    standardize_tuple,
)
from kerasette.layers.layer import Layer


def _pairs(value, what: str) -> tuple:
    """Keras's ((top, bottom), (left, right)) from an int, 2 ints or 2 pairs."""
    if isinstance(value, int) and not isinstance(value, bool):
        pair = standardize_tuple(value, 2, what, allow_zero=True)
        return (pair, pair)
    if hasattr(value, "__len__"):
        if len(value) != 2:
            raise ValueError(f"`{what}` should have two elements. Received: {what}={value}.")
        return (standardize_tuple(value[0], 2, f"1st entry of {what}", allow_zero=True),
                standardize_tuple(value[1], 2, f"2nd entry of {what}", allow_zero=True))
    raise ValueError(
        f"`{what}` should be either an int, a tuple of 2 ints, or a tuple of 2 tuples of 2 ints "
        f"((top, bottom), (left, right)). Received: {what}={value}."
    )


class _Spatial(Layer):
    rank = 2

    def __init__(self, data_format=None, **kwargs):
        Layer.__init__(self, **kwargs)
        self.data_format = standardize_data_format(data_format)


class ZeroPadding2D(_Spatial):
    """Adds rows and columns of zeros around an image.

    Args:
        padding: int, (symmetric_height, symmetric_width) or ((top, bottom), (left, right)).
        data_format: "channels_last" or "channels_first"; None (default) means
            `kerasette.config.image_data_format()`, "channels_last" unless set otherwise.

    Input shape: `(batch, rows, cols, channels)`. Output shape: `(batch, rows + top + bottom,
    cols + left + right, channels)`.

    Example:
        >>> layer = ZeroPadding2D(((1, 0), (2, 1)))
    """

    _engine_kind = "pad_crop"

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        if isinstance(padding, (list, tuple)) and all(isinstance(p, int) for p in padding) \
                and len(padding) == 2:
            padding = ((padding[0], padding[0]), (padding[1], padding[1]))
        self.padding = _pairs(padding, "padding")

    def engine_attrs(self) -> dict:
        (t, b), (l, r) = self.padding
        return {"rank": 2, "borders": [t, b, l, r]}

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class Cropping2D(_Spatial):
    """Removes rows and columns at the borders of an image.

    Args:
        cropping: int, (symmetric_height, symmetric_width) or ((top, bottom), (left, right)).

    Example:
        >>> layer = Cropping2D(((2, 2), (4, 4)))
    """

    _engine_kind = "pad_crop"

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        if isinstance(cropping, (list, tuple)) and all(isinstance(p, int) for p in cropping) \
                and len(cropping) == 2:
            cropping = ((cropping[0], cropping[0]), (cropping[1], cropping[1]))
        self.cropping = _pairs(cropping, "cropping")

    def engine_attrs(self) -> dict:
        (t, b), (l, r) = self.cropping
        return {"rank": 2, "borders": [-t, -b, -l, -r]}

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class UpSampling2D(_Spatial):
    """Repeats rows and columns `size` times (nearest neighbour).

    Args:
        size: int or (rows_factor, cols_factor).
        interpolation: "nearest" (others raise NotImplementedError).

    Example:
        >>> layer = UpSampling2D(2)
    """

    _engine_kind = "up_sampling"

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = standardize_tuple(size, 2, "size")
        if interpolation not in ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"):
            raise ValueError(
                "`interpolation` argument should be one of: `\"nearest\"`, `\"bilinear\"`, "
                f"`\"bicubic\"`, `\"lanczos3\"`, `\"lanczos5\"` or `\"area\"`. "
                f"Received: interpolation={interpolation}"
            )
        if interpolation != "nearest":
            raise NotImplementedError(
                f"UpSampling2D supports interpolation='nearest' only. Received: "
                f"interpolation={interpolation}"
            )
        self.interpolation = interpolation

    def engine_attrs(self) -> dict:
        return {"rank": 2, "size": list(self.size)}

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format,
                       "interpolation": self.interpolation})
        return config


class ZeroPadding1D(Layer):
    """Adds zeros at the start and end of a sequence: `(batch, steps, channels)`.

    Example:
        >>> layer = ZeroPadding1D((1, 2))
    """

    _engine_kind = "pad_crop"

    def __init__(self, padding=1, **kwargs):
        Layer.__init__(self, **kwargs)
        self.padding = standardize_tuple(padding, 2, "padding", allow_zero=True)

    def engine_attrs(self) -> dict:
        return {"rank": 1, "borders": [0, 0, self.padding[0], self.padding[1]]}

    def get_config(self) -> dict:
        config = super().get_config()
        config["padding"] = self.padding
        return config


class Cropping1D(Layer):
    """Removes steps at the start and end of a sequence: `(batch, steps, channels)`.

    Example:
        >>> layer = Cropping1D((1, 1))
    """

    _engine_kind = "pad_crop"

    def __init__(self, cropping=(1, 1), **kwargs):
        Layer.__init__(self, **kwargs)
        self.cropping = standardize_tuple(cropping, 2, "cropping", allow_zero=True)

    def engine_attrs(self) -> dict:
        return {"rank": 1, "borders": [0, 0, -self.cropping[0], -self.cropping[1]]}

    def get_config(self) -> dict:
        config = super().get_config()
        config["cropping"] = self.cropping
        return config


class UpSampling1D(Layer):
    """Repeats each step `size` times: `(batch, steps, channels)` -> `(batch, steps * size, ...)`.

    Example:
        >>> layer = UpSampling1D(2)
    """

    _engine_kind = "up_sampling"

    def __init__(self, size=2, **kwargs):
        Layer.__init__(self, **kwargs)
        self.size = int(size)

    def engine_attrs(self) -> dict:
        return {"rank": 1, "size": [self.size]}

    def get_config(self) -> dict:
        config = super().get_config()
        config["size"] = self.size
        return config
