"""The CUDA backend against the CPU engine: each kernel on odd shapes, whole `fit` runs, dropout
masks. Skipped unless `kerasette.config.list_devices()` holds a CUDA device.

Tolerances: the GPU sums in other orders than the CPU (GEMM tiles, warp trees) and uses libdevice's
expf/tanhf/erff instead of the CPU's polynomials, so float32 results agree to a few ulp per
operation; 1e-5 relative for elementwise kernels, 1e-4 scaled by sqrt(K) for products, 1e-3 for
loss curves after 50 training steps. Dropout masks (SpatialDropout's too) are compared bit for
bit, normal noise (GaussianNoise, GaussianDropout) to one ulp: its Box-Muller log and cos are
libdevice's on the GPU.
"""

import numpy as np
import pytest

import kerasette
from conftest import load_example
from kerasette import _core, config

pytestmark = pytest.mark.skipif(
    not any(d.startswith("cuda") for d in config.list_devices()),
    reason="no CUDA device: kerasette.config.list_devices() lists only the CPU "
    "(CPU-only build, or no GPU visible)",
)

ACTS = {  # name -> (Act enum value, alpha)
    "relu": (1, 0.0), "sigmoid": (2, 0.0), "tanh": (3, 0.0), "softmax": (4, 0.0),
    "elu": (5, 1.0), "selu": (6, 0.0), "leaky_relu": (7, 0.2), "softplus": (8, 0.0),
    "softsign": (9, 0.0), "swish": (10, 0.0), "gelu": (11, 0.0), "gelu_tanh": (11, 1.0),
    "hard_sigmoid": (12, 0.0), "exponential": (13, 0.0), "relu6": (14, 0.0), "mish": (15, 0.0),
    "hard_swish": (16, 0.0),
}


@pytest.fixture(autouse=True)
def _restore_device():
    before = config.get_device()
    yield
    config.set_device(before)


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (7, 13, 5), (33, 65, 17), (129, 70, 300),
                                   (300, 257, 64), (1000, 520, 33)])
def test_gemm_matches_cpu(ta, tb, m, n, k):
    r = rng(m * n + k)
    a = r.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = r.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    c0 = r.standard_normal((m, n)).astype(np.float32)
    for accumulate in (False, True):
        cpu, gpu = _core._cuda_test_gemm(a, b, ta, tb, c0, accumulate, None, 0, 0.0)
        np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-4 * np.sqrt(k))


# C of a few tiles over a long K: K is summed in fixed chunks (split K) and the chunks added in
# order. The first shape is the MNIST convnet's first kernel gradient (taps x filters over every
# pixel of a batch of 50); the others have a ragged last chunk and K past 128 chunks of 512.
@pytest.mark.parametrize("ta,tb,m,n,k", [(True, False, 25, 32, 39200), (False, False, 50, 1024, 3136),
                                         (False, True, 7, 3, 2049), (True, True, 70, 33, 70001)])
def test_gemm_split_k_matches_cpu(ta, tb, m, n, k):
    r = rng(k)
    a = r.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = r.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    c0 = r.standard_normal((m, n)).astype(np.float32)
    bias = r.standard_normal(n).astype(np.float32)
    for accumulate in (False, True):
        cpu, gpu = _core._cuda_test_gemm(a, b, ta, tb, c0, accumulate, None, 0, 0.0)
        np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-4 * np.sqrt(k))
    cpu, gpu = _core._cuda_test_gemm(a, b, ta, tb, c0, False, bias, *ACTS["relu"])
    np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-4 * np.sqrt(k))
    again = _core._cuda_test_gemm(a, b, ta, tb, c0, False, bias, *ACTS["relu"])[1]
    assert np.array_equal(gpu, again)  # the chunks are added in a fixed order


@pytest.mark.parametrize("act", ["relu", "sigmoid", "elu", "gelu_tanh"])
def test_gemm_bias_activation_epilogue(act):
    r = rng(3)
    a = r.standard_normal((77, 45)).astype(np.float32)
    b = r.standard_normal((45, 31)).astype(np.float32)
    bias = r.standard_normal(31).astype(np.float32)
    c0 = np.zeros((77, 31), np.float32)
    code, alpha = ACTS[act]
    cpu, gpu = _core._cuda_test_gemm(a, b, False, False, c0, False, bias, code, alpha)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-4)


def test_gemm_tf32_switch():
    r = rng(4)
    a = r.standard_normal((130, 70)).astype(np.float32)
    b = r.standard_normal((70, 90)).astype(np.float32)
    c0 = np.zeros((130, 90), np.float32)
    assert not _core.cuda_gemm_tf32()  # off by default
    _core.cuda_set_gemm_tf32(True)
    try:
        cpu, gpu = _core._cuda_test_gemm(a, b, False, False, c0, False, None, 0, 0.0)
    finally:
        _core.cuda_set_gemm_tf32(False)
    # TF32 keeps 10 mantissa bits per product: about 1e-3 relative on sums of 70 products.
    np.testing.assert_allclose(gpu, cpu, rtol=2e-2, atol=2e-2)
    # A split K (a kernel gradient's shape) through the TF32 kernel: products of size ~1 summed
    # 39,200 times, each off by ~1e-3: an error of a few tenths at most.
    a = r.standard_normal((39200, 25)).astype(np.float32)
    b = r.standard_normal((39200, 32)).astype(np.float32)
    c0 = np.zeros((25, 32), np.float32)
    _core.cuda_set_gemm_tf32(True)
    try:
        cpu, gpu = _core._cuda_test_gemm(a, b, True, False, c0, False, None, 0, 0.0)
    finally:
        _core.cuda_set_gemm_tf32(False)
    np.testing.assert_allclose(gpu, cpu, rtol=2e-2, atol=1.0)


