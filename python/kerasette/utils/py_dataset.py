"""`PyDataset`: Keras 3's base class for data that a model reads batch by batch, by index."""

from __future__ import annotations

import itertools


class PyDataset:
    """Base class for a dataset of batches, read by index (Keras 3's `keras.utils.PyDataset`).

    Subclasses implement `__getitem__(index)`, which returns one whole batch as `(x,)`,
    `(x, y)` or `(x, y, sample_weight)`, and `__len__` (or the `num_batches` property, which
    may return `None` for an endless dataset). `on_epoch_begin` and `on_epoch_end` are called
    around every epoch. `fit(..., shuffle=True)` reads a finite dataset's batches in a new random
    order each epoch, as Keras does.

    kerasette reads the batches in the calling thread, one at a time: `workers`,
    `use_multiprocessing` and `max_queue_size` are accepted (and stored) for compatibility with
    Keras code, but start no threads or processes.

    Args:
        workers: Number of workers Keras would use. Stored, not used.
        use_multiprocessing: Whether Keras would use processes. Stored, not used.
        max_queue_size: Size of Keras's prefetch queue. Stored, not used.

    Example:

    >>> class Batches(kerasette.utils.PyDataset):
    ...     def __init__(self, x, y, batch_size, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x, self.y, self.batch_size = x, y, batch_size
    ...     def __len__(self):
    ...         return -(-len(self.x) // self.batch_size)
    ...     def __getitem__(self, idx):
    ...         lo = idx * self.batch_size
    ...         return self.x[lo:lo + self.batch_size], self.y[lo:lo + self.batch_size]
    >>> model.fit(Batches(x, y, 32), epochs=3)
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        return getattr(self, "_workers", 1)

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        return getattr(self, "_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        return getattr(self, "_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index):
        """Returns the batch at position `index`."""
        raise NotImplementedError

    def __iter__(self):
        count = self.num_batches
        for index in range(count) if count is not None else itertools.count():
            yield self[index]

    @property
    def num_batches(self):
        """The number of batches, or `None` for an endless dataset (defaults to `len(self)`)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            "You need to implement the `num_batches` property:\n\n"
            "@property\ndef num_batches(self):\n  return ..."
        )

    def on_epoch_begin(self) -> None:
        """Called at the beginning of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""


# Keras 3 keeps the Keras 2 name as an alias.
Sequence = PyDataset
