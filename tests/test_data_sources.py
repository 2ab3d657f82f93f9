"""fit/evaluate/predict on generators, iterators and `PyDataset`s: the same weights, logs and
callback calls as the array path on the same batches, Keras's errors and warnings."""

import warnings

import kerasette as keras
import numpy as np
import pytest
from kerasette import layers


def _data(n=10, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


def _model(d=3):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((d,)), layers.Dense(4, activation="tanh"),
                              layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def _gen(x, y, bs=4, repeat=1, sw=None):
    for _ in range(repeat):
        for i in range(0, len(x), bs):
            if sw is None:
                yield x[i:i + bs], y[i:i + bs]
            else:
                yield x[i:i + bs], y[i:i + bs], sw[i:i + bs]


class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, bs=4, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.bs, self.calls = x, y, bs, []

    def __len__(self):
        return -(-len(self.x) // self.bs)

    def __getitem__(self, idx):
        self.calls.append(idx)
        lo = idx * self.bs
        return self.x[lo:lo + self.bs], self.y[lo:lo + self.bs]

    def on_epoch_begin(self):
        self.calls.append("begin")

    def on_epoch_end(self):
        self.calls.append("end")


def _array_fit(x, y, epochs=2, **kw):
    model = _model()
    hist = model.fit(x, y, batch_size=4, epochs=epochs, shuffle=False, verbose=0, **kw)
    return model, hist


def test_generator_fit_matches_arrays():
    x, y = _data()
    ref, ref_hist = _array_fit(x, y)
    model = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hist = model.fit(_gen(x, y, repeat=2), steps_per_epoch=3, epochs=2, verbose=0)
    for a, b in zip(ref.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert hist.history.keys() == ref_hist.history.keys()
    np.testing.assert_allclose(hist.history["loss"], ref_hist.history["loss"], rtol=1e-6)


def test_sample_weights_from_generator_match_arrays():
    x, y = _data()
    sw = np.linspace(0.5, 2, len(x)).astype("float32")
    ref, _ = _array_fit(x, y, epochs=1, sample_weight=sw)
    model = _model()
    model.fit(_gen(x, y, sw=sw), epochs=1, verbose=0, shuffle=False)
    for a, b in zip(ref.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_pydataset_fit_matches_arrays_and_calls_hooks():
    x, y = _data()
    ref, ref_hist = _array_fit(x, y)
    model = _model()
    ds = Batches(x, y, workers=4, use_multiprocessing=True, max_queue_size=3)
    hist = model.fit(ds, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(ref.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hist.history["mae"], ref_hist.history["mae"], rtol=1e-6)
    assert ds.calls == ["begin", 0, 1, 2, "end"] * 2
    assert ds.workers == 4 and ds.max_queue_size == 3


def test_pydataset_shuffle_permutes_each_epoch():
    x, y = _data(n=40)
    ds = Batches(x, y)
    _model().fit(ds, epochs=3, verbose=0, shuffle=True)
    epochs = [c for c in " ".join(map(str, ds.calls)).split("begin") if c.strip()]
    orders = [[int(t) for t in e.split() if t.isdigit()] for e in epochs]
    assert all(sorted(o) == list(range(10)) for o in orders)
    assert any(o != list(range(10)) for o in orders)


def test_pydataset_steps_per_epoch_carries_the_pass_over():
    x, y = _data()
    ds = Batches(x, y)
    with pytest.warns(UserWarning, match="ran out of data"):
        _model().fit(ds, epochs=3, steps_per_epoch=2, verbose=0, shuffle=False)
    # Keras 3: the second epoch finishes the pass (batch 2) and stops there with a warning.
    assert ds.calls == ["begin", 0, 1, "end", "begin", 2, "end", "begin", 0, 1, "end"]


def test_exhausted_generator_warns_and_ends_training():
    x, y = _data()
    model = _model()
    with pytest.warns(UserWarning, match="ran out of data"):
        hist = model.fit(_gen(x, y), epochs=3, steps_per_epoch=2, verbose=0, shuffle=False)
    assert len(hist.history["loss"]) == 2  # 2 batches, then 1, then nothing left


def test_generator_without_steps_runs_one_pass():
    x, y = _data()
    ref, _ = _array_fit(x, y, epochs=1)
    model = _model()
    with pytest.warns(UserWarning, match="shuffle"):
        hist = model.fit(_gen(x, y), epochs=2, verbose=0)
    assert len(hist.history["loss"]) == 1
    for a, b in zip(ref.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_iterator_is_accepted():
    x, y = _data()
    model = _model()
    batches = [(x[i:i + 4], y[i:i + 4]) for i in range(0, 10, 4)]
    hist = model.fit(iter(batches), epochs=1, verbose=0, shuffle=False)
    assert len(hist.history["loss"]) == 1


def test_validation_generator_and_pydataset():
    x, y = _data()
    ref, ref_hist = _array_fit(x, y, validation_data=(x, y))
    model = _model()
    hist = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                     validation_data=Batches(x, y))
    np.testing.assert_allclose(hist.history["val_loss"], ref_hist.history["val_loss"], rtol=1e-5)
    model = _model()
    hist = model.fit(Batches(x, y), epochs=2, shuffle=False, verbose=0,
                     validation_data=_gen(x, y, repeat=2), validation_steps=3)
    np.testing.assert_allclose(hist.history["val_mae"], ref_hist.history["val_mae"], rtol=1e-5)


def test_array_validation_of_a_generator_fit_uses_validation_batch_size():
    x, y = _data()
    sizes = []
    count = keras.callbacks.LambdaCallback(on_test_batch_end=lambda b, logs: sizes.append(b))
    model = _model()
    model.fit(_gen(x, y), epochs=1, shuffle=False, verbose=0, validation_data=(x, y),
              validation_batch_size=3, callbacks=[count])
    assert sizes == [0, 1, 2, 3]  # 10 validation samples in batches of 3


def test_evaluate_and_predict():
    x, y = _data()
    model = _model()
    ref = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    got = model.evaluate(_gen(x, y), verbose=0, return_dict=True)
    assert got == pytest.approx(ref, rel=1e-6)
    assert model.evaluate(Batches(x, y), verbose=0) == pytest.approx(
        model.evaluate(x, y, verbose=0), rel=1e-6)
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(Batches(x, y), verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model.predict((x[i:i + 4] for i in range(0, 10, 4)), verbose=0),
                               expected, rtol=1e-6)
    part = model.predict(((x[i:i + 4],) for i in range(0, 10, 4)), steps=2, verbose=0)
    np.testing.assert_allclose(part, expected[:8], rtol=1e-6)


def test_batch_size_is_ignored_with_a_batch_source():
    # Keras 3.15 ignores `batch_size` for generators and PyDatasets: their batches keep their size.
    x, y = _data()
    model = _model()
    expected = model.predict(x, batch_size=4, verbose=0)
    np.testing.assert_allclose(model.predict(Batches(x, y), batch_size=3, verbose=0), expected,
                               rtol=1e-6)
    assert model.evaluate(_gen(x, y), batch_size=7, verbose=0, return_dict=True)


def test_errors():
    x, y = _data()
    model = _model()
    with pytest.raises(ValueError, match="`y` should not be passed"):
        model.fit(Batches(x, y), y, verbose=0)
    with pytest.raises(ValueError, match="`sample_weights` should not be passed"):
        model.evaluate(_gen(x, y), sample_weight=np.ones(10), verbose=0)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(_gen(x, y), class_weight={0: 1.0}, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(_gen(x, y), validation_split=0.2, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match="must yield a tuple"):
        model.fit(iter([x[:4]]), verbose=0, shuffle=False)
    bad = x.copy()
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(_gen(bad, y), verbose=0, shuffle=False)
    with pytest.raises(ValueError, match="incompatible"):
        model.fit(_gen(x[:, :2], y), verbose=0, shuffle=False)

    class Endless(Batches):
        @property
        def num_batches(self):
            return None

    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(Endless(x, y), verbose=0)
    with pytest.raises(ValueError, match="validation_steps"):
        model.fit(x, y, verbose=0, validation_data=Endless(x, y))


def test_callback_batch_hooks_and_history():
    x, y = _data()

    class Recorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.events = []

        def on_train_batch_end(self, batch, logs=None):
            self.events.append(("train", batch, sorted(logs)))

        def on_test_batch_end(self, batch, logs=None):
            self.events.append(("test", batch))

        def on_epoch_end(self, epoch, logs=None):
            self.events.append(("epoch", epoch, sorted(logs)))

    rec = Recorder()
    model = _model()
    hist = model.fit(Batches(x, y), epochs=2, verbose=0, shuffle=False, callbacks=[rec],
                     validation_data=Batches(x, y))
    assert rec.params["steps"] == 3 and rec.params["epochs"] == 2
    epoch_keys = ["loss", "mae", "val_loss", "val_mae"]
    expected = ([("train", b, ["loss", "mae"]) for b in range(3)]
                + [("test", b) for b in range(3)])
    assert rec.events == (expected + [("epoch", 0, epoch_keys)]
                          + expected + [("epoch", 1, epoch_keys)])
    assert hist.epoch == [0, 1] and sorted(hist.history) == epoch_keys


def test_progress_bar_with_unknown_length(capsys):
    x, y = _data()
    _model().fit(_gen(x, y), epochs=1, verbose=2, shuffle=False)
    assert "3/3" in capsys.readouterr().out


def test_py_dataset_class_weight_checked_before_training():
    # A bad `class_weight` for a PyDataset used to surface at the first batch, after the
    # callbacks' on_train_begin, and the dict was re-checked for every batch.
    x, _ = _data(8)
    labels = np.array([0, 1] * 4, dtype="float32").reshape(-1, 1)
    seen = []
    cb = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: seen.append("begin"))
    data = Batches(x, labels)
    with pytest.raises(ValueError, match=r"finite numbers. Received: class_weight\[1\]=nan"):
        _model().fit(data, class_weight={0: 1.0, 1: float("nan")}, callbacks=[cb], verbose=0)
    assert seen == [] and data.calls == []
    # Float keys (np.unique of float labels) still find their classes batch after batch.
    model = _model()
    model.fit(Batches(x, labels), class_weight={0.0: 1.0, 1.0: 3.0}, epochs=1, verbose=0)