@pytest.mark.parametrize("act", sorted(ACTS))
def test_activation_forward_backward(act):
    r = rng(5)
    x = (r.standard_normal((37, 19)) * 4).astype(np.float32)
    dy = r.standard_normal((37, 19)).astype(np.float32)
    code, alpha = ACTS[act]
    (y, dx), (gy, gdx) = _core._cuda_test_activation(code, alpha, x, dy)
    np.testing.assert_allclose(gy, y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gdx, dx, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("rows,cols", [(1, 1), (7, 13), (300, 33), (5, 1000),
                                       (39200, 32), (4097, 70)])  # row chunks from 4,096 rows
def test_sum_rows_and_bias(rows, cols):
    r = rng(rows + cols)
    x = r.standard_normal((rows, cols)).astype(np.float32)
    out0 = r.standard_normal(cols).astype(np.float32)
    for accumulate in (False, True):
        cpu, gpu = _core._cuda_test_sum_rows(x, out0, accumulate)
        np.testing.assert_allclose(gpu, cpu, rtol=1e-5, atol=1e-5 * np.sqrt(rows))
    # deterministic: the same bits twice
    assert np.array_equal(_core._cuda_test_sum_rows(x, out0, False)[1],
                          _core._cuda_test_sum_rows(x, out0, False)[1])
    cpu, gpu = _core._cuda_test_add_bias(x, out0)
    np.testing.assert_array_equal(gpu, cpu)


@pytest.mark.parametrize("n,rate,seed,step", [(1, 0.5, 0, 0), (1001, 0.3, 7, 5),
                                              (4096, 0.9, 123, 1000), (33, 0.0, 1, 1)])
def test_dropout_masks_identical(n, rate, seed, step):
    cpu, gpu = _core._cuda_test_dropout_mask(n, rate, seed, step)
    np.testing.assert_array_equal(gpu, cpu)


def _mlp(hidden=(512, 512), dropout=0.0, out=10, activation="softmax", inp=784,
         hidden_activation="relu"):
    layers = [kerasette.Input((inp,))]
    for i, h in enumerate(hidden):
        layers.append(kerasette.layers.Dense(h, activation=hidden_activation))
        if dropout:
            layers.append(kerasette.layers.Dropout(dropout, seed=i + 1))
    layers.append(kerasette.layers.Dense(out, activation=activation))
    return kerasette.Sequential(layers)


def _initial_weights(build, seed):
    config.set_device("cpu")
    kerasette.utils.set_random_seed(seed)
    return build().get_weights()


def _pair(build, compile_kw, x, y, seed=0, callbacks=None, **fit_kw):
    """Fits the same initial weights (drawn with `seed`) on the CPU and on the GPU; returns both
    (model, history). `callbacks(device)` may give each fit its callbacks."""
    weights = _initial_weights(build, seed)
    out = []
    for device in ("cpu", "cuda"):
        config.set_device(device)
        model = build()
        model.compile(**compile_kw)
        model.set_weights(weights)
        cbs = callbacks(device) if callbacks else None
        out.append((model, model.fit(x, y, verbose=0, callbacks=cbs, **fit_kw).history))
    return out


def _step_losses(store):
    return [kerasette.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: store.append(logs["loss"]))]


def _mlp_fit_pair(optimizer, hidden_activation="relu"):
    """The MLP 784-512-512-10, batch 128, 50 steps on learnable labels (the argmax of a fixed
    random projection of the centred inputs), on the CPU and the GPU from the same weights."""
    r = rng(10)
    x = r.random((50 * 128, 784), dtype=np.float32)
    proj = r.standard_normal((784, 10)).astype(np.float32)
    y = np.argmax((x - 0.5) @ proj, axis=1).astype(np.float32)
    losses = {"cpu": [], "cuda": []}
    compile_kw = dict(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    build = lambda: _mlp(hidden_activation=hidden_activation)  # noqa: E731
    (cm, ch), (gm, gh) = _pair(build, compile_kw, x, y, seed=0, batch_size=128, epochs=1,
                               shuffle=False, callbacks=lambda d: _step_losses(losses[d]))
    assert len(losses["cuda"]) == len(losses["cpu"]) == 50
    moved = [np.mean(np.abs(wc - w)) for wc, w in zip(cm.get_weights(), _initial_weights(build, 0))]
    apart = [np.mean(np.abs(wg - wc)) for wc, wg in zip(cm.get_weights(), gm.get_weights())]
    preds = (gm.predict(x[:300], verbose=0), cm.predict(x[:300], verbose=0))
    return losses, (ch, gh), np.array(apart) / np.array(moved), preds


def test_mlp_fit_matches_cpu():
    """The issue's check: the MLP (ReLU, Adam) on the GPU follows the CPU's loss curve within 1e-3
    relative, step by step over 50 steps.

    ReLU's kinks and Adam amplify rounding: a unit whose input sits near 0 switches on one side
    and not the other, and Adam's early update is about lr * sign(g), so a gradient below rounding
    noise steps either way. Measured on the CPU with this setup, initial weights changed by 1e-6
    relative (a few ulps, the size of the GPU's rounding differences) end 50 steps with losses
    1.6e-4 apart, weights up to 14% of their movement apart and predictions 2.2e-2 apart (up to
    49% and 4.4e-2 for other seeds). The weights and predictions therefore get wide margins that
    still catch a layer that does not learn; test_mlp_sgd_fit_matches_cpu_closely compares them
    tightly where nothing amplifies."""
    losses, (ch, gh), ratio, (pg, pc) = _mlp_fit_pair("adam")
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-3)
    np.testing.assert_allclose(gh["accuracy"], ch["accuracy"], atol=5e-3)
    assert np.all(ratio <= 0.5), ratio
    np.testing.assert_allclose(pg, pc, atol=0.1)


def test_mlp_sgd_fit_matches_cpu_closely():
    """Smooth activations (tanh) and SGD with momentum: nothing switches and the update is linear
    in the gradient, so rounding differences stay rounding-sized. On the CPU, a 1e-6 relative
    change of the initial weights ends 50 steps with losses 1e-7 apart, weights 3e-5 of their
    movement apart and predictions 4e-7 apart, for any seed; the GPU must stay well inside that
    order."""
    losses, (ch, gh), ratio, (pg, pc) = _mlp_fit_pair(
        kerasette.optimizers.SGD(0.01, momentum=0.9), hidden_activation="tanh")
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-5)
    assert np.all(ratio <= 2e-3), ratio
    np.testing.assert_allclose(pg, pc, atol=1e-4)


