"""Convolution layers: Conv1D and Conv2D, their transposes Conv1DTranspose and Conv2DTranspose,
and the argument checks shared with the pooling and reshaping layers (Keras's `standardize_tuple`,
`standardize_padding`, `standardize_data_format`, and its automatic layer names).

The engine computes in NHWC (channels_last); with `data_format="channels_first"` a layer wraps its
engine computation in two transposes (see `Layer.build`), so it takes and gives NCHW tensors.
"""

from __future__ import annotations

import numpy as np

from kerasette import activations
from kerasette.config import image_data_format
from kerasette.layers.core import KernelBiasLayer


def standardize_tuple(value, n: int, name: str, allow_zero: bool = False) -> tuple:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value),) * n
    else:
        try:
            out = tuple(value)
        except TypeError:
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
            ) from None
        if len(out) != n:
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
            )
        for v in out:
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(
                    f"The `{name}` argument must be a tuple of {n} integers. Received "
                    f"{name}={value} including element {v} of type {type(v)}"
                )
        out = tuple(int(v) for v in out)
    bad = {v for v in out if (v < 0 if allow_zero else v <= 0)}
    if bad:
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}, "
            f"including values {bad} that do not satisfy `value {req}`"
        )
    return out


def standardize_padding(value, allow_causal: bool = False) -> str:
    if isinstance(value, (list, tuple)):
        return value
    padding = value.lower() if isinstance(value, str) else value
    allowed = {"valid", "same"} | ({"causal"} if allow_causal else set())
    if padding not in allowed:
        raise ValueError(
            f"The `padding` argument must be a list/tuple or one of {allowed}. Received: {value}"
        )
    return padding


def standardize_data_format(data_format) -> str:
    if data_format is None:
        return image_data_format()
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def _set_window_args(layer, filters, kernel_size, strides, dilation_rate, data_format) -> None:
    """The arguments a convolution and a transposed convolution share, checked as Keras does."""
    n = layer.rank
    if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
        raise ValueError(
            "Invalid value for argument `filters`. Expected a strictly positive value. "
            f"Received filters={filters}."
        )
    layer.filters = int(filters)
    layer.kernel_size = standardize_tuple(kernel_size, n, "kernel_size")
    layer.strides = standardize_tuple(strides, n, "strides")
    layer.dilation_rate = standardize_tuple(dilation_rate, n, "dilation_rate")
    layer.data_format = standardize_data_format(data_format)
    if max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ValueError(
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
            f"Received: strides={layer.strides} and dilation_rate={layer.dilation_rate}"
        )


class BaseConv(KernelBiasLayer):
    """N-D convolution (cross-correlation) with Keras's arguments; see Conv1D and Conv2D."""

    rank = 2
    _engine_kind = "conv"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        kwargs.pop("lora_rank", None)
        super().__init__(**kwargs)
        _set_window_args(self, filters, kernel_size, strides, dilation_rate, data_format)
        self.padding = standardize_padding(padding, allow_causal=self.rank == 1)
        self.groups = int(groups)
        if self.groups <= 0:
            raise ValueError(
                "The number of groups must be a positive integer. "
                f"Received: groups={groups}."
            )
        if self.filters % self.groups != 0:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}."
            )
        self._set_kernel_bias_args(activation, use_bias, kernel_initializer, bias_initializer,
                                   kernel_regularizer, bias_regularizer, activity_regularizer,
                                   kernel_constraint, bias_constraint)

    def engine_attrs(self) -> dict:
        return {
            "rank": self.rank, "filters": self.filters, "kernel_size": list(self.kernel_size),
            "strides": list(self.strides), "dilation_rate": list(self.dilation_rate),
            "padding": self.padding, "groups": self.groups, "use_bias": self.use_bias,
            "activation": activations.serialize(self.activation),
        }

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            **self._kernel_bias_config(),
        }


