"""Seed state shared by initializers and dropout.

`kerasette.utils.set_random_seed(s)` fixes the global seed; every object that was given no seed of
its own then draws one from `next_seed()`, a counter-based sequence, so two runs that create the
same objects in the same order get bit-identical weights and dropout masks.
"""

from __future__ import annotations

import secrets

from kerasette import _engine

_global_seed: int | None = None
_counter = 0


def set_global_seed(seed: int) -> None:
    global _global_seed, _counter
    _global_seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    _counter = 0


def next_seed() -> int:
    """A fresh 63-bit seed: derived from the global seed when one is set, else random."""
    global _counter
    if _global_seed is None:
        return secrets.randbits(63)
    _counter += 1
    return _engine.mix_seed(_global_seed, _counter) >> 1
