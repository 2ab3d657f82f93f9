"""Array operations on the engine's kernels, under Keras 3's `keras.ops` names."""

from __future__ import annotations

import numpy as np

from kerasette import _engine


def matmul(a, b) -> np.ndarray:
    """Matrix product of two float32 arrays (2-D, or stacks of 2-D over leading axes).

    Inputs that are already float32 and C-contiguous are read in place; the only new memory is
    the output.

    Example:
        >>> kerasette.ops.matmul(np.ones((2, 3), "float32"), np.ones((3, 4), "float32"))
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: expected arrays with at least one axis. Received shapes "
                         f"{a.shape} and {b.shape}")
    if a.dtype != np.float32 or b.dtype != np.float32:
        a, b = a.astype(np.float32), b.astype(np.float32)
    if a.ndim == 2 and b.ndim == 2:
        return _engine.matmul(a, b)
    # 1-D operands follow numpy: promoted, then the added axis removed.
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    a2 = a[None, :] if squeeze_a else a
    b2 = b[:, None] if squeeze_b else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"matmul: inner dimensions differ: {a.shape} @ {b.shape}")
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a3 = np.broadcast_to(a2, batch + a2.shape[-2:]).reshape((-1,) + a2.shape[-2:])
    b3 = np.broadcast_to(b2, batch + b2.shape[-2:]).reshape((-1,) + b2.shape[-2:])
    out = np.stack([_engine.matmul(np.ascontiguousarray(x), np.ascontiguousarray(y))
                    for x, y in zip(a3, b3)]) if len(a3) else np.zeros(
        (0, a2.shape[-2], b2.shape[-1]), np.float32)
    out = out.reshape(batch + (a2.shape[-2], b2.shape[-1]))
    if squeeze_a:
        out = out[..., 0, :]
    if squeeze_b:
        out = out[..., 0]
    return out


# ---- NumPy-backed `keras.ops` -----------------------------------------------------------------
# kerasette's tensors are NumPy arrays (what `model(x)` and `predict` return), so the rest of
# `keras.ops` that scripts use on predictions and labels is NumPy's function under Keras's name,
# with Keras's dtypes: Python numbers become float32/int32 (NumPy would make float64/int64), and
# indices come back int32.


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None) -> np.ndarray:
    """`x` as an array: Python floats become float32 and Python ints int32, as in Keras.

    Example:
        >>> kerasette.ops.convert_to_tensor([1, 2]).dtype
        dtype('int32')
    """
    if isinstance(x, np.ndarray):
        return x if dtype is None else x.astype(dtype)
    a = np.asarray(x, dtype=dtype)
    if dtype is None and a.dtype == np.float64:
        a = a.astype(np.float32)
    elif dtype is None and a.dtype == np.int64:
        a = a.astype(np.int32)
    return a


def convert_to_numpy(x) -> np.ndarray:
    """`x` as a NumPy array (a kerasette tensor already is one)."""
    return np.asarray(x)


def _index_op(fn):
    def op(x, axis=None, keepdims=False):
        out = fn(convert_to_tensor(x), axis=axis, keepdims=keepdims)
        return np.asarray(out, dtype=np.int32)

    op.__name__ = fn.__name__
    op.__doc__ = f"`np.{fn.__name__}` with int32 indices, as Keras returns them."
    return op


argmax = _index_op(np.argmax)
argmin = _index_op(np.argmin)


def argsort(x, axis=-1) -> np.ndarray:
    return np.argsort(convert_to_tensor(x), axis=axis).astype(np.int32)


def top_k(x, k, sorted=True):
    """The `k` largest values along the last axis and their int32 indices."""
    x = convert_to_tensor(x)
    indices = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, indices, axis=-1), indices.astype(np.int32)


def count_nonzero(x, axis=None) -> np.ndarray:
    return np.asarray(np.count_nonzero(convert_to_tensor(x), axis=axis), dtype=np.int32)


def _narrow(out, *inputs):
    """NumPy widens int32 and bool results to int64 or float64 (`np.mean` of labels, `int32 / 2`,
    `np.sum` of a mask); Keras keeps 32 bits unless an input already had 64: narrow the same way."""
    # (No `any()` here: this module's globals hold `keras.ops.any`, `all`, `sum`, `max`...)
    dtype = getattr(out, "dtype", None)
    if dtype in (np.float64, np.int64) and dtype not in {getattr(x, "dtype", None) for x in inputs}:
        return out.astype(np.float32 if dtype == np.float64 else np.int32)
    return out


def _wrap(fn, name):
    def op(x, *args, **kwargs):
        x = convert_to_tensor(x)
        return _narrow(fn(x, *args, **kwargs), x)

    op.__name__ = name
    op.__doc__ = f"`np.{fn.__name__}` on the tensor, as `keras.ops.{name}`."
    return op


def _operand(x):
    # A Python number stays one, so NumPy's weak scalar promotion keeps `float32 + 1` float32
    # (as Keras does); anything else becomes a tensor.
    return x if isinstance(x, (bool, int, float)) else convert_to_tensor(x)


def _wrap2(fn, name):
    def op(x1, x2, *args, **kwargs):
        x1, x2 = _operand(x1), _operand(x2)
        return _narrow(fn(x1, x2, *args, **kwargs), x1, x2)

    op.__name__ = name
    op.__doc__ = f"`np.{fn.__name__}` on the two tensors, as `keras.ops.{name}`."
    return op


_UNARY = {
    "abs": np.abs, "absolute": np.abs, "all": np.all, "any": np.any, "ceil": np.ceil,
    "cos": np.cos, "cumprod": np.cumprod, "cumsum": np.cumsum, "exp": np.exp,
    "expand_dims": np.expand_dims, "flip": np.flip, "floor": np.floor, "log": np.log,
    "log1p": np.log1p, "max": np.max, "mean": np.mean, "min": np.min, "negative": np.negative,
    "prod": np.prod, "ravel": np.ravel, "reshape": np.reshape, "round": np.round, "sign": np.sign,
    "sin": np.sin, "sort": np.sort, "sqrt": np.sqrt, "square": np.square, "squeeze": np.squeeze,
    "std": np.std, "sum": np.sum, "tanh": np.tanh, "tile": np.tile, "transpose": np.transpose,
    "var": np.var, "clip": np.clip, "repeat": np.repeat, "diag": np.diag, "isnan": np.isnan,
    "isfinite": np.isfinite,
}
_BINARY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "power": np.power, "maximum": np.maximum, "minimum": np.minimum, "equal": np.equal,
    "not_equal": np.not_equal, "greater": np.greater, "greater_equal": np.greater_equal,
    "less": np.less, "less_equal": np.less_equal, "logical_and": np.logical_and,
    "logical_or": np.logical_or, "dot": np.dot, "floor_divide": np.floor_divide, "mod": np.mod,
}
globals().update({name: _wrap(fn, name) for name, fn in _UNARY.items()})
globals().update({name: _wrap2(fn, name) for name, fn in _BINARY.items()})


def cast(x, dtype) -> np.ndarray:
    return convert_to_tensor(x).astype(dtype)


def shape(x) -> tuple:
    return tuple(np.shape(x))


def where(condition, x1=None, x2=None):
    if x1 is None and x2 is None:
        return np.nonzero(condition)
    x1, x2 = _operand(x1), _operand(x2)
    return _narrow(np.where(condition, x1, x2), x1, x2)


def concatenate(xs, axis=0) -> np.ndarray:
    return np.concatenate([convert_to_tensor(x) for x in xs], axis=axis)


def stack(x, axis=0) -> np.ndarray:
    return np.stack([convert_to_tensor(t) for t in x], axis=axis)


def arange(start, stop=None, step=1, dtype=None) -> np.ndarray:
    return convert_to_tensor(np.arange(start, stop, step).tolist(), dtype=dtype)


def zeros(shape, dtype="float32") -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def ones(shape, dtype="float32") -> np.ndarray:
    return np.ones(shape, dtype=dtype)


def full(shape, fill_value, dtype=None) -> np.ndarray:
    return np.full(shape, fill_value, dtype=dtype or "float32")  # Keras: floatx, whatever the value


def one_hot(x, num_classes, axis=-1, dtype="float32") -> np.ndarray:
    """One-hot rows (float32); a negative or out-of-range index gives a row of zeros, as Keras."""
    x = np.asarray(x)
    out = (x[..., None] == np.arange(num_classes)).astype(dtype)
    return np.moveaxis(out, -1, axis) if axis != -1 else out


def norm(x, ord=None, axis=None, keepdims=False) -> np.ndarray:
    x = convert_to_tensor(x)
    return _narrow(np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims), x)


def logsumexp(x, axis=None, keepdims=False) -> np.ndarray:
    x = convert_to_tensor(x)
    top = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


def moments(x, axes, keepdims=False):
    x = convert_to_tensor(x)
    axes = tuple(axes)
    return np.mean(x, axis=axes, keepdims=keepdims), np.var(x, axis=axes, keepdims=keepdims)


def _activation(name):
    def op(x, *args, **kwargs):
        from kerasette import activations

        return getattr(activations, name)(convert_to_tensor(x), *args, **kwargs)

    op.__name__ = name
    op.__doc__ = f"`kerasette.activations.{name}`, as `keras.ops.{name}`."
    return op


for _name in ("relu", "sigmoid", "softmax", "elu", "selu", "gelu", "softplus", "silu",
              "leaky_relu", "relu6"):
    globals()[_name] = _activation(_name)
del _name


def log_softmax(x, axis=-1) -> np.ndarray:
    x = convert_to_tensor(x)
    return x - logsumexp(x, axis=axis, keepdims=True)
