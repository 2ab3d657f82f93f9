"""Quickstart: a multilayer perceptron on the handwritten digits that scikit-learn ships (8x8).

Run: python examples/quickstart.py
"""

import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kerasette as keras
from kerasette import layers


def main() -> float:
    keras.utils.set_random_seed(42)
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = keras.utils.to_categorical(digits.target, 10)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=digits.target)

    model = keras.Sequential([
        keras.Input((64,)),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.summary()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=32, epochs=30, validation_split=0.1, verbose=2)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f}  test accuracy {accuracy:.4f}  (training took {seconds:.2f} s)")
    return accuracy


if __name__ == "__main__":
    main()
