"""Where a deep-MNIST training step spends its GPU time (scripts/gpu_check.sh runs this).

Trains the deep-MNIST convnet (benchmarks/bench_cuda.py's model, batch 50) on the GPU for a few
hundred steps under PyTorch's profiler, whose CUPTI tracing records every kernel the process
launches, kerasette's included. Prints the wall time per step, the summed kernel time per step
(their gap is launch and synchronization overhead) and the kernels that take the most time.

PyTorch is used only as a profiler; without a CUDA-enabled torch the script prints the wall time
per step alone.
"""

import sys
import time
from pathlib import Path

import numpy as np

STEPS = 300
BATCH = 50


def main():
    try:
        import torch
        from torch.profiler import ProfilerActivity, profile
        have_profiler = torch.cuda.is_available()
    except ImportError:
        have_profiler = False

    import kerasette
    from kerasette import config

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_cuda import deep_mnist_convnet

    config.set_device("cuda")
    r = np.random.default_rng(0)
    x = r.random((STEPS * BATCH, 28, 28, 1), dtype=np.float32)
    y = r.integers(0, 10, STEPS * BATCH).astype(np.float32)
    model = deep_mnist_convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[: BATCH * 50], y[: BATCH * 50], batch_size=BATCH, epochs=1, verbose=0)

    def train():
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        return (time.perf_counter() - t0) / STEPS

    print(f"kerasette {kerasette.__version__}: deep-MNIST convnet, batch {BATCH}, {STEPS} steps")
    if not have_profiler:
        print(f"wall {train() * 1e3:.3f} ms/step (no CUDA-enabled torch: no kernel breakdown)")
        return
    print(f"wall {train() * 1e3:.3f} ms/step without the profiler")
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        wall = train()
    def device_us(e):  # the attribute's name changed in PyTorch 2.4
        return getattr(e, "device_time_total", None) or getattr(e, "cuda_time_total", 0)

    kernels = [e for e in prof.key_averages() if device_us(e) > 0]
    busy_us = sum(device_us(e) for e in kernels) / STEPS
    launches = sum(e.count for e in kernels) / STEPS
    print(f"wall {wall * 1e3:.3f} ms/step under the profiler; kernels {busy_us / 1e3:.3f} ms/step "
          f"({launches:.0f} launches/step); 20,000 steps at this wall time: {wall * 2e4:.1f} s")
    kernels.sort(key=device_us, reverse=True)
    print(f"{'kernel':70s} {'us/step':>9s} {'calls/step':>10s} {'us/call':>8s}")
    for e in kernels[:30]:
        print(f"{e.key[:70]:70s} {device_us(e) / STEPS:9.1f} {e.count / STEPS:10.1f} "
              f"{device_us(e) / e.count:8.1f}")


if __name__ == "__main__":
    main()
