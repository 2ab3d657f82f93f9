"""BatchNormalization over the last axis (channels_last feature maps and Dense features) or over
axis 1 (channels_first feature maps), and LayerNormalization over trailing axes of each sample."""

from __future__ import annotations

import numbers

import numpy as np

from kerasette import initializers, regularizers
from kerasette.layers.core import _no_constraint
from kerasette.layers.layer import Layer


class BatchNormalization(Layer):
    """Normalizes each channel: `gamma * (x - mean) / sqrt(var + epsilon) + beta`.

    In a training step, mean and (biased) variance come from the batch (over every axis but the
    last) and the moving statistics are updated as `moving * momentum + batch * (1 - momentum)`;
    in predict/evaluate, and whenever `trainable` is False (as Keras does), the moving statistics
    are used.

    Args:
        axis: the channel axis: the last one (-1, or its positive index) or 1.
        momentum: moving-average momentum.
        epsilon: added to the variance.
        center, scale: whether to learn `beta` / `gamma`.
        *_initializer, *_regularizer: as in Keras.

    Input shape: any. Output shape: the input shape.
    Weights, in Keras's order: gamma, beta, moving_mean, moving_variance.

    Example:
        >>> layer = BatchNormalization()
    """

    _engine_kind = "batch_normalization"

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        renorm = kwargs.pop("renorm", False)
        for key in ("renorm_clipping", "renorm_momentum", "fused", "virtual_batch_size",
                    "adjustment"):
            kwargs.pop(key, None)
        if renorm:
            raise NotImplementedError("BatchNormalization `renorm` is not supported by kerasette.")
        Layer.__init__(self, **kwargs)
        if isinstance(axis, (list, tuple)):  # Keras 2 writes the resolved axis as a list
            if len(axis) != 1:
                raise NotImplementedError(
                    f"BatchNormalization over several axes is not supported. Received: axis={axis}"
                )
            axis = axis[0]
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.synchronized = bool(synchronized)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        _no_constraint(beta_constraint, "beta_constraint")
        _no_constraint(gamma_constraint, "gamma_constraint")
        self._initializers = {
            "gamma": self.gamma_initializer, "beta": self.beta_initializer,
            "moving_mean": self.moving_mean_initializer,
            "moving_variance": self.moving_variance_initializer,
        }
        self._regularizers = {"gamma": self.gamma_regularizer, "beta": self.beta_regularizer}

    def build(self, input_shape) -> None:
        shapes = input_shape if isinstance(input_shape, list) and input_shape and isinstance(
            input_shape[0], (list, tuple)) else [input_shape]
        rank = len(shapes[0])
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Invalid value for `axis` argument. Expected 0 <= axis < inputs.rank (with "
                f"inputs.rank={rank}). Received: axis={self.axis}"
            )
        # The engine normalizes the last axis; axis 1 of a feature map (Keras's channels_first
        # BatchNormalization) is moved last and back around it, as channels_first convolutions.
        self._axis_first = rank > 2 and self.axis % rank == 1
        if self.axis % rank != rank - 1 and not self._axis_first:
            raise NotImplementedError(
                f"Layer '{self.name}': kerasette normalizes over the last axis or axis 1 only. "
                f"Received: axis={self.axis} for an input of rank {rank}."
            )
        super().build(input_shape)

    def _channels_first(self) -> bool:
        return getattr(self, "_axis_first", False)

    def engine_attrs(self) -> dict:
        return {"momentum": self.momentum, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale}

    @property
    def gamma(self):
        return self._named("gamma")

    @property
    def beta(self):
        return self._named("beta")

    @property
    def moving_mean(self):
        return self._named("moving_mean")

    @property
    def moving_variance(self):
        return self._named("moving_variance")

    def _named(self, name: str):
        for w in self.weights:
            if w.name == name:
                return w
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": None,
            "gamma_constraint": None,
            "synchronized": self.synchronized,
        })
        return config


def _trailing_axes(layer_name: str, axis, rank: int, what: str) -> int:
    """How many trailing axes `axis` (an int or a list) names; they must end the shape."""
    axes = [axis] if isinstance(axis, int) else list(axis)
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(
                f"Axis {a} is out of bounds for input shape of rank {rank}. Received: axis={axis}"
            )
    resolved = sorted({a % rank for a in axes})
    if not resolved or 0 in resolved or resolved != list(range(rank - len(resolved), rank)):
        raise NotImplementedError(
            f"Layer '{layer_name}': kerasette's {what} works over trailing non-batch axes only "
            f"(e.g. axis=-1). Received: axis={axis} for an input of rank {rank}."
        )
    return len(resolved)


class LayerNormalization(Layer):
    """Normalizes each sample over `axis`: `gamma * (x - mean) / sqrt(var + epsilon) + beta`.

    Mean and (biased) variance are computed per sample over the normalized axes, in training and
    inference alike.

    Args:
        axis: the axis or list of axes to normalize over (trailing axes in kerasette).
        epsilon: added to the variance.
        center, scale: whether to learn `beta` / `gamma`.
        *_initializer, *_regularizer: as in Keras.

    Input shape: any. Output shape: the input shape.
    Weights: gamma, beta, each of the normalized axes' shape.

    Example:
        >>> layer = LayerNormalization(axis=-1)
    """

    _engine_kind = "layer_normalization"

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        rms_scaling = kwargs.pop("rms_scaling", False)
        Layer.__init__(self, **kwargs)
        if rms_scaling:
            raise NotImplementedError(
                "LayerNormalization `rms_scaling` is not supported by kerasette. "
                "Received: rms_scaling=True"
            )
        if isinstance(axis, (list, tuple)):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise TypeError(
                "Expected an int or a list/tuple of ints for the argument 'axis', but received: "
                f"{axis!r}"
            )
        # Keras takes any value here and fails (or returns NaN) later; 0 is valid (configs may
        # hold it).
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon >= 0:
            raise ValueError(
                f"Expected `epsilon` to be a non-negative float. Received: epsilon={epsilon!r}"
            )
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = False
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        _no_constraint(beta_constraint, "beta_constraint")
        _no_constraint(gamma_constraint, "gamma_constraint")
        self._initializers = {"gamma": self.gamma_initializer, "beta": self.beta_initializer}
        self._regularizers = {"gamma": self.gamma_regularizer, "beta": self.beta_regularizer}

    def build(self, input_shape) -> None:
        self._axes = _trailing_axes(self.name, self.axis, len(input_shape), "LayerNormalization")
        # As Keras's build: the axes become a sorted list (`-1` -> `[-1]`), which get_config
        # then returns.
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        super().build(input_shape)

    def engine_attrs(self) -> dict:
        return {"axes": self._axes, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale}

    @property
    def gamma(self):
        return next((w for w in self.weights if w.name == "gamma"), None)

    @property
    def beta(self):
        return next((w for w in self.weights if w.name == "beta"), None)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": None,
            "gamma_constraint": None,
        })
        return config
