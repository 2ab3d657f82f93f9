"""Config objects: initializers, regularizers, activations, losses, metrics, optimizers, schedules.

Round trips of `get_config`/`from_config`, lookup by name, Keras 3 defaults, and NumPy values
against closed forms. Needs the built engine only for the random initializers.
"""

import math

import numpy as np
import pytest

from kerasette import (
    _random,
    activations,
    initializers,
    losses,
    metrics,
    optimizers,
    regularizers,
)
from kerasette.optimizers import schedules
from kerasette.saving.serialization import deserialize_keras_object, serialize_keras_object

# ---------------------------------------------------------------- serialization


def test_serialize_keras_object_uses_keras2_nested_form():
    assert serialize_keras_object(initializers.GlorotUniform()) == {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": None},
        "registered_name": None,
    }
    assert serialize_keras_object(None) is None


def test_deserialize_strips_custom_prefix_and_rejects_unknown():
    table = {"Zeros": initializers.Zeros}
    obj = deserialize_keras_object({"class_name": "Custom>Zeros", "config": {}}, table, None, "x")
    assert isinstance(obj, initializers.Zeros)
    with pytest.raises(ValueError, match=r"Unknown initializer: 'Foo'.*custom_objects.*Zeros"):
        deserialize_keras_object("Foo", table, None, "initializer")


def test_deserialize_never_imports_from_module_key():
    config = {"module": "os", "class_name": "system", "config": {}, "registered_name": None}
    with pytest.raises(ValueError, match="Unknown"):
        deserialize_keras_object(config, {}, None, "object")


def test_deserialize_custom_objects():
    class Mine(initializers.Zeros):
        pass

    obj = deserialize_keras_object({"class_name": "Mine", "config": {}}, {}, {"Mine": Mine}, "x")
    assert isinstance(obj, Mine)


# ---------------------------------------------------------------- initializers

INIT_CASES = [
    initializers.Zeros(),
    initializers.Ones(),
    initializers.Constant(2.5),
    initializers.RandomNormal(mean=1.0, stddev=2.0, seed=3),
    initializers.RandomUniform(-1.0, 2.0, seed=4),
    initializers.TruncatedNormal(stddev=0.3, seed=5),
    initializers.VarianceScaling(2.0, "fan_avg", "uniform", seed=6),
    initializers.GlorotUniform(seed=7),
    initializers.GlorotNormal(),
    initializers.HeNormal(seed=1),
    initializers.HeUniform(),
    initializers.LecunNormal(),
    initializers.LecunUniform(seed=2),
    initializers.Identity(gain=2.0),
    initializers.Orthogonal(gain=0.5, seed=9),
]


@pytest.mark.parametrize("init", INIT_CASES, ids=lambda i: type(i).__name__)
def test_initializer_config_round_trip(init):
    config = init.get_config()
    clone = type(init).from_config(config)
    assert clone.get_config() == config
    again = initializers.deserialize(initializers.serialize(init))
    assert type(again) is type(init) and again.get_config() == config


def test_initializer_defaults_match_keras():
    assert initializers.RandomNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert initializers.RandomUniform().get_config() == {
        "minval": -0.05, "maxval": 0.05, "seed": None
    }
    assert initializers.VarianceScaling().get_config() == {
        "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None
    }
    assert initializers.Constant().get_config() == {"value": 0.0}
    assert initializers.Orthogonal().get_config() == {"gain": 1.0, "seed": None}


@pytest.mark.parametrize(
    "name, cls",
    [
        ("glorot_uniform", initializers.GlorotUniform),
        ("GlorotUniform", initializers.GlorotUniform),
        ("he_normal", initializers.HeNormal),
        ("zeros", initializers.Zeros),
        ("ones", initializers.Ones),
        ("random_normal", initializers.RandomNormal),
        ("random_uniform", initializers.RandomUniform),
        ("truncated_normal", initializers.TruncatedNormal),
        ("lecun_normal", initializers.LecunNormal),
        ("constant", initializers.Constant),
        ("orthogonal", initializers.Orthogonal),
        ("identity", initializers.Identity),
        ("variance_scaling", initializers.VarianceScaling),
    ],
)
def test_initializer_get_by_name(name, cls):
    assert type(initializers.get(name)) is cls


