"""Optimizer steps against Keras 3's update formulas, computed by hand in float64."""

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers


def _grad(w, x, y):
    # d/dW of mean over samples of mean over outputs of (xW - y)^2
    n, d = y.shape
    return 2.0 / (n * d) * x.T @ (x @ w - y)


def _sgd(w, g, s, t, lr=0.01, momentum=0.0, nesterov=False):
    if momentum == 0:
        return w - lr * g
    m = s.setdefault("m", np.zeros_like(w))
    m[:] = momentum * m - lr * g
    return w + (momentum * m - lr * g if nesterov else m)


def _adam(w, g, s, t, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=0.0):
    if wd:
        w = w - w * wd * lr
    m = s.setdefault("m", np.zeros_like(w))
    v = s.setdefault("v", np.zeros_like(w))
    alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    m += (g - m) * (1 - b1)
    v += (g * g - v) * (1 - b2)
    if amsgrad:
        vh = s.setdefault("vh", np.zeros_like(w))
        vh[:] = np.maximum(vh, v)
        return w - alpha * m / (np.sqrt(vh) + eps)
    return w - alpha * m / (np.sqrt(v) + eps)


def _rmsprop(w, g, s, t, lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    v = s.setdefault("v", np.zeros_like(w))
    v[:] = rho * v + (1 - rho) * g * g
    if centered:
        mg = s.setdefault("mg", np.zeros_like(w))
        mg[:] = rho * mg + (1 - rho) * g
        denom = v - mg * mg + eps
    else:
        denom = v + eps
    inc = lr * g / np.sqrt(denom)
    if momentum > 0:
        mom = s.setdefault("mom", np.zeros_like(w))
        mom[:] = momentum * mom + inc
        return w - mom
    return w - inc


def _adagrad(w, g, s, t, lr=0.001, init=0.1, eps=1e-7):
    acc = s.setdefault("acc", np.full_like(w, init))
    acc += g * g
    return w - lr * g / np.sqrt(acc + eps)


def _adadelta(w, g, s, t, lr=0.001, rho=0.95, eps=1e-7):
    ag = s.setdefault("ag", np.zeros_like(w))
    ad = s.setdefault("ad", np.zeros_like(w))
    ag[:] = rho * ag + (1 - rho) * g * g
    delta = -np.sqrt(ad + eps) * g / np.sqrt(ag + eps)
    ad[:] = rho * ad + (1 - rho) * delta * delta
    return w + lr * delta


def _nadam(w, g, s, t, lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    m = s.setdefault("m", np.zeros_like(w))
    v = s.setdefault("v", np.zeros_like(w))
    u_t = b1 * (1 - 0.5 * 0.96**t)
    u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
    s["u"] = s.get("u", 1.0) * u_t
    u_prod, u_prod1 = s["u"], s["u"] * u_t1
    m += (g - m) * (1 - b1)
    v += (g * g - v) * (1 - b2)
    m_hat = u_t1 * m / (1 - u_prod1) + (1 - u_t) * g / (1 - u_prod)
    v_hat = v / (1 - b2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)


CASES = [
    ("sgd", lambda: keras.optimizers.SGD(), _sgd, {}),
    ("sgd_lr", lambda: keras.optimizers.SGD(learning_rate=0.1), _sgd, {"lr": 0.1}),
    ("momentum", lambda: keras.optimizers.SGD(0.05, momentum=0.9), _sgd,
     {"lr": 0.05, "momentum": 0.9}),
    ("nesterov", lambda: keras.optimizers.SGD(0.05, momentum=0.8, nesterov=True), _sgd,
     {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("adam", lambda: keras.optimizers.Adam(0.01), _adam, {"lr": 0.01}),
    ("adam_amsgrad", lambda: keras.optimizers.Adam(0.01, amsgrad=True), _adam,
     {"lr": 0.01, "amsgrad": True}),
    ("adamw", lambda: keras.optimizers.AdamW(0.01), _adam, {"lr": 0.01, "wd": 0.004}),
    ("rmsprop", lambda: keras.optimizers.RMSprop(0.01), _rmsprop, {"lr": 0.01}),
    ("rmsprop_centered_momentum",
     lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True), _rmsprop,
     {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("adagrad", lambda: keras.optimizers.Adagrad(0.05), _adagrad, {"lr": 0.05}),
    ("adadelta", lambda: keras.optimizers.Adadelta(1.0), _adadelta, {"lr": 1.0}),
    ("nadam", lambda: keras.optimizers.Nadam(0.01), _nadam, {"lr": 0.01}),
]


@pytest.mark.parametrize("make,reference,kwargs", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_optimizer_matches_keras_formula(make, reference, kwargs, rng):
    x = rng.normal(size=(6, 4)).astype("float32")
    y = rng.normal(size=(6, 3)).astype("float32")
    w0 = rng.normal(size=(4, 3)).astype("float32")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, use_bias=False)])
    model.set_weights([w0])
    model.compile(optimizer=make(), loss="mse")
    w = w0.astype(np.float64)
    state = {}
    for t in range(1, 5):
        model.train_on_batch(x, y)
        w = reference(w, _grad(w, x.astype(np.float64), y.astype(np.float64)), state, t, **kwargs)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=2e-5, atol=2e-6)
    assert model.optimizer.iterations == 4


def test_clipnorm_and_clipvalue(rng):
    x = rng.normal(size=(6, 4)).astype("float32") * 10
    y = rng.normal(size=(6, 3)).astype("float32")
    w0 = rng.normal(size=(4, 3)).astype("float32")
    for kwargs, clip in [({"clipnorm": 0.5}, "norm"), ({"clipvalue": 0.1}, "value"),
                         ({"global_clipnorm": 0.3}, "norm03")]:
        model = keras.Sequential([keras.Input((4,)), layers.Dense(3, use_bias=False)])
        model.set_weights([w0])
        model.compile(optimizer=keras.optimizers.SGD(1.0, **kwargs), loss="mse")
        model.train_on_batch(x, y)
        g = _grad(w0.astype(np.float64), x.astype(np.float64), y.astype(np.float64))
        if clip == "value":
            g = np.clip(g, -0.1, 0.1)
        else:
            limit = 0.5 if clip == "norm" else 0.3
            g = g * min(1.0, limit / np.linalg.norm(g))
        np.testing.assert_allclose(model.get_weights()[0], w0 - g, rtol=1e-5, atol=1e-6)


def test_learning_rate_settable_between_steps(rng):
    x = rng.normal(size=(6, 4)).astype("float32")
    y = rng.normal(size=(6, 3)).astype("float32")
    w0 = rng.normal(size=(4, 3)).astype("float32")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, use_bias=False)])
    model.set_weights([w0])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.train_on_batch(x, y)
    model.optimizer.learning_rate = 0.0
    assert model.optimizer.learning_rate == pytest.approx(0.0)
    before = model.get_weights()[0]
    model.train_on_batch(x, y)
    np.testing.assert_array_equal(model.get_weights()[0], before)


