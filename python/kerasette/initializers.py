"""Weight initializers with Keras 3's names, defaults and formulas.

Every random number comes from the engine's counter-based generator (`_engine.random_*`), indexed
by a seed and a stream. An initializer built with `seed=None` draws a fresh seed from
`kerasette._random.next_seed()` at each call, so `kerasette.utils.set_random_seed` makes whole runs
reproducible; one built with an int seed returns the same values at every call, as in Keras.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Union

import numpy as np

from kerasette import _engine, _random
from kerasette.saving.serialization import (
    UnknownObjectError, could_not_interpret, deserialize_keras_object,
    serialize_keras_object)

# Keras divides the truncated-normal stddev by the stddev of a unit normal truncated to [-2, 2], so
# that the values drawn have the variance asked for.
_TRUNCATED_NORMAL_STDDEV = 0.87962566103423978
_MAX_SEED = 2**63

# One stream per initializer call: the seed already tells calls apart.
_STREAM = 0


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Keras's fan-in and fan-out of a weight shape.

    Rank 1: both are the one dim. Rank 2 `(in, out)`. Rank >= 3 (conv kernels `(kh, kw, in, out)`):
    `in * receptive_field` and `out * receptive_field`, the receptive field being the product of
    all but the last two dims.

    Args:
        shape: The weight shape.

    Example:
        >>> compute_fans((3, 3, 16, 32))
        (144, 288)
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = 1
    for dim in shape[:-2]:
        receptive_field *= dim
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _validate_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    is_int = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
    if not is_int or not 0 <= seed < _MAX_SEED:
        raise ValueError(
            "Expected `seed` to be None or a non-negative integer below 2**63. "
            f"Received: seed={seed}"
        )
    return int(seed)


def _check_dtype(dtype: Any) -> None:
    if dtype is not None and np.dtype(dtype) != np.float32:
        raise ValueError(
            f"kerasette weights are float32. Expected `dtype` to be None or 'float32'. "
            f"Received: dtype={dtype}"
        )


class Initializer:
    """Base class: `__call__(shape, dtype=None)` returns a float32 NumPy array of that shape.

    Subclasses implement `__call__` and `get_config`; `from_config` calls the constructor with the
    config's keys.

    Example:
        >>> class Twos(Initializer):
        ...     def __call__(self, shape, dtype=None):
        ...         return np.full(shape, 2.0, np.float32)
    """

    _keras_module = "keras.initializers"

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        raise NotImplementedError(
            "Initializer subclasses must implement `__call__()`. "
            f"Received: {self.__class__.__name__}"
        )

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return cls(**config)

    def clone(self) -> "Initializer":
        return self.__class__.from_config(self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self.__class__.__name__}({args})"


class RandomInitializer(Initializer):
    """Base of the random initializers: holds the seed and hands out one per call."""

    def __init__(self, seed: int | None = None):
        self.seed = _validate_seed(seed)

    def _call_seed(self) -> int:
        return self.seed if self.seed is not None else _random.next_seed()

    def get_config(self) -> dict:
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros.

    Example:
        >>> Zeros()((2, 3)).sum()
        0.0
    """

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        _check_dtype(dtype)
        return np.zeros(tuple(shape), dtype=np.float32)


class Ones(Initializer):
    """All ones.

    Example:
        >>> Ones()((2, 3)).sum()
        6.0
    """

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        _check_dtype(dtype)
        return np.ones(tuple(shape), dtype=np.float32)


class Constant(Initializer):
    """Every element set to `value`.

    Args:
        value: A Python scalar.

    Example:
        >>> Constant(3.0)((2,))
        array([3., 3.], dtype=float32)
    """

    def __init__(self, value: float = 0.0):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(
                f"Expected `value` to be a Python scalar. Received: value={value!r}"
            )
        self.value = value

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        _check_dtype(dtype)
        return np.full(tuple(shape), self.value, dtype=np.float32)

    def get_config(self) -> dict:
        return {"value": self.value}


