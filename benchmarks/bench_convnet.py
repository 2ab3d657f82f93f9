"""Convnet throughput: kerasette vs PyTorch (when importable), same thread count.

Measures training samples/s of the deep MNIST convnet (batch 50) and of Keras's mnist_convnet
example (batch 128), and inference samples/s (batch 256). Random data of MNIST's shape; each
number is the median of several timed runs after a warm-up.

Run: python benchmarks/bench_convnet.py [--threads 2] [--repeats 5]
PyTorch side: PYTHONPATH=python /tmp/torchenv/bin/python benchmarks/bench_convnet.py
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import kerasette as keras

# The models are the examples' own (examples/deep_mnist_convnet.py, examples/mnist_convnet.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from deep_mnist_convnet import build_model as deep_keras  # noqa: E402
from mnist_convnet import build_model as simple_keras  # noqa: E402

try:
    import torch
except ImportError:  # the comparison column is left out
    torch = None


def deep_torch():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 10))


def simple_torch():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))


def time_interleaved(fns, repeats):
    """Median seconds of each function, runs interleaved so that a change in machine load
    during the benchmark affects every column alike."""
    for fn in fns:
        fn()  # warm-up
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, times):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def keras_runs(factory, x, y, batch, infer_batch):
    model = factory()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    train = lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)  # noqa
    infer = lambda: model.predict(x, batch_size=infer_batch, verbose=0)  # noqa: E731
    return train, infer


def torch_runs(factory, x, y, batch, infer_batch):
    model = factory()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y.astype(np.int64))

    def train():
        model.train()
        for i in range(0, len(xt), batch):
            opt.zero_grad()
            loss = loss_fn(model(xt[i:i + batch]), yt[i:i + batch])
            loss.backward()
            opt.step()

    def infer():
        model.eval()
        with torch.inference_mode():
            for i in range(0, len(xt), infer_batch):
                model(xt[i:i + infer_batch])

    return train, infer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    keras.config.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, args.samples)
    keras.utils.set_random_seed(0)

    rows = []
    for name, kf, tf, batch in [("deep convnet", deep_keras, deep_torch, 50),
                                ("mnist_convnet", simple_keras, simple_torch, 128)]:
        fns = list(keras_runs(kf, x, y, batch, 256))
        if torch is not None:
            fns += list(torch_runs(tf, x, y, batch, 256))
        secs = time_interleaved(fns, args.repeats)
        rates = [len(x) / t for t in secs] + [None, None]
        k_train, k_infer, t_train, t_infer = rates[:4]
        rows.append((f"{name} train (batch {batch})", k_train, t_train))
        rows.append((f"{name} inference (batch 256)", k_infer, t_infer))

    print(f"threads={args.threads}  isa={keras.config.cpu_isa()}  "
          f"torch={torch.__version__ if torch else 'not installed'}  (samples/s, median of "
          f"{args.repeats})")
    print(f"{'workload':36s} {'kerasette':>10s} {'pytorch':>10s} {'ratio':>7s}")
    for label, k, t in rows:
        tt = f"{t:10,.0f}" if t else f"{'-':>10s}"
        ratio = f"{k / t:6.2f}x" if t else f"{'-':>7s}"
        print(f"{label:36s} {k:10,.0f} {tt} {ratio}")


if __name__ == "__main__":
    main()
