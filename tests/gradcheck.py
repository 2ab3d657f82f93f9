"""Float64 finite differences against the engine's backward.

The engine computes in float32; the check perturbs one weight at a time, runs the engine's forward,
and evaluates the loss in float64. Central differences with step h have truncation error O(h^2)
and float32 rounding noise of about 1e-7 * |output| / h, so h = 1e-3 with a relative tolerance of
a few 1e-3 separates a correct gradient from a wrong one by orders of magnitude.
"""

from __future__ import annotations

import numpy as np

import kerasette as keras


def mse64(pred: np.ndarray, target: np.ndarray) -> float:
    d = pred.astype(np.float64) - target.astype(np.float64)
    return float(np.mean(d.reshape(d.shape[0], -1) ** 2, axis=1).mean())


def engine_gradients(model, x, y, loss="mse") -> list:
    """Gradients of the loss w.r.t. every trainable weight, from one engine step with lr = 0."""
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=loss)
    model.train_on_batch(x, y)
    grads = []
    for w in model.trainable_weights:
        grads.append(w._layer._core.get_grad(w._index).astype(np.float64))
    return grads


def check_gradients(model, x, y, loss="mse", loss64=mse64, h=1e-3, rtol=5e-3, atol=1e-5,
                    samples=12, seed=0):
    """Compares engine gradients with central differences on `samples` entries of each weight."""
    grads = engine_gradients(model, x, y, loss)
    rng = np.random.default_rng(seed)
    for var, grad in zip(model.trainable_weights, grads):
        base = var.numpy()
        flat = base.reshape(-1)
        picks = rng.choice(flat.size, size=min(samples, flat.size), replace=False)
        for i in picks:
            values = []
            for sign in (1.0, -1.0):
                w = flat.copy()
                w[i] += sign * h
                var.assign(w.reshape(base.shape))
                values.append(loss64(model.predict_on_batch(x), y))
            var.assign(base)
            numeric = (values[0] - values[1]) / (2 * h)
            analytic = grad.reshape(-1)[i]
            scale = max(abs(numeric), abs(analytic), np.abs(grad).max() * 1e-2, atol)
            assert abs(numeric - analytic) <= rtol * scale + atol, (
                f"{var.path}[{i}]: engine {analytic:.6g} vs finite differences {numeric:.6g}")
