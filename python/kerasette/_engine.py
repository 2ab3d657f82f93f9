"""The one module that imports the compiled engine `kerasette._core`.

The rest of the package talks to the engine through the names defined here, so the boundary between
Python (what to compute) and C++ (computing it) is a single file.
"""

from __future__ import annotations

import numpy as np

from kerasette import _core

Layer = _core.Layer

cpu_isa = _core.cpu_isa
supported_cpu_isas = _core.supported_cpu_isas
set_cpu_isa = _core.set_cpu_isa
num_threads = _core.num_threads
set_num_threads = _core.set_num_threads
mix_seed = _core.mix_seed
cuda_built = bool(_core.cuda_built)

# ---- device ----
# The device engine graphs run on: "cpu" or "cuda:N". None means the default, resolved when first
# needed: the first visible GPU of a CUDA build, else the CPU. A device chosen with
# `config.set_device` is strict (a layer without a CUDA path raises NotImplementedError); the
# default is not (such a model quietly runs on the CPU).
_device: str | None = None


def cuda_device_count() -> int:
    """Visible CUDA devices (CUDA_VISIBLE_DEVICES applies); 0 in a build without CUDA."""
    return int(_core.cuda_device_count()) if cuda_built else 0


def current_device() -> str:
    if _device is not None:
        return _device
    return "cuda:0" if cuda_device_count() > 0 else "cpu"


def set_device(device: str | None) -> None:
    """Sets the device (already validated by `config.set_device`); None restores the default."""
    global _device
    if device is not None and device.startswith("cuda"):
        _core.cuda_set_device(int(device.split(":")[1]))
    _device = device


def cuda_device_info(index: int) -> dict:
    return dict(_core.cuda_device_info(index))


class Graph(_core.Graph):
    """The engine graph, placed on the current device before each run.

    A graph follows `config.set_device`: a change takes effect at its next train, test or predict
    call (its weights and optimizer state move with it).
    """

    def __init__(self) -> None:
        super().__init__()
        self._placed = None
        self._place()

    def _place(self) -> None:
        want = (current_device().split(":")[0], _device is not None)
        if want != self._placed:
            if want[0] == "cuda" or self._placed is not None:
                self.set_device(want[0], strict=want[1])
            self._placed = want

    def train_batches(self, *args, **kwargs):
        self._place()
        return super().train_batches(*args, **kwargs)

    def test_batches(self, *args, **kwargs):
        self._place()
        return super().test_batches(*args, **kwargs)

    def predict(self, *args, **kwargs):
        self._place()
        return super().predict(*args, **kwargs)


def random_uniform(shape, seed: int, stream: int, minval: float, maxval: float) -> np.ndarray:
    return _core.random_uniform(list(shape), seed, stream, float(minval), float(maxval))


def random_normal(shape, seed: int, stream: int, mean: float, stddev: float) -> np.ndarray:
    return _core.random_normal(list(shape), seed, stream, float(mean), float(stddev))


def truncated_normal(shape, seed: int, stream: int, mean: float, stddev: float) -> np.ndarray:
    return _core.truncated_normal(list(shape), seed, stream, float(mean), float(stddev))


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _core.matmul(a, b)
