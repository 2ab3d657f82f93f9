"""The runnable examples in examples/ reach what their docstrings promise (the quick ones)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example(name):
    return runpy.run_path(str(EXAMPLES / name), run_name="example")["main"]


def test_linear_regression_recovers_w_and_b(capsys):
    w, b = example("linear_regression.py")()
    assert w == pytest.approx(-1.0, abs=0.01) and b == pytest.approx(1.0, abs=0.01)
    assert "W = -" in capsys.readouterr().out


def test_functional_two_branch(capsys):
    pytest.importorskip("sklearn")
    assert example("functional_two_branch.py")(epochs=15) > 0.9
    assert "merge (Concatenate)" in capsys.readouterr().out


def test_transfer_learning_keeps_frozen_weights(capsys):
    pytest.importorskip("sklearn")
    result = example("transfer_learning.py")(epochs=10)
    assert result["frozen_unchanged"]
    assert result["base_accuracy"] > 0.95 and result["transfer_accuracy"] > 0.6


def test_early_stopping_curves(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    result = example("early_stopping_curves.py")(out=str(tmp_path / "curves.png"))
    assert result["epochs_run"] < 200 and result["test_accuracy"] > 0.85
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