@pytest.mark.parametrize("schedule,expected", [
    (lambda: keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5),
     lambda s: 0.1 * 0.5 ** (s / 2)),
    (lambda: keras.optimizers.schedules.InverseTimeDecay(0.1, 1, 0.5),
     lambda s: 0.1 / (1 + 0.5 * s)),
    (lambda: keras.optimizers.schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.05, 0.01]),
     lambda s: 0.1 if s <= 1 else (0.05 if s <= 2 else 0.01)),
    (lambda: keras.optimizers.schedules.CosineDecay(0.1, 4),
     lambda s: 0.1 * 0.5 * (1 + np.cos(np.pi * min(s, 4) / 4))),
], ids=["exponential", "inverse_time", "piecewise", "cosine"])
def test_schedules_drive_sgd(schedule, expected, rng):
    x = rng.normal(size=(6, 4)).astype("float32")
    y = rng.normal(size=(6, 3)).astype("float32")
    w0 = rng.normal(size=(4, 3)).astype("float32")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, use_bias=False)])
    model.set_weights([w0])
    model.compile(optimizer=keras.optimizers.SGD(schedule()), loss="mse")
    w = w0.astype(np.float64)
    for step in range(5):
        model.train_on_batch(x, y)
        w = w - expected(step) * _grad(w, x.astype(np.float64), y.astype(np.float64))
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=2e-5, atol=2e-6)
