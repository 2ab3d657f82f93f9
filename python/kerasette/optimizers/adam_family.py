"""Adam, AdamW, Nadam, Adamax and Lion: optimizers built on a running first moment."""

from __future__ import annotations

from typing import Union

from kerasette.optimizers.base import Optimizer, _check_non_negative, _check_range, _is_number
from kerasette.optimizers.schedules import LearningRateSchedule


class Adam(Optimizer):
    """Adam: adaptive moment estimation.

    Args:
        learning_rate: A float or a `LearningRateSchedule`. Defaults to 0.001.
        beta_1: Decay of the first-moment estimates, in [0, 1).
        beta_2: Decay of the second-moment estimates, in [0, 1).
        epsilon: Small constant for numerical stability ("epsilon hat" of the paper).
        amsgrad: Use the AMSGrad variant.
        (others): See `Optimizer`.

    Example:
        >>> list(Adam().get_config())[-4:]
        ['beta_1', 'beta_2', 'epsilon', 'amsgrad']
    """

    _engine_kind = "adam"
    _hyperparameters = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(
        self,
        learning_rate: Union[float, LearningRateSchedule] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-07,
        amsgrad: bool = False,
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
        self.beta_1 = _check_range(beta_1, "beta_1", 0.0, 1.0, high_open=True)
        self.beta_2 = _check_range(beta_2, "beta_2", 0.0, 1.0, high_open=True)
        self.epsilon = _check_non_negative(epsilon, "epsilon")
        self.amsgrad = bool(amsgrad)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter).

    Args:
        learning_rate: A float or a `LearningRateSchedule`. Defaults to 0.001.
        weight_decay: Decoupled weight decay, required. Defaults to 0.004.
        beta_1: Decay of the first-moment estimates.
        beta_2: Decay of the second-moment estimates.
        epsilon: Small constant for numerical stability.
        amsgrad: Use the AMSGrad variant.
        (others): See `Optimizer`.

    Example:
        >>> AdamW().engine_spec()[1]["weight_decay"]
        0.004
    """

    _engine_kind = "adamw"

    def __init__(
        self,
        learning_rate: Union[float, LearningRateSchedule] = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-07,
        amsgrad: bool = False,
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
            learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
            amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )  # fmt: skip
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum.

    Args:
        learning_rate: A float or a `LearningRateSchedule`. Defaults to 0.001.
        beta_1: Decay of the first-moment estimates, in [0, 1).
        beta_2: Decay of the second-moment estimates, in [0, 1).
        epsilon: Small constant for numerical stability.
        (others): See `Optimizer`.

    Example:
        >>> Nadam().engine_spec()[0]
        'nadam'
    """

    _engine_kind = "nadam"
    _hyperparameters = ("beta_1", "beta_2", "epsilon")

    def __init__(
        self,
        learning_rate: Union[float, LearningRateSchedule] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
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
        self.beta_1 = _check_range(beta_1, "beta_1", 0.0, 1.0, high_open=True)
        self.beta_2 = _check_range(beta_2, "beta_2", 0.0, 1.0, high_open=True)
        self.epsilon = _check_non_negative(epsilon, "epsilon")


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the second moment.

    Update, with `t` the step (from 1): `m += (g - m)(1 - beta_1)`, `u = max(beta_2 u, |g|)`,
    `w -= lr m / ((1 - beta_1^t)(u + epsilon))`.

    Args:
        learning_rate: A float or a `LearningRateSchedule`. Defaults to 0.001.
        beta_1: Decay of the first-moment estimates, in [0, 1).
        beta_2: Decay of the exponentially weighted infinity norm, in [0, 1).
        epsilon: Small constant for numerical stability.
        (others): See `Optimizer`.

    Example:
        >>> list(Adamax().get_config())[-3:]
        ['beta_1', 'beta_2', 'epsilon']
    """

    _engine_kind = "adamax"
    _hyperparameters = ("beta_1", "beta_2", "epsilon")

    def __init__(
        self,
        learning_rate: Union[float, LearningRateSchedule] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
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
        self.beta_1 = _check_range(beta_1, "beta_1", 0.0, 1.0, high_open=True)
        self.beta_2 = _check_range(beta_2, "beta_2", 0.0, 1.0, high_open=True)
        self.epsilon = _check_non_negative(epsilon, "epsilon")


class Lion(Optimizer):
    """Lion: sign of an interpolated momentum (Chen et al., 2023).

    Update: `w -= lr sign(beta_1 m + (1 - beta_1) g)`, then `m = beta_2 m + (1 - beta_2) g`.
    Its steps are larger than Adam's: use a 3-10x smaller rate and a 3-10x larger weight decay.

    Args:
        learning_rate: A float or a `LearningRateSchedule`. Defaults to 0.001.
        beta_1: Weight of the momentum in the step's direction, in (0, 1].
        beta_2: Decay of the momentum.
        (others): See `Optimizer`.

    Example:
        >>> Lion(beta_2=0.98).engine_spec()[1]["beta_2"]
        0.98
    """

    _engine_kind = "lion"
    _hyperparameters = ("beta_1", "beta_2")

    def __init__(
        self,
        learning_rate: Union[float, LearningRateSchedule] = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
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
        if not _is_number(beta_1) or beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )
        # Keras 3 does not check beta_2; any number is accepted.
        if not _is_number(beta_2):
            raise ValueError(f"Expected `beta_2` to be a float. Received: beta_2={beta_2!r}")
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
