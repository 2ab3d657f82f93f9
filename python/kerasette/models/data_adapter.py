"""Batch sources: Python generators/iterators and `PyDataset`s, read one batch at a time.

`is_batch_source` tells them from array data (which keeps the engine's multi-batch path).
`check_source_args` gives Keras 3's errors for arguments that a batch source carries itself.
`EpochIterator` owns the epoch bookkeeping Keras 3 does in `trainers/epoch_iterator.py`: how many
steps an epoch has, the "ran out of data" warning, a `steps_per_epoch` pass carried over from
epoch to epoch, `PyDataset` order shuffling and its `on_epoch_begin`/`on_epoch_end` hooks.
`unpack_batch` splits one yielded batch into `(x, y, sample_weight)`.
"""

from __future__ import annotations

import collections.abc
import itertools
import random
import warnings

import numpy as np

from kerasette.utils.py_dataset import PyDataset


def is_batch_source(x) -> bool:
    """Whether `x` yields whole batches (a `PyDataset`, generator or iterator), not arrays."""
    if isinstance(x, PyDataset):
        return True
    return isinstance(x, collections.abc.Iterator)


def _kind(x) -> str:
    return "PyDataset" if isinstance(x, PyDataset) else "generator"


def _unsupported(arg: str, what: str, kind: str) -> ValueError:
    return ValueError(
        f"When providing `x` as a {kind}, `{arg}` should not be passed. Instead, {what} should "
        f"be included as part of the {kind}."
    )


def check_source_args(x, y=None, sample_weight=None, class_weight=None,
                      validation_split=0.0) -> None:
    """Raises for arguments that a batch source must carry itself (Keras's messages). A
    `batch_size` is ignored, as Keras 3 ignores it: the source's batches keep their size."""
    kind = _kind(x)
    if y is not None:
        raise _unsupported("y", "the targets", kind)
    if sample_weight is not None:
        raise _unsupported("sample_weights", "the sample weights", kind)
    if class_weight is not None and kind == "generator":
        raise ValueError(
            "Argument `class_weight` is not supported for Python generator inputs. "
            f"Received: class_weight={class_weight}"
        )
    if validation_split:
        raise ValueError(
            "`validation_split` is only supported for Tensors or NumPy arrays, found following "
            f"types in the input: {[type(x)]}"
        )


def unpack_batch(batch, kind: str, x_alone: bool = False) -> tuple:
    """`(x, y, sample_weight)` from a yielded batch: a tuple/list of 1 to 3 (or, with
    `x_alone`, as `predict` takes it, an array or dict that is `x` alone)."""
    if x_alone and isinstance(batch, (np.ndarray, dict)):
        return batch, None, None
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
        raise ValueError(
            f"A {kind} must yield a tuple, either (input,) or (inputs, targets) or (inputs, "
            f"targets, sample_weights). Received: {str(batch)[:100]}... of type {type(batch)}"
        )
    return batch + (None,) * (3 - len(batch))


class EpochIterator:
    """Hands out one epoch's batches at a time from a generator, iterator or `PyDataset`.

    Args:
        source: the generator, iterator or `PyDataset`.
        steps_per_epoch: batches per epoch; `None` reads one full pass (a generator: until it
            ends). With a value, a pass that an epoch leaves unfinished goes on in the next.
        shuffle: whether a finite `PyDataset` is read in a new random order every pass (Python's
            `random.shuffle`, as Keras does, so `set_random_seed` fixes the order).
    """

    def __init__(self, source, steps_per_epoch=None, shuffle: bool = False, what="x"):
        self.source = source
        self.kind = _kind(source)
        self.steps_per_epoch = None if steps_per_epoch is None else int(steps_per_epoch)
        self.shuffle = shuffle
        self._dataset = source if isinstance(source, PyDataset) else None
        self._size = self._dataset.num_batches if self._dataset is not None else None
        if self._dataset is not None and self._size is None and self.steps_per_epoch is None:
            raise ValueError(
                f"When `{what}` is an endless PyDataset (its `num_batches` is None), you must "
                "specify the number of steps to run (`steps_per_epoch` in `fit`, "
                "`validation_steps` for validation data, `steps` in `evaluate`/`predict`)."
            )
        self._iterator = None if self._dataset is not None else iter(source)
        self._seen = 0  # batches read from the current PyDataset pass
        self.exhausted = False  # a generator has ended: it has no more batches to give

    @property
    def num_batches(self):
        """Steps per epoch when known (`None` for a generator without `steps_per_epoch`)."""
        return self.steps_per_epoch if self.steps_per_epoch is not None else self._size

    def _new_pass(self):
        order = list(range(self._size)) if self._size is not None else None
        if order is not None and self.shuffle:
            random.shuffle(order)
        indices = iter(order) if order is not None else itertools.count()
        self._seen = 0
        return (self._dataset[i] for i in indices)

    def epoch(self):
        """Yields `(step, batch)` for one epoch, calling the `PyDataset`'s epoch hooks."""
        if self._dataset is not None:
            self._dataset.on_epoch_begin()
        try:
            yield from self._epoch_batches()
        finally:
            if self._dataset is not None:
                self._dataset.on_epoch_end()

    def _epoch_batches(self):
        steps = self.steps_per_epoch
        if self._dataset is not None and (self._iterator is None or steps is None):
            self._iterator = self._new_pass()
        step = 0
        while steps is None or step < steps:
            if self._size is not None and self._seen >= self._size:
                if steps is not None:
                    self._warn_out_of_data()
                break
            try:
                batch = next(self._iterator)
            except StopIteration:
                self.exhausted = self._dataset is None
                if steps is not None:
                    self._warn_out_of_data()
                break
            self._seen += 1
            yield step, batch
            step += 1
        if self._size is not None and self._seen >= self._size:
            self._iterator = None  # the next epoch starts (and shuffles) a new pass

    def _warn_out_of_data(self) -> None:
        warn_out_of_data(stacklevel=5)


def warn_out_of_data(stacklevel: int = 3) -> None:
    """Keras's warning when `steps_per_epoch` asks for more batches than a pass has left."""
    warnings.warn(
        "Your input ran out of data; interrupting training. Make sure that your dataset or "
        "generator can generate at least `steps_per_epoch * epochs` batches.",
        stacklevel=stacklevel)
