"""Metrics read from streaming confusion counts: `Precision`, `Recall` and `AUC`.

The engine adds each batch's true/false positive counts (per threshold for `AUC`) over the epoch and
computes the value from them at the end, with Keras 3's rules (`keras/src/metrics/
confusion_metrics.py`, `metrics_utils.py`): a prediction is positive when it is greater than the
threshold, a target when it is not 0, ratios with a zero denominator are 0. `__call__` is the NumPy
reference over one batch.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from kerasette.losses import _same_rank
from kerasette.metrics.metric import Metric

_NEG_INF = -1e10  # Keras's `NEG_INF`: what `top_k` filtering gives the predictions it drops
_EPSILON = 1e-7  # Keras's `backend.epsilon()`, which widens AUC's end thresholds
_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


def _divide_no_nan(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def _check_thresholds(thresholds: Union[float, Sequence[float]]) -> list:
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    invalid = [t for t in values if t is None or not 0 <= t <= 1]  # NaN fails too
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return [float(t) for t in values]


def _labels_and_predictions(y_true, y_pred, top_k: Optional[int], class_id: Optional[int]):
    """Flat boolean targets and float32 predictions, after Keras's top-k and class filters."""
    y_true = np.asarray(y_true, dtype=np.float32)
    y_pred = np.asarray(y_pred, dtype=np.float32)
    y_pred, y_true = _same_rank(y_pred, y_true)
    if top_k is not None:
        # TensorFlow's top_k keeps the lower index among equal values; a stable sort does too.
        order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :top_k]
        keep = np.zeros(y_pred.shape, dtype=bool)
        np.put_along_axis(keep, order, True, axis=-1)
        y_pred = np.where(keep, y_pred, np.float32(_NEG_INF))
    if class_id is not None:
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
    return y_true.ravel() != 0, y_pred.ravel()


def _no_sample_weight(metric, sample_weight) -> None:
    if sample_weight is not None:
        raise NotImplementedError(
            f"`{type(metric).__name__}.update_state` does not take a `sample_weight` in "
            "kerasette (the counts are unweighted). Received: sample_weight=..."
        )


def _check_optional_int(value: Any, what: str, minimum: int) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        qualifier = "a positive" if minimum > 0 else "a non-negative"
        raise ValueError(f"Expected `{what}` to be {qualifier} integer. Received: {what}={value}")
    return int(value)


class _PrecisionRecall(Metric):
    _auto_name = True
    _mean_metric_wrapper = False

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.init_thresholds = thresholds
        self.top_k = _check_optional_int(top_k, "top_k", 1)
        self.class_id = _check_optional_int(class_id, "class_id", 0)
        if thresholds is None:
            self.thresholds = [0.5 if top_k is None else _NEG_INF]
        else:
            self.thresholds = _check_thresholds(thresholds)
        if len(self.thresholds) != 1:
            raise NotImplementedError(
                f"kerasette reports one value per metric, so `{type(self).__name__}` takes a "
                f"single threshold. Received: thresholds={thresholds}"
            )

    def _batch_state(self, y_true, y_pred, sample_weight) -> np.ndarray:
        _no_sample_weight(self, sample_weight)
        return np.array(self._counts(y_true, y_pred), dtype=np.float64)

    def _counts(self, y_true, y_pred) -> tuple[int, int, int]:
        labels, pred = _labels_and_predictions(y_true, y_pred, self.top_k, self.class_id)
        positive = pred > np.float32(self.thresholds[0])
        return (int(np.sum(positive & labels)), int(np.sum(positive & ~labels)),
                int(np.sum(~positive & labels)))  # fmt: skip

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }

    def _engine_attrs(self) -> dict:
        return {
            "threshold": self.thresholds[0],
            "top_k": 0 if self.top_k is None else self.top_k,
            "class_id": -1 if self.class_id is None else self.class_id,
        }


