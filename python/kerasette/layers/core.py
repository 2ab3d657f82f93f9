"""Core layers: InputLayer/Input, Dense, Activation, Dropout, Identity, Flatten, Reshape."""

from __future__ import annotations

import numpy as np

from kerasette import activations, initializers, regularizers
from kerasette.config import image_data_format
from kerasette.layers.layer import KerasTensor, Layer, Node, normalize_shape


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value}")
    return int(value)


def _no_constraint(value, name: str) -> None:
    if value is not None:
        raise NotImplementedError(f"`{name}` is not supported by kerasette yet. Received: {name}={value}")


class InputLayer(Layer):
    """The entry point of a model: holds the input shape, computes nothing.

    Args:
        shape: per-sample shape (batch axis excluded).
        batch_size: optional fixed batch size.
        name: the layer's name.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, **kwargs):
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        kwargs.pop("ragged", None)
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise ValueError("kerasette does not support sparse inputs. Received: sparse=True")
        if batch_shape is None:
            batch_shape = batch_input_shape
        if batch_shape is not None:
            batch_shape = normalize_shape(batch_shape, "batch_shape")
        elif shape is not None:
            batch_shape = (batch_size,) + normalize_shape(shape, "shape")
        else:
            raise ValueError("You must pass a `shape` argument to `Input`.")
        if 0 in batch_shape[1:]:
            # Keras takes a zero size and crashes in its kernels when called; a sample of no
            # values has nothing to compute.
            raise ValueError(
                f"Expected every size of `shape` to be positive: a sample of 0 values has nothing "
                f"to compute. Received: shape={batch_shape[1:]}"
            )
        self._batch_input_shape = batch_shape
        self.batch_shape = batch_shape
        self.built = True
        self._inbound_nodes.append(
            Node(self, [], [KerasTensor(batch_shape, name=self.name, history=(self, 0, 0))]))

    def get_config(self) -> dict:
        return {
            "batch_input_shape": list(self.batch_shape),
            "dtype": "float32",
            "sparse": False,
            "ragged": False,
            "name": self.name,
        }


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False) -> KerasTensor:
    """Creates a symbolic input tensor for a model.

    Example:
        >>> x = kerasette.Input(shape=(784,))
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name)
    return layer.output


class KernelBiasLayer(Layer):
    """What Dense and the convolutions share: an activation, a bias switch, and initializers,
    regularizers and (unsupported) constraints for a kernel and a bias, in Keras's config keys."""

    def _set_kernel_bias_args(self, activation, use_bias, kernel_initializer, bias_initializer,
                              kernel_regularizer, bias_regularizer, activity_regularizer,
                              kernel_constraint, bias_constraint) -> None:
        # The function, as Keras keeps it (`layer.activation.__name__`); the engine gets its name.
        self.activation = activations.deserialize(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        _no_constraint(kernel_constraint, "kernel_constraint")
        _no_constraint(bias_constraint, "bias_constraint")
        self._initializers = {"kernel": self.kernel_initializer, "bias": self.bias_initializer}
        self._regularizers = {"kernel": self.kernel_regularizer, "bias": self.bias_regularizer}

    @property
    def kernel(self):
        return self.weights[0] if self.built else None

    @property
    def bias(self):
        return self.weights[1] if self.built and self.use_bias else None

    def _kernel_bias_config(self) -> dict:
        return {
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": None,
            "bias_constraint": None,
        }


class Dense(KernelBiasLayer):
    """Densely connected layer: `output = activation(dot(input, kernel) + bias)`.

    Args:
        units: dimensionality of the output space.
        activation: activation name or function (default: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers of the weights.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties added to the loss.

    Input shape: `(batch_size, ..., input_dim)`. Output shape: `(batch_size, ..., units)`.

    Example:
        >>> layer = Dense(32, activation="relu")
    """

    _engine_kind = "dense"

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        kwargs.pop("quantization_config", None)
        super().__init__(**kwargs)
        self.units = _positive_int(units, "units")
        self._set_kernel_bias_args(activation, use_bias, kernel_initializer, bias_initializer,
                                   kernel_regularizer, bias_regularizer, activity_regularizer,
                                   kernel_constraint, bias_constraint)
        if lora_rank:
            raise NotImplementedError("LoRA is not supported by kerasette. Received: lora_rank=...")

    def engine_attrs(self) -> dict:
        return {"units": self.units, "use_bias": self.use_bias,
                "activation": activations.serialize(self.activation)}

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, **self._kernel_bias_config()}


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: activation name (e.g. "relu") or one of `kerasette.activations`.

    Example:
        >>> layer = Activation("relu")
    """

    _keras_built_at_init = True

    _engine_kind = "activation"

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.deserialize(activation)

    def engine_attrs(self) -> dict:
        return {"activation": activations.serialize(self.activation)}

    def get_config(self) -> dict:
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Sets a fraction `rate` of inputs to 0 during training, scaling the rest by 1 / (1 - rate).

    The identity at inference. With a `seed` (or a global seed set by `set_random_seed`), masks are
    reproducible on any thread count.

    Args:
        rate: fraction of the input units to drop, in [0, 1).
        noise_shape: not supported (must be None).
        seed: integer seed of the mask.
    """

    _keras_built_at_init = True

    _engine_kind = "dropout"

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between 0 "
                f"and 1. Received: rate={rate}"
            )
        if noise_shape is not None:
            raise NotImplementedError("Dropout `noise_shape` is not supported by kerasette yet.")
        self.rate = float(rate)
        self.noise_shape = None
        self.seed = seed
        from kerasette import _random

        self._engine_seed = int(seed) if seed is not None else _random.next_seed()

    def engine_attrs(self) -> dict:
        return {"rate": self.rate, "seed": self._engine_seed}

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": None, "seed": self.seed})
        return config


class Identity(Layer):
    """Returns its input unchanged (a placeholder layer).

    Input shape: any. Output shape: the input shape.

    Example:
        >>> layer = Identity()
    """

    _engine_kind = "identity"
    _keras_built_at_init = True


class Flatten(Layer):
    """Flattens each sample to one axis (C order, as Keras does for channels_last).

    Input shape: `(batch, ...)`. Output shape: `(batch, product of the other axes)`.
    """

    _engine_fixes_input_shapes = True
    _engine_kind = "reshape"

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(
                "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                f"Received: data_format={data_format}"
            )
        self.data_format = data_format or image_data_format()

    def engine_attrs(self) -> dict:
        return {"target_shape": [-1]}

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (one entry may be -1).

    Example:
        >>> layer = Reshape((7, 7, 16))
    """

    _engine_fixes_input_shapes = True
    _keras_built_at_init = True

    _engine_kind = "reshape"

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(
            d < -1 or d == 0 for d in self.target_shape
        ):
            raise ValueError(
                "Expected `target_shape` to hold positive sizes and at most one -1. "
                f"Received: target_shape={target_shape}"
            )

    def engine_attrs(self) -> dict:
        return {"target_shape": list(self.target_shape)}

    def get_config(self) -> dict:
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config



class Permute(Layer):
    """Permutes the non-batch axes: `Permute((2, 1))` swaps the two axes of each sample.

    Args:
        dims: a permutation of 1..rank (axis 0 is the batch and never moves).

    Example:
        >>> layer = Permute((2, 1))  # (batch, 10, 64) -> (batch, 64, 10)
    """

    _engine_fixes_input_shapes = True
    _engine_kind = "permute"

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={dims}"
            )

    def engine_attrs(self) -> dict:
        return {"dims": [d - 1 for d in self.dims]}

    def get_config(self) -> dict:
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config
