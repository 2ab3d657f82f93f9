"""Softmax regression on MNIST: one Dense(10, softmax) layer on the 784 pixels, about 92% accurate.

The classic "MNIST for beginners" lab: no hidden layer, cross-entropy loss, plain gradient descent
at learning rate 0.5 on batches of 100. With the full 60,000 training images it reaches about 92%
on the 10,000 test images. When the data folder holds only the 10,000-image test split (as
`../shared/data/mnist` does), the first 8,000 images train and the last 2,000 test; that gives
about 93% after 10 epochs (those last 2,000 test images are among the easier ones).

Run: python examples/softmax_regression_mnist.py [--data FOLDER]
"""

import argparse
import time
from pathlib import Path

import kerasette as keras
from kerasette import layers

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def load_mnist(data):
    """Train and test splits as float32 pixels in [0, 1] and integer labels."""
    from kerasette.datasets import mnist

    if data is None and SHARED_MNIST.is_dir():
        data = SHARED_MNIST
    (x_train, y_train), (x_test, y_test) = (
        mnist.load_data(path=str(data)) if data is not None else mnist.load_data())
    if len(x_train) == 0:  # a test-split-only folder: 8,000 to train, 2,000 to test
        x_train, y_train = x_test[:8000], y_test[:8000]
        x_test, y_test = x_test[8000:], y_test[8000:]
    return ((x_train.astype("float32") / 255.0, y_train),
            (x_test.astype("float32") / 255.0, y_test))


def main(data=None, epochs: int = 10) -> float:
    keras.utils.set_random_seed(1)
    (x_train, y_train), (x_test, y_test) = load_mnist(data)
    print(f"{len(x_train)} training and {len(x_test)} test images")
    model = keras.Sequential([
        keras.Input((28, 28)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=100, epochs=epochs, verbose=2)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} (loss {loss:.4f}), trained in {seconds:.2f} s")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None,
                        help="folder of MNIST IDX files or an mnist.npz (default: "
                             "../shared/data/mnist when present, else Keras's download)")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    main(args.data, args.epochs)