def test_initializer_get_dict_instance_and_keras3_keys():
    init = initializers.HeUniform(seed=3)
    assert initializers.get(init) is init
    k3 = {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": None, "input_axes": None, "output_axes": None},
        "registered_name": None,
    }
    assert isinstance(initializers.get(k3), initializers.GlorotUniform)
    assert initializers.get(None) is None


def test_initializer_unknown_name_lists_valid():
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot_uniformm")


def test_compute_fans():
    assert initializers.compute_fans((7,)) == (7, 7)
    assert initializers.compute_fans((400, 300)) == (400, 300)
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)


@pytest.mark.parametrize(
    "init, kind, scale",
    [
        (initializers.GlorotUniform, "uniform", 2.0 / 700),
        (initializers.GlorotNormal, "normal", 2.0 / 700),
        (initializers.HeUniform, "uniform", 2.0 / 400),
        (initializers.HeNormal, "normal", 2.0 / 400),
        (initializers.LecunUniform, "uniform", 1.0 / 400),
        (initializers.LecunNormal, "normal", 1.0 / 400),
    ],
)
def test_variance_scaling_statistics(init, kind, scale):
    w = init(seed=11)((400, 300))
    assert w.dtype == np.float32 and w.shape == (400, 300)
    # 120,000 draws: the sample mean and std sit within a fraction of a percent of the target.
    assert abs(float(w.mean())) < 0.02 * math.sqrt(scale)
    assert float(w.std()) == pytest.approx(math.sqrt(scale), rel=0.03)
    if kind == "uniform":
        limit = math.sqrt(3.0 * scale)
        assert float(np.abs(w).max()) <= limit
        assert float(np.abs(w).max()) > 0.99 * limit
    else:
        # Truncated at two (pre-correction) standard deviations.
        assert float(np.abs(w).max()) <= 2.0 * math.sqrt(scale) / 0.87962566103423978 + 1e-6


def test_conv_kernel_uses_receptive_field():
    w = initializers.HeUniform(seed=1)((3, 3, 16, 32))
    limit = math.sqrt(6.0 / 144)
    assert float(np.abs(w).max()) <= limit
    assert float(w.std()) == pytest.approx(limit / math.sqrt(3.0), rel=0.05)


def test_seeded_initializer_repeats_and_unseeded_follows_global_seed():
    init = initializers.RandomNormal(seed=42)
    np.testing.assert_array_equal(init((5, 4)), init((5, 4)))
    assert not np.array_equal(init((5, 4)), initializers.RandomNormal(seed=43)((5, 4)))

    _random.set_global_seed(123)
    a1 = initializers.GlorotUniform()((6, 3))
    a2 = initializers.GlorotUniform()((6, 3))
    _random.set_global_seed(123)
    b1 = initializers.GlorotUniform()((6, 3))
    b2 = initializers.GlorotUniform()((6, 3))
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)


def test_deterministic_initializers():
    np.testing.assert_array_equal(initializers.Constant(3.0)((2,)), [3.0, 3.0])
    np.testing.assert_array_equal(initializers.Identity(2.0)((2, 3)), 2.0 * np.eye(2, 3))
    q = initializers.Orthogonal(seed=1)((6, 4))
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))


def test_variance_scaling_validation():
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_x")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"


# ---------------------------------------------------------------- regularizers


@pytest.mark.parametrize(
    "reg", [regularizers.L1(0.3), regularizers.L2(0.2), regularizers.L1L2(0.1, 0.4)]
)
def test_regularizer_round_trip(reg):
    config = reg.get_config()
    assert type(reg).from_config(config).get_config() == config
    assert regularizers.deserialize(regularizers.serialize(reg)).get_config() == config


