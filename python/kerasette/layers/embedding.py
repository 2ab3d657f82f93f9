"""Embedding: turns integer indices into dense vectors by looking them up in a table."""

from __future__ import annotations

import warnings

from kerasette import initializers, regularizers
from kerasette.layers.core import _no_constraint, _positive_int
from kerasette.layers.layer import Layer


class Embedding(Layer):
    """Maps integer indices to rows of a trainable `(input_dim, output_dim)` table.

    Indices are given as numbers (kerasette passes them as float32, like sparse labels); each must
    be an integer in `[0, input_dim)`, or the call raises ValueError.

    Args:
        input_dim: size of the vocabulary (largest index + 1).
        output_dim: size of each embedding vector.
        embeddings_initializer: initializer of the table (default: `"uniform"`, U(-0.05, 0.05)).
        embeddings_regularizer: penalty on the table, added to the loss.
        activity_regularizer: penalty on the output, added to the loss.
        embeddings_constraint: not supported (must be None).
        mask_zero: not supported (must be False).

    Input shape: `(batch_size, ...)` of indices. Output shape: `(batch_size, ..., output_dim)`.

    Example:
        >>> layer = Embedding(1000, 64)  # (batch, 10) indices -> (batch, 10, 64)
    """

    _engine_kind = "embedding"

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero: bool = False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        self.input_dim = _positive_int(input_dim, "input_dim")
        self.output_dim = _positive_int(output_dim, "output_dim")
        # Keras 2 configs carry `input_length`; Keras 3 deprecated it and ignores it.
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.")
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        super().__init__(**kwargs)
        if mask_zero:
            raise NotImplementedError(
                "Embedding `mask_zero=True` is not supported by kerasette (no masking yet). "
                "Received: mask_zero=True"
            )
        if lora_rank or quantization_config is not None:
            raise NotImplementedError(
                "Embedding LoRA and quantization are not supported by kerasette. Received: "
                f"lora_rank={lora_rank}, quantization_config={quantization_config}"
            )
        _no_constraint(embeddings_constraint, "embeddings_constraint")
        self.mask_zero = False
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._initializers = {"embeddings": self.embeddings_initializer}
        self._regularizers = {"embeddings": self.embeddings_regularizer}
        self._initial_weights = weights

    def build(self, input_shape) -> None:
        super().build(input_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    @property
    def embeddings(self):
        return self.weights[0] if self.built else None

    def engine_attrs(self) -> dict:
        return {"input_dim": self.input_dim, "output_dim": self.output_dim}

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": None,
            "mask_zero": False,
            # No `quantization_config`: Keras 3 writes it (None), but Keras 2 refuses the key, and
            # the saved files must load in both.
        }
