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