class Precision(_PrecisionRecall):
    """The fraction of positive predictions that are right: `tp / (tp + fp)` over the epoch.

    Args:
        thresholds: One threshold in `[0, 1]`; predictions above it are positive (0.5 by default;
            use 0 for logits).
        top_k: Only the `top_k` highest predictions of each row (last axis) may be positive.
        class_id: Only this column of the last axis counts.
        name: The log key (`precision`, `precision_1`, ... by default, as Keras names them).
        dtype: Only `None` or `"float32"`.

    Example:
        >>> round(float(Precision()([0, 1, 1, 1], [1, 0, 1, 1])), 6)
        0.666667
    """

    _engine_kind = "precision"

    def _result_of(self, state: np.ndarray) -> float:
        tp, fp, _ = state
        return float(_divide_no_nan(tp, tp + fp))


class Recall(_PrecisionRecall):
    """The fraction of positive targets predicted positive: `tp / (tp + fn)` over the epoch.

    Args:
        thresholds: One threshold in `[0, 1]`; predictions above it are positive (0.5 by default;
            use 0 for logits).
        top_k: Only the `top_k` highest predictions of each row (last axis) may be positive.
        class_id: Only this column of the last axis counts.
        name: The log key (`recall`, `recall_1`, ... by default, as Keras names them).
        dtype: Only `None` or `"float32"`.

    Example:
        >>> round(float(Recall()([0, 1, 1, 1], [1, 0, 1, 1])), 6)
        0.666667
    """

    _engine_kind = "recall"

    def _result_of(self, state: np.ndarray) -> float:
        tp, _, fn = state
        return float(_divide_no_nan(tp, tp + fn))