@pytest.mark.parametrize("optimizer", [
    "sgd", kerasette.optimizers.SGD(0.01, momentum=0.9, nesterov=True), "rmsprop",
    kerasette.optimizers.RMSprop(momentum=0.5, centered=True), "adagrad", "adadelta",
    "adam", kerasette.optimizers.Adam(amsgrad=True), kerasette.optimizers.AdamW(), "nadam",
    kerasette.optimizers.Adam(clipnorm=0.5), "adamax",
    kerasette.optimizers.Adamax(0.01, beta_1=0.8, weight_decay=0.01), "lion",
    kerasette.optimizers.Lion(0.002, beta_2=0.95, weight_decay=0.1), "ftrl",
    kerasette.optimizers.Ftrl(0.1, learning_rate_power=-0.6, l1_regularization_strength=0.001,
                              l2_regularization_strength=0.01,
                              l2_shrinkage_regularization_strength=0.01, beta=0.1),
    kerasette.optimizers.Ftrl(0.1, learning_rate_power=0.0),
])
def test_optimizers_match_cpu(optimizer):
    r = rng(11)
    x = r.standard_normal((256, 20)).astype(np.float32)
    y = r.standard_normal((256, 3)).astype(np.float32)
    opt_cfg = optimizer if isinstance(optimizer, str) else None

    def compile_kw():
        opt = opt_cfg or optimizer.__class__.from_config(optimizer.get_config())
        return dict(optimizer=opt, loss="mse")

    results = []
    config.set_device("cpu")
    weights = _mlp(hidden=(16,), out=3, activation="linear", inp=20).get_weights()
    for device in ("cpu", "cuda"):
        config.set_device(device)
        model = _mlp(hidden=(16,), out=3, activation="linear", inp=20)
        model.compile(**compile_kw())
        model.set_weights(weights)
        h = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0).history
        results.append((model.get_weights(), h["loss"]))
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-4)
    for wc, wg in zip(results[0][0], results[1][0]):
        np.testing.assert_allclose(wg, wc, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("loss,act,metric,target", [
    ("mse", "linear", "mae", "reg"), ("mae", "linear", "mse", "reg"),
    ("huber", "linear", "mse", "reg"), ("binary_crossentropy", "sigmoid", "binary_accuracy", "bin"),
    ("categorical_crossentropy", "softmax", "categorical_accuracy", "onehot"),
    ("categorical_crossentropy", "softmax", "top_k_categorical_accuracy", "onehot"),
    ("sparse_categorical_crossentropy", "softmax", "sparse_categorical_accuracy", "sparse"),
])
def test_losses_and_metrics_match_cpu(loss, act, metric, target):
    r = rng(12)
    x = r.standard_normal((200, 12)).astype(np.float32)
    labels = r.integers(0, 5, 200)
    y = {"reg": r.standard_normal((200, 5)).astype(np.float32),
         "bin": (r.random((200, 5)) > 0.5).astype(np.float32),
         "onehot": np.eye(5, dtype=np.float32)[labels],
         "sparse": labels.astype(np.float32)}[target]
    (cm, ch), (gm, gh) = _pair(
        lambda: _mlp(hidden=(8,), out=5, activation=act, inp=12),
        dict(optimizer="sgd", loss=loss, metrics=[metric]), x, y, batch_size=32, epochs=2,
        shuffle=False)
    for key in ch:
        np.testing.assert_allclose(gh[key], ch[key], rtol=1e-4, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("loss,act,metric,target", [
    ("mape", "linear", "msle", "pos"), ("msle", "softplus", "mape", "pos"),
    ("kld", "softmax", "poisson", "probs"), ("poisson", "softplus", "kld", "counts"),
    ("log_cosh", "linear", "cosine_similarity", "reg"),
    ("cosine_similarity", "linear", "logcosh", "reg"),
    ("hinge", "linear", "squared_hinge", "bin"), ("squared_hinge", "linear", "hinge", "reg"),
    ("categorical_hinge", "linear", "categorical_hinge", "onehot"),
])
def test_keras3_losses_match_cpu(loss, act, metric, target):
    """MAPE, MSLE, KLD, Poisson, LogCosh, CosineSimilarity and the hinge losses: loss, metric and
    the trained weights (their gradients) on the GPU against the CPU."""
    r = rng(14)
    x = r.standard_normal((200, 12)).astype(np.float32)
    labels = r.integers(0, 5, 200)
    y = {"reg": r.standard_normal((200, 5)).astype(np.float32),
         "pos": r.uniform(0.5, 3.0, (200, 5)).astype(np.float32),
         "probs": r.dirichlet(np.ones(5), 200).astype(np.float32),
         "counts": r.poisson(2.0, (200, 5)).astype(np.float32),
         "bin": (r.random((200, 5)) > 0.5).astype(np.float32),
         "onehot": np.eye(5, dtype=np.float32)[labels]}[target]
    (cm, ch), (gm, gh) = _pair(
        lambda: _mlp(hidden=(8,), out=5, activation=act, inp=12),
        dict(optimizer="sgd", loss=loss, metrics=[metric]), x, y, batch_size=32, epochs=2,
        shuffle=False)
    for key in ch:
        np.testing.assert_allclose(gh[key], ch[key], rtol=1e-4, atol=1e-6, err_msg=key)
    for wc, wg in zip(cm.get_weights(), gm.get_weights()):
        np.testing.assert_allclose(wg, wc, rtol=1e-3, atol=1e-5)


def test_dropout_training_matches_cpu():
    r = rng(13)
    x = r.random((512, 64), dtype=np.float32)
    y = r.integers(0, 10, 512).astype(np.float32)
    (cm, ch), (gm, gh) = _pair(
        lambda: _mlp(hidden=(32, 32), dropout=0.4, inp=64),
        dict(optimizer="adam", loss="sparse_categorical_crossentropy"), x, y, batch_size=64,
        epochs=3, shuffle=False)
    np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-4)


def test_weights_round_trip_and_steady_state_allocation():
    config.set_device("cuda")
    model = _mlp(hidden=(64,), inp=32)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    w = [np.full_like(v, 0.01) for v in model.get_weights()]
    model.set_weights(w)
    for a, b in zip(model.get_weights(), w):
        np.testing.assert_array_equal(a, b)
    x = rng(1).random((640, 32), dtype=np.float32)
    y = rng(2).integers(0, 10, 640).astype(np.float32)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    calls = _core.cuda_memory_stats()["cuda_malloc_calls"]
    model.fit(x, y, batch_size=64, epochs=2, verbose=0)
    assert _core.cuda_memory_stats()["cuda_malloc_calls"] == calls


def test_unsupported_layer_raises_on_cuda():
    config.set_device("cuda")
    # The GPU merge kernels take at most 16 inputs; a 17-way Add stays on the CPU, and a strict
    # set_device('cuda') says so instead of silently running there.
    inp = kerasette.Input((4,))
    model = kerasette.Model(inp, kerasette.layers.Dense(2)(kerasette.layers.Add()([inp] * 17)))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(NotImplementedError, match="CUDA"):
        model.fit(np.zeros((4, 4), np.float32), np.zeros((4, 2), np.float32), verbose=0)


def test_grouped_conv_fit_matches_cpu():
    """Grouped Conv2D (im2col per group of channels, strided into the image) and a grouped Conv1D
    on the GPU: losses and predictions match the CPU's."""
    L = kerasette.layers
    build = lambda: kerasette.Sequential([  # noqa: E731
        kerasette.Input((10, 9, 6)), L.Conv2D(8, 3, padding="same", groups=2, activation="relu"),
        L.Conv2D(12, (3, 2), strides=(2, 1), groups=4), L.Reshape((4 * 8, 12)),
        L.Conv1D(6, 3, groups=3, padding="causal"), L.Conv1D(4, 1, groups=2),  # 1x1: no im2col
        L.Flatten(), L.Dense(3)])
    r = rng(26)
    x = r.standard_normal((48, 10, 9, 6)).astype(np.float32)
    y = r.standard_normal((48, 3)).astype(np.float32)
    (cm, ch), (gm, gh) = _fit_pair(build, x, y, batch_size=16, epochs=3)
    np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-3)
    np.testing.assert_allclose(gm.predict(x[:32], verbose=0), cm.predict(x[:32], verbose=0),
                               rtol=2e-3, atol=2e-3)


