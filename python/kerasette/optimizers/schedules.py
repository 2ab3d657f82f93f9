"""Learning-rate schedules with Keras 3's names, defaults and formulas.

The engine evaluates the schedule at every step from `engine_attrs()`; `__call__(step)` computes
the same value in NumPy, for reference and tests.
"""

from __future__ import annotations

import math
from typing import Any, Union

import numpy as np

from kerasette.saving.serialization import deserialize_keras_object, serialize_keras_object


def _positive_steps(decay_steps: Any) -> Any:
    is_number = isinstance(decay_steps, (int, float, np.number))
    is_number = is_number and not isinstance(decay_steps, bool)
    if not is_number or decay_steps <= 0:
        raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")
    return decay_steps


class LearningRateSchedule:
    """Base class: `__call__(step)` returns the learning rate at an optimizer step.

    Example:
        >>> ExponentialDecay(0.1, 10, 0.5)(10)
        0.05
    """

    _keras_module = "keras.optimizers.schedules"

    def __call__(self, step: Union[int, float]) -> np.float64:
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override "
            "`__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `get_config()`."
        )

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)

    def engine_attrs(self) -> dict:
        """The engine's schedule attributes (`schedule`, `learning_rate`, ...)."""
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' cannot run in kerasette's engine."
        )

    @property
    def initial_value(self) -> float:
        """The learning rate at step 0."""
        return float(self(0))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self.__class__.__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)` (floored exponent if staircase).

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps per decay period; must be positive.
        decay_rate: Factor per period.
        staircase: Decay in whole periods.
        name: Name of the schedule.

    Example:
        >>> ExponentialDecay(0.1, 10, 0.5, staircase=True)(15)
        0.05
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive_steps(decay_steps)
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: Union[int, float]) -> np.float64:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return np.float64(self.initial_learning_rate * self.decay_rate**p)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }

    def engine_attrs(self) -> dict:
        return {
            "schedule": "exponential",
            "learning_rate": float(self.initial_learning_rate),
            "decay_steps": float(self.decay_steps),
            "decay_rate": float(self.decay_rate),
            "staircase": bool(self.staircase),
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[i]` for the first `boundaries[i]` with `step <= boundaries[i]`, else `values[-1]`.

    Args:
        boundaries: Increasing step boundaries.
        values: One more value than boundaries.
        name: Name of the schedule.

    Example:
        >>> PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])(15)
        0.5
    """

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: Union[int, float]) -> np.float64:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return np.float64(value)
        return np.float64(self.values[-1])

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}

    def engine_attrs(self) -> dict:
        return {
            "schedule": "piecewise",
            "learning_rate": float(self.values[0]),
            "boundaries": [float(b) for b in self.boundaries],
            "values": [float(v) for v in self.values],
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay to `alpha * start`, with an optional linear warmup first.

    After `warmup_steps` steps rising linearly from `initial_learning_rate` to `warmup_target`
    (when given), the rate is
    `start * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)` with
    `s = min(step - warmup_steps, decay_steps)` and `start` the warmup target or the initial rate.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps to decay over; must be positive.
        alpha: Final rate as a fraction of `start`.
        name: Name of the schedule.
        warmup_target: Rate reached at the end of the warmup, or `None` for no warmup.
        warmup_steps: Length of the warmup.

    Example:
        >>> CosineDecay(1.0, 10)(5)
        0.5
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive_steps(decay_steps)
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: float, start: float) -> float:
        fraction = step / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: Union[int, float]) -> np.float64:
        step = float(step)
        if self.warmup_target is None:
            return np.float64(self._decay(min(step, self.decay_steps), self.initial_learning_rate))
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return np.float64(self.initial_learning_rate + delta * step / self.warmup_steps)
        return np.float64(self._decay(step - self.warmup_steps, self.warmup_target))

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }

    def engine_attrs(self) -> dict:
        attrs = {
            "schedule": "cosine",
            "learning_rate": float(self.initial_learning_rate),
            "decay_steps": float(self.decay_steps),
            "alpha": float(self.alpha),
            "warmup_steps": float(self.warmup_steps),
        }
        if self.warmup_target is not None:
            attrs["warmup_target"] = float(self.warmup_target)
        return attrs


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)` (floored if staircase).

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps per decay period; must be positive.
        decay_rate: Decay factor.
        staircase: Decay in whole periods.
        name: Name of the schedule.

    Example:
        >>> InverseTimeDecay(1.0, 10, 1.0)(10)
        0.5
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive_steps(decay_steps)
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: Union[int, float]) -> np.float64:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return np.float64(self.initial_learning_rate / (1.0 + self.decay_rate * p))

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }

    def engine_attrs(self) -> dict:
        return {
            "schedule": "inverse_time",
            "learning_rate": float(self.initial_learning_rate),
            "decay_steps": float(self.decay_steps),
            "decay_rate": float(self.decay_rate),
            "staircase": bool(self.staircase),
        }


class PolynomialDecay(LearningRateSchedule):
    """`(initial - end) * (1 - step / decay_steps) ** power + end`, held at `end` after
    `decay_steps`, or, with `cycle`, restarted over the next multiple of `decay_steps`.

    Args:
        initial_learning_rate: The rate at step 0.
        decay_steps: Steps to reach `end_learning_rate`; must be positive.
        end_learning_rate: The final rate.
        power: The polynomial's power (1 is a linear decay).
        cycle: Whether to restart past `decay_steps`.
        name: Name of the schedule.

    Example:
        >>> PolynomialDecay(0.1, 10, end_learning_rate=0.0)(5)
        0.05
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive_steps(decay_steps)
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: Union[int, float]) -> np.float64:
        step = float(step)
        if self.cycle:
            steps = self.decay_steps * (1.0 if step == 0 else math.ceil(step / self.decay_steps))
        else:
            steps, step = self.decay_steps, min(step, self.decay_steps)
        scale = (1.0 - step / steps) ** self.power
        return np.float64((self.initial_learning_rate - self.end_learning_rate) * scale
                          + self.end_learning_rate)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }

    def engine_attrs(self) -> dict:
        return {
            "schedule": "polynomial",
            "learning_rate": float(self.initial_learning_rate),
            "decay_steps": float(self.decay_steps),
            "end_learning_rate": float(self.end_learning_rate),
            "power": float(self.power),
            "cycle": bool(self.cycle),
        }


ALL_OBJECTS_DICT: dict[str, type] = {
    cls.__name__: cls
    for cls in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay, InverseTimeDecay,
                PolynomialDecay)
}


def serialize(schedule: LearningRateSchedule) -> dict:
    """Returns the nested config of a schedule.

    Args:
        schedule: A `LearningRateSchedule`.

    Example:
        >>> serialize(CosineDecay(0.1, 100))["module"]
        'keras.optimizers.schedules'
    """
    return serialize_keras_object(schedule)


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """Builds a schedule from its nested config.

    Args:
        config: `{"class_name": "ExponentialDecay", "config": {...}}`.
        custom_objects: Extra names mapped to schedule classes.

    Example:
        >>> deserialize(serialize(CosineDecay(0.1, 100))).decay_steps
        100
    """
    return deserialize_keras_object(
        config, ALL_OBJECTS_DICT, custom_objects, "learning rate schedule"
    )
