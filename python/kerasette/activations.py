"""Activation functions: NumPy references of the ones the compiled engine runs, and name lookup.

Layers never call these functions during training: they hand the engine an activation *name*
(`serialize(activation)`), and the engine runs its own kernel. The NumPy versions here follow
Keras 3's formulas and serve as references in tests and for users who want to apply one to an
array.
"""

from __future__ import annotations

import math
from typing import Callable, Union

import numpy as np

from kerasette.saving.serialization import could_not_interpret

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def _erf(x: np.ndarray) -> np.ndarray:
    # NumPy has no erf. Abramowitz & Stegun 7.1.26: absolute error below 1.5e-7, under float32's
    # resolution near 1, so gelu matches an exact-erf implementation to float32 rounding.
    x64 = np.asarray(x, dtype=np.float64)
    sign = np.sign(x64)
    a = np.abs(x64)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                       + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def linear(x) -> np.ndarray:
    """Identity: `linear(x) = x`.

    Args:
        x: Input array.

    Example:
        >>> linear([1.0, -2.0])
        array([ 1., -2.], dtype=float32)
    """
    return _f32(x)


def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0):
    """Rectified linear unit: `max(x, 0)`, with Keras 3's optional slope, cap and threshold.

    Args:
        x: Input array.
        negative_slope: Slope for values below `threshold`.
        max_value: Upper cap of the output, or `None`.
        threshold: Values below it are damped (or zeroed).

    Example:
        >>> relu([-1.0, 2.0])
        array([0., 2.], dtype=float32)
    """
    x = _f32(x)
    below = np.float32(negative_slope) * (x - np.float32(threshold)) + np.float32(0.0)
    above = x if max_value is None else np.minimum(x, np.float32(max_value))
    # Keras: where(x > threshold, x, 0), so x == threshold gives 0, not threshold.
    return np.where(x > threshold, above, below).astype(np.float32)


def sigmoid(x) -> np.ndarray:
    """Logistic sigmoid `1 / (1 + exp(-x))`, without overflow for large `|x|`.

    Args:
        x: Input array.

    Example:
        >>> sigmoid([0.0])
        array([0.5], dtype=float32)
    """
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -x)).astype(np.float32)


def tanh(x) -> np.ndarray:
    """Hyperbolic tangent.

    Args:
        x: Input array.

    Example:
        >>> tanh([0.0])
        array([0.], dtype=float32)
    """
    return np.tanh(_f32(x))


def softmax(x, axis: int = -1) -> np.ndarray:
    """Softmax along `axis`, shifted by the maximum so that `exp` never overflows.

    Args:
        x: Input array.
        axis: The axis that sums to one.

    Example:
        >>> softmax([[0.0, 0.0]])
        array([[0.5, 0.5]], dtype=float32)
    """
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(np.float32)


def elu(x, alpha: float = 1.0) -> np.ndarray:
    """Exponential linear unit: `x` if `x > 0` else `alpha * (exp(x) - 1)`.

    Args:
        x: Input array.
        alpha: Scale of the negative part.

    Example:
        >>> elu([1.0])
        array([1.], dtype=float32)
    """
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))).astype(np.float32)


def selu(x) -> np.ndarray:
    """Scaled ELU: `scale * elu(x, alpha)` with Keras's constants (1.0507..., 1.6732...).

    Args:
        x: Input array.

    Example:
        >>> selu([0.0])
        array([0.], dtype=float32)
    """
    return (_SELU_SCALE * elu(x, _SELU_ALPHA).astype(np.float64)).astype(np.float32)


def leaky_relu(x, negative_slope: float = 0.2) -> np.ndarray:
    """Leaky ReLU: `x` if `x >= 0` else `negative_slope * x`.

    Args:
        x: Input array.
        negative_slope: Slope of the negative part.

    Example:
        >>> leaky_relu([-1.0])
        array([-0.2], dtype=float32)
    """
    x = _f32(x)
    return np.where(x >= 0, x, np.float32(negative_slope) * x).astype(np.float32)


def softplus(x) -> np.ndarray:
    """Softplus `log(1 + exp(x))`, computed as `logaddexp(0, x)` so it never overflows.

    Args:
        x: Input array.

    Example:
        >>> softplus([0.0])
        array([0.6931472], dtype=float32)
    """
    return np.logaddexp(0.0, np.asarray(x, dtype=np.float64)).astype(np.float32)


def softsign(x) -> np.ndarray:
    """Softsign `x / (1 + |x|)`.

    Args:
        x: Input array.

    Example:
        >>> softsign([1.0])
        array([0.5], dtype=float32)
    """
    x = _f32(x)
    return x / (np.float32(1.0) + np.abs(x))


def silu(x) -> np.ndarray:
    """Swish / SiLU: `x * sigmoid(x)`.

    Args:
        x: Input array.

    Example:
        >>> silu([0.0])
        array([0.], dtype=float32)
    """
    x = _f32(x)
    return x * sigmoid(x)


swish = silu


