"""GPU against CPU: SGEMM throughput and MLP training speed (scripts/gpu_check.sh runs this).

Prints, for the current machine:
  - SGEMM at 4096^3 in GFLOP/s and as a fraction of the card's FP32 peak (FP32 lanes x 2 x the
    maximum SM clock, read from nvidia-smi when available), FP32 path and TF32 path;
  - samples/s of `fit` for the MLP 784-512-512-10 (ReLU, softmax, Adam, batch 128) on the GPU
    and on the CPU, timed over one epoch of 60,000 random samples after a warm-up epoch.
"""

import subprocess
import time

import numpy as np

import kerasette
from kerasette import _core, config


def fp32_peak_gflops(info: dict) -> float:
    clock_mhz = None
    try:
        query = ["nvidia-smi", "--query-gpu=clocks.max.sm", "--format=csv,noheader,nounits"]
        out = subprocess.run(query, capture_output=True, text=True, timeout=20).stdout.split()
        clock_mhz = float(out[0]) if out else None
    except Exception:  # noqa: BLE001 - a missing nvidia-smi only loses the peak figure
        pass
    if clock_mhz is None:
        clock_mhz = 1980.0  # H100/H200 SXM boost clock
    lanes_per_sm = 128  # FP32 lanes per SM on Ampere GA10x/Hopper (GA100: 64)
    if tuple(info["compute_capability"]) == (8, 0):
        lanes_per_sm = 64
    return info["multiprocessors"] * lanes_per_sm * 2 * clock_mhz * 1e-3


def bench_gemm(n=4096):
    info = config.device_info("cuda:0")
    peak = fp32_peak_gflops(info)
    for tf32 in (False, True):
        _core.cuda_set_gemm_tf32(tf32)
        sec = _core._cuda_bench_gemm(n, n, n, 10)
        gflops = 2.0 * n**3 / sec * 1e-9
        print(f"sgemm {n}^3 {'tf32' if tf32 else 'fp32'}: {gflops:9.0f} GFLOP/s "
              f"({sec * 1e3:.2f} ms), {gflops / peak:.1%} of FP32 peak {peak:.0f} GFLOP/s")
    _core.cuda_set_gemm_tf32(False)


def mlp():
    return kerasette.Sequential([
        kerasette.Input((784,)),
        kerasette.layers.Dense(512, activation="relu"),
        kerasette.layers.Dense(512, activation="relu"),
        kerasette.layers.Dense(10, activation="softmax"),
    ])


def bench_mlp(device, n=60000, batch=128):
    config.set_device(device)
    r = np.random.default_rng(0)
    x = r.random((n, 784), dtype=np.float32)
    y = r.integers(0, 10, n).astype(np.float32)
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[: batch * 50], y[: batch * 50], batch_size=batch, epochs=1, verbose=0)
    t0 = time.perf_counter()
    hist = model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    dt = time.perf_counter() - t0
    print(f"mlp 784-512-512-10 fit on {device:6s}: {n / dt:10.0f} samples/s "
          f"({dt:.2f} s/epoch, loss {hist.history['loss'][-1]:.4f})")
    return n / dt


def main():
    print(f"devices: {config.list_devices()}, engine threads: {config.num_threads()}")
    if len(config.list_devices()) > 1:
        bench_gemm()
        gpu = bench_mlp("cuda")
    cpu = bench_mlp("cpu")
    if len(config.list_devices()) > 1:
        print(f"mlp speed-up GPU/CPU: {gpu / cpu:.1f}x")


if __name__ == "__main__":
    main()
