"""Keras's classic simple MNIST convnet (keras.io/examples/vision/mnist_convnet), on kerasette.

Run: python examples/mnist_convnet.py [--data mnist.npz] [--epochs 3]

`--data` is what `kerasette.datasets.mnist.load_data` accepts: Keras's cache name (default,
downloaded on first use), a local mnist.npz, or a folder of IDX files. A folder that holds only
the 10,000 test digits (such as ../shared/data/mnist) is split 8,000 / 2,000 for train / test.
"""

import argparse
import time

import kerasette as keras
from kerasette import layers


def load(path: str):
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(path=path)
    if len(x_train) == 0:  # only the test split is available: train on its first 8,000
        x_train, y_train = x_test[:8000], y_test[:8000]
        x_test, y_test = x_test[8000:], y_test[8000:]
    prep = lambda x: (x.astype("float32") / 255.0)[..., None]  # noqa: E731
    return (prep(x_train), keras.utils.to_categorical(y_train, 10)), (
        prep(x_test), keras.utils.to_categorical(y_test, 10))


def build_model() -> keras.Sequential:
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def main() -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mnist.npz")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    keras.utils.set_random_seed(1)
    (x_train, y_train), (x_test, y_test) = load(args.data)
    model = build_model()
    model.summary()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_split=0.1, verbose=2)
    seconds = time.perf_counter() - start
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test loss: {loss:.4f}  Test accuracy: {acc:.4f}  "
          f"({len(x_train) * args.epochs / seconds:,.0f} training samples/s)")
    return float(acc)


if __name__ == "__main__":
    main()
