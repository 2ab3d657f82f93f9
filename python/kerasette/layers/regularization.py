"""Regularization layers besides Dropout: GaussianNoise, GaussianDropout, SpatialDropout1D/2D and
ActivityRegularization.

Each is the identity at inference. The noise layers draw from the engine's counter-based
generator in training, from a seed of their own (the `seed` argument, else one drawn from the
global seed), so they repeat on any thread count.
"""

from __future__ import annotations

import numbers

from kerasette import _random, regularizers
from kerasette.layers.convolutional import standardize_data_format
from kerasette.layers.layer import Layer


def _fraction(value, name: str) -> float:
    """A float in [0, 1] (NumPy scalars included), with Keras's message otherwise: a TypeError
    for a value that is not a number (Keras's comparison fails there), a ValueError for one out
    of range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"Expected `{name}` to be a float value between 0 and 1. Received: {name}={value!r}"
        )
    if not 0 <= value <= 1:
        raise ValueError(
            f"Invalid value received for argument `{name}`. Expected a float value between 0 "
            f"and 1. Received: {name}={value}"
        )
    return float(value)


class _SeededNoise(Layer):
    """A layer that draws random numbers in training, from its `seed` (the engine's: drawn from
    the global seed when None), with one strength argument in [0, 1] named `_strength`."""

    _keras_built_at_init = True
    _strength = "rate"

    def _set_noise(self, strength, seed) -> None:
        setattr(self, self._strength, _fraction(strength, self._strength))
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed}")
        self.seed = seed
        self._engine_seed = int(seed) if seed is not None else _random.next_seed()

    def engine_attrs(self) -> dict:
        return {self._strength: getattr(self, self._strength), "seed": self._engine_seed}

    def get_config(self) -> dict:
        return {**super().get_config(), self._strength: getattr(self, self._strength),
                "seed": self.seed}


class GaussianNoise(_SeededNoise):
    """Adds zero-centered Gaussian noise in training: `x + N(0, stddev)`.

    Args:
        stddev: standard deviation of the noise, in [0, 1].
        seed: integer seed of the noise.

    Input shape: any. Output shape: the input shape.

    Example:
        >>> layer = GaussianNoise(0.1)
    """

    _engine_kind = "gaussian_noise"
    _strength = "stddev"

    def __init__(self, stddev: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self._set_noise(stddev, seed)


class GaussianDropout(_SeededNoise):
    """Multiplies inputs by Gaussian noise of mean 1 in training:
    `x * N(1, sqrt(rate / (1 - rate)))`.

    Args:
        rate: drop probability of the equivalent Dropout, in [0, 1].
        seed: integer seed of the noise.

    Input shape: any. Output shape: the input shape.

    Example:
        >>> layer = GaussianDropout(0.2)
    """

    _engine_kind = "gaussian_dropout"

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self._set_noise(rate, seed)


class _SpatialDropout(_SeededNoise):
    """Dropout of whole channels: one keep/drop draw per (sample, channel), kept channels scaled
    by 1 / (1 - rate)."""

    _engine_kind = "spatial_dropout"
    _rank = 3

    def __init__(self, rate: float, seed: int | None = None, name=None, dtype=None, **kwargs):
        # Keras 3 takes no other arguments; **kwargs reads Keras 2 configs (`trainable`, and
        # `noise_shape`, always None there: the layer derives it).
        kwargs.pop("noise_shape", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        self._set_noise(rate, seed)

    def build(self, input_shape) -> None:
        if len(input_shape) != self._rank:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim={self._rank}, found ndim={len(input_shape)}. Full shape received: "
                f"{tuple(input_shape)}"
            )
        super().build(input_shape)

    def get_config(self) -> dict:
        # Keras's spatial dropouts take no `trainable` (their constructors have no **kwargs).
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": "float32"}


class SpatialDropout1D(_SpatialDropout):
    """Drops whole 1D feature maps (channels) in training.

    Args:
        rate: fraction of the channels to drop, in [0, 1].
        seed: integer seed of the mask.

    Input shape: `(samples, timesteps, channels)`. Output shape: the input shape.

    Example:
        >>> layer = SpatialDropout1D(0.2)
    """


class SpatialDropout2D(_SpatialDropout):
    """Drops whole 2D feature maps (channels) in training.

    Args:
        rate: fraction of the channels to drop, in [0, 1].
        data_format: "channels_last" (default from the config) or "channels_first".
        seed: integer seed of the mask.

    Input shape: `(samples, rows, cols, channels)` (channels_last) or
    `(samples, channels, rows, cols)`. Output shape: the input shape.

    Example:
        >>> layer = SpatialDropout2D(0.2)
    """

    _rank = 4

    def __init__(self, rate: float, data_format=None, seed: int | None = None, name=None,
                 dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.data_format = standardize_data_format(data_format)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class ActivityRegularization(Layer):
    """The identity, adding `l1 * sum(|x|) + l2 * sum(x^2)` (per sample) to the training loss.

    Args:
        l1: L1 factor, non-negative (None: 0).
        l2: L2 factor, non-negative (None: 0).

    Input shape: any. Output shape: the input shape.

    Example:
        >>> layer = ActivityRegularization(l2=1e-3)
    """

    _engine_kind = "identity"
    _keras_built_at_init = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        # L1L2 checks the factors (finite, non-negative) and reads None as 0, as Keras; the
        # config keeps None as given.
        self.activity_regularizer = regularizers.L1L2(l1=l1, l2=l2)
        self.l1 = None if l1 is None else self.activity_regularizer.l1
        self.l2 = None if l2 is None else self.activity_regularizer.l2

    def get_config(self) -> dict:
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
