"""`TensorBoard`: Keras 3's TensorBoard callback, writing event files with TensorBoard's own writer.

The callback owns *what* is logged and *when* (Keras's tags, steps and run folders); `_RunWriter`
owns *how*: one `tensorboard.summary.writer.event_file_writer.EventFileWriter` per run folder and
the `Event`/`Summary` protos from `tensorboard.compat.proto`. The `tensorboard` package is imported
on the first write, so `import kerasette.callbacks` stays fast; its absence is reported when the
callback is created.

What lands where, as in Keras 3:

    log_dir/train       epoch_<metric> and epoch_learning_rate at step=epoch,
                        batch_<metric> at step=global batch (update_freq="batch" or N),
                        <variable path>/histogram every histogram_freq epochs,
                        the model as JSON (tag "keras", the graph plugin's conceptual graph,
                        and tag "model_config", a text summary) when write_graph.
    log_dir/validation  epoch_<metric> (the "val_" prefix removed) at step=epoch,
                        evaluation_<metric>_vs_iterations at step=optimizer.iterations.

Scalars are written as `simple_value` and histograms as `HistogramProto`, the forms that every
TensorBoard reader (the web app, `EventAccumulator`) accepts without TensorFlow installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
import warnings

import numpy as np

from kerasette.callbacks.callback import Callback

__all__ = ["TensorBoard"]

# tf.summary.histogram's default bucket count in TF2.
_HISTOGRAM_BUCKETS = 30


def _require_tensorboard() -> None:
    if importlib.util.find_spec("tensorboard") is None:
        raise ImportError(
            "The `TensorBoard` callback requires the `tensorboard` package to write event "
            "files. Install it with `pip install tensorboard`."
        )


class _RunWriter:
    """Event file of one run folder (e.g. `log_dir/train`); scalars, histograms, text."""

    def __init__(self, logdir: str):
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._event_pb2 = event_pb2
        self._summary_pb2 = summary_pb2
        self._writer = EventFileWriter(logdir)

    def _write(self, step: int, value) -> None:
        summary = self._summary_pb2.Summary(value=[value])
        event = self._event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._writer.add_event(event)

    def scalar(self, tag: str, value: float, step: int) -> None:
        self._write(step, self._summary_pb2.Summary.Value(tag=tag, simple_value=float(value)))

    def histogram(self, tag: str, values: np.ndarray, step: int) -> None:
        values = np.asarray(values, dtype=np.float64).ravel()
        values = values[np.isfinite(values)]
        if values.size == 0:
            return
        lo, hi = float(values.min()), float(values.max())
        if lo == hi:
            limits, counts = np.array([hi]), np.array([values.size])
        else:
            counts, edges = np.histogram(values, bins=_HISTOGRAM_BUCKETS, range=(lo, hi))
            limits = edges[1:]  # HistogramProto stores each bucket's right edge
        histo = self._summary_pb2.HistogramProto(
            min=lo, max=hi, num=float(values.size), sum=float(values.sum()),
            sum_squares=float(np.dot(values, values)),
            bucket_limit=limits.tolist(), bucket=counts.astype(np.float64).tolist())
        self._write(step, self._summary_pb2.Summary.Value(tag=tag, histo=histo))

    def text(self, tag: str, text: str, step: int, plugin_name: str = "text",
             content: bytes = b"") -> None:
        from tensorboard.util import tensor_util

        tensor = tensor_util.make_tensor_proto(text, dtype=np.object_)
        metadata = self._summary_pb2.SummaryMetadata(
            plugin_data=self._summary_pb2.SummaryMetadata.PluginData(
                plugin_name=plugin_name, content=content))
        self._write(step, self._summary_pb2.Summary.Value(tag=tag, metadata=metadata,
                                                          tensor=tensor))

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def _keras3_inbound_nodes(obj):
    """A copy of a model config with each `inbound_nodes` in Keras 3's spelling.

    kerasette's configs use Keras 2's `[[["dense", 0, 0, {}], ...]]`; TensorBoard's graph plugin
    reads only Keras 3's `[{"args": [keras_tensor or [keras_tensor, ...]], "kwargs": {}}]` and
    would draw a graph with no edges from the older form.
    """
    if isinstance(obj, list):
        return [_keras3_inbound_nodes(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {k: _keras3_inbound_nodes(v) for k, v in obj.items()}
    nodes = obj.get("inbound_nodes")
    if isinstance(nodes, list) and all(isinstance(n, list) for n in nodes):
        def tensor(ref):
            return {"class_name": "__keras_tensor__", "config": {"keras_history": list(ref[:3])}}

        out["inbound_nodes"] = [
            {"args": [tensor(n[0])] if len(n) == 1 else [[tensor(r) for r in n]], "kwargs": {}}
            for n in nodes
        ]
    return out


def _as_float(value):
    try:
        return float(np.asarray(value))
    except (TypeError, ValueError):
        return None


class TensorBoard(Callback):
    """Enable visualizations for TensorBoard.

    Logs epoch (and optionally batch) metrics, the learning rate, weight histograms and the
    model's configuration as TensorBoard event files. View them with
    `tensorboard --logdir=path_to_your_logs`.

    Args:
        log_dir: The directory for the event files; training runs go to `log_dir/train`,
            validation and `evaluate` to `log_dir/validation`.
        histogram_freq: Frequency (in epochs) at which to log weight histograms; 0 disables.
        write_graph: Whether to log the model's configuration (Keras's conceptual graph, and a
            text summary of its JSON).
        write_images: Not supported by kerasette (a warning is given when `True`).
        write_steps_per_second: Whether to log training steps per second.
        update_freq: `"epoch"`, `"batch"` or an integer N: with `"batch"` or N, batch metrics
            are also logged every N batches (1 for `"batch"`) as `batch_<metric>`.
        profile_batch: Profiling is not available in kerasette; must be 0.
        embeddings_freq: Not supported by kerasette (it has no `Embedding` layer); must be 0.
        embeddings_metadata: Not supported; ignored.

    Example:

    >>> tensorboard_callback = kerasette.callbacks.TensorBoard(log_dir="./logs")
    >>> model.fit(x_train, y_train, epochs=2, callbacks=[tensorboard_callback])
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq: int = 0,
        embeddings_metadata=None,
    ):
        super().__init__()
        _require_tensorboard()
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (
                isinstance(update_freq, bool) or not isinstance(update_freq, (int, np.integer))
                or update_freq < 1):
            raise ValueError(
                "Expected `update_freq` to be 'epoch', 'batch' or a positive integer. "
                f"Received: update_freq={update_freq!r}"
            )
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, (int, np.integer)) \
                or histogram_freq < 0:
            raise ValueError(
                "Expected `histogram_freq` to be a non-negative integer. "
                f"Received: histogram_freq={histogram_freq!r}"
            )
        if profile_batch:
            raise ValueError(
                "Profiling is not available in kerasette. "
                f"Received: profile_batch={profile_batch} (must be 0)"
            )
        if embeddings_freq:
            raise ValueError(
                "Embedding visualization is not available in kerasette (it has no `Embedding` "
                f"layer). Received: embeddings_freq={embeddings_freq} (must be 0)"
            )
        if write_images:
            warnings.warn("`write_images=True` is not supported by kerasette; no weight images "
                          "are logged.", stacklevel=2)
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq if update_freq == "epoch" else int(update_freq)
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers: dict = {}
        self._global_train_batch = 0
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0

    # ---- writers, created on first use so that no empty run folders appear ----
    def _writer(self, run: str) -> _RunWriter:
        if run not in self._writers:
            self._writers[run] = _RunWriter(self._train_dir if run == "train" else self._val_dir)
        return self._writers[run]

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model) -> None:
        super().set_model(model)
        self._close_writers()
        if self.write_graph:
            self._write_model_config()

    def _write_model_config(self) -> None:
        try:
            from kerasette.saving.serialization import serialize_keras_object

            config = serialize_keras_object(self.model)
            model_json = json.dumps(config, default=str)
            graph_json = json.dumps(_keras3_inbound_nodes(config), default=str)
        except Exception as e:  # as in Keras, a model that cannot serialize must not stop fit
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {e}", stacklevel=2)
            return
        writer = self._writer("train")
        # Keras's own tag and plugin: TensorBoard's Graphs tab draws the conceptual graph from it.
        writer.text("keras", graph_json, step=0, plugin_name="graph_keras_model", content=b"1")
        # The config as kerasette writes and reads it, readable in the Text tab.
        writer.text("model_config", model_json, step=0)
        writer.flush()

    # ---- hooks ----
    def _uses_batch_hooks(self, mode: str) -> bool:
        # Epoch-only logging lets fit run whole epochs per engine call.
        return mode == "train" and self.update_freq != "epoch"

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start_time = time.time()
        self._epoch_start_iterations = self._iterations()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer = self._writer("train")
        step = self._global_train_batch
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._batch_start_time, 1e-9)
            writer.scalar("batch_steps_per_second", 1.0 / elapsed, step)
        for name, value in (logs or {}).items():
            value = _as_float(value)
            if value is not None:
                writer.scalar("batch_" + name, value, step)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "iterations") or not logs:
            return
        writer = self._writer("validation")
        for name, value in logs.items():
            value = _as_float(value)
            if value is not None:
                writer.scalar(f"evaluation_{name}_vs_iterations", value, int(optimizer.iterations))
        writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    # ---- what is logged ----
    def _iterations(self) -> int:
        optimizer = getattr(self.model, "optimizer", None)
        return int(getattr(optimizer, "iterations", 0) or 0)

    def _learning_rate(self):
        optimizer = getattr(self.model, "optimizer", None)
        lr = getattr(optimizer, "learning_rate", None)
        if callable(lr):  # a LearningRateSchedule: its value at the current step
            lr = lr(self._iterations())
        return None if lr is None else _as_float(lr)

    def _log_epoch_metrics(self, epoch: int, logs: dict) -> None:
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        learning_rate = self._learning_rate()
        if learning_rate is not None:
            train_logs["learning_rate"] = learning_rate
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start_time, 1e-9)
            train_logs["steps_per_second"] = (
                self._iterations() - self._epoch_start_iterations) / elapsed
        for run, run_logs in (("train", train_logs), ("validation", val_logs)):
            values = {k: _as_float(v) for k, v in run_logs.items()}
            values = {k: v for k, v in values.items() if v is not None}
            if values:
                writer = self._writer(run)
                for name, value in values.items():
                    writer.scalar("epoch_" + name, value, epoch)

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                # The "/histogram" suffix is Keras's, to keep the tag apart from other summaries.
                writer.histogram(f"{weight.path}/histogram", weight.numpy(), epoch)