class Conv2D(BaseConv):
    """2D convolution over images (NHWC): `activation(conv2d(inputs, kernel) + bias)`.

    Args:
        filters: number of output channels.
        kernel_size: int or (height, width) of the window.
        strides: int or (sh, sw); `> 1` cannot be combined with `dilation_rate > 1`.
        padding: "valid" or "same" (TensorFlow's rule: the odd padded row/col goes after).
        data_format: "channels_last" or "channels_first"; None (default) means
            `kerasette.config.image_data_format()`, "channels_last" unless set otherwise.
        dilation_rate: int or (dh, dw).
        groups: input and output channels split into this many independent groups.
        activation, use_bias, *_initializer, *_regularizer: as in Dense.

    Input shape: `(batch, rows, cols, channels)`.
    Output shape: `(batch, new_rows, new_cols, filters)`. The kernel is (kh, kw, cin / groups,
    filters), as Keras stores it.

    Example:
        >>> layer = Conv2D(32, 3, activation="relu")
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv1D(BaseConv):
    """1D convolution over sequences (batch, steps, channels); padding may also be "causal".

    Example:
        >>> layer = Conv1D(16, 5, padding="causal")
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class BaseConvTranspose(KernelBiasLayer):
    """N-D transposed convolution with Keras's arguments; see Conv1DTranspose and Conv2DTranspose.

    The engine runs it as the adjoint of a convolution (`conv_transpose` in cpp/nn): the forward
    pass is that convolution's input gradient, so the kernel is (*kernel_size, filters, channels),
    the last two axes swapped relative to Conv.
    """

    rank = 2
    _engine_kind = "conv_transpose"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        n = self.rank
        _set_window_args(self, filters, kernel_size, strides, dilation_rate, data_format)
        self.padding = standardize_padding(padding)
        if isinstance(self.padding, (list, tuple)):
            raise ValueError(
                "The `padding` argument must be one of 'valid', 'same'. "
                f"Received: padding={padding}"
            )
        self.output_padding = (
            None if output_padding is None
            else standardize_tuple(output_padding, n, "output_padding", allow_zero=True)
        )  # fmt: skip
        if self.output_padding is not None:
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides)):
                if op >= s:
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides` for all "
                        f"dimensions. At dimension {i}, `output_padding` is {op} but `strides` "
                        f"is {s}. Received: output_padding={self.output_padding}, "
                        f"strides={self.strides}"
                    )
        self._set_kernel_bias_args(activation, use_bias, kernel_initializer, bias_initializer,
                                   kernel_regularizer, bias_regularizer, activity_regularizer,
                                   kernel_constraint, bias_constraint)

    def engine_attrs(self) -> dict:
        return {
            "rank": self.rank, "filters": self.filters, "kernel_size": list(self.kernel_size),
            "strides": list(self.strides), "dilation_rate": list(self.dilation_rate),
            "padding": self.padding, "use_bias": self.use_bias,
            # -1: no output_padding, Keras's default output length
            "output_padding": list(self.output_padding or (-1,) * self.rank),
            "activation": activations.serialize(self.activation),
        }

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            **self._kernel_bias_config(),
        }


class Conv2DTranspose(BaseConvTranspose):
    """2D transposed convolution ("deconvolution"), the adjoint of Conv2D: upsamples images.

    Args:
        filters: number of output channels.
        kernel_size: int or (height, width) of the window.
        strides: int or (sh, sw); `> 1` cannot be combined with `dilation_rate > 1`.
        padding: "valid" or "same".
        output_padding: None, or an int or (ph, pw), each less than its stride: the output
            length becomes `(n - 1) * s + k + p` ("valid") or `(n - 1) * s + k % 2 + p`
            ("same"); None gives `(n - 1) * s + max(k, s)` ("valid") or `n * s` ("same").
        data_format: "channels_last" or "channels_first"; None (default) means
            `kerasette.config.image_data_format()`.
        dilation_rate: int or (dh, dw).
        activation, use_bias, *_initializer, *_regularizer: as in Dense.

    Input shape: `(batch, rows, cols, channels)`.
    Output shape: `(batch, new_rows, new_cols, filters)`. The kernel is (kh, kw, filters,
    channels), as Keras stores it.

    Example:
        >>> layer = Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv1DTranspose(BaseConvTranspose):
    """1D transposed convolution over sequences (batch, steps, channels); see Conv2DTranspose.

    Example:
        >>> layer = Conv1DTranspose(16, 4, strides=2, padding="same")
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
