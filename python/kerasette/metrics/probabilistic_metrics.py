"""Probabilistic metrics: the cross-entropy, Kullback-Leibler and Poisson losses' per-sample values,
averaged over the epoch.

As for the losses, the engine computes a sigmoid or softmax output's cross-entropy from its logits
(what Keras's TensorFlow backend does), so the metric equals the loss of the same name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasette import losses as losses_module
from kerasette.losses.loss import _last_axis_only
from kerasette.losses.probabilistic_losses import _validate_smoothing
from kerasette.metrics.metric import Metric

binary_crossentropy = losses_module.binary_crossentropy
categorical_crossentropy = losses_module.categorical_crossentropy
sparse_categorical_crossentropy = losses_module.sparse_categorical_crossentropy
kl_divergence = losses_module.kl_divergence
poisson = losses_module.poisson


class BinaryCrossentropy(Metric):
    """Binary cross-entropy between targets and predictions, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.
        from_logits: Whether `y_pred` holds logits rather than probabilities.
        label_smoothing: Targets move towards 0.5 by this amount.

    Example:
        >>> round(BinaryCrossentropy()([[1.0]], [[0.5]]), 6)
        0.693147
    """

    _engine_kind = "binary_crossentropy"

    def __init__(
        self,
        name: str = "binary_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0,
    ):
        super().__init__(name=name, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _validate_smoothing(label_smoothing)

    def _per_sample(self, y_true, y_pred) -> np.ndarray:
        return binary_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }

    def _engine_attrs(self) -> dict:
        return {"from_logits": self.from_logits, "label_smoothing": float(self.label_smoothing)}


class CategoricalCrossentropy(Metric):
    """Categorical cross-entropy against one-hot targets, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.
        from_logits: Whether `y_pred` holds logits rather than probabilities.
        label_smoothing: Targets become `y * (1 - s) + s / num_classes`.
        axis: The class axis; only -1.

    Example:
        >>> round(CategoricalCrossentropy()([[0.0, 1.0]], [[0.5, 0.5]]), 6)
        0.693147
    """

    _engine_kind = "categorical_crossentropy"

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0,
        axis: int = -1,
    ):
        super().__init__(name=name, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _validate_smoothing(label_smoothing)
        self.axis = _last_axis_only(axis, "cross-entropy")

    def _per_sample(self, y_true, y_pred) -> np.ndarray:
        return categorical_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }

    def _engine_attrs(self) -> dict:
        return {"from_logits": self.from_logits, "label_smoothing": float(self.label_smoothing)}


class SparseCategoricalCrossentropy(Metric):
    """Categorical cross-entropy against integer labels, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.
        from_logits: Whether `y_pred` holds logits rather than probabilities.
        ignore_class: Only `None`.
        axis: The class axis; only -1.

    Example:
        >>> round(SparseCategoricalCrossentropy()([1], [[0.5, 0.5]]), 6)
        0.693147
    """

    _engine_kind = "sparse_categorical_crossentropy"

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
    ):
        super().__init__(name=name, dtype=dtype)
        if ignore_class is not None:
            raise NotImplementedError(
                "`ignore_class` is not supported by kerasette. "
                f"Received: ignore_class={ignore_class}"
            )
        self.from_logits = bool(from_logits)
        self.ignore_class = None
        self.axis = _last_axis_only(axis, "cross-entropy")

    def _per_sample(self, y_true, y_pred) -> np.ndarray:
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }

    def _engine_attrs(self) -> dict:
        return {"from_logits": self.from_logits}


class KLDivergence(Metric):
    """Kullback-Leibler divergence, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> round(KLDivergence()([[0.5, 0.5]], [[0.25, 0.75]]), 4)
        0.1438
    """

    _engine_kind = "kl_divergence"
    _fn = staticmethod(losses_module.kl_divergence)

    def __init__(self, name: str = "kl_divergence", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class Poisson(Metric):
    """Poisson loss, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> round(Poisson()([[1.0, 0.0]], [[1.0, 1.0]]), 4)
        1.0
    """

    _engine_kind = "poisson"
    _fn = staticmethod(losses_module.poisson)

    def __init__(self, name: str = "poisson", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
