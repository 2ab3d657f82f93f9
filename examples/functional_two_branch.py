"""A two-input functional model: pixels and hand-made features, joined with Concatenate.

Branch one reads the 64 pixels of scikit-learn's 8x8 digits; branch two reads 16 summary
features (the ink in each row and each column). Each branch has its own Dense stack; a
`Concatenate` layer joins them and a softmax head classifies. `plot_model` prints the graph.

Run: python examples/functional_two_branch.py
"""

import numpy as np

import kerasette as keras
from kerasette import layers
from kerasette.datasets import digits


def features(images: np.ndarray) -> tuple:
    pixels = images.reshape(len(images), 64).astype("float32") / 16.0
    profile = np.concatenate([images.sum(axis=2), images.sum(axis=1)], axis=1)
    return pixels, (profile / 128.0).astype("float32")


def build_model() -> keras.Model:
    pixels = keras.Input((64,), name="pixels")
    profile = keras.Input((16,), name="profile")
    a = layers.Dense(64, activation="relu", name="pixel_dense")(pixels)
    b = layers.Dense(16, activation="relu", name="profile_dense")(profile)
    merged = layers.Concatenate(name="merge")([a, b])
    hidden = layers.Dense(32, activation="relu", name="joint_dense")(merged)
    outputs = layers.Dense(10, activation="softmax", name="digit")(hidden)
    return keras.Model(inputs=[pixels, profile], outputs=outputs, name="two_branch")


def main(epochs: int = 30) -> float:
    keras.utils.set_random_seed(3)
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    model = build_model()
    print(keras.utils.plot_model(model))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(list(features(x_train)), y_train, batch_size=32, epochs=epochs,
              validation_split=0.1, verbose=0)
    loss, accuracy = model.evaluate(list(features(x_test)), y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} (loss {loss:.4f})")
    return accuracy


if __name__ == "__main__":
    main()
