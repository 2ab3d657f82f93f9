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


def _adamax(w, g, s, t, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, wd=0.0):
    if wd:
        w = w - w * wd * lr
    m = s.setdefault("m", np.zeros_like(w))
    u = s.setdefault("u", np.zeros_like(w))
    m += (g - m) * (1 - b1)
    u[:] = np.maximum(b2 * u, np.abs(g))
    return w - lr * m / ((1 - b1**t) * (u + eps))


def _lion(w, g, s, t, lr=0.001, b1=0.9, b2=0.99, wd=0.0):
    if wd:
        w = w - w * wd * lr
    m = s.setdefault("m", np.zeros_like(w))
    w = w - lr * np.sign(m * b1 + g * (1 - b1))
    m[:] = m * b2 + g * (1 - b2)
    return w


def _ftrl(w, g, s, t, lr=0.001, power=-0.5, init=0.1, l1=0.0, l2=0.0, shrink=0.0, beta=0.0):
    acc = s.setdefault("acc", np.full_like(w, init))
    lin = s.setdefault("lin", np.zeros_like(w))
    l2 = l2 + beta / (2 * lr)
    new_acc = acc + g * g
    lin += g + 2 * shrink * w - (new_acc**-power - acc**-power) / lr * w
    quadratic = new_acc**-power / lr + 2 * l2
    acc[:] = new_acc
    return (np.clip(lin, -l1, l1) - lin) / quadratic


FTRL_ARGS = dict(learning_rate_power=-0.7, initial_accumulator_value=0.3,
                 l1_regularization_strength=0.01, l2_regularization_strength=0.02,
                 l2_shrinkage_regularization_strength=0.05, beta=0.1)  # fmt: skip

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
    ("adamax", lambda: keras.optimizers.Adamax(0.01), _adamax, {"lr": 0.01}),
    ("adamax_args",
     lambda: keras.optimizers.Adamax(0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-3,
                                     weight_decay=0.05),
     _adamax, {"lr": 0.02, "b1": 0.8, "b2": 0.95, "eps": 1e-3, "wd": 0.05}),
    ("lion", lambda: keras.optimizers.Lion(0.01), _lion, {"lr": 0.01}),
    ("lion_args", lambda: keras.optimizers.Lion(0.005, beta_1=0.5, beta_2=0.9, weight_decay=0.1),
     _lion, {"lr": 0.005, "b1": 0.5, "b2": 0.9, "wd": 0.1}),
    ("ftrl", lambda: keras.optimizers.Ftrl(0.1), _ftrl, {"lr": 0.1}),
    ("ftrl_args", lambda: keras.optimizers.Ftrl(0.2, **FTRL_ARGS), _ftrl,
     {"lr": 0.2, "power": -0.7, "init": 0.3, "l1": 0.01, "l2": 0.02, "shrink": 0.05, "beta": 0.1}),
    ("ftrl_fixed_rate", lambda: keras.optimizers.Ftrl(0.2, learning_rate_power=0.0), _ftrl,
     {"lr": 0.2, "power": 0.0}),
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
    (lambda: keras.optimizers.schedules.PolynomialDecay(0.1, 3, end_learning_rate=0.02, power=2.0),
     lambda s: 0.08 * (1 - min(s, 3) / 3) ** 2 + 0.02),
    (lambda: keras.optimizers.schedules.PolynomialDecay(0.1, 2, power=1.0, cycle=True),
     lambda s: 0.0999 * (1 - s / (2 * max(1, np.ceil(s / 2)))) + 0.0001),
], ids=["exponential", "inverse_time", "piecewise", "cosine", "polynomial", "polynomial_cycle"])
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


