"""Turning user data (arrays, lists, dicts) into the float32 arrays the engine reads, with clear
errors for what cannot work: mismatched lengths, non-numeric or non-finite values, wrong shapes."""

from __future__ import annotations

import numpy as np


def as_float_array(x, what: str, check_finite: bool = False) -> np.ndarray:
    """A C-contiguous float32 array (copied only when the dtype or layout requires it)."""
    if isinstance(x, np.ndarray) and x.dtype == np.float32 and x.flags.c_contiguous:
        a = x
    else:
        try:
            a = np.asarray(x)
        except Exception as e:  # ragged lists and such
            raise ValueError(f"Could not convert `{what}` to a numeric array: {e}") from None
        if a.dtype == object or a.dtype.kind in "USVO" or a.dtype.kind == "M":
            raise ValueError(
                f"Expected `{what}` to hold numbers. Received: an array of dtype {a.dtype} "
                f"(for example {a.ravel()[:1].tolist()}). Convert it to numbers first."
            )
        if a.dtype.kind == "c":
            raise ValueError(f"Expected `{what}` to hold real numbers. Received: dtype {a.dtype}")
        a = np.ascontiguousarray(a, dtype=np.float32)
    if a.ndim == 0:
        raise ValueError(f"Expected `{what}` to be an array with a batch axis. Received: a scalar")
    if check_finite and a.size and not np.isfinite(a).all():
        bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
        raise ValueError(
            f"`{what}` contains {bad} NaN or infinite value(s); training on them would give a "
            "NaN loss. Clean or impute the data first."
        )
    return a


def to_list(x, names: list[str], what: str) -> list:
    """Inputs or targets as a list in the model's order (accepts one array, a list, or a dict)."""
    if isinstance(x, dict):
        missing = [n for n in names if n not in x]
        if missing:
            raise ValueError(
                f"Missing data for `{what}` entries {missing}. Expected keys: {names}. "
                f"Received keys: {list(x)}"
            )
        return [x[n] for n in names]
    if isinstance(x, (list, tuple)) and len(names) > 1:
        if len(x) != len(names):
            raise ValueError(
                f"The model expects {len(names)} {what} arrays, but received {len(x)}."
            )
        return list(x)
    if isinstance(x, (list, tuple)) and len(names) == 1 and len(x) == 1 and not np.isscalar(x[0]) \
            and np.ndim(x[0]) > 0 and isinstance(x[0], np.ndarray):
        return [x[0]]
    if len(names) > 1:
        raise ValueError(f"The model expects {len(names)} {what} arrays, but received 1.")
    return [x]


def num_samples(arrays: list[np.ndarray], what: str) -> int:
    sizes = {a.shape[0] for a in arrays}
    if len(sizes) > 1:
        raise ValueError(
            f"All `{what}` arrays must have the same number of samples. Received sizes: "
            f"{[a.shape[0] for a in arrays]}"
        )
    return sizes.pop()


def check_features(arrays: list[np.ndarray], input_shapes: list[tuple], names: list[str]) -> None:
    for a, shape, name in zip(arrays, input_shapes, names):
        expected = tuple(shape[1:])
        got = a.shape[1:]
        if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
            raise ValueError(
                f"Input {name!r} is incompatible with the model: expected shape "
                f"{(None,) + expected}, but received input with shape {(None,) + got}."
            )


def split_validation(arrays: list, fraction: float) -> tuple[list, list]:
    """Keras's validation_split: the last `fraction` of the samples, taken before shuffling."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(
            f"`validation_split` must be in the range [0, 1). Received: validation_split={fraction}"
        )
    n = arrays[0].shape[0]
    split = int(n * (1.0 - fraction))
    if split == 0 or split == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a "
            f"validation and training set as specified by `validation_split={fraction}`. Either "
            "provide more data, or a different value for the `validation_split` argument."
        )
    train = [None if a is None else a[:split] for a in arrays]
    val = [None if a is None else a[split:] for a in arrays]
    return train, val


def finite_number(value) -> float | None:
    """`value` as a float, or None when it is not a finite number (NaN, inf, a string...)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def check_class_weight(class_weight) -> dict:
    """`class_weight` as `{int class: float weight}`; anything else names what is wrong."""
    if not isinstance(class_weight, dict):
        raise ValueError(
            "Expected `class_weight` to be a dict mapping class indices to weights. Received: "
            f"class_weight={class_weight!r} of type {type(class_weight)}"
        )
    out = {}
    for cls, w in class_weight.items():
        # An integral float key (from `np.unique` of float labels) finds its class in Keras,
        # whose lookups hash 1.0 as 1.
        integral = isinstance(cls, (int, np.integer)) or (
            isinstance(cls, (float, np.floating)) and float(cls).is_integer())
        if isinstance(cls, bool) or not integral:
            raise ValueError(
                "Expected the keys of `class_weight` to be integer class indices. Received: "
                f"key {cls!r} of type {type(cls)} in class_weight={class_weight}"
            )
        weight = finite_number(w)
        if weight is None:
            raise ValueError(
                f"Expected the weights in `class_weight` to be finite numbers. Received: "
                f"class_weight[{cls}]={w!r}"
            )
        out[int(cls)] = weight
    return out


def class_weights_to_sample_weights(y: np.ndarray, class_weight: dict) -> np.ndarray:
    """Each sample's weight from its label's class; `class_weight` as `check_class_weight` gives
    it (`fit` checks it once, not per batch)."""
    if y.shape[0] == 0:  # no samples: nothing to weigh (and no labels to reshape)
        return np.ones(0, dtype=np.float32)
    if y.ndim > 1 and y.shape[-1] > 1:
        labels = np.argmax(y.reshape(y.shape[0], -1, y.shape[-1])[:, 0, :], axis=-1)
    else:
        labels = y.reshape(y.shape[0], -1)[:, 0]
        if y.ndim > 1 and y.shape[-1] == 1:
            labels = np.round(labels)
    labels = labels.astype(np.int64)
    weights = np.ones(len(labels), dtype=np.float32)
    for cls, w in class_weight.items():
        weights[labels == cls] = w
    missing = set(np.unique(labels).tolist()) - set(class_weight)
    if missing:
        raise ValueError(
            f"`class_weight` must contain all classes in the data. The classes {sorted(missing)} "
            "exist in the data but not in `class_weight`."
        )
    return weights
