#!/usr/bin/env bash
# One prepared GPU check: install ember, run the device tests on CUDA (and the same tests on
# the CPU of the same machine, to tell CUDA faults from that machine's torch/numpy versions),
# then the benchmark on CUDA against torch. Logs and JUnit files go to $OUT (default ./gpu-out).
#
#   bash tools/gpu_check.sh [TEST_SECONDS] [BENCH_SECONDS] [BENCH_WORKLOADS] [PYTEST_ARGS...]
#
# TEST_SECONDS and BENCH_SECONDS cap each phase (defaults 230 and 150) so that the logs come
# back even when a phase runs long; BENCH_WORKLOADS is a comma list for --only ("all": every
# workload, "none": skip the benchmark). CPU_WORKERS (default 4; 0 skips the CPU run) and
# CUDA_WORKERS (default 10) set the pytest-xdist workers. On one H200 with 16 cores, the CUDA
# run of the default tests took 97-115 s with 14 workers, and a 6-workload benchmark 98 s.
set -u
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
TEST_S=${1:-230}
BENCH_S=${2:-150}
WORKLOADS=${3:-all}
shift $(( $# < 3 ? $# : 3 ))
TESTS=("$@")
if [ ${#TESTS[@]} -eq 0 ]; then
    TESTS=(tests/core tests/nn tests/optim tests/vision/test_ops_boxes.py tests/vision/test_ops_roi.py
           tests/vision/test_ops_deform_conv.py tests/vision/test_ops_ps_roi.py
           tests/vision/test_ops_drop_block.py tests/audio/test_wav2vec2.py
           tests/audio/test_kaldi_compliance.py tests/audio/test_functional_more.py)
fi
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}

{
    date -u
    nvidia-smi -L
    $PY -c "import sys, numpy, cupy, torch; print(sys.version.split()[0], 'numpy', numpy.__version__,
'cupy', cupy.__version__, 'torch', torch.__version__, torch.cuda.is_available())"
    $PY -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -3
    $PY - <<'EOF'
import traceback

import ember

print("ember.cuda.is_available():", ember.cuda.is_available())
try:
    x = ember.randn(64, 32, device="cuda", requires_grad=True)
    w = ember.randn(32, 8, device="cuda", requires_grad=True)
    y = (x @ w).relu().sum()
    y.backward()
    print("smoke ok:", y.item(), x.grad.device, float(w.grad.abs().sum()))
except Exception:
    traceback.print_exc()
EOF
} 2>&1 | tee "$OUT/setup.log"

# The CPU run on this machine needs fewer workers: its tests do not wait on a GPU.
# CPU_WORKERS=0 skips it (when an earlier run already listed that machine's own failures).
CPU_WORKERS=${CPU_WORKERS:-4}
CUDA_WORKERS=${CUDA_WORKERS:-10}
# -v names every test as it ends; SIGINT at the cap still prints the summary of failures.
PYTEST=($PY -m pytest -p no:cacheprovider -o addopts= --timeout 120 -rfE -v --tb=short --durations=10
        --continue-on-collection-errors)
if [ "$CPU_WORKERS" -gt 0 ]; then
    EMBER_TEST_DEVICE=cpu timeout -s INT -k 30 "$TEST_S" "${PYTEST[@]}" -n "$CPU_WORKERS" \
        --junitxml="$OUT/cpu.xml" "${TESTS[@]}" > "$OUT/tests_cpu.log" 2>&1 &
fi
EMBER_TEST_DEVICE=cuda timeout -s INT -k 30 "$TEST_S" "${PYTEST[@]}" -n "$CUDA_WORKERS" \
    --junitxml="$OUT/cuda.xml" "${TESTS[@]}" > "$OUT/tests_cuda.log" 2>&1
echo "cuda tests exit $?" | tee -a "$OUT/setup.log"
if [ "$CPU_WORKERS" -gt 0 ]; then
    wait
    echo "cpu tests exit $?" | tee -a "$OUT/setup.log"
fi
tail -n 3 "$OUT"/tests_*.log

if [ "$WORKLOADS" != "none" ]; then
    ONLY=()
    if [ "$WORKLOADS" != "all" ]; then
        ONLY=(--only "$WORKLOADS")
    fi
    timeout "$BENCH_S" $PY -m tools.bench --device cuda --rounds 1 --budget 2 --timeout 90 \
        --no-ceilings --json "$OUT/bench_cuda.json" "${ONLY[@]}" 2>&1 | tee "$OUT/bench_cuda.log"
fi
date -u
