"""Transfer learning: train on digits 0-4, freeze, cut off the head, learn digits 5-9 on top.

1. A base network learns to tell 0-4 apart (scikit-learn's 8x8 digits).
2. The base is frozen (`trainable = False`) and cut below its softmax with
   `Model(inputs=base.input, outputs=base.layers[-2].output)`: a feature extractor.
3. A new softmax head on those features learns 5-9. Only the head's weights train: the script
   checks that every frozen weight is bit-for-bit what it was.

Run: python examples/transfer_learning.py
"""

import numpy as np

import kerasette as keras
from kerasette import layers
from kerasette.datasets import digits


def subset(x, y, low: int):
    keep = (y >= low) & (y < low + 5)
    return x[keep].reshape(-1, 64).astype("float32") / 16.0, (y[keep] - low).astype("int64")


def main(epochs: int = 20) -> dict:
    keras.utils.set_random_seed(5)
    (x_train, y_train), (x_test, y_test) = digits.load_data()

    base = keras.Sequential([
        keras.Input((64,)),
        layers.Dense(64, activation="relu", name="features_1"),
        layers.Dense(64, activation="relu", name="features_2"),
        layers.Dense(5, activation="softmax", name="head_0_4"),
    ], name="base")
    base.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    xa, ya = subset(x_train, y_train, 0)
    base.fit(xa, ya, batch_size=32, epochs=epochs, verbose=0)
    _, base_accuracy = base.evaluate(*subset(x_test, y_test, 0), verbose=0)
    print(f"base network on digits 0-4: test accuracy {base_accuracy:.4f}")

    extractor = keras.Model(inputs=base.input, outputs=base.layers[-2].output, name="extractor")
    extractor.trainable = False
    frozen = [w.copy() for w in extractor.get_weights()]

    outputs = layers.Dense(5, activation="softmax", name="head_5_9")(extractor.output)
    model = keras.Model(inputs=extractor.input, outputs=outputs, name="transfer")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    print(f"trainable weights: {[w.path for w in model.trainable_weights]}")
    xb, yb = subset(x_train, y_train, 5)
    model.fit(xb, yb, batch_size=32, epochs=2 * epochs, verbose=0)
    _, transfer_accuracy = model.evaluate(*subset(x_test, y_test, 5), verbose=0)
    print(f"frozen features + new head on digits 5-9: test accuracy {transfer_accuracy:.4f}")

    unchanged = all(np.array_equal(a, b) for a, b in zip(frozen, extractor.get_weights()))
    print(f"frozen weights unchanged: {unchanged}")
    return {"base_accuracy": base_accuracy, "transfer_accuracy": transfer_accuracy,
            "frozen_unchanged": unchanged}


if __name__ == "__main__":
    main()
