"""Pooling layers: Max/AveragePooling1D/2D and GlobalMax/GlobalAveragePooling1D/2D (NHWC).

Keras semantics: "same" padding follows TensorFlow (the odd padded row/col goes after), padded
cells never win a max, and "same" average pooling leaves padded cells out of the divisor.
"""

from __future__ import annotations

from kerasette.layers.convolutional import (
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)
from kerasette.layers.layer import Layer


class BasePooling(Layer):
    rank = 2
    _keras_built_at_init = True
    _engine_kind: str | None = None

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        Layer.__init__(self, **kwargs)
        n = self.rank
        self.pool_size = standardize_tuple(pool_size, n, "pool_size")
        strides = pool_size if strides is None else strides
        # Keras accepts `strides=0` here and fails on a division by zero when called; the
        # engine's output-size formula divides by it too, so it is refused up front.
        self.strides = standardize_tuple(strides, n, "strides")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)

    def engine_attrs(self) -> dict:
        return {"rank": self.rank, "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding}

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding,
                       "strides": self.strides, "data_format": self.data_format})
        return config


class MaxPooling2D(BasePooling):
    """Max pooling over spatial windows.

    Args:
        pool_size: int or (ph, pw) window size.
        strides: int or (sh, sw); None means `pool_size`.
        padding: "valid" or "same".
        data_format: "channels_last" or "channels_first"; None (default) means
            `kerasette.config.image_data_format()`, "channels_last" unless set otherwise.

    Input shape: `(batch, rows, cols, channels)`. Output shape: `(batch, pooled_rows,
    pooled_cols, channels)`.

    Example:
        >>> layer = MaxPooling2D(2)
    """

    _engine_kind = "max_pooling"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling2D(BasePooling):
    """Average pooling over spatial windows ("same": padded cells left out of the divisor).

    Example:
        >>> layer = AveragePooling2D(3, strides=2, padding="same")
    """

    _engine_kind = "average_pooling"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling1D(BasePooling):
    """Max pooling over steps: `(batch, steps, channels)`.

    Example:
        >>> layer = MaxPooling1D(2)
    """

    rank = 1
    _engine_kind = "max_pooling"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(BasePooling):
    """Average pooling over steps: `(batch, steps, channels)`.

    Example:
        >>> layer = AveragePooling1D(2)
    """

    rank = 1
    _engine_kind = "average_pooling"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class BaseGlobalPooling(Layer):
    rank = 2
    _keras_built_at_init = True
    _engine_kind: str | None = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        Layer.__init__(self, **kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = bool(keepdims)

    def build(self, input_shape) -> None:
        shape = tuple(input_shape)
        if len(shape) != self.rank + 2:
            raise ValueError(
                f"Input {0} of layer \"{self.name}\" is incompatible with the layer: expected "
                f"ndim={self.rank + 2}, found ndim={len(shape)}. Full shape received: {shape}"
            )
        super().build(input_shape)

    def engine_attrs(self) -> dict:
        return {"keepdims": self.keepdims}

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over rows and columns: `(batch, rows, cols, channels)` -> `(batch, channels)`, or
    `(batch, 1, 1, channels)` with `keepdims=True`.

    Example:
        >>> layer = GlobalAveragePooling2D()
    """

    _engine_kind = "global_average_pooling"


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Max over rows and columns: `(batch, rows, cols, channels)` -> `(batch, channels)`.

    Example:
        >>> layer = GlobalMaxPooling2D(keepdims=True)
    """

    _engine_kind = "global_max_pooling"


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over steps: `(batch, steps, channels)` -> `(batch, channels)`.

    Example:
        >>> layer = GlobalAveragePooling1D()
    """

    rank = 1
    _engine_kind = "global_average_pooling"


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Max over steps: `(batch, steps, channels)` -> `(batch, channels)`.

    Example:
        >>> layer = GlobalMaxPooling1D()
    """

    rank = 1
    _engine_kind = "global_max_pooling"
