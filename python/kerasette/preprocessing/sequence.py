"""`keras.preprocessing.sequence.pad_sequences` (the same function as `kerasette.utils`'s)."""

from kerasette.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
