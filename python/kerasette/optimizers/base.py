"""The optimizer base class: hyper-parameters, configs, and the binding to the engine.

An `Optimizer` holds hyper-parameters and hands the engine `engine_spec()` (a kind and attributes).
After `compile`, the model calls `optimizer._bind(graph)`: from then on `learning_rate` and
`iterations` read and write the engine's values, so callbacks that change the rate (or a reload
that restores the step count) act on the running optimizer. `_unbind()` copies them back.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Union

import numpy as np

from kerasette.layers.layer import VariableValue, _snake_case, unique_name
from kerasette.optimizers import schedules
from kerasette.optimizers.schedules import LearningRateSchedule

# Keys that Keras 2 writes into optimizer configs and Keras 3 does not know.
_KERAS2_ONLY_KEYS = ("is_legacy_optimizer", "jit_compile")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def _check_range(value: Any, name: str, low: float, high: float, high_open: bool = False) -> float:
    ok = _is_number(value) and low <= value and (value < high if high_open else value <= high)
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(
            f"Expected `{name}` to be a float in [{low}, {high}{bracket}. Received: {name}={value}"
        )
    return float(value)


def _check_positive_or_none(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if not _is_number(value) or not value > 0 or math.isinf(value):
        raise ValueError(f"Expected `{name}` to be a positive float. Received: {name}={value}")
    return float(value)


def _check_non_negative(value: Any, name: str) -> float:
    if not _is_number(value) or value < 0 or math.isnan(value):
        raise ValueError(f"Expected `{name}` to be a non-negative float. Received: {name}={value}")
    return float(value)


class OptimizerVariable(VariableValue):
    """`optimizer.learning_rate` or `optimizer.iterations` as Keras 3 shows them: a scalar variable
    (`float(lr)`, `lr.numpy()`, `lr.assign(1e-4)`, `lr * 0.5`) that reads and writes the
    optimizer's attribute, so it always holds the running value.
    """

    def __init__(self, optimizer: "Optimizer", attr: str, name: str, dtype: str):
        self._optimizer = optimizer
        self._attr = attr
        self.name = name
        self.dtype = dtype
        self.shape = ()
        self.trainable = False

    @property
    def path(self) -> str:
        return f"{self._optimizer.name}/{self.name}"

    def numpy(self):
        return np.dtype(self.dtype).type(getattr(self._optimizer, f"_{self._attr}_value")())

    def assign(self, value) -> None:
        setattr(self._optimizer, self._attr, value)

    def __eq__(self, other):
        return self.numpy() == other

    def __ne__(self, other):
        return self.numpy() != other

    __hash__ = VariableValue.__hash__

    def __repr__(self) -> str:
        # Keras shows the float32 value widened to a double: 0.009999999776482582 for 1e-2.
        value = self.numpy().item()
        return f"<Variable path={self.path}, shape=(), dtype={self.dtype}, value={value!r}>"


class Optimizer:
    """Base class: the hyper-parameters every Keras 3 optimizer takes.

    Args:
        learning_rate: A float or a `LearningRateSchedule`.
        weight_decay: Decoupled weight decay (`w -= w * weight_decay * lr` each step), or `None`.
        clipnorm: Clip each gradient to this norm, or `None`.
        clipvalue: Clip each gradient element to `[-clipvalue, clipvalue]`, or `None`.
        global_clipnorm: Clip all gradients to this global norm, or `None`.
        use_ema: Not supported (must be `False`).
        ema_momentum: Kept in the config; unused.
        ema_overwrite_frequency: Kept in the config; unused.
        loss_scale_factor: Not supported (must be `None`).
        gradient_accumulation_steps: Not supported (must be `None`).
        name: Name of the optimizer.

    Example:
        >>> Adam(learning_rate=0.01).engine_spec()[0]
        'adam'
    """

    _keras_module = "keras.optimizers"
    _engine_kind = ""
    # The subclass's own hyper-parameters (attributes of the same names): written to the config
    # after the shared keys, and handed to the engine.
    _hyperparameters: tuple[str, ...] = ()

    def __init__(
        self,
        learning_rate: Union[float, LearningRateSchedule],
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs,
    ):
        if kwargs.pop("decay", None):
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        for arg, value, default in (
            ("use_ema", use_ema, False),
            ("loss_scale_factor", loss_scale_factor, None),
            ("gradient_accumulation_steps", gradient_accumulation_steps, None),
        ):
            if value != default:
                raise NotImplementedError(
                    f"`{arg}` is not supported by kerasette's optimizers. "
                    f"Received: {arg}={value}"
                )
        clip_args = (clipnorm, clipvalue, global_clipnorm)
        if sum(a is not None for a in clip_args) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        # Keras 3's automatic names, counted with the layers': `adam`, `adam_1`, `rm_sprop`.
        self.name = unique_name(_snake_case(type(self).__name__)) if name is None else name
        self.weight_decay = (
            None if weight_decay is None else _check_non_negative(weight_decay, "weight_decay")
        )
        self.clipnorm = _check_positive_or_none(clipnorm, "clipnorm")
        self.clipvalue = _check_positive_or_none(clipvalue, "clipvalue")
        self.global_clipnorm = _check_positive_or_none(global_clipnorm, "global_clipnorm")
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._learning_rate = self._validate_learning_rate(learning_rate)
        self._graph = None
        self._iterations = 0

    @staticmethod
    def _validate_learning_rate(learning_rate: Any) -> Union[float, LearningRateSchedule]:
        if isinstance(learning_rate, LearningRateSchedule):
            return learning_rate
        if not _is_number(learning_rate):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of "
                f"LearningRateSchedule. Received instead: learning_rate={learning_rate!r}"
            )
        if learning_rate < 0 or not math.isfinite(learning_rate):
            raise ValueError(
                "Argument `learning_rate` must be a non-negative finite float. "
                f"Received: learning_rate={learning_rate}"
            )
        return float(learning_rate)

    # ---- binding to the engine ----
    def _bind(self, graph: Any) -> None:
        """Makes `learning_rate` and `iterations` read and write `graph`'s optimizer."""
        if self._graph is not None:
            self._unbind()
        self._graph = graph
        if self._iterations:
            graph.iterations = int(self._iterations)

    def _unbind(self) -> None:
        """Copies the engine's step count and rate back and detaches from the graph."""
        graph = self._graph
        if graph is None:
            return
        self._iterations = int(graph.iterations)
        if not isinstance(self._learning_rate, LearningRateSchedule):
            self._learning_rate = float(graph.learning_rate)
        self._graph = None

    def _learning_rate_value(self) -> float:
        """The current rate: the engine's when bound, else the float or the schedule's value at
        the current step."""
        if self._graph is not None:
            return float(self._graph.learning_rate)
        if isinstance(self._learning_rate, LearningRateSchedule):
            return float(self._learning_rate(self._iterations))
        return self._learning_rate

    @property
    def learning_rate(self) -> Union[OptimizerVariable, np.float32]:
        """The rate as Keras 3 shows it: a variable, or a schedule's current value (a scalar)."""
        if isinstance(self._learning_rate, LearningRateSchedule):
            return np.float32(self._learning_rate_value())
        return OptimizerVariable(self, "learning_rate", "learning_rate", "float32")

    @learning_rate.setter
    def learning_rate(self, value: Union[float, LearningRateSchedule]) -> None:
        if isinstance(value, LearningRateSchedule):
            if self._graph is not None:
                raise NotImplementedError(
                    "Setting a `LearningRateSchedule` on a compiled model's optimizer is not "
                    "supported; pass it to the optimizer before `compile()`."
                )
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable. "
                "If you need the learning rate to be settable, you should instantiate the "
                "optimizer with a float `learning_rate` argument."
            )
        if isinstance(value, OptimizerVariable) or (
                isinstance(value, np.ndarray) and value.ndim == 0):
            value = float(value)
        value = self._validate_learning_rate(value)
        self._learning_rate = value
        if self._graph is not None:
            self._graph.learning_rate = value

    def _iterations_value(self) -> int:
        if self._graph is not None:
            return int(self._graph.iterations)
        return self._iterations

    @property
    def iterations(self) -> OptimizerVariable:
        """Optimizer steps taken (the engine's count when bound), as Keras's int64 variable."""
        return OptimizerVariable(self, "iterations", "iteration", "int64")

    @iterations.setter
    def iterations(self, value: int) -> None:
        if isinstance(value, OptimizerVariable):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(
                f"Expected `iterations` to be a non-negative integer. Received: iterations={value}"
            )
        self._iterations = int(value)
        if self._graph is not None:
            self._graph.iterations = int(value)

    # ---- config ----
    def _learning_rate_config(self) -> Union[float, dict]:
        # A schedule is written as itself (as Keras 3 does), not as its current value.
        if isinstance(self._learning_rate, LearningRateSchedule):
            return schedules.serialize(self._learning_rate)
        lr = self._learning_rate_value()
        # Keras keeps the rate in a float32 variable and writes that value as a double.
        return float(np.float32(lr))

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "learning_rate": self._learning_rate_config(),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            **self._engine_attrs(),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Optimizer":
        """Builds the optimizer from `get_config()` output (Keras 2 configs accepted too)."""
        config = dict(config)
        for key in _KERAS2_ONLY_KEYS:
            config.pop(key, None)
        if "lr" in config and "learning_rate" not in config:
            config["learning_rate"] = config.pop("lr")
        if not config.get("decay"):
            config.pop("decay", None)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    # ---- engine ----
    def _engine_attrs(self) -> dict:
        return {key: getattr(self, key) for key in self._hyperparameters}

    def engine_spec(self) -> tuple[str, dict]:
        """Returns `(kind, attrs)`: the engine optimizer and its hyper-parameters."""
        if isinstance(self._learning_rate, LearningRateSchedule):
            attrs = dict(self._learning_rate.engine_attrs())
        else:
            attrs = {"learning_rate": self._learning_rate_value(), "schedule": "constant"}
        for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            value = getattr(self, key)
            if value is not None:
                attrs[key] = float(value)
        attrs.update(self._engine_attrs())
        return self._engine_kind, attrs

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} name={self.name!r}>"