def test_set_device_validation():
    with pytest.raises(ValueError):
        config.set_device("tpu")
    with pytest.raises(ValueError):
        config.set_device(f"cuda:{len(config.list_devices())}")
    config.set_device("cuda:0")
    assert config.get_device() == "cuda:0"
    info = config.device_info()
    assert info["total_bytes"] > 0 and info["name"]


# ---- convolution and pooling ----

CONV_CASES = [  # (n, h, w, cin, cout, k, (sh, sw), dilation, padding)
    (2, 7, 9, 1, 4, 1, (1, 1), 1, "valid"),    # 1x1 stride 1: the direct GEMM path
    (2, 7, 9, 3, 5, 1, (2, 2), 1, "same"),
    (3, 8, 7, 1, 8, 3, (1, 1), 1, "same"),
    (2, 9, 10, 3, 6, 3, (2, 2), 1, "valid"),
    (2, 11, 9, 32, 7, 3, (1, 1), 2, "same"),
    (1, 12, 13, 3, 33, 5, (2, 2), 1, "same"),
    (2, 13, 11, 32, 16, 5, (1, 2), 2, "valid"),
    (2, 10, 10, 1, 32, 5, (2, 1), 2, "same"),
    (3, 6, 5, 32, 3, 3, (2, 2), 2, "same"),
    (50, 28, 28, 1, 32, 5, (1, 1), 1, "same"),   # deep MNIST, first layer
    (50, 14, 14, 32, 64, 5, (1, 1), 1, "same"),  # deep MNIST, second layer
]


def _out_len(size, k, s, d, padding):
    span = (k - 1) * d + 1
    return -(-size // s) if padding == "same" else (size - span) // s + 1


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "-".join(map(str, c)))
@pytest.mark.parametrize("act", ["linear", "relu"])
def test_conv2d_matches_cpu(case, act):
    n, h, w, cin, cout, k, (sh, sw), d, padding = case
    r = rng(n * h * w + cin * cout + k)
    oh, ow = _out_len(h, k, sh, d, padding), _out_len(w, k, sw, d, padding)
    x = r.standard_normal((n, h, w, cin)).astype(np.float32)
    kern = (r.standard_normal((k, k, cin, cout)) / np.sqrt(k * k * cin)).astype(np.float32)
    bias = r.standard_normal(cout).astype(np.float32)
    dy = r.standard_normal((n, oh, ow, cout)).astype(np.float32)
    dk0 = r.standard_normal(kern.shape).astype(np.float32)
    db0 = r.standard_normal(cout).astype(np.float32)
    code, alpha = ACTS.get(act, (0, 0.0))
    for accumulate in (False, True):
        cpu, gpu = _core._cuda_test_conv2d(x, kern, bias, dy, sh, sw, d, d, padding, code, alpha,
                                           dk0, db0, accumulate)
        names = ("y", "dx", "dkernel", "dbias")
        terms = (k * k * cin, k * k * cout, n * oh * ow, n * oh * ow)
        for name, t, c, g in zip(names, terms, cpu, gpu):
            assert g.shape == c.shape, name
            np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-4 * np.sqrt(t), err_msg=name)
    # deterministic: the same bits twice
    again = _core._cuda_test_conv2d(x, kern, bias, dy, sh, sw, d, d, padding, code, alpha, dk0,
                                    db0, False)[1]
    first = _core._cuda_test_conv2d(x, kern, bias, dy, sh, sw, d, d, padding, code, alpha, dk0,
                                    db0, False)[1]
    for a, b in zip(first, again):
        assert np.array_equal(a, b)