def test_regularizer_values_aliases_and_attrs():
    x = np.array([1.0, -2.0, 3.0])
    assert regularizers.L1(0.1)(x) == pytest.approx(0.6)
    assert regularizers.L2(0.1)(x) == pytest.approx(1.4)
    assert regularizers.L1L2(0.1, 0.1)(x) == pytest.approx(2.0)
    reg = regularizers.l2(0.01)
    assert isinstance(reg, regularizers.L2) and (reg.l1, reg.l2) == (0.0, 0.01)
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert isinstance(regularizers.l1_l2(l1=0.1), regularizers.L1L2)
    assert regularizers.get("l1").l1 == 0.01
    assert regularizers.get({"class_name": "L2", "config": {"l2": 0.5}}).l2 == 0.5
    assert regularizers.get(None) is None


def test_regularizer_validation():
    with pytest.raises(ValueError, match="l2"):
        regularizers.L2(-1.0)
    with pytest.raises(ValueError, match="l1"):
        regularizers.L1("big")
    # Keras 3.15's message, then the names that would have been understood.
    with pytest.raises(ValueError, match=r"^Could not interpret regularizer identifier: l3\. Valid names are: \[") as e:
        regularizers.get("l3")
    assert "L1L2" in str(e.value)
    with pytest.raises(ValueError, match="compiled engine"):
        regularizers.get(lambda w: 0.0)


# ---------------------------------------------------------------- activations


def test_activation_get_and_serialize():
    # Keras's `get` returns the function; the name is `serialize`'s.
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    assert activations.get("relu").__name__ == "relu"
    assert activations.get(activations.tanh) is activations.tanh
    assert activations.get("silu") is activations.get("swish")
    assert activations.serialize("silu") == activations.serialize(activations.silu) == "swish"
    assert activations.serialize(activations.gelu) == "gelu"
    assert activations.deserialize("relu") is activations.relu
    with pytest.raises(ValueError,
                       match=r"^Could not interpret activation function identifier: rellu\. "
                             r"Valid names are: \[") as e:
        activations.get("rellu")
    assert "relu" in str(e.value)
    with pytest.raises(ValueError, match="compiled engine"):
        activations.get(lambda x: x)


def test_layer_activation_attribute_is_the_function():
    # Keras keeps the function: course notebooks print `layer.activation.__name__`.
    from kerasette import layers

    assert layers.Dense(2).activation is activations.linear
    assert layers.Dense(2, activation="relu").activation.__name__ == "relu"
    assert layers.Conv2D(2, 3, activation=activations.tanh).activation is activations.tanh
    assert layers.Activation("silu").activation.__name__ == "silu"  # Keras 3's name too
    dense = layers.Dense(2, activation="softmax")
    assert dense.get_config()["activation"] == "softmax"
    assert layers.Dense.from_config(dense.get_config()).activation is activations.softmax


def test_activation_values():
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0], np.float32)
    np.testing.assert_allclose(activations.relu(x), [0, 0, 0, 1, 3])
    np.testing.assert_allclose(activations.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-6)
    np.testing.assert_allclose(activations.hard_sigmoid(x), [0.0, 1 / 3, 0.5, 2 / 3, 1.0], 1e-6)
    np.testing.assert_allclose(activations.leaky_relu(x), [-0.6, -0.2, 0, 1, 3], rtol=1e-6)
    np.testing.assert_allclose(activations.elu(x), np.where(x > 0, x, np.expm1(x)), rtol=1e-6)
    np.testing.assert_allclose(activations.relu6(np.array([7.0])), [6.0])
    # erf(1/sqrt(2)) = 0.6826894921370859
    np.testing.assert_allclose(activations.gelu(np.array([1.0])), [0.5 * 1.6826894921], 1e-6)
    s = activations.softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(s, [[0.5, 0.5, 0.0]])
    assert activations.sigmoid(np.array([-1000.0])).dtype == np.float32


ENGINE_ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "elu", "selu", "leaky_relu",
                      "softplus", "softsign", "swish", "gelu", "hard_sigmoid", "exponential",
                      "relu6", "mish", "hard_swish"]  # fmt: skip


