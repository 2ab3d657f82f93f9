"""compile / fit / evaluate / predict.

Python runs the epoch loop (shuffling, batching, callbacks, the progress bar, History); the engine
runs the steps. When no callback needs to see every batch, one engine call runs many batches (a
whole epoch when nothing is displayed live), so a step costs the engine's time, not Python's.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from kerasette.models import data as data_utils
from kerasette.models import source_loop
from kerasette.models.data_adapter import (
    EpochIterator, check_source_args, is_batch_source, warn_out_of_data)


def _unique_log_keys(names: list) -> list:
    """Keras 3's `CompileMetrics.result`: a repeated metric key gets `_1`, `_2`, ... in order."""
    counters: dict = {}
    out = []
    for name in names:
        if name in counters:
            counters[name] += 1
            name = f"{name}_{counters[name] - 1}"
        else:
            counters[name] = 1
        out.append(name)
    return out


class Trainer:
    def __init__(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compile_args = None
        self._engine_compiled = False
        self._result_names: list[str] = []
        self._log_index: list[tuple[str, int]] = []  # (log key, engine result), by key
        self._flat_order: list[str] = []
        self._metric_specs = None

    # ---- compile ----
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True) -> None:
        """Configures the model for training.

        Args:
            optimizer: name or optimizer instance.
            loss: name, loss instance, or a list/dict of them (one per output).
            loss_weights: optional list/dict of scalar weights per output.
            metrics: list of metric names/objects (or a list/dict per output), computed
                without sample weights. An output without a loss may have metrics.
            weighted_metrics: as `metrics`, computed with the `sample_weight` or
                `class_weight` given to `fit`/`evaluate`. One also in `metrics` is logged as
                `weighted_<name>`, as Keras does.

        Example:
            >>> model.compile(optimizer="adam", loss="categorical_crossentropy",
            ...               metrics=["accuracy"])
        """
        from kerasette import optimizers

        if loss is None:
            raise ValueError(
                "No loss to compute. Provide a `loss` argument in `compile()`. Received: loss=None"
            )
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._compile_args = {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
                              "metrics": metrics, "weighted_metrics": weighted_metrics}
        self._engine_compiled = False
        self._losses = None
        # A compile that raises (an unknown loss name, ...) leaves the model uncompiled, so `fit`
        # says so instead of failing on half-matched losses.
        self.compiled = False
        # A Sequential model without an input shape has no outputs yet: Keras lets it compile,
        # and it is built (and its losses matched to its outputs) by the first data it sees.
        if self.built:
            self._configure_outputs()
        self.compiled = True

    def _configure_outputs(self) -> None:
        """Matches the compiled losses, loss weights and metrics to the model's outputs."""
        from kerasette import losses

        args = self._compile_args
        names = self._data_output_names
        loss_list = self._per_output(args["loss"], names, "loss")
        self._losses = [None if l is None else losses.get(l) for l in loss_list]
        if all(l is None for l in self._losses):
            raise ValueError(
                "No loss to compute. Provide a `loss` argument in `compile()`. "
                f"Received: loss={args['loss']}"
            )
        weights = self._per_output(args["loss_weights"], names, "loss_weights", default=1.0)
        self._loss_weights = [_check_loss_weight(w) for w in weights]
        self._metric_ids = self._per_output_metrics(args["metrics"], names)
        self._weighted_metric_ids = self._per_output_metrics(args.get("weighted_metrics"), names)
        self._engine_compiled = False

    def _build_from_data(self, x) -> None:
        """Builds a model that has no input shape yet from data (only Sequential can lack one)."""

    @staticmethod
    def _per_output(value, names, what, default=None):
        if isinstance(value, dict):
            unknown = set(value) - set(names)
            if unknown:
                raise ValueError(
                    f"In the dict argument `{what}`, key(s) {sorted(unknown)} do not correspond "
                    f"to any model output. Received: {what}={value}. Outputs: {names}"
                )
            return [value.get(n, default if what != "loss" else None) for n in names]
        if isinstance(value, (list, tuple)):
            if len(value) != len(names):
                raise ValueError(
                    f"For a model with {len(names)} output(s), `{what}` must have "
                    f"{len(names)} entries. Received: {what}={value}"
                )
            return list(value)
        return [value if value is not None else default] * len(names)

    @staticmethod
    def _per_output_metrics(metrics, names):
        if metrics is None:
            return [[] for _ in names]
        if isinstance(metrics, dict):
            out = []
            for n in names:
                m = metrics.get(n, [])
                out.append(list(m) if isinstance(m, (list, tuple)) else [m])
            return out
        if not isinstance(metrics, (list, tuple)):
            raise ValueError(
                f"Expected `metrics` to be a list or dict. Received: metrics={metrics!r}"
            )
        # One list per output, None for an output without metrics (as Keras takes them).
        per_output = all(m is None or isinstance(m, (list, tuple)) for m in metrics)
        if len(names) > 1 and per_output and any(m is not None for m in metrics):
            if len(metrics) != len(names):
                raise ValueError(f"Expected {len(names)} lists of metrics, one per output.")
            return [list(m or []) for m in metrics]
        return [list(metrics) for _ in names]

    def _compile_engine(self, target_shapes=None) -> None:
        """Builds losses, metrics and the optimizer into the engine graph (once per compile)."""
        from kerasette import metrics as metrics_module

        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")
        graph = self._graph()
        names = self._data_output_names
        outputs = []
        result_names = ["loss"]
        output_losses = [f"{n}_loss" for n in names] if len(names) > 1 else []
        result_names += output_losses
        metric_names = []
        plain_metric_names = []
        weighted_names = []
        metric_output = []  # the output of each entry of metric_names
        self._metric_specs = []
        for i, (name, loss, weight, ids) in enumerate(
                zip(names, self._losses, self._loss_weights, self._metric_ids)):
            out_shape = self._outputs[i].shape
            t_shape = target_shapes[i] if target_shapes else None
            if t_shape is None:
                sparse = type(loss).__name__ == "SparseCategoricalCrossentropy"
                t_shape = out_shape[:-1] if sparse else out_shape
            specs = [metrics_module.resolve(m, loss, t_shape, out_shape) for m in ids]
            weighted = [metrics_module.resolve(m, loss, t_shape, out_shape)
                        for m in self._weighted_metric_ids[i]]
            self._metric_specs.append(specs + weighted)
            for spec in specs:
                metric_names.append(spec.name if len(names) == 1 else f"{name}_{spec.name}")
                metric_output.append(i)
                plain_metric_names.append(spec.name)
            weighted_names.append([spec.name for spec in weighted])
            kind, attrs = loss.engine_spec() if loss is not None else (None, {})
            outputs.append((kind, attrs, float(weight),
                            [(spec.kind, dict(spec.attrs), False) for spec in specs]
                            + [(spec.kind, dict(spec.attrs), True) for spec in weighted]))
        opt_kind, opt_attrs = self.optimizer.engine_spec()
        graph.compile(outputs, opt_kind, opt_attrs)
        self.optimizer._bind(graph)
        # The engine keeps each output's metrics, then its weighted metrics; Keras 3 names a
        # weighted metric that shares a name with an unweighted one of its output
        # `weighted_<name>`. (Keras's evaluate list then repeats the unweighted value once per
        # such pair, a quirk of its `_flatten_metrics_in_order` that this does not copy.)
        ordered = []
        for i, name in enumerate(names):
            ordered += [k for k, j in zip(metric_names, metric_output) if j == i]
            unweighted = {spec.name for spec in self._metric_specs[i][:len(self._metric_specs[i])
                                                                   - len(weighted_names[i])]}
            for w in weighted_names[i]:
                w = f"weighted_{w}" if w in unweighted else w
                ordered.append(w if len(names) == 1 else f"{name}_{w}")
                plain_metric_names.append(w)
        self._result_names = result_names + _unique_log_keys(ordered)
        # The engine keeps a slot per output loss; Keras 3 logs one only for an output that has a
        # loss, and only when several outputs have one (`loss` alone says it all otherwise).
        with_loss = [n for n, loss in zip(names, self._losses) if loss is not None]
        hidden = {k for n, k in zip(names, output_losses) if len(with_loss) < 2 or n not in with_loss}
        # Keras 3 sorts the keys of every logs dict (`pythonify_logs`): History, the progress bar
        # and `return_dict=True` all show "accuracy" before "loss".
        self._log_index = sorted((k, i) for i, k in enumerate(self._result_names) if k not in hidden)
        logged = [k for k, _ in self._log_index]
        # Keras 3's `_flatten_metrics_in_order`: the names of `model.metrics` (the loss, the
        # unprefixed compile metrics, then the per-output losses) where they are log keys, then
        # the other keys sorted. So a multi-output model's prefixed metrics come out sorted.
        first = [k for k in ["loss"] + plain_metric_names + output_losses if k in logged]
        first = list(dict.fromkeys(first))
        self._flat_order = first + sorted(k for k in logged if k not in first)
        self._engine_compiled = True

    @property
    def metrics_names(self) -> list:
        """The names of the values `evaluate` returns as a list, in that order.

        Keras 3 lists its metric objects here (`["loss", "compile_metrics"]`); this keeps the
        Keras 2 meaning, so `dict(zip(model.metrics_names, model.evaluate(x, y)))` works.
        """
        return list(self._flat_order) if self._engine_compiled else ["loss"]

    def _flatten_logs(self, logs: dict):
        """`logs` as the scalar or list that `evaluate`/`*_on_batch` return without `return_dict`.

        No data gives no logs and, as in Keras, an empty list.
        """
        values = [logs[k] for k in self._flat_order if k in logs]
        return values[0] if len(values) == 1 else values

    # ---- data ----
    def _prepare_inputs(self, x, check_finite=False) -> list:
        if x is None:
            raise ValueError("Expected `x` to be provided. Received: x=None")
        if not self.built:
            self._build_from_data(x)
        arrays = [data_utils.as_float_array(a, "x", check_finite)
                  for a in data_utils.to_list(x, self._data_input_names, "input")]
        data_utils.num_samples(arrays, "x")
        data_utils.check_features(arrays, [t.shape for t in self._inputs],
                                  self._data_input_names)
        return arrays

    def _prepare_targets(self, y, n: int) -> list:
        if y is None:
            raise ValueError(
                "Expected `y` (the targets) to be provided: kerasette models are trained on "
                "(x, y) pairs. Received: y=None"
            )
        # The engine reads an output's targets for its loss and its metrics only.
        reads = [self._losses[i] is not None or bool(self._metric_ids[i]
                                                      or self._weighted_metric_ids[i])
                 for i in range(len(self._outputs))]
        if len(reads) > 1 and sum(reads) == 1 and not isinstance(y, (list, tuple, dict)):
            # As Keras 3: one array for the one output that has a loss or metrics.
            ys = [y if r else None for r in reads]
        else:
            ys = data_utils.to_list(y, self._data_output_names, "target")
        out = []
        for i, t in enumerate(ys):
            if not reads[i]:
                out.append(None)
                continue
            a = data_utils.as_float_array(t, "y", check_finite=True)
            if a.shape[0] != n:
                raise ValueError(
                    f"Data cardinality is ambiguous: x has {n} samples but y has {a.shape[0]}. "
                    "Make sure all arrays contain the same number of samples."
                )
            out_shape = self._outputs[i].shape
            # A 1-D target for an output of last size 1 is read as (N, 1), as Keras does.
            if a.ndim == len(out_shape) - 1 and out_shape[-1] == 1:
                a = a.reshape(a.shape + (1,))
            out.append(a)
        return out

    def _ready_engine(self, ys) -> None:
        """Compiles the engine for these targets' shapes on first use, then checks the targets."""
        if not self._engine_compiled:
            self._compile_engine([None if a is None else (None,) + a.shape[1:] for a in ys])
            self._graph().reset_metrics()
        self._check_targets(ys)

    def _check_targets(self, ys) -> None:
        graph = self._graph()
        for i, a in enumerate(ys):
            if a is not None:
                graph.check_target(i, list(a.shape[1:]))

    def _prepare_sample_weight(self, sample_weight, class_weight, ys, n):
        if sample_weight is not None and class_weight is not None:
            raise ValueError("You cannot pass both `sample_weight` and `class_weight`.")
        if class_weight is not None:
            if len(ys) != 1:
                raise ValueError("`class_weight` is only supported for models with one output.")
            return data_utils.class_weights_to_sample_weights(ys[0], class_weight)
        if sample_weight is None:
            return None
        sw = data_utils.as_float_array(sample_weight, "sample_weight", check_finite=True)
        if sw.ndim > 1:
            sw = sw.reshape(sw.shape[0], -1)
            if sw.shape[1] != 1:
                raise ValueError(
                    f"Expected `sample_weight` to have one value per sample. Received shape "
                    f"{sample_weight.shape}"
                )
            sw = np.ascontiguousarray(sw[:, 0])
        if sw.shape[0] != n:
            raise ValueError(
                f"`sample_weight` has {sw.shape[0]} entries but the data has {n} samples."
            )
        return sw

    def _logs(self) -> dict:
        # Keras's metric results are float32 scalars turned into Python floats, so History and
        # CSVLogger show e.g. 0.6931471824645996; the engine's means are doubles.
        values = np.asarray(self._graph().results(), dtype=np.float32).tolist()
        return {k: values[i] for k, i in self._log_index}

    # ---- fit ----
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains the model for a fixed number of epochs. Returns a `History` object.

        `x` may be arrays (or lists/dicts of them) with `y`, or a generator, iterator or
        `kerasette.utils.PyDataset` that yields `(x, y)` or `(x, y, sample_weight)` batches; then
        `y`, `sample_weight` and `batch_size` must not be given, `shuffle` applies only to a
        `PyDataset`'s batch order, and a generator without `steps_per_epoch` ends the epoch (and
        training) when it is exhausted. `validation_data` may be a generator or `PyDataset` too,
        read `validation_steps` batches at a time.

        Example:
            >>> history = model.fit(x, y, batch_size=128, epochs=5, validation_split=0.1)
        """
        from kerasette import callbacks as callbacks_module
        from kerasette import _random

        if not self.compiled:
            raise ValueError("You must call `compile()` before calling `fit()`.")
        epochs = _check_integer(epochs, "epochs")
        initial_epoch = _check_integer(initial_epoch, "initial_epoch")
        steps_per_epoch = _check_steps(steps_per_epoch, "steps_per_epoch")
        validation_steps = _check_steps(validation_steps, "validation_steps")
        _check_validation_freq(validation_freq)
        if class_weight is not None:  # here, not per batch of a batch source
            class_weight = data_utils.check_class_weight(class_weight)
        if is_batch_source(x):
            check_source_args(x, y, sample_weight, class_weight, validation_split)
            return source_loop.fit(
                self, x, epochs=epochs, verbose=verbose, callbacks=callbacks,
                validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
                initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
                validation_steps=validation_steps, validation_freq=validation_freq,
                validation_batch_size=validation_batch_size)
        batch_size = _check_batch_size(batch_size)
        xs = self._prepare_inputs(x, check_finite=True)
        n = xs[0].shape[0]
        ys = self._prepare_targets(y, n)
        sw = self._prepare_sample_weight(sample_weight, class_weight, ys, n)
        val = None
        if validation_data is not None and is_batch_source(validation_data):
            val = EpochIterator(validation_data, validation_steps, what="validation_data")
        elif validation_data is not None:
            val = _unpack_validation(validation_data)
        elif validation_split:
            (train, valid) = data_utils.split_validation(xs + ys + [sw], float(validation_split))
            k = len(xs)
            xs, ys, sw = train[:k], train[k:k + len(ys)], train[-1]
            val = (valid[:k], valid[k:k + len(ys)], valid[-1])
            n = xs[0].shape[0]
        self._ready_engine(ys)
        graph = self._graph()
        batch_size = _fit_batch(batch_size, n)
        batches = -(-n // batch_size)  # batches in one pass over the data
        steps = batches if steps_per_epoch is None else steps_per_epoch
        verbose = _verbose(verbose)
        cbs = callbacks_module.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            verbose=verbose, epochs=epochs, steps=steps)
        per_batch = cbs.needs_batch_hooks("train")
        live = verbose == 1 and _is_tty()
        rng = np.random.default_rng(_random.next_seed())
        ys_in = list(ys)
        self.stop_training = False
        self._initial_epoch_override = None
        cbs.on_train_begin()
        if self._initial_epoch_override is not None:  # set by BackupAndRestore when resuming
            initial_epoch = self._initial_epoch_override
        logs = {}
        # With `steps_per_epoch`, Keras keeps one pass over the data going from epoch to epoch
        # and starts (and shuffles) a new pass only when one ends; an epoch that reaches the end
        # of a pass stops there, with a warning.
        index, seen = None, batches
        for epoch in range(initial_epoch, epochs):
            graph.reset_metrics()
            cbs.on_epoch_begin(epoch)
            if steps_per_epoch is None or seen >= batches:
                index = rng.permutation(n).astype(np.int64) if shuffle else None
                seen = 0
            epoch_steps = min(steps, batches - seen)
            if epoch_steps < steps:
                warn_out_of_data()
            step, chunk = 0, 1
            while step < epoch_steps:
                count = (1 if per_batch else
                         (min(chunk, epoch_steps - step) if live else epoch_steps - step))
                cbs.on_train_batch_begin(step)
                t0 = time.perf_counter()
                graph.train_batches(xs, ys_in, sw, index, batch_size, seen + step, count)
                if live and not per_batch:  # aim for about 20 progress-bar updates a second
                    dt = max(time.perf_counter() - t0, 1e-6)
                    chunk = max(1, min(int(count * 0.05 / dt) + 1, 4 * count))
                step += count
                logs = self._logs()
                cbs.on_train_batch_end(step - 1, logs)
                if self.stop_training:
                    break
            seen += step
            epoch_logs = dict(logs)
            if val is not None and should_validate(epoch, validation_freq):
                epoch_logs.update(source_loop.validation_logs(
                    self, val, cbs, validation_steps, validation_batch_size or batch_size))
            cbs.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        return self.history

    # ---- evaluate ----
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, _callbacks=None):
        """Returns the loss and metric values of the model on (x, y).

        A scalar when there are no metrics, a list `[loss, metric...]` otherwise, or a dict with
        `return_dict=True`.
        """
        from kerasette import callbacks as callbacks_module

        if not self.compiled:
            raise ValueError("You must call `compile()` before calling `evaluate()`.")
        steps = _check_steps(steps, "steps")
        if is_batch_source(x):
            check_source_args(x, y, sample_weight)
            logs = source_loop.evaluate(self, EpochIterator(x, steps), _verbose(verbose),
                                        callbacks)
            return logs if return_dict else self._flatten_logs(logs)
        batch_size = _check_batch_size(batch_size)
        xs = self._prepare_inputs(x)
        n = xs[0].shape[0]
        ys = self._prepare_targets(y, n)
        sw = self._prepare_sample_weight(sample_weight, None, ys, n)
        self._ready_engine(ys)
        graph = self._graph()
        batch_size = _fit_batch(batch_size, n)
        total = -(-n // batch_size)
        if steps is not None:
            total = min(total, steps)
        if _callbacks is not None:
            cbs = _callbacks
        else:
            verbose = _verbose(verbose)
            cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                                verbose=verbose, epochs=1, steps=total)
        per_batch = cbs.needs_batch_hooks("test")
        graph.reset_metrics()
        cbs.on_test_begin()
        step = 0
        logs = {}
        while step < total:
            count = 1 if per_batch else total - step
            cbs.on_test_batch_begin(step)
            graph.test_batches(xs, ys, sw, batch_size, step, count)
            step += count
            logs = self._logs()
            cbs.on_test_batch_end(step - 1, logs)
        cbs.on_test_end(logs)
        return logs if return_dict else self._flatten_logs(logs)

    # ---- predict ----
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Generates output predictions for the input samples, in batches.

        `x` may be arrays, or a generator, iterator or `PyDataset` yielding `x` or `(x, ...)`
        batches; their predictions are concatenated along the batch axis.
        """
        from kerasette import callbacks as callbacks_module

        steps = _check_steps(steps, "steps")
        if is_batch_source(x):
            check_source_args(x)
            return source_loop.predict(self, EpochIterator(x, steps), _verbose(verbose),
                                       callbacks)
        batch_size = _check_batch_size(batch_size)
        xs = self._prepare_inputs(x)
        n = xs[0].shape[0]
        if steps is not None:
            n = min(n, steps * batch_size)
            xs = [a[:n] for a in xs]
        batch_size = _fit_batch(batch_size, n)
        verbose = _verbose(verbose)
        total = -(-n // batch_size)
        cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                            verbose=verbose, epochs=1, steps=total)
        per_batch = cbs.needs_batch_hooks("predict")
        outs = self._allocate_outputs(n)
        cbs.on_predict_begin()
        if per_batch:
            for b in range(total):
                cbs.on_predict_batch_begin(b)
                lo, hi = b * batch_size, min(n, (b + 1) * batch_size)
                part = [o[lo:hi] for o in outs]
                self._graph().predict([a[lo:hi] for a in xs], batch_size, part)
                cbs.on_predict_batch_end(b, {"outputs": self._pack_outputs(part)})
        else:
            cbs.on_predict_batch_begin(0)
            self._graph().predict(xs, batch_size, outs)
            cbs.on_predict_batch_end(max(total - 1, 0), {"outputs": self._pack_outputs(outs)})
        cbs.on_predict_end()
        return self._pack_outputs(outs)

    def _allocate_outputs(self, n: int) -> list:
        self._graph()  # raises first if the model cannot run (an input shape with None)
        return [np.empty((n,) + tuple(t.shape[1:]), dtype=np.float32) for t in self._outputs]

    # ---- single batches ----
    def predict_on_batch(self, x):
        g = self._engine_graph
        if (g is not None and type(x) is np.ndarray and x.dtype == np.float32
                and x.shape[1:] == self._single_io_tail and x.shape[0] > 0
                and x.flags.c_contiguous):
            # The common case (one float32 array that fits a one-input, one-output model) skips
            # the general checks: predicting a single sample costs little more than the engine.
            return g.predict_array(x)
        xs = self._prepare_inputs(x)
        n = xs[0].shape[0]
        outs = self._allocate_outputs(n)
        self._graph().predict(xs, max(n, 1), outs)
        return self._pack_outputs(outs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        if not self.compiled:
            raise ValueError("You must call `compile()` before calling `train_on_batch()`.")
        xs = self._prepare_inputs(x, check_finite=True)
        n = xs[0].shape[0]
        ys = self._prepare_targets(y, n)
        sw = self._prepare_sample_weight(sample_weight, class_weight, ys, n)
        self._ready_engine(ys)
        graph = self._graph()
        graph.reset_metrics()  # Keras reports this batch alone, not a mean over earlier calls
        graph.train_batches(xs, ys, sw, None, max(n, 1), 0, 1)
        return self._batch_result(return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        if not self.compiled:
            raise ValueError("You must call `compile()` before calling `test_on_batch()`.")
        xs = self._prepare_inputs(x)
        n = xs[0].shape[0]
        ys = self._prepare_targets(y, n)
        sw = self._prepare_sample_weight(sample_weight, None, ys, n)
        self._ready_engine(ys)
        graph = self._graph()
        graph.reset_metrics()
        graph.test_batches(xs, ys, sw, max(n, 1), 0, 1)
        return self._batch_result(return_dict)

    def _batch_result(self, return_dict):
        logs = self._logs()
        return logs if return_dict else self._flatten_logs(logs)

    def reset_metrics(self) -> None:
        if self._engine_compiled:
            self._graph().reset_metrics()


def _check_batch_size(batch_size) -> int:
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(
            f"Expected `batch_size` to be a positive integer. Received: batch_size={batch_size}"
        )
    return int(batch_size)


def _check_loss_weight(weight) -> float:
    """A NaN or infinite weight trained to a NaN loss; a string failed in `float()`."""
    if weight is None:
        return 1.0
    value = data_utils.finite_number(weight)
    if value is None:
        raise ValueError(
            f"Expected each of `loss_weights` to be a finite number. Received: {weight!r}"
        )
    return value


def _check_integer(value, what: str) -> int:
    """An epoch count or index: `range()` in Keras's loop refuses anything but an integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Expected `{what}` to be an integer. Received: {what}={value!r}")
    return int(value)


def _check_steps(steps, what: str):
    """`None` (the whole data) or a positive number of batches."""
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(
            f"Expected `{what}` to be a positive integer or None. Received: {what}={steps!r}"
        )
    return int(steps)


def _check_validation_freq(validation_freq) -> None:
    """Keras's `validation_freq`: validate every N epochs, or after the listed (1-based) ones."""
    if isinstance(validation_freq, (list, tuple, set)):
        values = list(validation_freq)
    elif isinstance(validation_freq, (int, np.integer)) and not isinstance(validation_freq, bool):
        values = [validation_freq]
    else:
        raise ValueError(
            f"Expected `validation_freq` to be a list or int. Received: "
            f"validation_freq={validation_freq!r} of type {type(validation_freq)}"
        )
    if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in values):
        raise ValueError(
            "Expected `validation_freq` to be a positive integer or a list of positive epoch "
            f"numbers. Received: validation_freq={validation_freq!r}"
        )


def should_validate(epoch: int, validation_freq) -> bool:
    """Whether to validate after 0-based `epoch` (as Keras's `_should_eval`)."""
    if isinstance(validation_freq, (list, tuple, set)):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0


def _fit_batch(batch_size: int, n: int) -> int:
    """A batch larger than the data is the data: the same batches, and a size the engine's
    int64 arithmetic can hold (a Python int of 2**63 did not fit its signature)."""
    return min(batch_size, max(n, 1))


def _verbose(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"Expected `verbose` to be 0, 1, 2 or 'auto'. Received: verbose={verbose}")
    return int(verbose)


def _is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _unpack_validation(validation_data):
    if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
        raise ValueError(
            "`validation_data` should be a tuple `(x_val, y_val)` or `(x_val, y_val, "
            f"val_sample_weights)`. Received: validation_data={type(validation_data).__name__}"
        )
    if len(validation_data) == 2:
        return validation_data[0], validation_data[1], None
    return tuple(validation_data)