def _pool_reference(x, dy, k, s, padding, is_max):
    n, h, w, c = x.shape

    def axis(size, kk, ss):
        if padding == "same":
            out = -(-size // ss)
            return out, max((out - 1) * ss + kk - size, 0) // 2
        return (size - kk) // ss + 1, 0

    (oh, ph), (ow, pw) = axis(h, k[0], s[0]), axis(w, k[1], s[1])
    y = np.zeros((n, oh, ow, c), np.float32)
    dx = np.zeros_like(x, dtype=np.float64)
    bi, ci = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    for oy in range(oh):
        y0, y1 = max(0, oy * s[0] - ph), min(h, oy * s[0] - ph + k[0])
        for ox in range(ow):
            x0, x1 = max(0, ox * s[1] - pw), min(w, ox * s[1] - pw + k[1])
            win = x[:, y0:y1, x0:x1, :].reshape(n, -1, c)
            if is_max:
                idx = win.argmax(1)  # the first maximum, as the kernels keep
                y[:, oy, ox, :] = win.max(1)
                wy, wx = np.unravel_index(idx, (y1 - y0, x1 - x0))
                np.add.at(dx, (bi, y0 + wy, x0 + wx, ci), dy[:, oy, ox, :])
            else:
                cnt = (y1 - y0) * (x1 - x0)
                y[:, oy, ox, :] = win.sum(1) / cnt
                dx[:, y0:y1, x0:x1, :] += (dy[:, oy, ox, :] / cnt)[:, None, None, :]
    return y, dx.astype(np.float32)


@pytest.mark.parametrize("is_max", [True, False])
@pytest.mark.parametrize("shape,k,s,padding", [
    ((2, 28, 28, 32), (2, 2), (2, 2), "valid"),
    ((2, 14, 14, 64), (2, 2), (2, 2), "same"),
    ((3, 7, 9, 3), (3, 3), (2, 2), "same"),    # odd sizes: padded windows at the edges
    ((2, 7, 9, 5), (3, 2), (1, 2), "valid"),   # overlapping windows
    ((1, 5, 6, 1), (2, 3), (3, 1), "same"),
    ((2, 8, 8, 4), (3, 3), (1, 1), "same"),
])
def test_pool2d_matches_reference(is_max, shape, k, s, padding):
    r = rng(sum(shape))
    x = r.standard_normal(shape).astype(np.float32)
    oh = -(-shape[1] // s[0]) if padding == "same" else (shape[1] - k[0]) // s[0] + 1
    ow = -(-shape[2] // s[1]) if padding == "same" else (shape[2] - k[1]) // s[1] + 1
    dy = r.standard_normal((shape[0], oh, ow, shape[3])).astype(np.float32)
    y_ref, dx_ref = _pool_reference(x, dy, k, s, padding, is_max)
    y, dx = _core._cuda_test_pool2d(x, dy, k[0], k[1], s[0], s[1], padding, is_max)
    np.testing.assert_allclose(y, y_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-5, atol=1e-5)


def _fit_pair(build, x, y, loss="mse", optimizer="adam", **fit_kw):
    return _pair(build, dict(optimizer=optimizer, loss=loss), x, y, shuffle=False, **fit_kw)


def test_pooling_layers_fit_matches_cpu():
    """Every pooling layer's GPU branch inside a model: losses over a few steps match the CPU."""
    L = kerasette.layers
    r = rng(20)
    x = r.standard_normal((96, 9, 11, 3)).astype(np.float32)
    y = r.standard_normal((96, 4)).astype(np.float32)
    builds = [
        lambda: kerasette.Sequential([kerasette.Input((9, 11, 3)), L.Conv2D(8, 3, padding="same"),
                                      L.AveragePooling2D(3, strides=2, padding="same"),
                                      L.MaxPooling2D(2, padding="same"), L.Flatten(), L.Dense(4)]),
        lambda: kerasette.Sequential([kerasette.Input((9, 11, 3)),
                                      L.Conv2D(6, 3, strides=2, activation="tanh"),
                                      L.GlobalMaxPooling2D(), L.Dense(4)]),
        lambda: kerasette.Sequential([kerasette.Input((9, 11, 3)),
                                      L.Conv2D(6, 3, dilation_rate=2, activation="relu"),
                                      L.GlobalAveragePooling2D(), L.Dense(4)]),
    ]
    for build in builds:
        (cm, ch), (gm, gh) = _fit_pair(build, x, y, batch_size=16, epochs=2)
        np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-3)
        np.testing.assert_allclose(gm.predict(x[:32], verbose=0), cm.predict(x[:32], verbose=0),
                                   rtol=2e-3, atol=2e-3)


def test_conv1d_fit_matches_cpu():
    L = kerasette.layers
    r = rng(21)
    x = r.standard_normal((64, 20, 3)).astype(np.float32)
    y = r.standard_normal((64, 2)).astype(np.float32)
    build = lambda: kerasette.Sequential([  # noqa: E731
        kerasette.Input((20, 3)), L.Conv1D(8, 5, padding="causal", activation="relu"),
        L.MaxPooling1D(2), L.Conv1D(4, 3, strides=2), L.GlobalAveragePooling1D(), L.Dense(2)])
    (cm, ch), (gm, gh) = _fit_pair(build, x, y, batch_size=16, epochs=2)
    np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-3)


# Transposed convolutions: kernel, strides, padding, output_padding, dilation, (H, W) or (L,),
# channels, filters, activation. The GPU runs the three conv2d *_cuda functions backwards.
CONV_TRANSPOSE_CASES = [
    (3, 2, "same", None, 1, (7, 5), 3, 4, "relu"),
    ((3, 2), (2, 3), "valid", (1, 2), 1, (5, 3), 2, 3, "linear"),
    (4, 2, "same", 1, 1, (4, 6), 16, 8, "tanh"),
    (3, 1, "same", None, 2, (6, 7), 5, 2, "sigmoid"),
    (1, 3, "valid", None, 1, (3, 4), 4, 2, "linear"),
    (3, 2, "same", None, 1, (9,), 3, 4, "relu"),
    (4, 3, "valid", 2, 1, (5,), 2, 3, "tanh"),
]


@pytest.mark.parametrize("case", CONV_TRANSPOSE_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv_transpose_matches_cpu(case):
    """Conv2DTranspose / Conv1DTranspose outputs and their input, kernel and bias gradients (one
    SGD step at learning rate 0, through a conv in front) match the CPU's."""
    from gradcheck import engine_gradients

    k, s, padding, op, d, spatial, cin, filters, act = case
    L = kerasette.layers
    two_d = len(spatial) == 2

    def build():
        conv, convt = (L.Conv2D, L.Conv2DTranspose) if two_d else (L.Conv1D, L.Conv1DTranspose)
        return kerasette.Sequential([
            kerasette.Input(spatial + (2,)), conv(cin, 2, padding="same"),
            convt(filters, k, strides=s, padding=padding, output_padding=op, dilation_rate=d,
                  activation=act),
            L.Flatten(), L.Dense(3)])

    r = rng(30 + len(spatial) * 7 + cin)
    x = r.standard_normal((5,) + spatial + (2,)).astype(np.float32)
    y = r.standard_normal((5, 3)).astype(np.float32)
    config.set_device("cpu")
    weights = build().get_weights()
    out = {}
    for device in ("cpu", "cuda"):
        config.set_device(device)
        model = build()
        model.set_weights(weights)
        convt_out = kerasette.Model(model.inputs, model.layers[1].output)
        out[device] = ([convt_out.predict_on_batch(x)]
                       + [g.astype(np.float32) for g in engine_gradients(model, x, y)])
    for gpu, cpu in zip(out["cuda"], out["cpu"], strict=True):
        np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(cpu).max()))


