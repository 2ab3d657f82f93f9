#!/usr/bin/env bash
# The CUDA backend on a GPU machine: builds kerasette._core with -DKERASETTE_CUDA=ON into a private
# folder, runs tests/test_cuda.py against that build, then benchmarks/bench_cuda.py,
# scripts/gpu_profile.py and the whole test suite with the GPU as the default device. Everything
# goes to $OUT/gpu_log.txt (default: ./gpu_out).
# Stages: `gpu_check.sh` runs all of them (build tests bench profile suite sanitize, each under
# its own time limit); naming some runs those alone (a later call reuses the
# build in $WORK when the machine is still the same).
# Needs: nvcc, cmake, ninja, python3 with pybind11, numpy, pytest, h5py; pytest-xdist and
# pytest-timeout when present.
# Nothing is installed: the package is copied to $WORK/pkg with the fresh module beside it.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${OUT:-$ROOT/gpu_out}
WORK=${WORK:-/tmp/kerasette_gpu_check}
mkdir -p "$OUT" "$WORK"
LOG=$OUT/gpu_log.txt
: >> "$LOG"
STAGES=${*:-build tests bench profile suite sanitize}
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

# pytest-xdist spreads the tests over several processes (each with its own CUDA context) when the
# image has it; each worker gets a share of the CPU threads.
WORKERS=${KERASETTE_TEST_WORKERS:-6}
XDIST=()
if "$PY" -c "import xdist, pytest_timeout" > /dev/null 2>&1; then
  XDIST=(-n "$WORKERS" --timeout 90 -o timeout_method=thread)
  export OMP_NUM_THREADS=$(( $(nproc) / WORKERS > 0 ? $(nproc) / WORKERS : 1 ))
fi

if want tests; then
  log "tests/test_cuda.py ${XDIST[*]}"
  run timeout 180 "$PY" -m pytest -q -p no:cacheprovider tests/test_cuda.py -rfE --tb=short \
    --durations=8 "${XDIST[@]}"
  log "test_cuda exit $?"
fi

if want bench; then
  log "benchmark"
  run env -u OMP_NUM_THREADS timeout 190 "$PY" benchmarks/bench_cuda.py
fi
if want profile; then
  log "profile: where a deep-MNIST step spends its GPU time"
  run env -u OMP_NUM_THREADS timeout 70 "$PY" scripts/gpu_profile.py
fi
if want suite; then
  # The whole CPU suite with the GPU as the default device: every layer, loss and optimizer test
  # then runs on the CUDA paths. Tests that compare bits with a CPU run or a stored Keras value can
  # fail by tolerance alone; the log says which.
  log "the whole suite on the default device (the GPU) ${XDIST[*]}"
  run timeout 100 "$PY" -m pytest -q -p no:cacheprovider tests --ignore=tests/test_cuda.py \
    -rfE --tb=line "${XDIST[@]}"
  log "suite (default device) exit $?"
fi

if want sanitize; then
  # compute-sanitizer's memcheck over the fit tests (every layer's forward and backward on the
  # GPU): an out-of-bounds or misaligned access that happens not to change a result still shows.
  log "compute-sanitizer memcheck: test_cuda.py fit tests"
  run timeout 90 compute-sanitizer --tool memcheck --error-exitcode 99 --print-limit 20 \
    "$PY" -m pytest -q -p no:cacheprovider tests/test_cuda.py -x -k "fit and not deep_mnist" \
    --tb=short
  log "memcheck exit $?"
fi
log "done ($STAGES) in $SECONDS s"
