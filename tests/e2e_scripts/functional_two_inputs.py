"""A Keras user's functional model with two inputs merged by Concatenate, integer labels,
ReduceLROnPlateau and CSVLogger, evaluate(return_dict=True) and predict."""

import csv

import numpy as np
from sklearn.datasets import load_digits

import kerasette as keras
from kerasette import layers

keras.utils.set_random_seed(7)

digits = load_digits()
images = digits.images.astype("float32") / 16.0
top = images[:, :4, :].reshape(-1, 32)  # upper half of each digit
bottom = images[:, 4:, :].reshape(-1, 32)  # lower half
labels = digits.target

n_train = 1400
top_input = keras.Input(shape=(32,), name="top")
bottom_input = keras.Input(shape=(32,), name="bottom")
t = layers.Dense(32, activation="relu")(top_input)
b = layers.Dense(32, activation="relu")(bottom_input)
x = layers.concatenate([t, b])
x = layers.Dense(32, activation="relu")(x)
outputs = layers.Dense(10, activation="softmax", name="digit")(x)
model = keras.Model(inputs=[top_input, bottom_input], outputs=outputs)

model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-2),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)
history = model.fit(
    [top[:n_train], bottom[:n_train]],
    labels[:n_train],
    batch_size=64,
    epochs=25,
    validation_split=0.1,
    callbacks=[reduce_lr, keras.callbacks.CSVLogger("training.csv")],
    verbose=0,
)

results = model.evaluate([top[n_train:], bottom[n_train:]], labels[n_train:], return_dict=True,
                         verbose=0)
test_acc = results["accuracy"]
print(f"Test accuracy: {test_acc:.4f}")

probs = model.predict({"top": top[n_train:], "bottom": bottom[n_train:]}, verbose=0)
agreement = np.mean(np.argmax(probs, axis=1) == labels[n_train:])
print(f"predict agrees with evaluate: {agreement:.4f}")

with open("training.csv") as f:
    rows = list(csv.DictReader(f))
print("CSV columns:", list(rows[0]))
final_lr = float(model.optimizer.learning_rate)
print("learning rate at the end:", final_lr)