def test_conv_transpose_autoencoder_fit_matches_cpu():
    L = kerasette.layers
    r = rng(24)
    x = r.random((64, 12, 12, 1), dtype=np.float32)
    build = lambda: kerasette.Sequential([  # noqa: E731
        kerasette.Input((12, 12, 1)), L.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        L.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        L.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu"),
        L.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")])
    (cm, ch), (gm, gh) = _fit_pair(build, x, x, loss="binary_crossentropy", batch_size=16,
                                   epochs=3)
    np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-3)
    np.testing.assert_allclose(gm.predict(x[:16], verbose=0), cm.predict(x[:16], verbose=0),
                               rtol=2e-3, atol=2e-3)


def deep_mnist_convnet():
    """The deep-MNIST convnet of the classic TensorFlow course (examples/deep_mnist_convnet.py)."""
    return load_example("deep_mnist_convnet").build_model(dropout_seed=1)


def test_deep_mnist_convnet_fit_matches_cpu():
    r = rng(22)
    x = r.random((50 * 25, 28, 28, 1), dtype=np.float32)
    y = r.integers(0, 10, 50 * 25).astype(np.float32)
    # 2 epochs of 25 steps of 50: the criterion, the loss within 1e-3 after 50 steps.
    (cm, ch), (gm, gh) = _pair(
        deep_mnist_convnet, dict(optimizer="adam", loss="sparse_categorical_crossentropy",
                                 metrics=["accuracy"]),
        x, y, batch_size=50, epochs=2, shuffle=False)
    np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-3)
    # Adam turns float-rounding differences into steps of size lr on some weights: on an H200 the
    # mean weight difference after 50 steps was 1.02e-3 (Dense 1024 bias) with the losses equal
    # to 1e-3, so weights are compared on average with that margin.
    for wc, wg in zip(cm.get_weights(), gm.get_weights()):
        assert np.mean(np.abs(wg - wc)) < 2e-3


def test_merge_and_concatenate_fit_matches_cpu():
    """Every merge layer and Concatenate (last axis and a middle axis) on the GPU inside one
    functional model: the loss curve and the predictions match the CPU's."""
    L = kerasette.layers

    def build():
        inp = kerasette.Input((12,))
        a = L.Dense(8, activation="tanh")(inp)
        b = L.Dense(8, activation="relu")(inp)
        c = L.Dense(8)(inp)
        merged = [L.Add()([a, b, c]), L.Subtract()([a, c]), L.Multiply()([a, b, c]),
                  L.Average()([a, b]), L.Maximum()([a, b, c]), L.Minimum()([b, c])]
        flat = L.Concatenate()(merged)
        rows = L.Concatenate(axis=1)([L.Reshape((2, 4))(a), L.Reshape((2, 4))(c)])
        both = L.Concatenate()([flat, L.Flatten()(rows)])
        return kerasette.Model(inp, L.Dense(3)(both))

    r = rng(23)
    x = r.standard_normal((96, 12)).astype(np.float32)
    y = r.standard_normal((96, 3)).astype(np.float32)
    (cm, ch), (gm, gh) = _fit_pair(build, x, y, batch_size=16, epochs=3)
    np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-3)
    np.testing.assert_allclose(gm.predict(x[:32], verbose=0), cm.predict(x[:32], verbose=0),
                               rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("bn_kw,frozen", [({}, False), ({"center": False, "scale": False}, False),
                                          ({"momentum": 0.5, "epsilon": 1e-5}, False), ({}, True)])
def test_batch_normalization_fit_matches_cpu(bn_kw, frozen):
    """BatchNormalization on the GPU after a convolution (statistics over batch x pixels, 256-row
    chunks several times over) and after a Dense layer: the losses, the moving statistics and
    the inference-mode predictions match the CPU's. A frozen layer runs in inference mode."""
    L = kerasette.layers

    def build():
        bn = L.BatchNormalization(**bn_kw)
        model = kerasette.Sequential([kerasette.Input((9, 11, 3)), L.Conv2D(8, 3, padding="same"),
                                      bn, L.Activation("relu"), L.Flatten(), L.Dense(6),
                                      L.BatchNormalization(**bn_kw), L.Dense(4)])
        bn.trainable = not frozen
        return model

    r = rng(24)
    x = r.standard_normal((96, 9, 11, 3)).astype(np.float32)
    y = r.standard_normal((96, 4)).astype(np.float32)
    (cm, ch), (gm, gh) = _fit_pair(build, x, y, batch_size=32, epochs=3)
    np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-3)
    for g, c in zip(gm.get_weights(), cm.get_weights()):  # moving statistics included
        np.testing.assert_allclose(g, c, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(gm.predict(x[:32], verbose=0), cm.predict(x[:32], verbose=0),
                               rtol=2e-3, atol=2e-3)


def test_layout_layers_fit_matches_cpu():
    """ZeroPadding, Cropping and UpSampling (2-D and 1-D), Permute, a channels_first convolution
    (which permutes around its computation) and Dot on the GPU: losses and predictions match."""
    L = kerasette.layers

    def build_2d():
        inp = kerasette.Input((6, 7, 3))
        h = L.ZeroPadding2D(((1, 2), (0, 3)))(inp)
        h = L.Conv2D(4, 3, activation="relu")(h)
        h = L.UpSampling2D((2, 3))(h)
        h = L.Cropping2D(((1, 0), (2, 1)))(h)
        h = L.Permute((3, 1, 2))(h)
        h = L.Conv2D(5, 3, data_format="channels_first")(h)
        h = L.Flatten()(h)
        a, b = L.Dense(6)(h), L.Dense(6, activation="tanh")(h)
        return kerasette.Model(inp, L.Dense(2)(L.Concatenate()([L.Dot(axes=1)([a, b]), a])))

    def build_1d():
        return kerasette.Sequential([kerasette.Input((9, 2)), L.ZeroPadding1D((2, 1)),
                                     L.Conv1D(4, 3, activation="relu"), L.UpSampling1D(3),
                                     L.Cropping1D((1, 2)), L.Flatten(), L.Dense(2)])

    r = rng(25)
    for build, shape in ((build_2d, (6, 7, 3)), (build_1d, (9, 2))):
        x = r.standard_normal((64,) + shape).astype(np.float32)
        y = r.standard_normal((64, 2)).astype(np.float32)
        (cm, ch), (gm, gh) = _fit_pair(build, x, y, batch_size=16, epochs=3)
        np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-3)
        np.testing.assert_allclose(gm.predict(x[:32], verbose=0), cm.predict(x[:32], verbose=0),
                                   rtol=2e-3, atol=2e-3)


def _confusion_metrics():
    M = kerasette.metrics
    return ["precision", "recall", "auc", M.AUC(curve="PR", name="pr"),
            M.AUC(thresholds=[0.1, 0.35, 0.9], name="auc_uneven"),
            M.AUC(num_thresholds=7, curve="PRGAIN", name="gain"),
            M.Precision(top_k=2, name="p_top2"), M.Recall(class_id=1, name="r_1"),
            M.Precision(thresholds=0.3, top_k=1, class_id=2, name="p_mix"),
            "root_mean_squared_error", "binary_crossentropy"]  # fmt: skip


