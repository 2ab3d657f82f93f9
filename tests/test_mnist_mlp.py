"""The foundation issue's acceptance run on the real MNIST digits (8,000 train / 2,000 test)."""

import kerasette as keras
from kerasette import layers
from conftest import load_mnist_split


def test_mlp_reaches_95_percent_on_mnist():
    (x_train, y_train), (x_test, y_test) = load_mnist_split()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(512, activation="relu"),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train.reshape(-1, 784), y_train, batch_size=128, epochs=5, verbose=0)
    _, accuracy = model.evaluate(x_test.reshape(-1, 784), y_test, verbose=0)
    assert accuracy >= 0.95, accuracy
