"""Activation layers with a parameter: ReLU, LeakyReLU, ELU, Softmax."""

from __future__ import annotations

from kerasette.layers.layer import Layer


def _number(value, name: str, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
        minimum is not None and value < minimum
    ):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ValueError(f"Expected `{name}` to be a number{bound}. Received: {name}={value}")
    return float(value)


class ReLU(Layer):
    """Rectified linear unit with optional cap, slope and threshold (Keras's ReLU layer).

    `f(x) = min(x, max_value) if x > threshold else negative_slope * (x - threshold)`.
    """

    _keras_built_at_init = True

    _engine_kind = "relu"

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _number(max_value, "max_value", 0.0)
        self.negative_slope = _number(negative_slope, "negative_slope", 0.0)
        self.threshold = _number(threshold, "threshold", 0.0)

    def engine_attrs(self) -> dict:
        attrs = {"negative_slope": self.negative_slope, "threshold": self.threshold}
        if self.max_value is not None:
            attrs["max_value"] = self.max_value
        return attrs

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(Layer):
    """`f(x) = x if x >= 0 else negative_slope * x` (Keras 2 called the slope `alpha`)."""

    _keras_built_at_init = True

    _engine_kind = "activation"

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2 spelling
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _number(negative_slope, "negative_slope", 0.0)

    def engine_attrs(self) -> dict:
        return {"activation": "leaky_relu", "alpha": self.negative_slope}

    def get_config(self) -> dict:
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ELU(Layer):
    """`f(x) = x if x > 0 else alpha * (exp(x) - 1)`."""

    _keras_built_at_init = True

    _engine_kind = "activation"

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _number(alpha, "alpha")

    def engine_attrs(self) -> dict:
        return {"activation": "elu", "alpha": self.alpha}

    def get_config(self) -> dict:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class Softmax(Layer):
    """Softmax over the last axis."""

    _keras_built_at_init = True

    _engine_kind = "activation"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1,) and not isinstance(axis, int):
            raise ValueError(f"Expected `axis` to be an integer. Received: axis={axis}")
        self.axis = axis

    def build(self, input_shape) -> None:
        rank = len(input_shape)
        if self.axis not in (-1, rank - 1):
            raise NotImplementedError(
                f"Softmax over an axis other than the last is not supported yet. "
                f"Received: axis={self.axis}"
            )
        super().build(input_shape)

    def engine_attrs(self) -> dict:
        return {"activation": "softmax"}

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config
