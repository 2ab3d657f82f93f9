"""SGD (with momentum and Nesterov), RMSprop, Adagrad, Adadelta and Ftrl."""

from __future__ import annotations

from typing import Union

from kerasette.optimizers.base import Optimizer, _check_non_negative, _check_range, _is_number
from kerasette.optimizers.schedules import LearningRateSchedule


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum.

    Args:
        learning_rate: A float or a `LearningRateSchedule`. Defaults to 0.01.
        momentum: Float in [0, 1]; 0 is plain gradient descent.
        nesterov: Whether to use Nesterov momentum.
        (others): See `Optimizer`. The default name is automatic, as in Keras 3.15: `"sgd"`,
            then `"sgd_1"`, ...

    Example:
        >>> SGD(momentum=0.9).engine_spec()[1]["momentum"]
        0.9
    """

    _engine_kind = "sgd"
    _hyperparameters = ("momentum", "nesterov")

    def __init__(
        self,
        learning_rate: Union[float, LearningRateSchedule] = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
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
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        if not _is_number(momentum) or momentum < 0 or momentum > 1:
            raise ValueError(
                f"`momentum` must be a float between [0, 1]. Received: momentum={momentum}"
            )
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)


class RMSprop(Optimizer):
    """RMSprop: divides the gradient by a moving root mean square of recent gradients.

    Args:
        learning_rate: A float or a `LearningRateSchedule`. Defaults to 0.001.
        rho: Discount of the moving average, in [0, 1].
        momentum: Momentum, in [0, 1].
        epsilon: Small constant for numerical stability.
        centered: Normalize by the estimated variance rather than the second moment.
        (others): See `Optimizer`.

    Example:
        >>> RMSprop().get_config()["rho"]
        0.9
    """

    _engine_kind = "rmsprop"
    _hyperparameters = ("rho", "momentum", "epsilon", "centered")

    def __init__(
        self,
        learning_rate: Union[float, LearningRateSchedule] = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-07,
        centered: bool = False,
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
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        self.rho = _check_range(rho, "rho", 0.0, 1.0)
        self.momentum = _check_range(momentum, "momentum", 0.0, 1.0)
        self.epsilon = _check_non_negative(epsilon, "epsilon")
        self.centered = bool(centered)


class Adagrad(Optimizer):
    """Adagrad: per-parameter rates scaled by the accumulated squared gradients.

    Args:
        learning_rate: A float or a `LearningRateSchedule`. Defaults to 0.001.
        initial_accumulator_value: Starting value of the accumulators, non-negative.
        epsilon: Small constant for numerical stability.
        (others): See `Optimizer`.

    Example:
        >>> Adagrad().get_config()["initial_accumulator_value"]
        0.1
    """

    _engine_kind = "adagrad"
    _hyperparameters = ("initial_accumulator_value", "epsilon")

    def __init__(
        self,
        learning_rate: Union[float, LearningRateSchedule] = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-07,
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
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        self.initial_accumulator_value = _check_non_negative(
            initial_accumulator_value, "initial_accumulator_value"
        )
        self.epsilon = _check_non_negative(epsilon, "epsilon")


class Adadelta(Optimizer):
    """Adadelta: adapts rates from moving windows of gradient and update magnitudes.

    Args:
        learning_rate: A float or a `LearningRateSchedule`. Defaults to 0.001.
        rho: Decay rate, in [0, 1].
        epsilon: Small constant for numerical stability.
        (others): See `Optimizer`.

    Example:
        >>> Adadelta().get_config()["rho"]
        0.95
    """

    _engine_kind = "adadelta"
    _hyperparameters = ("rho", "epsilon")

    def __init__(
        self,
        learning_rate: Union[float, LearningRateSchedule] = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-07,
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
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        self.rho = _check_range(rho, "rho", 0.0, 1.0)
        self.epsilon = _check_non_negative(epsilon, "epsilon")


class Ftrl(Optimizer):
    """FTRL-Proximal ("Follow The Regularized Leader", McMahan et al., 2013).

    Update, with `p = learning_rate_power`: `g' = g + 2 l2_shrinkage w`, `n' = n + g^2`,
    `z += g' - (n'^-p - n^-p) / lr * w`, `w = (clip(z, -l1, l1) - z) / (n'^-p / lr + 2 l2')`
    with `l2' = l2 + beta / (2 lr)`, then `n = n'`.

    Args:
        learning_rate: A float or a `LearningRateSchedule`. Defaults to 0.001.
        learning_rate_power: How the rate decreases with the accumulator; <= 0 (0 is fixed).
        initial_accumulator_value: Start of the accumulators; >= 0.
        l1_regularization_strength: L1 strength; >= 0.
        l2_regularization_strength: L2 (stabilization) strength; >= 0.
        l2_shrinkage_regularization_strength: L2 penalty on the weights' magnitude, added to the
            gradient; >= 0.
        beta: The paper's beta, folded into the L2 strength as `beta / (2 lr)`.
        (others): See `Optimizer`.

    Example:
        >>> Ftrl(l1_regularization_strength=0.01).engine_spec()[0]
        'ftrl'
    """

    _engine_kind = "ftrl"
    _hyperparameters = (
        "learning_rate_power", "initial_accumulator_value", "l1_regularization_strength",
        "l2_regularization_strength", "l2_shrinkage_regularization_strength", "beta",
    )  # fmt: skip

    def __init__(
        self,
        learning_rate: Union[float, LearningRateSchedule] = 0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
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
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
            clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
            ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        # Keras 3's checks and messages, in its order.
        for arg, value, sign in (
            ("initial_accumulator_value", initial_accumulator_value, 1),
            ("learning_rate_power", learning_rate_power, -1),
            ("l1_regularization_strength", l1_regularization_strength, 1),
            ("l2_regularization_strength", l2_regularization_strength, 1),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, 1),
        ):  # fmt: skip
            if not _is_number(value) or sign * value < 0.0:
                rule = "positive or zero" if sign > 0 else "negative or zero"
                raise ValueError(f"`{arg}` needs to be {rule}. Received: {arg}={value}.")
        if not _is_number(beta):
            raise ValueError(f"Expected `beta` to be a float. Received: beta={beta!r}")
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)
