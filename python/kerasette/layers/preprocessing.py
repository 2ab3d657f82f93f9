"""Preprocessing layers that are plain arithmetic: Rescaling, and Normalization with its `adapt`
(the statistics are computed here in NumPy, once; the engine layer applies them)."""

from __future__ import annotations

import numpy as np

from kerasette.config import image_data_format
from kerasette.layers.layer import Layer, VariableValue, normalize_shape


def _floats(value, name: str) -> list:
    """One float or a per-channel list of floats, as a list."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim > 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(
            f"Expected `{name}` to be a finite float or a list of per-channel floats. "
            f"Received: {name}={value}"
        )
    return [float(v) for v in arr.reshape(-1)]


class Rescaling(Layer):
    """Multiplies inputs by `scale` and adds `offset`: `y = x * scale + offset`.

    Args:
        scale: float, or a list of floats, one per entry of the last (channel) axis.
        offset: float, or a list of floats, one per entry of the last axis.

    Input shape: any. Output shape: the input's.

    Example:
        >>> layer = Rescaling(1.0 / 255)  # [0, 255] pixels -> [0, 1]
    """

    _engine_kind = "rescaling"

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self._scale = _floats(scale, "scale")
        self._offset = _floats(offset, "offset")
        if (
            len(self._scale) > 1 or len(self._offset) > 1
        ) and image_data_format() == "channels_first":
            raise NotImplementedError(
                "Rescaling with per-channel `scale`/`offset` supports channels_last only. "
                f"Received: scale={scale}, offset={offset}"
            )
        self.scale = scale
        self.offset = offset

    def engine_attrs(self) -> dict:
        return {"scale": self._scale, "offset": self._offset}

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"scale": _plain(self.scale), "offset": _plain(self.offset)})
        return config


def _plain(value):
    """JSON-friendly scale/offset: a float or a list of floats."""
    arr = np.asarray(value, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else [float(v) for v in arr]


class _BroadcastStatistic(VariableValue):
    """`Normalization.mean` / `.variance` as Keras exposes them after build: the statistics
    reshaped to broadcast against the input (`(1, features)` for `axis=-1`), with `numpy()`."""

    def __init__(self, values: np.ndarray):
        self._values = values

    @property
    def shape(self) -> tuple:
        return self._values.shape

    def numpy(self) -> np.ndarray:
        return self._values


def _broadcasts(shape: tuple, target: tuple) -> bool:
    """Whether an array of `shape` broadcasts to `target` (NumPy's rule)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _batch_inputs(batch):
    """The inputs of one batch: `x` of an `(x, y)` or `(x, y, sample_weight)` tuple, as Keras."""
    return batch[0] if isinstance(batch, tuple) else batch


class Normalization(Layer):
    """Shifts and scales inputs by a mean and variance: `(x - mean) / sqrt(variance)`.

    The statistics come from `adapt(data)` or from the `mean` and `variance` arguments. The
    deviation is clipped from below at Keras's epsilon (1e-7): `max(sqrt(variance), 1e-7)`.
    Before `adapt`, the layer holds mean 0 and variance 1 (the identity), as Keras 3.

    Args:
        axis: the axis or axes that keep their own statistics (-1: one mean per feature), or
            None for one mean and variance over everything. kerasette keeps trailing axes only.
        mean, variance: fixed statistics (both or neither), broadcast to the kept axes; the
            layer then has no weights.
        invert: apply the inverse, `x * sqrt(variance) + mean`.

    Input shape: any. Output shape: the input shape.
    Weights (when adapted): mean, variance (non-trainable, the kept axes' shape) and count.

    Example:
        >>> normalizer = Normalization(axis=-1)
        >>> normalizer.adapt(np.array([[0.0, 7.0], [2.0, 9.0]]))
    """

    _engine_kind = "normalization"
    _weight_dtypes = {"count": "int64"}

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        elif isinstance(axis, (list, tuple)) and all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis):
            axis = tuple(int(a) for a in axis)
        else:
            raise TypeError(
                "Expected `axis` to be an integer, a list/tuple of integers or None. "
                f"Received: axis={axis!r}"
            )
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self._initializers = {"mean": "zeros", "variance": "ones", "count": "zeros"}
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same "
                    f"shape. Received: mean shape {np.shape(mean)} and variance shape "
                    f"{np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    "The rank of `mean` must be less than or equal to the number of axes "
                    f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis "
                    f"{self.axis}"
                )

    def build(self, input_shape) -> None:
        shape = normalize_shape(input_shape)
        ndim = len(shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                "All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                f"ndim={ndim}, while axis={self.axis}"
            )
        keep = sorted(a % ndim for a in self.axis)
        for d in keep:  # before the check below, so axis=0 fails with Keras's ValueError
            if shape[d] is None:
                raise ValueError(
                    f"All `axis` values to be kept must have a known shape. Received "
                    f"axis={self.axis}, inputs.shape={shape}, with unknown axis at index {d}"
                )
        if 0 in keep or keep != list(range(ndim - len(keep), ndim)):
            raise NotImplementedError(
                f"Layer '{self.name}': kerasette's Normalization keeps statistics for trailing "
                f"non-batch axes only (e.g. axis=-1 or axis=None). Received: axis={self.axis} "
                f"for an input of rank {ndim}."
            )
        stat_shape = tuple(shape[d] for d in keep)
        for key, value in (("mean", self.input_mean), ("variance", self.input_variance)):
            if value is not None and not _broadcasts(np.shape(value), stat_shape):
                raise ValueError(
                    f"Expected `{key}` to broadcast to the shape of the kept axes "
                    f"{stat_shape} (axis={self.axis}, inputs.shape={shape}). Received: "
                    f"{key} of shape {np.shape(value)}"
                )
        self._keep = keep
        self._stat_shape = stat_shape
        self._broadcast_shape = tuple(shape[d] if d in keep else 1 for d in range(ndim))
        self._build_input_shape = shape
        super().build(shape)

    def engine_attrs(self) -> dict:
        attrs = {"keep": len(self._keep), "invert": self.invert}
        if self.input_mean is not None:
            # Keras fills the kept axes from the right with the given values, then broadcasts.
            for key, value in (("mean", self.input_mean), ("variance", self.input_variance)):
                attrs[key] = [float(v) for v in np.broadcast_to(
                    np.asarray(value, dtype=np.float64), self._stat_shape).reshape(-1)]
        return attrs

    def adapt(self, data) -> None:
        """Computes the mean and (biased) variance of `data` for each entry of the kept axes.

        Args:
            data: a NumPy array (or anything `np.asarray` takes, such as a DataFrame), a
                `PyDataset`, or an iterable of batches (a list of arrays, a generator); an
                `(x, y)` batch contributes its `x`.
        """
        from kerasette.utils.py_dataset import PyDataset

        if self.input_mean is not None:
            # Keras fails here with an AttributeError; kerasette says why.
            raise ValueError(
                f"Layer '{self.name}' was given fixed `mean` and `variance`, which `adapt()` "
                "cannot change. Create the layer without them to adapt it."
            )
        if isinstance(data, PyDataset):
            batches = (_batch_inputs(data[i]) for i in range(len(data)))
        elif isinstance(data, np.ndarray) or (
            hasattr(data, "__array__") and not isinstance(data, (list, tuple))
        ):
            batches = iter([np.asarray(data)])
        elif hasattr(data, "__iter__"):
            batches = (_batch_inputs(b) for b in data)
        else:
            raise TypeError(
                f"Unsupported data type: {type(data)}. `adapt` supports `np.ndarray`, "
                "`keras.utils.PyDataset`, and iterables of batches (e.g. list, generator)."
            )
        mean = var = None
        count = 0
        seen_batch = False
        for batch in batches:
            if not hasattr(batch, "shape"):
                raise TypeError(
                    "adapt() expects an iterable that yields arrays or tensors with a `.shape` "
                    f"attribute (e.g. numpy arrays or backend tensors). Got an element of type "
                    f"{type(batch).__name__}. Ensure each yielded element is array-like with a "
                    "`.shape` attribute."
                )
            seen_batch = True
            batch = np.asarray(batch)
            if batch.dtype == object:
                raise TypeError("adapt() expects batches of arrays with a `.shape` attribute.")
            shape = (None,) + batch.shape[1:]
            if not self.built:
                self.build(shape)
            elif tuple(batch.shape[d] for d in self._keep) != self._stat_shape or (
                    batch.ndim != len(self._build_input_shape)):
                raise ValueError(
                    f"The layer was built with input_shape={self._build_input_shape}, but adapt() "
                    f"is being called with data with an incompatible shape, data.shape="
                    f"{batch.shape}"
                )
            # In float64 (Keras reduces in the data's dtype): the statistics are then rounded
            # to float32 once.
            values = batch.astype(np.float64).reshape((-1,) + self._stat_shape)
            n = values.shape[0]
            if n == 0:
                continue
            batch_mean, batch_var = values.mean(axis=0), values.var(axis=0)
            if mean is None:
                mean, var, count = batch_mean, batch_var, n
                continue
            # Keras's running combination of batch moments (Chan et al.).
            total = count + n
            w_new = n / total
            new_mean = mean * (1.0 - w_new) + batch_mean * w_new
            var = ((var + (mean - new_mean) ** 2) * (1.0 - w_new)
                   + (batch_var + (batch_mean - new_mean) ** 2) * w_new)
            mean, count = new_mean, total
        if not seen_batch:
            raise ValueError(
                "adapt() received an empty iterable (no batches). Expected at least one batch. "
                "Pass a non-empty iterable of arrays or tensors, e.g. layer.adapt([x]) or "
                "layer.adapt(list_of_batches)."
            )
        if mean is None:
            # Keras's statistics of no samples are NaN; kerasette refuses them.
            raise ValueError(
                "adapt() received no samples: every batch is empty. Expected at least one "
                f"sample. Received: data.shape={batch.shape}"
            )
        if self.input_mean is None:
            # Keras 3 leaves `count` as it is: adapt computes from scratch every time.
            self._named("mean").assign(mean)
            self._named("variance").assign(var)

    def _named(self, name: str):
        return next((w for w in self.weights if w.name == name), None)

    def _statistic(self, name: str, given):
        if not self.built:
            return None
        values = (np.broadcast_to(np.asarray(given, dtype=np.float32), self._stat_shape)
                  if given is not None else self._named(name).numpy())
        return _BroadcastStatistic(np.reshape(values, self._broadcast_shape))

    @property
    def mean(self):
        return self._statistic("mean", self.input_mean)

    @property
    def variance(self):
        return self._statistic("variance", self.input_variance)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        })
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Normalization":
        config = dict(config)
        if isinstance(config.get("axis"), list):
            config["axis"] = tuple(config["axis"])
        return cls(**config)
