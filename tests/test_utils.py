"""kerasette.utils: Progbar's printed lines against Keras 3's formats, to_categorical, normalize,
set_random_seed and plot_history."""

from __future__ import annotations

import random
import re
import sys

import numpy as np
import pytest

from kerasette import utils
from kerasette.utils import Progbar, normalize, to_categorical
from kerasette.utils import progbar as progbar_module

BAR = "\u2501"
ANSI = re.compile(r"\x1b\[\d+m")


@pytest.fixture(autouse=True)
def _not_pycharm(monkeypatch):
    monkeypatch.delenv("PYCHARM_HOSTED", raising=False)


def run_bar(bar, steps, values):
    for step in range(1, steps + 1):
        bar.update(step, values)


# Progbar ----------------------------------------------------------------------------------------


def test_progbar_verbose_1_not_a_terminal_prints_final_line_only(capsys):
    bar = Progbar(100)
    assert not bar._dynamic_display
    run_bar(bar, 100, [("accuracy", 0.8), ("loss", 0.5)])
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out
    assert re.fullmatch(
        f"100/100 {BAR * 20} \\d+s \\d+(us|ms|s)/step - accuracy: 0.8000 - loss: 0.5000\n", out
    )


def test_progbar_verbose_2(capsys):
    bar = Progbar(100, verbose=2)
    run_bar(bar, 100, [("accuracy", 0.9), ("loss", 0.3)])
    out = capsys.readouterr().out
    assert re.fullmatch(
        r"100/100 - \d+s - \d+(us|ms|s)/step - accuracy: 0.9000 - loss: 0.3000\n", out
    )


def test_progbar_verbose_0_is_silent(capsys):
    run_bar(Progbar(10, verbose=0), 10, [("loss", 1.0)])
    assert capsys.readouterr().out == ""


def test_progbar_count_is_right_aligned_to_target_digits(capsys):
    bar = Progbar(12, verbose=2)
    bar.update(12)
    assert re.fullmatch(r"12/12 - \d+s - \d+(us|ms|s)/step\n", capsys.readouterr().out)


def test_progbar_averages_stateless_and_shows_stateful_as_given(capsys):
    bar = Progbar(None, stateful_metrics=["lr"])
    bar.update(1, [("loss", 1.0), ("lr", 0.1)])
    bar.update(3, [("loss", 4.0), ("lr", 0.2)])  # covers two steps: weight 2
    bar.update(3, finalize=True)
    out = capsys.readouterr().out
    expected = r"      3/Unknown \d+s \d+(us|ms|s)/step - loss: 3.0000 - lr: 0.2000\n"
    assert re.fullmatch(expected, out)


def test_progbar_final_values_are_shown_as_given(capsys):
    bar = Progbar(2, verbose=2)
    bar.update(1, [("loss", 10.0)])
    bar.update(2, [("loss", 0.5)])
    assert capsys.readouterr().out.endswith(" - loss: 0.5000\n")


def test_progbar_tiny_and_string_values(capsys):
    bar = Progbar(3)
    bar.add(1, [("loss", 2e-5)])
    bar.add(2, [("loss", 2e-5), ("note", "ok")])
    assert bar._seen_so_far == 3
    assert capsys.readouterr().out.endswith(" - loss: 2.0000e-05 - note: ok\n")


def test_progbar_dynamic_display_rewrites_one_line(capsys):
    bar = Progbar(4, interval=0)
    bar._dynamic_display = True
    run_bar(bar, 4, [("loss", 0.5)])
    out = capsys.readouterr().out
    frames = out.split("\r")
    assert frames[0] == "" and len(frames) == 5
    assert out.endswith("\n") and out.count("\n") == 1
    assert frames[1].startswith("\x1b[1m1/4\x1b[0m \x1b[32m" + BAR * 5 + "\x1b[0m\x1b[37m")
    plain = [ANSI.sub("", frame) for frame in frames[1:]]
    # While running: ETA; when finished: total time. Then time per step and metrics.
    assert re.fullmatch(f"2/4 {BAR * 20} \\d+s \\d+(us|ms|s)/step - loss: 0.5000 *", plain[1])
    assert re.fullmatch(f"4/4 {BAR * 20} \\d+s \\d+(us|ms|s)/step - loss: 0.5000 *\n", plain[3])


def test_progbar_dynamic_display_pads_over_a_longer_line(capsys):
    bar = Progbar(2, interval=0)
    bar._dynamic_display = True
    bar.update(1, [("a_long_metric_name", 0.5)])
    bar._values_order.clear()  # the next line is shorter than the previous one
    bar.update(2)
    first, second = capsys.readouterr().out.split("\r")[1:]
    assert len(ANSI.sub("", second).rstrip("\n")) == len(ANSI.sub("", first))


def test_progbar_dynamic_display_detection(monkeypatch):
    class Tty:
        def isatty(self):
            return True

        def write(self, s):
            pass

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", Tty())
    assert Progbar(1)._dynamic_display
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    assert Progbar(1)._dynamic_display
    monkeypatch.delitem(sys.modules, "ipykernel")
    monkeypatch.setenv("PYCHARM_HOSTED", "1")
    assert Progbar(1)._dynamic_display


@pytest.mark.parametrize(
    "seconds, expected",
    [(0, "0s/step"), (2.4, "2s/step"), (0.012, "12ms/step"), (5e-5, "50us/step")],
)
def test_progbar_time_per_step_units(seconds, expected):
    assert progbar_module._format_time_per_unit(seconds, "step") == expected


@pytest.mark.parametrize("seconds, expected", [(42.7, "42s"), (125, "2:05"), (3725, "1:02:05")])
def test_progbar_eta_format(seconds, expected):
    assert progbar_module._format_eta(seconds) == expected