@pytest.mark.parametrize("name", ENGINE_ACTIVATIONS)
def test_engine_runs_named_activations_as_the_references(name):
    # By name, the engine once ran "elu" and "leaky_relu" with a parameter of 0 (as relu), so
    # Keras models with Dense(activation="elu") predicted differently after loading.
    import kerasette
    from kerasette import layers

    x = np.linspace(-3.0, 3.0, 12, dtype=np.float32).reshape(2, 6)
    expected = activations.deserialize(name)(x)
    dense = layers.Dense(6, activation=name, kernel_initializer="identity")
    conv = layers.Conv1D(1, 1, activation=name, kernel_initializer="ones")
    for layer, shape in [(layers.Activation(name), (6,)), (dense, (6,)), (conv, (6, 1))]:
        model = kerasette.Sequential([kerasette.Input(shape), layer])
        y = model.predict(x.reshape((2,) + shape), verbose=0).reshape(2, 6)
        if layer is conv and name == "softmax":  # over a last axis of size 1
            continue
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6, err_msg=type(layer).__name__)


# ---------------------------------------------------------------- losses

LOSS_CASES = [
    losses.MeanSquaredError(),
    losses.MeanAbsoluteError(),
    losses.Huber(delta=2.0),
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    losses.CategoricalCrossentropy(label_smoothing=0.2),
    losses.SparseCategoricalCrossentropy(from_logits=True),
]


@pytest.mark.parametrize("loss", LOSS_CASES, ids=lambda l: type(l).__name__)
def test_loss_round_trip(loss):
    config = loss.get_config()
    assert type(loss).from_config(config).get_config() == config
    assert losses.deserialize(losses.serialize(loss)).get_config() == config


def test_loss_default_names_and_specs():
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert losses.Huber().name == "huber_loss"
    assert losses.get("mse").engine_spec() == ("mean_squared_error", {})
    assert losses.get("mae").engine_spec() == ("mean_absolute_error", {})
    assert losses.get("Huber").engine_spec() == ("huber", {"delta": 1.0})
    kind, attrs = losses.get("binary_crossentropy").engine_spec()
    assert kind == "binary_crossentropy"
    assert attrs == {"from_logits": False, "label_smoothing": 0.0}
    assert losses.get(losses.categorical_crossentropy).engine_spec()[0] == (
        "categorical_crossentropy"
    )
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert losses.get(loss) is loss
    assert losses.get({"class_name": "MeanSquaredError", "config": {}}).name == "mean_squared_error"


def test_loss_unknown_and_custom():
    with pytest.raises(ValueError, match=r"^Could not interpret loss identifier: msee\. Valid names are: \[") as e:
        losses.get("msee")
    assert "mean_squared_error" in str(e.value)
    with pytest.raises(ValueError, match="compiled engine"):
        losses.get(lambda y, p: 0.0)


def test_loss_values_closed_form():
    y, p = np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[1.0, 1.0], [1.0, 3.0]])
    assert losses.MeanSquaredError()(y, p) == pytest.approx((0.5 + 2.0) / 2)
    assert losses.MeanAbsoluteError()(y, p) == pytest.approx((0.5 + 1.0) / 2)
    assert losses.MeanSquaredError()(y, p, sample_weight=[1.0, 0.0]) == pytest.approx(0.25)
    # Huber(1): |e| = 1 -> 0.5, |e| = 2 -> 1.5
    assert losses.Huber()(y, p) == pytest.approx((0.25 + 0.75) / 2)

    bce = losses.BinaryCrossentropy()([[1.0], [0.0]], [[0.8], [0.4]])
    assert bce == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2, rel=1e-6)
    logits = losses.BinaryCrossentropy(from_logits=True)([[1.0]], [[0.0]])
    assert logits == pytest.approx(math.log(2.0), rel=1e-6)
    clipped = losses.BinaryCrossentropy()([[1.0]], [[0.0]])
    assert clipped == pytest.approx(-math.log(1e-7), rel=1e-4)

    # Rows are normalized by their sum first: [2, 6] -> [0.25, 0.75].
    cce = losses.CategoricalCrossentropy()([[0.0, 1.0]], [[2.0, 6.0]])
    assert cce == pytest.approx(-math.log(0.75), rel=1e-6)
    smooth = losses.CategoricalCrossentropy(label_smoothing=0.2)([[0.0, 1.0]], [[0.25, 0.75]])
    assert smooth == pytest.approx(-(0.1 * math.log(0.25) + 0.9 * math.log(0.75)), rel=1e-6)
    scce = losses.SparseCategoricalCrossentropy()([1, 0], [[0.25, 0.75], [0.5, 0.5]])
    assert scce == pytest.approx(-(math.log(0.75) + math.log(0.5)) / 2, rel=1e-6)
    scce_logits = losses.SparseCategoricalCrossentropy(from_logits=True)([[0]], [[0.0, 0.0]])
    assert scce_logits == pytest.approx(math.log(2.0), rel=1e-6)