def test_confusion_and_crossentropy_metrics_match_cpu_exactly_on_exact_inputs():
    """A pass-through model on a 1/1024 grid: the GPU must see the predictions the CPU sees, so the
    confusion counts (whole numbers, added with exact double atomics) and the values computed from
    them are the CPU's bit for bit; the means differ by summation order only."""
    r = rng(26)
    p = (np.round(r.random((203, 3)) * 1024) / 1024).astype(np.float32)
    p[:2] = [[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]]
    y = (r.random((203, 3)) > 0.45).astype(np.float32)
    logs = []
    for device in ("cpu", "cuda", "cuda"):
        config.set_device(device)
        model = kerasette.Sequential([kerasette.Input((3,)), kerasette.layers.Activation("linear")])
        model.compile(optimizer="sgd", loss="mse", metrics=_confusion_metrics())
        logs.append(model.evaluate(p, y, batch_size=16, verbose=0, return_dict=True))
    assert logs[1] == logs[2]  # two GPU runs: the same bits
    for key, value in logs[0].items():
        if key in ("loss", "root_mean_squared_error", "binary_crossentropy"):
            np.testing.assert_allclose(logs[1][key], value, rtol=1e-6, err_msg=key)
        else:
            assert logs[1][key] == value, key


def test_metric_logits_and_categorical_metrics_fit_matches_cpu():
    r = rng(27)
    x = r.standard_normal((256, 12)).astype(np.float32)
    labels = r.integers(0, 5, 256)
    M = kerasette.metrics
    (cm, ch), (gm, gh) = _pair(
        lambda: _mlp(hidden=(16,), out=5, activation="softmax", inp=12),
        dict(optimizer="adam", loss="sparse_categorical_crossentropy",
             metrics=["sparse_categorical_crossentropy",
                      M.SparseCategoricalCrossentropy(name="sce")]),
        x, labels.astype(np.float32), batch_size=32, epochs=2, shuffle=False)
    for key in ("loss", "sparse_categorical_crossentropy", "sce"):
        np.testing.assert_allclose(gh[key], ch[key], rtol=1e-4, err_msg=key)
    y_bin = (r.random((256, 5)) > 0.5).astype(np.float32)
    (cm, ch), (gm, gh) = _pair(
        lambda: _mlp(hidden=(16,), out=5, activation="sigmoid", inp=12),
        dict(optimizer="adam", loss="binary_crossentropy",
             metrics=["binary_crossentropy", "auc", M.AUC(from_logits=True, name="auc_logits"),
                      "precision", "recall", M.Recall(top_k=2, name="r_top2")]),
        x, y_bin, batch_size=32, epochs=2, shuffle=False)
    np.testing.assert_allclose(gh["binary_crossentropy"], ch["binary_crossentropy"], rtol=1e-4)
    # Counts can move by a prediction that float rounding puts across a threshold: a few in 1,280.
    for key in ("auc", "auc_logits", "precision", "recall", "r_top2"):
        np.testing.assert_allclose(gh[key], ch[key], atol=5e-3, err_msg=key)