class RandomNormal(RandomInitializer):
    """Normal distribution with `mean` and `stddev`.

    Args:
        mean: Mean of the values.
        stddev: Standard deviation of the values.
        seed: An int for the same values at every call, or `None`.

    Example:
        >>> RandomNormal(stddev=1.0, seed=1)((2, 2)).shape
        (2, 2)
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        _check_dtype(dtype)
        return _engine.random_normal(
            tuple(shape), self._call_seed(), _STREAM, self.mean, self.stddev
        )

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(RandomInitializer):
    """Uniform distribution on `[minval, maxval)`.

    Args:
        minval: Lower bound.
        maxval: Upper bound.
        seed: An int for the same values at every call, or `None`.

    Example:
        >>> RandomUniform(-1.0, 1.0, seed=1)((3,)).shape
        (3,)
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval = minval
        self.maxval = maxval

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        _check_dtype(dtype)
        return _engine.random_uniform(
            tuple(shape), self._call_seed(), _STREAM, self.minval, self.maxval
        )

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(RandomInitializer):
    """Normal distribution with values beyond two standard deviations redrawn.

    Args:
        mean: Mean of the values.
        stddev: Standard deviation before truncation.
        seed: An int for the same values at every call, or `None`.

    Example:
        >>> TruncatedNormal(seed=1)((2, 2)).shape
        (2, 2)
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        _check_dtype(dtype)
        return _engine.truncated_normal(
            tuple(shape), self._call_seed(), _STREAM, self.mean, self.stddev
        )

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(RandomInitializer):
    """Values whose variance is `scale / n`, `n` being the fan-in, fan-out or their average.

    Args:
        scale: Positive scaling factor.
        mode: `"fan_in"`, `"fan_out"` or `"fan_avg"`.
        distribution: `"truncated_normal"` (`"normal"` is an alias), `"untruncated_normal"` or
            `"uniform"` (on `[-limit, limit]`, `limit = sqrt(3 * scale / n)`).
        seed: An int for the same values at every call, or `None`.

    Example:
        >>> VarianceScaling(2.0, "fan_in", "uniform", seed=1)((4, 3)).shape
        (4, 3)
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ):
        super().__init__(seed)
        is_number = isinstance(scale, (int, float, np.number)) and not isinstance(scale, bool)
        if not is_number or scale <= 0.0:
            raise ValueError(
                f"Argument `scale` must be positive float. Received: scale={scale}"
            )
        allowed_modes = ("fan_in", "fan_out", "fan_avg")
        if mode not in allowed_modes:
            raise ValueError(
                f"Invalid `mode` argument: {mode}. Please use one of {list(allowed_modes)}. "
                f"Received: mode={mode!r}"
            )
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        allowed = ("truncated_normal", "untruncated_normal", "uniform")
        if distribution not in allowed:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. Please use one of "
                f"{list(allowed)}. Received: distribution={distribution!r}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        _check_dtype(dtype)
        shape = tuple(shape)
        fan_in, fan_out = compute_fans(shape)
        if self.mode == "fan_in":
            scale = self.scale / max(1.0, fan_in)
        elif self.mode == "fan_out":
            scale = self.scale / max(1.0, fan_out)
        else:
            scale = self.scale / max(1.0, (fan_in + fan_out) / 2.0)
        seed = self._call_seed()
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / _TRUNCATED_NORMAL_STDDEV
            return _engine.truncated_normal(shape, seed, _STREAM, 0.0, stddev)
        if self.distribution == "untruncated_normal":
            return _engine.random_normal(shape, seed, _STREAM, 0.0, math.sqrt(scale))
        limit = math.sqrt(3.0 * scale)
        return _engine.random_uniform(shape, seed, _STREAM, -limit, limit)

    def get_config(self) -> dict:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class _FixedVarianceScaling(VarianceScaling):
    """A named VarianceScaling preset: its config holds only the seed, like Keras's."""

    _preset: tuple[float, str, str] = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed: int | None = None):
        scale, mode, distribution = self._preset
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        config = dict(config)
        # Recent Keras 3 writes `input_axes`/`output_axes` (null by default) into these configs.
        for key in ("input_axes", "output_axes"):
            if config.get(key, None) is not None:
                raise NotImplementedError(
                    f"`{key}` is not supported by kerasette's {cls.__name__}. "
                    f"Received: {key}={config[key]}"
                )
            config.pop(key, None)
        return cls(**config)


class GlorotUniform(_FixedVarianceScaling):
    """Glorot (Xavier) uniform: `U(-limit, limit)`, `limit = sqrt(6 / (fan_in + fan_out))`.

    Args:
        seed: An int for the same values at every call, or `None`.

    Example:
        >>> GlorotUniform(seed=1)((400, 300)).shape
        (400, 300)
    """

    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Glorot (Xavier) truncated normal with `stddev = sqrt(2 / (fan_in + fan_out))`.

    Args:
        seed: An int for the same values at every call, or `None`.

    Example:
        >>> GlorotNormal(seed=1)((4, 3)).shape
        (4, 3)
    """

    _preset = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_FixedVarianceScaling):
    """He truncated normal with `stddev = sqrt(2 / fan_in)`.

    Args:
        seed: An int for the same values at every call, or `None`.

    Example:
        >>> HeNormal(seed=1)((4, 3)).shape
        (4, 3)
    """

    _preset = (2.0, "fan_in", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """He uniform: `U(-limit, limit)`, `limit = sqrt(6 / fan_in)`.

    Args:
        seed: An int for the same values at every call, or `None`.

    Example:
        >>> HeUniform(seed=1)((4, 3)).shape
        (4, 3)
    """

    _preset = (2.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """LeCun truncated normal with `stddev = sqrt(1 / fan_in)`.

    Args:
        seed: An int for the same values at every call, or `None`.

    Example:
        >>> LecunNormal(seed=1)((4, 3)).shape
        (4, 3)
    """

    _preset = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: `U(-limit, limit)`, `limit = sqrt(3 / fan_in)`.

    Args:
        seed: An int for the same values at every call, or `None`.

    Example:
        >>> LecunUniform(seed=1)((4, 3)).shape
        (4, 3)
    """

    _preset = (1.0, "fan_in", "uniform")