def test_loss_functions_are_per_sample():
    assert losses.mse([[0.0, 2.0], [1.0, 1.0]], [[0.0, 0.0], [1.0, 1.0]]).tolist() == [2.0, 0.0]
    assert losses.huber([[0.0]], [[3.0]]).tolist() == [2.5]


# ---------------------------------------------------------------- metrics

METRIC_CASES = [
    metrics.BinaryAccuracy(threshold=0.7),
    metrics.CategoricalAccuracy(),
    metrics.SparseCategoricalAccuracy(name="acc"),
    metrics.TopKCategoricalAccuracy(k=3),
    metrics.SparseTopKCategoricalAccuracy(),
    metrics.MeanSquaredError(),
    metrics.MeanAbsoluteError(),
]


@pytest.mark.parametrize("metric", METRIC_CASES, ids=lambda m: type(m).__name__)
def test_metric_round_trip(metric):
    config = metric.get_config()
    assert type(metric).from_config(config).get_config() == config
    assert metrics.deserialize(metrics.serialize(metric)).get_config() == config


def test_metric_defaults_and_specs():
    assert metrics.BinaryAccuracy().get_config() == {
        "name": "binary_accuracy", "dtype": "float32", "threshold": 0.5
    }
    assert metrics.TopKCategoricalAccuracy().engine_spec() == (
        "top_k_categorical_accuracy", {"k": 5}
    )
    assert metrics.get("mae").name == "mae"
    assert metrics.get("mae").engine_spec() == ("mean_absolute_error", {})
    with pytest.raises(ValueError, match=r"^Could not interpret metric identifier: precisionn\. Valid names are: \[") as e:
        metrics.get("precisionn")
    assert "categorical_accuracy" in str(e.value)


@pytest.mark.parametrize(
    "ident, loss, t_shape, p_shape, kind",
    [
        ("accuracy", "categorical_crossentropy", (None, 10), (None, 10), "categorical_accuracy"),
        ("acc", "mse", (None, 1), (None, 1), "binary_accuracy"),
        # Keras 3.15 picks by shape alone, even for a multi-label binary cross-entropy.
        ("accuracy", "binary_crossentropy", (None, 3), (None, 3), "categorical_accuracy"),
        ("accuracy", "mse", (None,), (None, 10), "sparse_categorical_accuracy"),
        ("accuracy", "mse", (None, 1), (None, 10), "sparse_categorical_accuracy"),
        ("accuracy", losses.SparseCategoricalCrossentropy(), None, (None, 4),
         "sparse_categorical_accuracy"),
        ("mse", "mse", (None, 2), (None, 2), "mean_squared_error"),
    ],
)  # fmt: skip
def test_resolve(ident, loss, t_shape, p_shape, kind):
    spec = metrics.resolve(ident, loss, t_shape, p_shape)
    assert spec.kind == kind
    assert spec.name == ident


def test_resolve_objects_and_keras2_wrapper():
    spec = metrics.resolve(metrics.BinaryAccuracy(threshold=0.3), None, (None, 1), (None, 1))
    assert (spec.name, spec.attrs) == ("binary_accuracy", {"threshold": 0.3})
    k2 = {"class_name": "MeanMetricWrapper",
          "config": {"name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"}}
    spec = metrics.resolve(k2, None, (None, 3), (None, 3))
    assert (spec.name, spec.kind) == ("accuracy", "categorical_accuracy")


