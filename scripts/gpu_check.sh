#!/usr/bin/env bash
# The CUDA backend on a GPU machine: builds kerasette._core with -DKERASETTE_CUDA=ON into a private
# folder, runs tests/test_cuda.py and a CPU smoke test against that build, then
# benchmarks/bench_cuda.py and scripts/gpu_profile.py. Everything goes to $OUT/gpu_log.txt
# (default: ./gpu_out).
# Stages: `gpu_check.sh` runs all of them (about 10 minutes); `gpu_check.sh build tests` and then
# `gpu_check.sh bench profile` split them over two calls of under 10 minutes each (the second
# reuses the first's build in $WORK when the machine is still the same).
# Needs: nvcc, cmake, ninja, python3 with pybind11, numpy, pytest (h5py for the smoke test).
# Nothing is installed: the package is copied to $WORK/pkg with the fresh module beside it.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${OUT:-$ROOT/gpu_out}
WORK=${WORK:-/tmp/kerasette_gpu_check}
mkdir -p "$OUT" "$WORK"
LOG=$OUT/gpu_log.txt
: >> "$LOG"
STAGES=${*:-build tests bench profile}
want() { [[ " $STAGES " == *" $1 "* ]]; }
log() { echo "== $* ($(date +%T))" | tee -a "$LOG"; }
run() { "$@" 2>&1 | tee -a "$LOG"; return "${PIPESTATUS[0]}"; }
PY=${PYTHON:-python3}
ARCH=${KERASETTE_CUDA_ARCH:-90}  # this card only: half the compile time of "80;90"

log "machine"
run nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
run nvcc --version | tail -n 2
run "$PY" -c "import sys, numpy, pybind11, pytest; print(sys.version.split()[0], 'numpy', numpy.__version__, 'pybind11', pybind11.__version__)"

if want build || ! ls "$WORK/build/"_core*.so > /dev/null 2>&1; then
  log "build (KERASETTE_CUDA=ON, CUDA_ARCHITECTURES=$ARCH)"
  START=$SECONDS
  # The system compiler and no inherited flags: the GPU image's own toolchain (CXX=/opt/gcc/...)
  # links libstdc++ statically, which gives the module a second copy of it beside the process's,
  # and iostream calls then crash.
  echo "inherited: CXX=${CXX:-} LDFLAGS=${LDFLAGS:-} CXXFLAGS=${CXXFLAGS:-}" | tee -a "$LOG"
  CXX_ARGS=()
  if [ -x /usr/bin/g++ ]; then
    CXX_ARGS=(-DCMAKE_CXX_COMPILER=/usr/bin/g++ -DCMAKE_CUDA_HOST_COMPILER=/usr/bin/g++)
    unset CXX CC LDFLAGS CXXFLAGS CFLAGS
  fi
  run cmake -S "$ROOT" -B "$WORK/build" -G Ninja -DKERASETTE_CUDA=ON -DCMAKE_BUILD_TYPE=Release \
    "${CXX_ARGS[@]}" \
    -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DPython_EXECUTABLE="$(command -v "$PY")" \
    -Dpybind11_DIR="$("$PY" -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
    -DSKBUILD_PROJECT_VERSION=0.1.0 > /dev/null || { log "cmake FAILED"; exit 1; }
  run ninja -C "$WORK/build" -j "$(nproc)" | tail -n 3
  [ "${PIPESTATUS[0]}" = 0 ] || { log "build FAILED"; exit 1; }
  log "build took $((SECONDS - START)) s"
fi
rm -rf "$WORK/pkg" && mkdir -p "$WORK/pkg"
cp -r "$ROOT/python/kerasette" "$WORK/pkg/"
rm -f "$WORK/pkg/kerasette/"_core*.so
cp "$WORK/build/"_core*.so "$WORK/pkg/kerasette/"
export PYTHONPATH=$WORK/pkg
run "$PY" -m kerasette info
run bash -c "ldd '$WORK/build/'_core*.so | grep -E 'stdc|gomp|gcc_s'"

if want tests; then
  log "tests/test_cuda.py"
  run timeout 420 "$PY" -m pytest -q -p no:cacheprovider tests/test_cuda.py -rs --durations=8
  log "test_cuda exit $?"

  log "CPU smoke test (same module, GPU hidden: CUDA_VISIBLE_DEVICES='')"
  run env CUDA_VISIBLE_DEVICES= timeout 120 "$PY" -m pytest -q -p no:cacheprovider \
    tests/test_training.py tests/test_mnist_mlp.py tests/test_gemm.py
  log "smoke (cpu) exit $?"

  log "the same tests on the default device (the GPU; models it cannot run stay on the CPU)"
  run timeout 120 "$PY" -m pytest -q -p no:cacheprovider tests/test_training.py tests/test_mnist_mlp.py
  log "smoke (default device) exit $?"
fi

if want bench; then
  log "benchmark"
  run timeout 240 "$PY" benchmarks/bench_cuda.py
fi
if want profile; then
  log "profile: where a deep-MNIST step spends its GPU time"
  run timeout 150 "$PY" scripts/gpu_profile.py
fi
log "done ($STAGES) in $SECONDS s"
