"""The one module that imports the compiled engine `kerasette._core`.

The rest of the package talks to the engine through the names defined here, so the boundary between
Python (what to compute) and C++ (computing it) is a single file.
"""

from __future__ import annotations

import numpy as np

from kerasette import _core

Layer = _core.Layer
Graph = _core.Graph

cpu_isa = _core.cpu_isa
supported_cpu_isas = _core.supported_cpu_isas
set_cpu_isa = _core.set_cpu_isa
num_threads = _core.num_threads
set_num_threads = _core.set_num_threads
mix_seed = _core.mix_seed
cuda_built = bool(_core.cuda_built)


def random_uniform(shape, seed: int, stream: int, minval: float, maxval: float) -> np.ndarray:
    return _core.random_uniform(list(shape), seed, stream, float(minval), float(maxval))


def random_normal(shape, seed: int, stream: int, mean: float, stddev: float) -> np.ndarray:
    return _core.random_normal(list(shape), seed, stream, float(mean), float(stddev))


def truncated_normal(shape, seed: int, stream: int, mean: float, stddev: float) -> np.ndarray:
    return _core.truncated_normal(list(shape), seed, stream, float(mean), float(stddev))


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _core.matmul(a, b)
