"""GEMM throughput side by side: kerasette.ops.matmul vs numpy (OpenBLAS) vs torch.matmul.

Shapes: square 256..2048 and the deep-learning shapes (M, K, N) = (128,784,512), (128,512,512),
(128,512,10), (50,3136,1024). Prints GFLOP/s (median of --repeats timed loops), the ratio to
numpy and torch, and the fraction of the CPU's FP32 peak (--peak, GFLOP/s; default: threads x
3.65 GHz x 32 flops/cycle, two 256-bit FMA pipes as on the Zen 4 machines these numbers target).

Run: python benchmarks/bench_gemm.py [--threads N] [--repeats R]
numpy's OpenBLAS honours OPENBLAS_NUM_THREADS; set it to the same thread count for a fair run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from common import print_table, try_torch

import kerasette as keras

SHAPES = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
          (128, 784, 512), (128, 512, 512), (128, 512, 10), (50, 3136, 1024)]


def gflops(fn, m, k, n, repeats, min_time=0.2) -> float:
    fn()
    loops = 1
    while True:  # enough calls per timed sample to last min_time / repeats
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        if time.perf_counter() - t0 > min_time / repeats or loops > 1 << 16:
            break
        loops *= 2
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - t0) / loops)
    return 2.0 * m * k * n / float(np.median(samples)) / 1e9


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=keras.config.num_threads())
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--peak", type=float, default=None)
    args = parser.parse_args()
    keras.config.set_num_threads(args.threads)
    peak = args.peak or args.threads * 3.65 * 32
    torch = try_torch()
    if torch:
        torch.set_num_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    except ImportError:
        pass
    print(f"kerasette {keras.__version__} ({keras.config.cpu_isa()}), threads={args.threads}, "
          f"peak {peak:.0f} GFLOP/s, median of {args.repeats}")
    rows = []
    rng = np.random.default_rng(0)
    for m, k, n in SHAPES:
        a = rng.random((m, k), dtype=np.float32)
        b = rng.random((k, n), dtype=np.float32)
        ours = gflops(lambda: keras.ops.matmul(a, b), m, k, n, args.repeats)
        ref = gflops(lambda: a @ b, m, k, n, args.repeats)
        row = [f"({m},{k},{n})", f"{ours:.0f}", f"{ref:.0f}", f"{ours / ref:.2f}x"]
        if torch:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            t = gflops(lambda: torch.matmul(ta, tb), m, k, n, args.repeats)
            row += [f"{t:.0f}", f"{ours / t:.2f}x"]
        row.append(f"{100 * ours / peak:.0f}%")
        rows.append(row)
    headers = ["(M,K,N)", "kerasette", "numpy", "vs numpy"]
    if torch:
        headers += ["torch", "vs torch"]
    headers.append("of peak")
    print_table("GEMM GFLOP/s", rows, headers)


if __name__ == "__main__":
    main()