# to_categorical, normalize ----------------------------------------------------------------------


def test_to_categorical_basic():
    out = to_categorical([0, 1, 2, 3], num_classes=4)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32))


def test_to_categorical_infers_classes_and_squeezes_trailing_one():
    out = to_categorical(np.array([[1], [2], [0]]))
    assert out.shape == (3, 3)
    np.testing.assert_array_equal(out.argmax(-1), [1, 2, 0])


def test_to_categorical_keeps_leading_shape():
    labels = np.array([[0, 1, 2], [2, 1, 0]])
    out = to_categorical(labels, num_classes=5)
    assert out.shape == (2, 3, 5)
    np.testing.assert_array_equal(out.argmax(-1), labels)
    assert to_categorical(2, num_classes=3).tolist() == [0.0, 0.0, 1.0]


def test_to_categorical_accepts_whole_floats():
    np.testing.assert_array_equal(to_categorical(np.array([1.0, 0.0])), [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    "labels, num_classes, message",
    [
        ([0, -1], None, "non-negative class labels. Received: a negative label x=-1"),
        ([0, 1.5], None, "integer class labels. Received: a non-integer label x=1.5"),
        ([0, 3], 3, "less than `num_classes`. Received: a label x=3 with num_classes=3"),
        ([0, 1], 0, "`num_classes` to be a positive integer. Received: num_classes=0"),
        (["a"], None, "integer class labels"),
        ([], None, "Cannot infer `num_classes`"),
    ],
)
def test_to_categorical_errors(labels, num_classes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        to_categorical(labels, num_classes=num_classes)


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32)
    out = normalize(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, order=1), [[3 / 7, 4 / 7], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, axis=0), [[1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(np.array([3.0, 4.0])), [0.6, 0.8])


# set_random_seed --------------------------------------------------------------------------------


def test_set_random_seed_seeds_python_numpy_and_kerasette(monkeypatch):
    from kerasette import _random

    seeds = []
    monkeypatch.setattr(_random, "set_global_seed", seeds.append)
    utils.set_random_seed(1337)
    first = (random.random(), np.random.rand())
    utils.set_random_seed(1337)
    assert (random.random(), np.random.rand()) == first
    assert seeds == [1337, 1337]


@pytest.mark.parametrize("seed", [1.5, "3", None])
def test_set_random_seed_rejects_non_integers(seed):
    with pytest.raises(ValueError, match=r"Expected `seed` argument to be an integer. Received: "):
        utils.set_random_seed(seed)


# plot_history -----------------------------------------------------------------------------------

HISTORY = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4], "accuracy": [0.5, 0.7, 0.9]}


def test_plot_history_writes_png(tmp_path):
    pytest.importorskip("matplotlib")

    class FakeHistory:
        history = HISTORY

    for source in (HISTORY, FakeHistory()):
        path = tmp_path / "curves.png"
        assert utils.plot_history(source, path) == path
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    path = str(tmp_path / "loss.png")
    assert utils.plot_history(HISTORY, path, metrics=["loss"]) == path


def test_plot_history_unknown_metric():
    with pytest.raises(ValueError, match="Expected every name in `metrics`"):
        utils.plot_history(HISTORY, "x.png", metrics=["auc"])


def test_plot_history_without_matplotlib(monkeypatch, tmp_path):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=re.escape("pip install kerasette[examples]")):
        utils.plot_history(HISTORY, tmp_path / "x.png")


# Keras 3.15's `keras.utils.pad_sequences` on the same inputs (literals recorded from it).
@pytest.mark.parametrize("kwargs, expected, dtype", [
    ({}, [[0, 0, 1], [0, 2, 3], [4, 5, 6]], "int32"),
    ({"maxlen": 2}, [[0, 1], [2, 3], [5, 6]], "int32"),
    ({"maxlen": 2, "truncating": "post"}, [[0, 1], [2, 3], [4, 5]], "int32"),
    ({"padding": "post", "value": -1}, [[1, -1, -1], [2, 3, -1], [4, 5, 6]], "int32"),
    ({"maxlen": 4, "dtype": "float32", "value": 0.5},
     [[0.5, 0.5, 0.5, 1.0], [0.5, 0.5, 2.0, 3.0], [0.5, 4.0, 5.0, 6.0]], "float32"),
])
def test_pad_sequences_matches_keras(kwargs, expected, dtype):
    out = utils.pad_sequences([[1], [2, 3], [4, 5, 6]], **kwargs)
    assert out.tolist() == expected and out.dtype == dtype


def test_pad_sequences_empty_rows_sample_shape_and_errors():
    from kerasette.preprocessing.sequence import pad_sequences

    assert pad_sequences is utils.pad_sequences
    assert utils.pad_sequences([[], [1, 2]]).tolist() == [[0, 0], [1, 2]]
    assert utils.pad_sequences([[[1, 2]], [[3, 4], [5, 6]]]).tolist() == [
        [[0, 0], [1, 2]], [[3, 4], [5, 6]]]
    assert utils.pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)  # Keras fails to broadcast
    with pytest.raises(ValueError, match='Padding type "mid" not understood'):
        utils.pad_sequences([[1]], padding="mid")
    with pytest.raises(ValueError, match='Truncating type "x" not understood'):
        utils.pad_sequences([[1]], truncating="x")
    with pytest.raises(ValueError, match="You should set `dtype=object`"):
        utils.pad_sequences([[1]], value="a")
    with pytest.raises(ValueError, match="Found non-iterable: 1"):
        utils.pad_sequences([1, 2])
