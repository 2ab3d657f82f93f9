"""Linear regression by gradient descent: fit y = -x + 1 and recover W = -1, b = 1.

The first lab of the classic TensorFlow tutorials, written with Keras's API: one Dense unit is
`y = W x + b`, mean squared error is the loss, plain SGD over the whole (tiny) data set each step.

Run: python examples/linear_regression.py
"""

import argparse

import numpy as np

import kerasette as keras
from kerasette import layers


def main(epochs: int = 500, learning_rate: float = 0.05) -> tuple:
    keras.utils.set_random_seed(0)
    x_train = np.array([[1.0], [2.0], [3.0], [4.0]], dtype="float32")
    y_train = -x_train + 1.0  # [0, -1, -2, -3]

    model = keras.Sequential([keras.Input((1,)), layers.Dense(1, name="linear")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    history = model.fit(x_train, y_train, batch_size=len(x_train), epochs=epochs, verbose=0)

    kernel, bias = model.get_layer("linear").get_weights()
    w, b = float(kernel[0, 0]), float(bias[0])
    loss = history.history["loss"][-1]
    print(f"after {epochs} steps: W = {w:.4f}, b = {b:.4f}, loss = {loss:.2e}")
    print("prediction for x = 5:", float(model.predict(np.array([[5.0]]), verbose=0)[0, 0]))
    return w, b


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    args = parser.parse_args()
    main(args.epochs, args.learning_rate)