# Keras 3.15.1's weights after 5 `train_on_batch` steps of Dense(3, use_bias=False) from `_W0`
# on (`_X`, `_Y`) with mse (TensorFlow backend, CPU), printed as float32 values.
_X = np.sin(np.arange(24) * 0.7).reshape(6, 4).astype("float32")
_Y = np.cos(np.arange(18) * 0.3).reshape(6, 3).astype("float32")
_W0 = (np.sin(np.arange(12) * 1.3 + 0.5) * 0.8).reshape(4, 3).astype("float32")
_SCHEDULES = keras.optimizers.schedules
KERAS3_CASES = {
    "adamax": (lambda: keras.optimizers.Adamax(0.01), [
        0.39929598569869995, 0.8262842893600464, 0.07880328595638275, -0.7140641808509827,
        -0.3957344889640808, 0.5725190043449402, 0.7668097615242004, -0.0963067039847374,
        -0.7473521828651428, -0.24309128522872925, 0.6818352937698364, 0.6167697310447693]),
    "adamax_args": (lambda: keras.optimizers.Adamax(0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-3,
                                                    weight_decay=0.05), [
        0.4216512143611908, 0.8659230470657349, 0.12308640778064728, -0.6665278673171997,
        -0.35516026616096497, 0.6168422698974609, 0.8039987087249756, -0.061842408031225204,
        -0.6959489583969116, -0.20375171303749084, 0.6988767385482788, 0.6237578392028809]),
    "adamax_schedule_clipnorm": (
        lambda: keras.optimizers.Adamax(_SCHEDULES.ExponentialDecay(0.05, 2, 0.5), clipnorm=0.3), [
        0.3871699571609497, 0.893730640411377, 0.14099840819835663, -0.6381215453147888,
        -0.33956047892570496, 0.6420891880989075, 0.823798656463623, -0.047950379550457,
        -0.6668221950531006, -0.20006272196769714, 0.7097099423408508, 0.6172234416007996]),
    "lion": (lambda: keras.optimizers.Lion(0.01), [
        0.41354039311408997, 0.8290780782699585, 0.08326452225446701, -0.7112817168235779,
        -0.3905484676361084, 0.5755892395973206, 0.7717373967170715, -0.08946143090724945,
        -0.746349036693573, -0.23658344149589539, 0.6930274963378906, 0.6206016540527344]),
    "lion_args": (lambda: keras.optimizers.Lion(0.005, beta_1=0.5, beta_2=0.9, weight_decay=0.1), [
        0.3975774943828583, 0.8021073937416077, 0.05815645679831505, -0.7344053387641907,
        -0.41447314620018005, 0.5492516160011292, 0.744909942150116, -0.11413811892271042,
        -0.7693851590156555, -0.26089268922805786, 0.6663965582847595, 0.6140466928482056]),
    "lion_schedule_global_clipnorm": (
        lambda: keras.optimizers.Lion(_SCHEDULES.InverseTimeDecay(0.02, 1, 0.5),
                                      global_clipnorm=0.2), [
        0.4015403687953949, 0.8370780944824219, 0.09126453101634979, -0.7032817006111145,
        -0.382548451423645, 0.5835892558097839, 0.7797374129295349, -0.08146142959594727,
        -0.7383490204811096, -0.228583425283432, 0.6876941919326782, 0.6286016702651978]),
    "ftrl": (lambda: keras.optimizers.Ftrl(0.1), [
        0.03567781299352646, 0.05659686401486397, 0.06747082620859146, 0.057701971381902695,
        0.08027373999357224, 0.11672697216272354, 0.08353622257709503, 0.07792587578296661,
        0.07859501242637634, 0.029389433562755585, 0.03768742457032204, 0.03646158054471016]),
    "ftrl_args": (lambda: keras.optimizers.Ftrl(0.2, weight_decay=0.02, **FTRL_ARGS), [
        0.02357509918510914, 0.03092370741069317, 0.06984303146600723, 0.0908656194806099,
        0.103681281208992, 0.09743262082338333, 0.05167928710579872, 0.08799444139003754,
        0.1169123575091362, 0.04150615632534027, 0.015310505405068398, 0.014747829176485538]),
    "ftrl_schedule_clipvalue": (
        lambda: keras.optimizers.Ftrl(_SCHEDULES.PiecewiseConstantDecay([1, 3], [0.2, 0.1, 0.05]),
                                      learning_rate_power=0.0, clipvalue=0.05), [
        0.005578410811722279, 0.009574439376592636, 0.012399394996464252, 0.012288483791053295,
        0.012383666820824146, 0.012500000186264515, 0.012306535616517067, 0.012153057381510735,
        0.012500000186264515, 0.007577073760330677, 0.007162199821323156, 0.006267973687499762]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(KERAS3_CASES))
def test_optimizer_matches_keras3_reference(case, each_isa):
    make, expected = KERAS3_CASES[case]
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, use_bias=False)])
    model.set_weights([_W0])
    model.compile(optimizer=make(), loss="mse")
    for _ in range(5):
        model.train_on_batch(_X, _Y)
    # float32 rounding differences (summation order in the gradient, pow and division) only.
    np.testing.assert_allclose(model.get_weights()[0].ravel(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: keras.optimizers.Adamax(0.01, weight_decay=0.01),
    lambda: keras.optimizers.Lion(0.001),
    lambda: keras.optimizers.Ftrl(0.05, **FTRL_ARGS),
], ids=["adamax", "lion", "ftrl"])  # fmt: skip
def test_new_optimizers_same_on_every_isa(make, rng):
    # The per-ISA kernels follow one formula; only FMA contraction may change a last bit.
    x = rng.normal(size=(64, 40)).astype("float32")
    y = rng.normal(size=(64, 33)).astype("float32")
    w0 = rng.normal(size=(40, 33)).astype("float32")
    results = {}
    before = keras.config.cpu_isa()
    try:
        for isa in keras.config.supported_cpu_isas():
            keras.config.set_cpu_isa(isa)
            model = keras.Sequential([keras.Input((40,)), layers.Dense(33)])
            model.set_weights([w0, np.zeros(33, "float32")])
            model.compile(optimizer=make(), loss="mse")
            for _ in range(3):
                model.train_on_batch(x, y)
            results[isa] = model.get_weights()
    finally:
        keras.config.set_cpu_isa(before)
    for isa, weights in results.items():
        for a, b in zip(weights, results["generic"]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=isa)