def gelu(x, approximate: bool = False) -> np.ndarray:
    """Gaussian error linear unit: `0.5 * x * (1 + erf(x / sqrt(2)))`, or Keras's tanh form.

    Args:
        x: Input array.
        approximate: Use `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))`.

    Example:
        >>> gelu([0.0])
        array([0.], dtype=float32)
    """
    x = np.asarray(x, dtype=np.float64)
    if approximate:
        y = 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    else:
        y = 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    return y.astype(np.float32)


def hard_sigmoid(x) -> np.ndarray:
    """Keras 3's hard sigmoid `clip(x / 6 + 0.5, 0, 1)` (Keras 2 used `0.2 * x + 0.5`).

    Args:
        x: Input array.

    Example:
        >>> hard_sigmoid([0.0, 3.0])
        array([0.5, 1. ], dtype=float32)
    """
    x = _f32(x)
    return np.clip(x / np.float32(6.0) + np.float32(0.5), 0.0, 1.0).astype(np.float32)


def hard_silu(x) -> np.ndarray:
    """Hard swish / hard SiLU: `x * hard_sigmoid(x)`.

    Args:
        x: Input array.

    Example:
        >>> hard_silu([3.0])
        array([3.], dtype=float32)
    """
    x = _f32(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def exponential(x) -> np.ndarray:
    """Exponential `exp(x)`.

    Args:
        x: Input array.

    Example:
        >>> exponential([0.0])
        array([1.], dtype=float32)
    """
    return np.exp(_f32(x))


def relu6(x) -> np.ndarray:
    """ReLU capped at 6: `min(max(x, 0), 6)`.

    Args:
        x: Input array.

    Example:
        >>> relu6([7.0])
        array([6.], dtype=float32)
    """
    return np.clip(_f32(x), 0.0, 6.0).astype(np.float32)


def mish(x) -> np.ndarray:
    """Mish: `x * tanh(softplus(x))`.

    Args:
        x: Input array.

    Example:
        >>> mish([0.0])
        array([0.], dtype=float32)
    """
    x64 = np.asarray(x, dtype=np.float64)
    return (x64 * np.tanh(np.logaddexp(0.0, x64))).astype(np.float32)


# Canonical name -> function. Names are the ones the engine knows and the ones Keras writes in
# configs; `swish`/`hard_swish` rather than Keras 3's `silu`/`hard_silu` because Keras 2 (which must
# read our files too) knows only those.
_FUNCTIONS: dict[str, Callable] = {
    "linear": linear,
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "elu": elu,
    "selu": selu,
    "leaky_relu": leaky_relu,
    "softplus": softplus,
    "softsign": softsign,
    "swish": silu,
    "gelu": gelu,
    "hard_sigmoid": hard_sigmoid,
    "exponential": exponential,
    "relu6": relu6,
    "mish": mish,
    "hard_swish": hard_silu,
}
_ALIASES = {"silu": "swish", "hard_silu": "hard_swish"}
_NAME_OF_FUNCTION = {id(fn): name for name, fn in _FUNCTIONS.items()}


def _valid_names() -> list[str]:
    return sorted(set(_FUNCTIONS) | set(_ALIASES))


def get(identifier: Union[str, Callable, None]) -> Callable:
    """Returns the activation function, as Keras does.

    Args:
        identifier: `None` (meaning "linear"), a name such as `"relu"` or `"silu"`, one of this
            module's functions, or Keras 3's `{"class_name": "function", "config": "relu"}`.

    Example:
        >>> get("relu") is relu, get(None).__name__
        (True, 'linear')
    """
    return _FUNCTIONS[_canonical_name(identifier)]


def _canonical_name(identifier: Union[str, Callable, None]) -> str:
    """The canonical name the engine runs and configs hold: `"swish"` for `"silu"` or `silu`."""
    if identifier is None:
        return "linear"
    if isinstance(identifier, dict):
        # Keras 3 can write functions as {"class_name": "function", "config": "relu", ...}.
        identifier = identifier.get("config")
    if isinstance(identifier, str):
        name = _ALIASES.get(identifier, identifier)
        if name not in _FUNCTIONS:
            raise could_not_interpret("activation function", identifier, _valid_names())
        return name
    if callable(identifier):
        name = _NAME_OF_FUNCTION.get(id(identifier))
        if name is not None:
            return name
        raise ValueError(
            "Custom Python activations cannot run in kerasette's compiled engine. Expected the "
            f"name of a built-in activation, one of {_valid_names()}, or one of the functions "
            f"in `kerasette.activations`. Received: activation={identifier!r}"
        )
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")


def serialize(activation: Union[str, Callable, None]) -> str:
    """Returns the name written in configs for an activation.

    Args:
        activation: A name, one of this module's functions, or `None`.

    Example:
        >>> serialize(relu)
        'relu'
    """
    return _canonical_name(activation)


def deserialize(config: Union[str, dict], custom_objects: dict | None = None) -> Callable:
    """Returns this module's function for an activation name from a config.

    Args:
        config: A name (`"relu"`) or Keras 3's `{"class_name": "function", "config": "relu"}`.
        custom_objects: Accepted for Keras compatibility; custom activations cannot run in the
            engine, so only built-in names resolve.

    Example:
        >>> deserialize("relu") is relu
        True
    """
    return get(config)
