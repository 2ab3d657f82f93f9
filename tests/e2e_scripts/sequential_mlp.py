"""A Keras user's Sequential MLP on the 8x8 digits: one-hot labels, validation_split,
EarlyStopping, per-epoch weight checkpoints, evaluate, then reload the best checkpoint."""

import glob
import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import kerasette as keras
from kerasette import layers

keras.utils.set_random_seed(42)

digits = load_digits()
x = digits.data.astype("float32") / 16.0
y = keras.utils.to_categorical(digits.target, num_classes=10)
x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)

model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="relu"),
        layers.Dropout(0.1),
        layers.Dense(32, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ]
)
model.summary()
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)]
can_save_weights = hasattr(keras.Model, "save_weights")
if can_save_weights:
    os.makedirs("checkpoints", exist_ok=True)
    callbacks.append(
        keras.callbacks.ModelCheckpoint(
            "checkpoints/model_{epoch:02d}.weights.h5",
            save_weights_only=True,
            monitor="val_accuracy",
            save_best_only=True,
        )
    )

history = model.fit(
    x_train,
    y_train,
    batch_size=32,
    epochs=40,
    validation_split=0.15,
    callbacks=callbacks,
    verbose=2,
)
test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
print(f"Test accuracy: {test_acc:.4f}")

predictions = model.predict(x_test[:5])
print("Predicted:", np.argmax(predictions, axis=1), "true:", np.argmax(y_test[:5], axis=1))

checkpoints = sorted(glob.glob("checkpoints/*.weights.h5"))
if can_save_weights:
    print("Checkpoints:", checkpoints)
    model.load_weights(checkpoints[-1])
    best_loss, best_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"Best checkpoint test accuracy: {best_acc:.4f}")
