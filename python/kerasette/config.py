"""Engine settings: CPU instruction set, threads, build facts."""

from __future__ import annotations

from kerasette import _engine


def cpu_isa() -> str:
    """The CPU kernel variant in use: "avx512", "avx2" or "generic"."""
    return _engine.cpu_isa()


def supported_cpu_isas() -> list:
    """The kernel variants this processor can run, best last."""
    return list(_engine.supported_cpu_isas())


def set_cpu_isa(name: str) -> None:
    """Selects a kernel variant (the environment variable KERASETTE_ISA does it at import)."""
    _engine.set_cpu_isa(name)


def num_threads() -> int:
    """Threads the engine's OpenMP loops use."""
    return _engine.num_threads()


def set_num_threads(n: int) -> None:
    """Sets the engine's thread count (default: OpenMP's, honouring OMP_NUM_THREADS)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"Expected `n` to be a positive integer. Received: n={n}")
    _engine.set_num_threads(n)


def cuda_built() -> bool:
    """Whether this build of the engine includes the CUDA backend."""
    return _engine.cuda_built


def backend() -> str:
    return "kerasette"


def floatx() -> str:
    return "float32"


def epsilon() -> float:
    return 1e-7