def test_embedding_rescaling_fit_matches_cpu():
    """Embedding (gather; grouped scatter-add with repeated indices) and Rescaling on the GPU:
    losses and predictions match the CPU's; a bad index raises before any read."""
    L = kerasette.layers
    build = lambda: kerasette.Sequential([  # noqa: E731
        kerasette.Input((12,)), L.Embedding(9, 16), L.Rescaling([0.5] * 8 + [-2.0] * 8, 0.25),
        L.Conv1D(8, 3, activation="relu"), L.GlobalAveragePooling1D(), L.Dense(3)])
    r = rng(31)
    x = r.integers(0, 9, (64, 12)).astype(np.float32)
    y = r.standard_normal((64, 3)).astype(np.float32)
    (cm, ch), (gm, gh) = _fit_pair(build, x, y, batch_size=16, epochs=3)
    np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-3)
    np.testing.assert_allclose(gm.get_weights()[0], cm.get_weights()[0], rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(gm.predict(x, verbose=0), cm.predict(x, verbose=0),
                               rtol=2e-3, atol=2e-3)
    config.set_device("cuda")
    with pytest.raises(ValueError, match="Embedding"):
        gm.predict(np.full((1, 12), 9, np.float32), verbose=0)


def test_embedding_gradient_bit_identical_across_runs():
    """The grouped scatter-add has no atomics: two GPU fits give the same bits."""
    L = kerasette.layers
    build = lambda: kerasette.Sequential([  # noqa: E731
        kerasette.Input((20,)), L.Embedding(5, 32), L.Flatten(), L.Dense(1)])
    r = rng(32)
    x = r.integers(0, 5, (128, 20)).astype(np.float32)
    y = r.standard_normal((128, 1)).astype(np.float32)
    kerasette.utils.set_random_seed(5)
    (_, _), (g1, _) = _fit_pair(build, x, y, batch_size=64, epochs=2)
    kerasette.utils.set_random_seed(5)
    (_, _), (g2, _) = _fit_pair(build, x, y, batch_size=64, epochs=2)
    for a, b in zip(g1.get_weights(), g2.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("metric", ["mae", "binary_accuracy", "precision", "recall", "auc"])
def test_weighted_metrics_match_cpu(metric):
    # Weighted confusion sums are not whole numbers: the GPU adds them in fixed-order trees, not
    # atomics, so two runs agree bit for bit and the CPU to rounding.
    r = rng(13)
    x = r.standard_normal((200, 12)).astype(np.float32)
    y = (r.random((200, 5)) > 0.5).astype(np.float32)
    sw = r.uniform(0.1, 2.0, 200).astype(np.float32)
    runs = []
    for _ in range(2):  # the same initial weights for both runs, so their bits can be compared
        kerasette.utils.set_random_seed(13)
        runs.append(_pair(lambda: _mlp(hidden=(8,), out=5, activation="sigmoid", inp=12),
                          dict(optimizer="sgd", loss="binary_crossentropy", metrics=[metric],
                               weighted_metrics=[metric]), x, y, sample_weight=sw, batch_size=32,
                          epochs=2, shuffle=False))
    (_, ch), (_, gh) = runs[0]
    for key in ch:
        np.testing.assert_allclose(gh[key], ch[key], rtol=1e-4, atol=1e-6, err_msg=key)
    assert runs[0][1][1] == runs[1][1][1]


def test_metrics_on_an_output_without_a_loss_match_cpu():
    r = rng(14)
    x = r.standard_normal((64, 6)).astype(np.float32)
    labels = r.integers(0, 4, 64).astype(np.float32)
    y = r.standard_normal((64, 2)).astype(np.float32)

    def build():  # named outputs: the history keys carry them, and must match across models
        inp = kerasette.Input((6,))
        return kerasette.Model(inp, [kerasette.layers.Dense(4, activation="softmax",
                                                            name="probs")(inp),
                                     kerasette.layers.Dense(2, name="values")(inp)])

    (_, ch), (gm, gh) = _pair(build, dict(optimizer="sgd", loss=[None, "mse"],
                                          metrics=[["sparse_categorical_accuracy"], []]),
                              x, [labels, y], batch_size=16, epochs=2, shuffle=False)
    for key in ch:
        np.testing.assert_allclose(gh[key], ch[key], rtol=1e-4, atol=1e-6, err_msg=key)
    with pytest.raises(ValueError, match="outside the valid range"):
        gm.evaluate(x, [labels + 1, y], verbose=0)


def test_normalization_identity_activity_regularization_fit_matches_cpu():
    """Normalization (adapted, and inverted with fixed statistics: the scale_offset kernel),
    Identity and ActivityRegularization (views, with the graph's activity penalty) on the GPU."""
    L = kerasette.layers
    r = rng(41)
    x = (r.standard_normal((64, 7)) * 50 + 20).astype(np.float32)
    y = r.standard_normal((64, 3)).astype(np.float32)

    def build():
        norm = L.Normalization()
        norm.adapt(x)
        return kerasette.Sequential([
            kerasette.Input((7,)), norm, L.Dense(6, activation="tanh"),
            L.Normalization(mean=np.linspace(-1, 1, 6), variance=np.linspace(0.5, 2, 6),
                            invert=True),
            L.Identity(), L.ActivityRegularization(l1=0.01, l2=0.02), L.Dense(3)])

    (cm, ch), (gm, gh) = _fit_pair(build, x, y, batch_size=16, epochs=3)
    np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-3)
    np.testing.assert_allclose(gm.predict(x, verbose=0), cm.predict(x, verbose=0),
                               rtol=2e-3, atol=2e-3)


# Layers, their arguments and an input shape (batch excluded) for the noise and LayerNormalization
# tests below. The batches (21 and 111 samples) make every draw's length odd, so that its last
# Philox block is used in part.
NOISE_AND_LAYER_NORM = [
    ("LayerNormalization", {}, (5, 7)),
    ("GaussianNoise", {"stddev": 0.3, "seed": 5}, (5, 7)),
    ("GaussianDropout", {"rate": 0.2, "seed": 5}, (5, 7)),
    ("SpatialDropout1D", {"rate": 0.3, "seed": 5}, (5, 7)),
    ("SpatialDropout2D", {"rate": 0.3, "seed": 5, "data_format": "channels_first"}, (3, 4, 5)),
]


@pytest.mark.parametrize("layer,args,shape", NOISE_AND_LAYER_NORM,
                         ids=[case[0] for case in NOISE_AND_LAYER_NORM])
def test_noise_and_layer_norm_fit_on_strict_cuda_matches_cpu(layer, args, shape):
    """These layers run on the GPU under an explicit set_device("cuda") (strict: a CPU-only layer
    raises NotImplementedError there), and a fit's losses and weights match the CPU's: the noise
    layers draw the CPU's numbers at every step, so mostly the Dense layer's rounding differs."""
    L = kerasette.layers
    r = rng(42)
    x = r.standard_normal((63, *shape)).astype(np.float32)
    y = r.standard_normal((63, *shape[:-1], 2)).astype(np.float32)
    build = lambda: kerasette.Sequential([  # noqa: E731
        kerasette.Input(shape), getattr(L, layer)(**args), L.Dense(2)])
    # SGD: a weight's difference stays proportional to its gradients' (Adam can turn a tiny one
    # into a step of size lr).
    (cm, ch), (gm, gh) = _fit_pair(build, x, y, optimizer="sgd", batch_size=21, epochs=3)
    np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-4)
    for g, c in zip(gm.get_weights(), cm.get_weights()):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer,args,shape", NOISE_AND_LAYER_NORM[1:],
                         ids=[case[0] for case in NOISE_AND_LAYER_NORM[1:]])
def test_noise_layers_draw_the_cpu_numbers(layer, args, shape):
    """The same seed and step give the same noise on both devices. A mask is a Philox uniform
    compared with the rate: bit for bit. A normal value comes from Box-Muller in double, whose log
    and cos are glibc's on the CPU and libdevice's on the GPU (a double's last bits may differ), so
    a float may move by one ulp where the double lies next to a float rounding boundary: rare, and
    at most one ulp. Inputs of ones (zeros for GaussianNoise) make the output the noise itself."""
    x = np.full((111, *shape), 0.0 if layer == "GaussianNoise" else 1.0, np.float32)
    out = {}
    for device in ("cpu", "cuda"):
        config.set_device(device)
        out[device] = getattr(kerasette.layers, layer)(**args)(x, training=True)
    cpu, gpu = out["cpu"], out["cuda"]
    assert not np.array_equal(cpu, x)
    if "Spatial" in layer:
        np.testing.assert_array_equal(gpu, cpu)
    else:
        np.testing.assert_array_max_ulp(gpu, cpu, maxulp=1)
        assert np.mean(gpu != cpu) < 1e-3


@pytest.mark.parametrize("ln_kw,shape", [({}, (5, 4)), ({"axis": [1, 2], "epsilon": 1e-5}, (5, 4)),
                                         ({"center": False}, (3, 70)),
                                         ({"scale": False}, (2, 300))])
def test_layer_normalization_fit_matches_cpu(ln_kw, shape):
    """LayerNormalization on the GPU: one warp per row (rows of 4 to 300 values, so lanes idle or
    stride), gamma and beta gradients by BatchNormalization's fixed column tree over 256-row chunks
    (64 samples x 5 steps = 320 rows: two chunks). Losses, weights and predictions match the CPU's
    to float rounding: the row sums add in another order, in double."""
    L = kerasette.layers
    r = rng(43)
    x = (r.standard_normal((64, *shape)) * 3 + 1).astype(np.float32)
    y = r.standard_normal((64, 3)).astype(np.float32)
    build = lambda: kerasette.Sequential([  # noqa: E731
        kerasette.Input(shape), L.LayerNormalization(**ln_kw), L.Dense(6, activation="tanh"),
        L.LayerNormalization(), L.Flatten(), L.Dense(3)])
    (cm, ch), (gm, gh) = _fit_pair(build, x, y, batch_size=64, epochs=3)
    np.testing.assert_allclose(gh["loss"], ch["loss"], rtol=1e-3)
    for g, c in zip(gm.get_weights(), cm.get_weights()):
        np.testing.assert_allclose(g, c, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(gm.predict(x, verbose=0), cm.predict(x, verbose=0),
                               rtol=2e-3, atol=2e-3)