class Identity(Initializer):
    """`gain` times the identity matrix (2D shapes only).

    Args:
        gain: Multiplier of the identity.

    Example:
        >>> Identity()((2, 2))
        array([[1., 0.],
               [0., 1.]], dtype=float32)
    """

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        _check_dtype(dtype)
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return (np.float32(self.gain) * np.eye(*shape, dtype=np.float32)).astype(np.float32)

    def get_config(self) -> dict:
        return {"gain": self.gain}


class Orthogonal(RandomInitializer):
    """A random orthogonal matrix (QR of a normal matrix), reshaped to the weight shape.

    Args:
        gain: Multiplier of the orthogonal matrix.
        seed: An int for the same values at every call, or `None`.

    Example:
        >>> q = Orthogonal(seed=1)((3, 3)); np.allclose(q @ q.T, np.eye(3), atol=1e-5)
        True
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> np.ndarray:
        _check_dtype(dtype)
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        num_rows = int(np.prod(shape[:-1]))
        num_cols = shape[-1]
        flat_shape = (max(num_cols, num_rows), min(num_cols, num_rows))
        a = _engine.random_normal(flat_shape, self._call_seed(), _STREAM, 0.0, 1.0)
        q, r = np.linalg.qr(a.astype(np.float64))
        # Sign fix as in Keras: makes the distribution uniform over orthogonal matrices.
        d = np.sign(np.diag(r))
        d[d == 0] = 1.0
        q = q * d
        if num_rows < num_cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(np.float32)

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


# Keras 3's exported spellings.
zeros = Zeros
ones = Ones
constant = Constant
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
identity = Identity
orthogonal = Orthogonal
IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal

_CLASSES = (
    Constant, Identity, Ones, Zeros, GlorotNormal, GlorotUniform, HeNormal, HeUniform,
    LecunNormal, LecunUniform, Orthogonal, RandomNormal, RandomUniform, TruncatedNormal,
    VarianceScaling,
)  # fmt: skip
_SNAKE = {
    "constant": Constant, "identity": Identity, "ones": Ones, "zeros": Zeros,
    "glorot_normal": GlorotNormal, "glorot_uniform": GlorotUniform, "he_normal": HeNormal,
    "he_uniform": HeUniform, "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal, "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
}  # fmt: skip
# Keras 3 also accepts these short names.
_EXTRA = {
    "IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal,
    "normal": RandomNormal, "uniform": RandomUniform, "one": Ones, "zero": Zeros,
}  # fmt: skip
ALL_OBJECTS_DICT: dict[str, type] = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update(_SNAKE)
ALL_OBJECTS_DICT.update(_EXTRA)


def serialize(initializer: Initializer) -> dict:
    """Returns the nested config of an initializer (`{"module", "class_name", "config", ...}`).

    Args:
        initializer: An `Initializer` instance.

    Example:
        >>> serialize(Zeros())["class_name"]
        'Zeros'
    """
    return serialize_keras_object(initializer)


def deserialize(config: Union[dict, str], custom_objects: dict | None = None) -> Initializer:
    """Builds an initializer from a config dict or a name.

    Args:
        config: A `{"class_name": ..., "config": ...}` dict, or a name like `"glorot_uniform"`.
        custom_objects: Extra names mapped to `Initializer` classes.

    Example:
        >>> deserialize({"class_name": "HeNormal", "config": {"seed": 3}}).seed
        3
    """
    obj = deserialize_keras_object(config, ALL_OBJECTS_DICT, custom_objects, "initializer")
    return obj() if isinstance(obj, type) else obj


def get(identifier: Union[str, dict, Initializer, Callable, None]) -> Initializer | Callable | None:
    """Returns an initializer from a name, a config dict or an instance.

    Args:
        identifier: `None`, a name (`"glorot_uniform"`, `"GlorotUniform"`), a config dict, an
            instance, or a callable `f(shape, dtype=None)` returning an array.

    Example:
        >>> get("he_normal")
        HeNormal(seed=None)
    """
    if identifier is None:
        return None
    if isinstance(identifier, (dict, str)):
        try:
            return deserialize(identifier)
        except UnknownObjectError as e:
            raise could_not_interpret("initializer", identifier, e.valid) from e
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")
