"""Hinge metrics: the hinge losses' per-sample values, averaged over the epoch."""

from __future__ import annotations

from typing import Any

from kerasette import losses as losses_module
from kerasette.metrics.metric import Metric

hinge = losses_module.hinge
squared_hinge = losses_module.squared_hinge
categorical_hinge = losses_module.categorical_hinge


class Hinge(Metric):
    """Hinge loss, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> Hinge()([[1.0, 0.0]], [[0.5, 0.5]])
        1.0
    """

    _engine_kind = "hinge"
    _fn = staticmethod(losses_module.hinge)

    def __init__(self, name: str = "hinge", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class SquaredHinge(Metric):
    """Squared hinge loss, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> SquaredHinge()([[1.0, 0.0]], [[0.5, 0.5]])
        1.25
    """

    _engine_kind = "squared_hinge"
    _fn = staticmethod(losses_module.squared_hinge)

    def __init__(self, name: str = "squared_hinge", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)


class CategoricalHinge(Metric):
    """Categorical hinge loss, averaged over all samples seen.

    Args:
        name: The log key.
        dtype: Only `None` or `"float32"`.

    Example:
        >>> round(CategoricalHinge()([[0.0, 1.0]], [[0.3, 0.6]]), 4)
        0.7
    """

    _engine_kind = "categorical_hinge"
    _fn = staticmethod(losses_module.categorical_hinge)

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
