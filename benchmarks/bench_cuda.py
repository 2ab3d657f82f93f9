"""GPU against CPU: SGEMM throughput and MLP training speed (scripts/gpu_check.sh runs this).

Prints, for the current machine:
  - SGEMM at 4096^3 in GFLOP/s, FP32 path and TF32 path, each as a fraction of the card's peak
    for that precision (from the SM count and the maximum SM clock, read from nvidia-smi when
    available);
  - samples/s of `fit` for the MLP 784-512-512-10 (ReLU, softmax, Adam, batch 128) on the GPU
    and on the CPU, timed over one epoch of 60,000 random samples after a warm-up epoch;
  - the deep-MNIST convnet of the classic TensorFlow course (Conv2D 32 5x5 same relu, MaxPool 2,
    Conv2D 64 5x5 same relu, MaxPool 2, Flatten, Dense 1024 relu, Dropout 0.5, Dense 10 softmax;
    Adam; batch 50) trained on the GPU for 20,000 steps as `model.fit` over random MNIST-shaped
    data (10 epochs of 100,000 samples). Reference: the course's 20,000 steps took 132 s on a
    Tesla P100 and 221 s on a K80. A calibration run estimates the time first; when the full run
    would exceed CONV_BUDGET_S, fewer steps run and the 20,000-step time is an EXTRAPOLATION,
    printed as such.
"""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import kerasette
from kerasette import _core, config


def sm_clock_mhz() -> float:
    try:
        query = ["nvidia-smi", "--query-gpu=clocks.max.sm", "--format=csv,noheader,nounits"]
        out = subprocess.run(query, capture_output=True, text=True, timeout=20).stdout.split()
        if out:
            return float(out[0])
    except Exception:  # noqa: BLE001 - a missing nvidia-smi only loses the exact clock
        pass
    return 1980.0  # H100/H200 SXM boost clock


def peak_gflops(info: dict, tf32: bool) -> float:
    """Dense peak from the SM count and clock: FP32 lanes x 2 per SM per clock (Ampere GA10x and
    Hopper: 128 lanes, GA100: 64); TF32 tensor-core FLOPs per SM per clock (Hopper 2048, Ampere
    1024: H100 SXM's 495 dense TFLOP/s at 1830 MHz over 132 SMs)."""
    major, minor = tuple(info["compute_capability"])
    if tf32:
        per_sm_clock = 2048 if major >= 9 else 1024
    else:
        per_sm_clock = 2 * (64 if (major, minor) == (8, 0) else 128)
    return info["multiprocessors"] * per_sm_clock * sm_clock_mhz() * 1e-3


def bench_gemm(n=4096):
    info = config.device_info("cuda:0")
    for tf32 in (False, True):
        _core.cuda_set_gemm_tf32(tf32)
        sec = _core._cuda_bench_gemm(n, n, n, 10)
        gflops = 2.0 * n**3 / sec * 1e-9
        name = "tf32" if tf32 else "fp32"
        peak = peak_gflops(info, tf32)
        print(f"sgemm {n}^3 {name}: {gflops:9.0f} GFLOP/s ({sec * 1e3:.2f} ms), "
              f"{gflops / peak:.1%} of the {name.upper()} peak {peak:.0f} GFLOP/s")
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


CONV_STEPS = 20_000
CONV_BATCH = 50
CONV_BUDGET_S = 75.0  # the full run must fit in this, or a shorter run is extrapolated


def deep_mnist_convnet():
    # The example's model (examples/deep_mnist_convnet.py), with a fixed dropout seed.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    from deep_mnist_convnet import build_model

    return build_model(dropout_seed=1)


def bench_convnet(samples_per_epoch=100_000):
    config.set_device("cuda")
    r = np.random.default_rng(0)
    x = r.random((samples_per_epoch, 28, 28, 1), dtype=np.float32)
    y = r.integers(0, 10, samples_per_epoch).astype(np.float32)
    model = deep_mnist_convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    # Warm-up (allocations, first launches), then a calibration epoch of 400 steps.
    model.fit(x[: CONV_BATCH * 100], y[: CONV_BATCH * 100], batch_size=CONV_BATCH, epochs=1,
              verbose=0, shuffle=False)
    calib_steps = 400
    t0 = time.perf_counter()
    model.fit(x[: CONV_BATCH * calib_steps], y[: CONV_BATCH * calib_steps], batch_size=CONV_BATCH,
              epochs=1, verbose=0)
    per_step = (time.perf_counter() - t0) / calib_steps
    estimate = per_step * CONV_STEPS
    print(f"deep-MNIST convnet on cuda: calibration {calib_steps} steps, {per_step * 1e3:.3f} ms/step,"
          f" {CONV_BATCH / per_step:.0f} samples/s -> 20,000 steps estimated {estimate:.1f} s")
    steps_per_epoch = samples_per_epoch // CONV_BATCH
    if estimate <= CONV_BUDGET_S:
        epochs = CONV_STEPS // steps_per_epoch
        n = samples_per_epoch
    else:  # a shorter run, whole epochs of fewer samples, within the budget
        steps = max(100, int(CONV_BUDGET_S * 0.8 / per_step) // 100 * 100)
        epochs, n = 1, steps * CONV_BATCH
    t0 = time.perf_counter()
    hist = model.fit(x[:n], y[:n], batch_size=CONV_BATCH, epochs=epochs, verbose=0)
    dt = time.perf_counter() - t0
    steps = epochs * (n // CONV_BATCH)
    rate = steps * CONV_BATCH / dt
    if steps == CONV_STEPS:
        print(f"deep-MNIST convnet fit on cuda: {CONV_STEPS} steps of batch {CONV_BATCH} "
              f"({epochs} epochs x {n} samples) in {dt:.1f} s, {rate:.0f} samples/s "
              f"(loss {hist.history['loss'][-1]:.4f}); TF course reference: P100 132 s, K80 221 s;"
              f" target <= 30 s")
    else:
        print(f"deep-MNIST convnet fit on cuda: only {steps} steps run ({dt:.1f} s, {rate:.0f} "
              f"samples/s); EXTRAPOLATED 20,000 steps: {dt / steps * CONV_STEPS:.1f} s "
              f"(TF course reference: P100 132 s, K80 221 s; target <= 30 s)")
    return dt / steps * CONV_STEPS


def main():
    print(f"devices: {config.list_devices()}, engine threads: {config.num_threads()}")
    if len(config.list_devices()) > 1:
        bench_gemm()
        gpu = bench_mlp("cuda")
        bench_convnet()
    cpu = bench_mlp("cpu")
    if len(config.list_devices()) > 1:
        print(f"mlp speed-up GPU/CPU: {gpu / cpu:.1f}x")


if __name__ == "__main__":
    main()
