"""Do real Keras 2 (tf_keras) and Keras 3 load the `.h5` files kerasette writes?

Not a test (pytest does not collect `benchmarks/`); it needs TensorFlow, tf_keras and h5py, e.g.

    python3 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu tf-keras h5py
    PYTHONPATH=python /tmp/tfenv/bin/python benchmarks/check_keras_interop.py

For each model it trains a few Adam steps in kerasette, saves `model.save("x.h5")` and
`save_weights`, loads them in both Keras versions and compares predictions (max abs diff <= 1e-5)
and, for tf_keras, the restored optimizer step count and slots (exact).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile

if importlib.util.find_spec("tensorflow") is None:
    print("tensorflow is not importable: nothing to check.")
    sys.exit(0)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

import kerasette  # noqa: E402
from kerasette import layers  # noqa: E402

TOL = 1e-5


def _models():
    yield "mlp", kerasette.Sequential([
        kerasette.Input((20,)), layers.Dense(32, activation="relu"),
        layers.Dense(16, activation="tanh"), layers.Dense(3, activation="softmax")]), (20,)
    if {"Conv2D", "MaxPooling2D", "BatchNormalization"} <= set(layers.registry()):
        yield "cnn", kerasette.Sequential([
            kerasette.Input((12, 12, 1)), layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(2), layers.Conv2D(6, 3, padding="same", activation="relu"),
            layers.BatchNormalization(), layers.Flatten(),
            layers.Dense(3, activation="softmax")]), (12, 12, 1)
    inputs = kerasette.Input((8,))
    a = layers.Dense(6)(inputs)
    b = layers.LeakyReLU(0.1)(layers.Dense(6)(inputs))
    x = layers.Concatenate()([layers.Add()([a, b]), b])
    yield "functional", kerasette.Model(inputs, layers.Dense(3, activation="softmax")(x)), (8,)


def _diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def main() -> int:
    import keras
    import tensorflow as tf
    import tf_keras

    print(f"tensorflow {tf.__version__}, tf_keras {tf_keras.__version__}, "
          f"keras {keras.__version__}")
    rng = np.random.default_rng(0)
    failures = 0
    folder = tempfile.mkdtemp(prefix="kerasette_interop_")
    for name, model, shape in _models():
        x = rng.normal(size=(32,) + shape).astype("float32")
        y = np.eye(3, dtype="float32")[rng.integers(0, 3, 32)]
        model.compile(optimizer=kerasette.optimizers.Adam(0.005),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        expected = model.predict(x, verbose=0)
        path = os.path.join(folder, f"{name}.h5")
        model.save(path)
        weights_path = os.path.join(folder, f"{name}_weights.h5")
        model.save_weights(weights_path)
        k3_weights_path = os.path.join(folder, f"{name}.weights.h5")
        model.save_weights(k3_weights_path)

        k2 = tf_keras.models.load_model(path)
        d = _diff(k2.predict(x, verbose=0), expected)
        # tf_keras names the restored slots "m/<layer>/<weight>:0" (no optimizer prefix).
        k2_vars = {v.name: v.numpy() for v in k2.optimizer.variables()}
        state = model._graph().get_optimizer_slots()
        slots_ok = int(k2_vars["iteration:0"]) == int(model._graph().iterations) and all(
            np.array_equal(k2_vars[f"{k}/{w.path}:0"], s[j])
            for w, s in zip(model.trainable_weights, state) for j, k in enumerate("mv"))
        print(f"{name}: tf_keras load_model max diff {d:.2e}, optimizer "
              f"{type(k2.optimizer).__name__} lr {float(k2.optimizer.learning_rate):.6g} "
              f"state restored exactly: {slots_ok}")
        failures += d > TOL or not slots_ok
        k2_clone = tf_keras.models.clone_model(k2)
        k2_clone.load_weights(weights_path)
        d = _diff(k2_clone.predict(x, verbose=0), expected)
        print(f"{name}: tf_keras load_weights (legacy layout) max diff {d:.2e}")
        failures += d > TOL

        k3 = keras.saving.load_model(path)
        d = _diff(k3.predict(x, verbose=0), expected)
        print(f"{name}: keras {keras.__version__} load_model max diff {d:.2e}, optimizer "
              f"{type(k3.optimizer).__name__} lr {float(k3.optimizer.learning_rate):.6g}")
        failures += d > TOL
        k3_clone = keras.models.clone_model(k3)
        k3_clone.load_weights(k3_weights_path)
        d = _diff(k3_clone.predict(x, verbose=0), expected)
        print(f"{name}: keras load_weights (.weights.h5 layout) max diff {d:.2e}")
        failures += d > TOL
    print("OK" if not failures else f"{failures} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