def test_metric_functions():
    np.testing.assert_array_equal(metrics.binary_accuracy([[1.0], [0.0]], [[0.7], [0.6]]), [1, 0])
    np.testing.assert_array_equal(
        metrics.categorical_accuracy([[0, 1], [1, 0]], [[0.2, 0.8], [0.3, 0.7]]), [1, 0]
    )
    np.testing.assert_array_equal(
        metrics.sparse_categorical_accuracy([[1], [0]], [[0.2, 0.8], [0.3, 0.7]]), [1, 0]
    )
    np.testing.assert_array_equal(
        metrics.top_k_categorical_accuracy([[0, 0, 1]], [[0.5, 0.3, 0.2]], k=2), [0]
    )


# ---------------------------------------------------------------- schedules


def test_schedule_values():
    exp = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert exp(5) == pytest.approx(0.1 * 0.5**0.5)
    stair = schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert stair(15) == pytest.approx(0.05)
    inv = schedules.InverseTimeDecay(1.0, 10, 0.5)
    assert inv(20) == pytest.approx(1.0 / 2.0)
    assert schedules.InverseTimeDecay(1.0, 10, 0.5, staircase=True)(19) == pytest.approx(1 / 1.5)
    pw = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [pw(s) for s in (0, 10, 11, 20, 21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    cos = schedules.CosineDecay(1.0, 100, alpha=0.1)
    assert cos(50) == pytest.approx(0.9 * 0.5 + 0.1)
    assert cos(500) == pytest.approx(0.1)
    warm = schedules.CosineDecay(0.0, 100, warmup_target=1.0, warmup_steps=10)
    assert warm(5) == pytest.approx(0.5)
    assert warm(10) == pytest.approx(1.0)
    assert warm(60) == pytest.approx(0.5)
    # Keras 3.15's values at steps 0, 5, 10, 25 (and 0, 5, 10, 15, 25 with cycle).
    poly = schedules.PolynomialDecay(0.1, 20, end_learning_rate=0.01, power=2.0)
    assert [poly(s) for s in (0, 5, 10, 25)] == pytest.approx([0.1, 0.060625, 0.0325, 0.01])
    cyc = schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=0.5, cycle=True)
    assert [cyc(s) for s in (0, 5, 10, 15, 25)] == pytest.approx(
        [0.1, 0.07363961, 0.01, 0.055, 0.04674235], rel=1e-6)


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True),
        schedules.PiecewiseConstantDecay([5], [0.1, 0.01]),
        schedules.CosineDecay(0.1, 100, alpha=0.1, warmup_target=0.2, warmup_steps=5),
        schedules.InverseTimeDecay(0.1, 10, 0.5),
        schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.0, power=2.0, cycle=True),
    ],
    ids=lambda s: type(s).__name__,
)
def test_schedule_round_trip_and_engine_attrs(schedule):
    config = schedule.get_config()
    assert type(schedule).from_config(config).get_config() == config
    assert schedules.deserialize(schedules.serialize(schedule)).get_config() == config
    attrs = schedule.engine_attrs()
    assert attrs["schedule"] in ("exponential", "piecewise", "cosine", "inverse_time", "polynomial")
    assert attrs["learning_rate"] == pytest.approx(float(schedule(0)))


def test_schedule_validation():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="boundaries"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1])


# ---------------------------------------------------------------- optimizers

BASE_KEYS = [
    "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
    "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps",
]  # fmt: skip


@pytest.mark.parametrize(
    "cls, name, lr, extra",
    [
        (optimizers.SGD, "sgd", 0.01, {"momentum": 0.0, "nesterov": False}),
        (optimizers.RMSprop, "rm_sprop", 0.001,
         {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-07, "centered": False}),
        (optimizers.Adagrad, "adagrad", 0.001,
         {"initial_accumulator_value": 0.1, "epsilon": 1e-07}),
        (optimizers.Adadelta, "adadelta", 0.001, {"rho": 0.95, "epsilon": 1e-07}),
        (optimizers.Adam, "adam", 0.001,
         {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}),
        (optimizers.AdamW, "adam_w", 0.001,
         {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}),
        (optimizers.Nadam, "nadam", 0.001, {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07}),
        (optimizers.Adamax, "adamax", 0.001, {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07}),
        (optimizers.Lion, "lion", 0.001, {"beta_1": 0.9, "beta_2": 0.99}),
        (optimizers.Ftrl, "ftrl", 0.001,
         {"learning_rate_power": -0.5, "initial_accumulator_value": 0.1,
          "l1_regularization_strength": 0.0, "l2_regularization_strength": 0.0,
          "l2_shrinkage_regularization_strength": 0.0, "beta": 0.0}),
    ],
)  # fmt: skip
def test_optimizer_defaults_match_keras3(cls, name, lr, extra):
    from kerasette import backend

    backend.clear_session()  # automatic names count from a fresh session, as in Keras
    opt = cls()
    config = opt.get_config()
    assert list(config) == BASE_KEYS + list(extra)
    assert config["name"] == name and cls().name == f"{name}_1"
    assert config["learning_rate"] == pytest.approx(lr)
    assert config["weight_decay"] == (0.004 if cls is optimizers.AdamW else None)
    for key, value in extra.items():
        assert config[key] == value
    assert cls.from_config(config).get_config() == config
    assert optimizers.deserialize(optimizers.serialize(opt)).get_config() == config