def test_learning_rate_and_iterations_are_keras_variables(rng):
    # Keras 3.15 after two steps of Adam(0.01): custom callbacks read these with `.numpy()`,
    # `float()` and `.assign()`; the reprs below are Keras's, printed by the same script.
    keras.backend.clear_session()  # so the optimizer's automatic name is "adam"
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(np.zeros((8, 3)), np.zeros((8, 1)), batch_size=4, verbose=0)
    lr, it = model.optimizer.learning_rate, model.optimizer.iterations
    assert repr(lr) == ("<Variable path=adam/learning_rate, shape=(), dtype=float32, "
                        "value=0.009999999776482582>")
    assert repr(it) == "<Variable path=adam/iteration, shape=(), dtype=int64, value=2>"
    assert type(lr.numpy()) is np.float32 and type(it.numpy()) is np.int64
    assert float(lr) == float(np.float32(0.01)) and int(it) == 2
    assert lr * 2 == np.float32(0.02) and lr > 0.001 and round(lr, 3) == 0.01
    assert (lr.name, lr.path, lr.shape, lr.dtype, lr.trainable) == (
        "learning_rate", "adam/learning_rate", (), "float32", False)
    lr.assign(0.5)  # reaches the running optimizer
    assert model.optimizer._graph.learning_rate == 0.5 and lr == 0.5
    model.optimizer.learning_rate = model.optimizer.learning_rate * 0.1
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)


def test_schedule_learning_rate_reads_as_current_value():
    # Keras 3 shows a schedule's value at the current step (a scalar, not the schedule), and a
    # second compile with the same optimizer keeps the schedule.
    sched = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    opt = keras.optimizers.SGD(sched)
    assert opt.learning_rate == np.float32(0.1)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(opt, "mse")
    model.fit(np.zeros((40, 3)), np.zeros((40, 1)), batch_size=4, verbose=0)
    assert float(opt.learning_rate) == pytest.approx(0.05)
    model.compile(opt, "mse")
    assert opt.engine_spec()[1]["schedule"] == "exponential"
