"""Merge layers: combine several tensors into one (functional models)."""

from __future__ import annotations

from kerasette.layers.layer import Layer


class _Merge(Layer):
    _engine_kind = "merge"
    _op = "add"

    def engine_attrs(self) -> dict:
        return {"op": self._op}

    def build(self, input_shape) -> None:
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(
                input_shape[0], (list, tuple)):
            raise ValueError(
                f"A merge layer should be called on a list of inputs. Received: "
                f"input_shape={input_shape} (not a list of shapes)"
            )
        super().build(input_shape)


class Add(_Merge):
    """Adds a list of inputs of the same shape. Example: `Add()([x1, x2])`."""

    _op = "add"


class Subtract(_Merge):
    """Subtracts two inputs: `Subtract()([x1, x2])` is `x1 - x2`."""

    _op = "subtract"


class Multiply(_Merge):
    """Multiplies a list of inputs elementwise."""

    _op = "multiply"


class Average(_Merge):
    """Averages a list of inputs elementwise."""

    _op = "average"


class Maximum(_Merge):
    """Elementwise maximum of a list of inputs."""

    _op = "maximum"


class Minimum(_Merge):
    """Elementwise minimum of a list of inputs."""

    _op = "minimum"


class Concatenate(Layer):
    """Concatenates a list of inputs along `axis` (all other axes must match).

    Example:
        >>> merged = Concatenate(axis=-1)([branch_a, branch_b])
    """

    _engine_fixes_input_shapes = True
    _engine_kind = "concatenate"

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def engine_attrs(self) -> dict:
        return {"axis": self.axis}

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(Layer):
    """Dot product of two (batch, features) inputs along the features axis: (batch, 1)."""

    _engine_kind = "dot"

    def __init__(self, axes=-1, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        axes_list = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
        if any(a not in (1, -1) for a in axes_list):
            raise NotImplementedError(
                f"Dot supports only the feature axis of 2-D inputs. Received: axes={axes}")
        if normalize:
            raise NotImplementedError("Dot(normalize=True) is not supported yet.")
        self.axes = axes
        self.normalize = False

    def engine_attrs(self) -> dict:
        return {"normalize": self.normalize}

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
