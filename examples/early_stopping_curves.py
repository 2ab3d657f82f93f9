"""Early stopping with the best weights restored, and the training curves drawn to a PNG.

A deliberately large network on a small slice of scikit-learn's 8x8 digits overfits quickly:
validation loss bottoms out and climbs. `EarlyStopping(restore_best_weights=True)` stops training
`patience` epochs after the best epoch and puts that epoch's weights back;
`kerasette.utils.plot_history` draws loss and accuracy (train solid, validation dashed).
Needs matplotlib.

Run: python examples/early_stopping_curves.py [--out curves.png]
"""

import argparse

import numpy as np

import kerasette as keras
from kerasette import layers
from kerasette.datasets import digits


def main(out: str = "curves.png", epochs: int = 200) -> dict:
    keras.utils.set_random_seed(11)
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train = x_train[:500].reshape(-1, 64).astype("float32") / 16.0
    y_train = y_train[:500]
    x_test = x_test.reshape(-1, 64).astype("float32") / 16.0

    model = keras.Sequential([
        keras.Input((64,)),
        layers.Dense(256, activation="relu"),
        layers.Dense(256, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5,
                                            restore_best_weights=True, verbose=1)
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.2,
                        callbacks=[stopper], verbose=0)

    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    print(f"ran {len(val_loss)} of {epochs} epochs; best val_loss {val_loss[best]:.4f} at epoch "
          f"{best + 1}, restored")
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy with the restored weights: {test_accuracy:.4f} (loss {test_loss:.4f})")
    keras.utils.plot_history(history, out)
    print(f"curves written to {out}")
    return {"epochs_run": len(val_loss), "best_epoch": best, "test_accuracy": test_accuracy}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="curves.png", help="where to write the PNG")
    args = parser.parse_args()
    main(args.out)
