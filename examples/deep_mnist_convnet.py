"""The deep-MNIST convnet of the classic TensorFlow tutorial, written as a Keras user writes it.

Conv2D 32 5x5 same relu, MaxPool 2, Conv2D 64 5x5 same relu, MaxPool 2, Flatten, Dense 1024 relu,
Dropout 0.5, Dense 10; Adam 1e-3, batch 50. On full MNIST it reaches about 99%; on the
8,000 / 2,000 split of the shared test digits, 3 epochs give about 98.7%.

Run: python examples/deep_mnist_convnet.py [--data ../shared/data/mnist] [--epochs 3]
"""

import argparse
import time

import kerasette as keras
from kerasette import layers
from mnist_convnet import load


def build_model(dropout_seed=None) -> keras.Sequential:
    """The model; tests, benchmarks and this script all build it here."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 5, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 5, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(1024, activation="relu"),
        layers.Dropout(0.5, seed=dropout_seed),
        layers.Dense(10, activation="softmax"),
    ])


def main() -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mnist.npz")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load(args.data)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=50, epochs=args.epochs, verbose=2)
    seconds = time.perf_counter() - start
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test accuracy: {acc:.4f} ({len(x_train) * args.epochs / seconds:,.0f} training "
          "samples/s)")
    return acc


if __name__ == "__main__":
    main()
