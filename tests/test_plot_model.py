"""`kerasette.utils.plot_model`: the text diagram of a layer graph."""

from __future__ import annotations

import pytest

import kerasette as keras
from kerasette import layers


def two_branch_model():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    shared = layers.Dense(4, activation="relu", name="shared")
    merged = layers.Concatenate(name="merge")([layers.Dense(4, name="da")(a),
                                               layers.Dense(4, name="db")(b)])
    out = layers.Add(name="sum")([shared(merged), shared(layers.Dense(8, name="proj")(merged))])
    return keras.Model([a, b], out, name="two_branch")


def test_one_line_per_call_with_inputs_and_shapes(tmp_path):
    text = keras.utils.plot_model(two_branch_model(), to_file=tmp_path / "model.txt")
    lines = text.splitlines()
    assert lines[0] == 'Model: "two_branch"'
    assert len(lines) == 1 + 9  # a, b, da, db, merge, proj, shared twice, sum
    by_name = {line.split()[0]: line for line in lines[1:]}
    assert by_name["a"].endswith("-> (None, 3)") and "<-" not in by_name["a"]
    assert "<- da, db" in by_name["merge"] and by_name["merge"].endswith("-> (None, 8)")
    assert "<- proj" in by_name["shared[1]"]
    assert "<- shared, shared[1]" in by_name["sum"]
    order = [line.split()[0] for line in lines[1:]]
    assert order.index("merge") > order.index("db") and order[-1] == "sum"
    assert (tmp_path / "model.txt").read_text(encoding="utf-8") == text


def test_options():
    model = two_branch_model()
    text = keras.utils.plot_model(model, show_shapes=False, show_layer_activations=True,
                                  show_trainable=True, rankdir="BT")
    assert "->" not in text
    assert "shared (Dense, relu, trainable)" in text
    assert text.splitlines()[1].startswith("sum (Add")
    model.get_layer("da").trainable = False
    assert "da (Dense, frozen)" in keras.utils.plot_model(model, show_trainable=True)


def test_sequential_and_nested():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="inner_dense")],
                             name="inner")
    inp = keras.Input((4,), name="x")
    model = keras.Model(inp, layers.Dense(1, name="head")(inner(inp)))
    flat = keras.utils.plot_model(model)
    assert "inner (Sequential)" in flat and "inner_dense" not in flat
    nested = keras.utils.plot_model(model, expand_nested=True)
    assert "  | inner_dense (Dense)" in nested
    seq = keras.Sequential([keras.Input((5,)), layers.Dense(2, name="only")])
    assert keras.utils.plot_model(seq).splitlines()[-1].split()[:2] == ["only", "(Dense)"]


def test_unbuilt_model_and_bad_arguments():
    with pytest.raises(ValueError, match="not yet been built"):
        keras.utils.plot_model(keras.Sequential([layers.Dense(2)]))
    model = two_branch_model()
    with pytest.raises(ValueError, match="rankdir"):
        keras.utils.plot_model(model, rankdir="XY")
