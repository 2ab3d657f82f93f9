"""A Keras user's transfer learning: pretrain on digits 0-4, cut the model below its head with
Model(inputs=base.input, outputs=base.layers[-2].output), freeze it, train a new head on 5-9."""

import numpy as np
from sklearn.datasets import load_digits

import kerasette as keras
from kerasette import layers

keras.utils.set_random_seed(3)

digits = load_digits()
x = digits.data.astype("float32") / 16.0
y = digits.target
low, high = y < 5, y >= 5

base = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(5, activation="softmax"),
    ]
)
base.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
base.fit(x[low], y[low], epochs=15, batch_size=32, verbose=0)

feature_extractor = keras.Model(inputs=base.input, outputs=base.layers[-2].output)
feature_extractor.trainable = False
frozen_before = feature_extractor.get_weights()

inputs = keras.Input(shape=(64,))
features = feature_extractor(inputs)
outputs = layers.Dense(5, activation="softmax")(features)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()

x_new, y_new = x[high], y[high] - 5
model.fit(x_new[:600], y_new[:600], epochs=40, batch_size=32, validation_split=0.1, verbose=0)
test_loss, test_acc = model.evaluate(x_new[600:], y_new[600:], verbose=0)
print(f"New-head test accuracy: {test_acc:.4f}")

frozen_unchanged = all(
    np.array_equal(a, b) for a, b in zip(frozen_before, feature_extractor.get_weights())
)
print("Frozen weights unchanged:", frozen_unchanged)