class AUC(Metric):
    """The area under the ROC or precision-recall curve, from counts at `num_thresholds` thresholds.

    The thresholds are Keras's: `num_thresholds - 2` evenly spaced in (0, 1) plus `-1e-7` and
    `1 + 1e-7` (or the given `thresholds` between those two). The area is a Riemann sum over them;
    `summation_method="interpolation"` takes the mean height on ROC and Davis & Goadrich's
    interpolation on PR. All predictions are flattened (`multi_label=False`).

    Args:
        num_thresholds: How many thresholds (at least 2).
        curve: `"ROC"`, `"PR"` or `"PRGAIN"`.
        summation_method: `"interpolation"`, `"minoring"` or `"majoring"`.
        name: The log key (`auc`, `auc_1`, ... by default, as Keras names them).
        dtype: Only `None` or `"float32"`.
        thresholds: Thresholds in `[0, 1]` to use instead of evenly spaced ones.
        multi_label: Only `False`.
        num_labels: Only `None`.
        label_weights: Only `None`.
        from_logits: Whether predictions are logits (a sigmoid is applied first).

    Example:
        >>> AUC(num_thresholds=3)([0, 0, 1, 1], [0.0, 0.5, 0.3, 0.9])
        0.75
    """

    _engine_kind = "auc"
    _auto_name = True
    _mean_metric_wrapper = False

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: Any = None,
        thresholds: Sequence[float] | None = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Any = None,
        from_logits: bool = False,
    ):
        if str(curve).lower() not in _CURVES:
            raise ValueError(
                f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC", "PRGAIN"]'
            )
        if str(summation_method).lower() not in _SUMMATIONS:
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                '["interpolation", "majoring", "minoring"]'
            )
        if multi_label or label_weights is not None:
            raise NotImplementedError(
                "kerasette's AUC flattens all predictions into one curve: `multi_label` and "
                f"`label_weights` are not supported. Received: multi_label={multi_label}, "
                f"label_weights={label_weights}"
            )
        if num_labels:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_check_thresholds(thresholds))
            self.num_thresholds = len(inner) + 2
            self._evenly = _evenly_spaced([0.0] + inner + [1.0])
        else:
            is_int = isinstance(num_thresholds, (int, np.integer))
            if isinstance(num_thresholds, bool) or not is_int or num_thresholds <= 1:
                raise ValueError(
                    "Argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1)
                     for i in range(self.num_thresholds - 2)]  # fmt: skip
            self._evenly = True
        self._thresholds = [0.0 - _EPSILON] + inner + [1.0 + _EPSILON]
        self.curve = _CURVES[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        self.multi_label = False
        self.num_labels = None
        self.label_weights = None
        self.from_logits = bool(from_logits)
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"

    @property
    def thresholds(self) -> list:
        """The thresholds the counts are taken at, the two end ones included."""
        return list(self._thresholds)

    def get_config(self) -> dict:
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": self.label_weights,
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self._thresholds[1:-1]
        return config

    def _engine_attrs(self) -> dict:
        return {
            "thresholds": list(self._thresholds),
            "evenly": self._evenly,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "from_logits": self.from_logits,
        }

    def _confusion(self, y_true, y_pred) -> tuple:
        labels, pred = _labels_and_predictions(y_true, y_pred, None, None)
        if self.from_logits:
            pred = (1.0 / (1.0 + np.exp(-pred.astype(np.float64)))).astype(np.float32)
        labels, pred = labels[~np.isnan(pred)], pred[~np.isnan(pred)]
        t = self.num_thresholds
        if self._evenly:  # Keras's bucketed count: ceil(p (T - 1)) - 1 in float32, at least 0
            scaled = np.clip(pred, 0.0, 1.0) * np.float32(t - 1)
            bucket = np.maximum(np.ceil(scaled).astype(np.int64) - 1, 0)
            tp = np.cumsum(np.bincount(bucket[labels], minlength=t)[::-1])[::-1]
            fp = np.cumsum(np.bincount(bucket[~labels], minlength=t)[::-1])[::-1]
        else:
            above = pred[None, :] > np.asarray(self._thresholds, dtype=np.float32)[:, None]
            tp, fp = np.sum(above & labels, axis=1), np.sum(above & ~labels, axis=1)
        tp, fp = tp.astype(np.float64), fp.astype(np.float64)
        return tp, fp, np.sum(~labels) - fp, np.sum(labels) - tp

    def _batch_state(self, y_true, y_pred, sample_weight) -> np.ndarray:
        _no_sample_weight(self, sample_weight)
        return np.stack(self._confusion(y_true, y_pred))

    def _result_of(self, state: np.ndarray) -> float:
        tp, fp, tn, fn = state
        if self.curve == "PR" and self.summation_method == "interpolation":
            return float(_interpolate_pr_auc(tp, fp, fn))
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _divide_no_nan(tp, tp + fp)
        else:
            scale = _divide_no_nan(tp + fn, tn + fp)
            x = np.where(tp == 0, 0.0, np.maximum(1.0 - scale * _divide_no_nan(fn, tp), 0.0))
            y = np.where(tp == 0, 1.0, 1.0 - scale * _divide_no_nan(fp, tp))
        heights = {"interpolation": (y[:-1] + y[1:]) / 2.0, "minoring": np.minimum(y[:-1], y[1:]),
                   "majoring": np.maximum(y[:-1], y[1:])}[self.summation_method]  # fmt: skip
        return float(np.sum((x[:-1] - x[1:]) * heights))


def _evenly_spaced(thresholds: list) -> bool:
    """Keras's `is_evenly_distributed_thresholds`."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=_EPSILON))


def _interpolate_pr_auc(tp, fp, fn) -> float:
    """Davis & Goadrich's PR interpolation, as Keras's `AUC.interpolate_pr_auc`."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    slope = _divide_no_nan(dtp, np.maximum(p[:-1] - p[1:], 0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
    increments = _divide_no_nan(slope * (dtp + intercept * np.log(ratio)),
                                np.maximum(tp[1:] + fn[1:], 0))  # fmt: skip
    return float(np.sum(increments))
