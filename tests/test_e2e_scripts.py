"""Runs the plain Keras-user scripts in tests/e2e_scripts in-process and checks where they end.

Each script is written as a Keras user writes it (`import kerasette as keras`); runpy runs it in
a fresh namespace inside a temporary working folder, and the test reads its final variables.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

import kerasette as keras

SCRIPTS = Path(__file__).resolve().parent / "e2e_scripts"


@pytest.fixture
def run_script(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)

    def run(name):
        return runpy.run_path(str(SCRIPTS / name), run_name="__main__")

    return run


def test_sequential_mlp(run_script, tmp_path):
    result = run_script("sequential_mlp.py")
    assert result["test_acc"] > 0.9
    history = result["history"].history
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history)
    if not result["can_save_weights"]:
        pytest.skip("Model.save_weights is not available: the checkpoint part did not run")
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    # save_best_only on val_accuracy: one file per epoch that set a new best, named {epoch:02d}.
    best_so_far = np.maximum.accumulate(history["val_accuracy"])
    improved = [i + 1 for i, v in enumerate(history["val_accuracy"])
                if i == 0 or v > best_so_far[i - 1]]
    assert names == [f"model_{e:02d}.weights.h5" for e in improved]
    assert result["best_acc"] > 0.9


def test_functional_two_inputs(run_script):
    result = run_script("functional_two_inputs.py")
    assert result["test_acc"] > 0.85
    assert result["agreement"] == pytest.approx(result["test_acc"], abs=1e-6)
    assert list(result["rows"][0]) == ["epoch", "accuracy", "learning_rate", "loss",
                                       "val_accuracy", "val_loss"]
    assert len(result["rows"]) == len(result["history"].history["loss"])
    assert result["final_lr"] < 1e-2  # ReduceLROnPlateau cut it at least once


def test_transfer_freeze(run_script):
    result = run_script("transfer_freeze.py")
    assert result["test_acc"] > 0.7
    assert result["frozen_unchanged"]
    assert len(result["model"].trainable_weights) == 2
    assert isinstance(result["feature_extractor"], keras.Model)
