"""The `Loss` base class, Keras 3's reductions, and the NumPy helpers the loss functions share."""

from __future__ import annotations

from typing import Any

import numpy as np

_EPSILON = 1e-7
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _as_arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)


def _last_axis_only(axis, what: str) -> int:
    """`axis` of a loss or metric that the engine computes over the last axis only."""
    if axis != -1:
        raise NotImplementedError(
            f"kerasette's engine computes {what} over the last axis only. Received: axis={axis}"
        )
    return -1


def _same_rank(x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keras's `squeeze_or_expand_to_same_rank`: drop or add a trailing 1 so the ranks match."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        return (x1, x2[..., None]) if x2.ndim == 1 else (x1[..., 0], x2)
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        return (x1[..., None], x2) if x1.ndim == 1 else (x1, x2[..., 0])
    return x1, x2


def _reduce(values: np.ndarray, sample_weight, reduction: str | None) -> Any:
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        sample_weight, values = _same_rank(sample_weight, values)
        values = values * sample_weight
    if reduction in ("none", None):
        return values.astype(np.float32)
    total = np.sum(values)
    if reduction == "sum":
        return np.float32(total)
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return np.float32(total / np.sum(np.broadcast_to(sample_weight, values.shape)))
    return np.float32(total / max(values.size, 1))


class Loss:
    """Base class of the losses: a name, a reduction and `__call__(y_true, y_pred, sample_weight)`.

    Args:
        name: Name of the loss.
        reduction: `"sum_over_batch_size"` (the mean over all loss values), `"sum"`, `"mean"`,
            `"mean_with_sample_weight"`, `"none"` or `None`.

    Example:
        >>> MeanSquaredError()([[0.0]], [[2.0]])
        4.0
    """

    _keras_module = "keras.losses"
    _engine_kind: str = ""

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"Invalid value for argument `reduction`. Expected one of {list(_REDUCTIONS)}. "
                f"Received: reduction={reduction}"
            )
        self.name = name if name is not None else self.__class__.__name__
        self.reduction = reduction

    def call(self, y_true, y_pred) -> np.ndarray:
        raise NotImplementedError(f"{self.__class__.__name__} must implement `call()`.")

    def __call__(self, y_true, y_pred, sample_weight=None) -> Any:
        return _reduce(self.call(y_true, y_pred), sample_weight, self.reduction)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        config = dict(config)
        config.pop("dtype", None)  # Keras 3 may write it; kerasette computes in float32.
        return cls(**config)

    def _engine_attrs(self) -> dict:
        return {}

    def engine_spec(self) -> tuple[str, dict]:
        """Returns `(kind, attrs)`: what the engine computes for this loss."""
        if not self._engine_kind:
            raise ValueError(
                f"Only the built-in losses run in kerasette's compiled engine. "
                f"Received: loss={self!r}"
            )
        if self.reduction != "sum_over_batch_size":
            raise NotImplementedError(
                "kerasette's engine reduces losses with `sum_over_batch_size` only. "
                f"Received: reduction={self.reduction}"
            )
        return self._engine_kind, self._engine_attrs()

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} name={self.name!r}>"