def test_optimizer_get():
    for name in ("sgd", "SGD", "adam", "Adam", "rmsprop", "adagrad", "adadelta", "adamw", "nadam",
                 "adamax", "Adamax", "lion", "ftrl", "Ftrl"):
        assert isinstance(optimizers.get(name), optimizers.Optimizer)
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match="adam"):
        optimizers.get("adamm")


def test_optimizer_reads_keras2_config():
    k2 = {"class_name": "Custom>Adam", "config": {
        "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
        "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
        "ema_overwrite_frequency": None, "jit_compile": False, "is_legacy_optimizer": False,
        "learning_rate": 0.004999999888241291, "beta_1": 0.9, "beta_2": 0.999,
        "epsilon": 1e-07, "amsgrad": False}}  # fmt: skip
    opt = optimizers.get(k2)
    assert isinstance(opt, optimizers.Adam)
    assert opt.learning_rate == pytest.approx(0.005)
    assert "jit_compile" not in opt.get_config()


def test_optimizer_schedule_config_and_engine_spec():
    sched = schedules.ExponentialDecay(0.1, 100, 0.96, staircase=True)
    opt = optimizers.SGD(learning_rate=sched, momentum=0.9, clipnorm=1.0)
    # Keras 3 shows a schedule's current value as `learning_rate` and keeps the schedule apart.
    assert opt._learning_rate is sched
    assert opt.learning_rate == np.float32(0.1)
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "ExponentialDecay"
    again = optimizers.SGD.from_config(config)
    assert isinstance(again._learning_rate, schedules.ExponentialDecay)
    kind, attrs = opt.engine_spec()
    assert kind == "sgd"
    assert attrs["schedule"] == "exponential" and attrs["learning_rate"] == 0.1
    assert attrs["staircase"] is True and attrs["clipnorm"] == 1.0
    assert "clipvalue" not in attrs and "weight_decay" not in attrs
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.5


def test_optimizer_engine_specs():
    kind, attrs = optimizers.AdamW(learning_rate=0.01).engine_spec()
    assert kind == "adamw" and attrs["weight_decay"] == 0.004
    assert attrs["learning_rate"] == 0.01 and attrs["schedule"] == "constant"
    kind, attrs = optimizers.RMSprop(centered=True).engine_spec()
    assert kind == "rmsprop" and attrs["centered"] is True


def test_optimizer_binding():
    class FakeGraph:
        learning_rate = 0.25
        iterations = 7

    opt = optimizers.Adam()
    assert opt.iterations == 0
    graph = FakeGraph()
    opt._bind(graph)
    assert opt.learning_rate == 0.25 and opt.iterations == 7
    opt.learning_rate = 0.5
    assert graph.learning_rate == 0.5
    assert opt.get_config()["learning_rate"] == 0.5
    opt._unbind()
    assert opt.learning_rate == 0.5 and opt.iterations == 7


def test_optimizer_validation():
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adam(learning_rate=-1.0)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(NotImplementedError, match="use_ema"):
        optimizers.Adam(use_ema=True)
    with pytest.raises(NotImplementedError, match="gradient_accumulation_steps"):
        optimizers.SGD(gradient_accumulation_steps=4)
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(foo=1)
