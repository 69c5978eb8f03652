#!/usr/bin/env bash
# The checks of a session lent a CUDA machine, as one prepared script (the project's code runs on
# CPU and CUDA; CI has no GPU). It prints and writes under OUT: the GPU and library versions, the
# tests marked `gpu` and the evaluator's tests on this machine, r18 on CUDA (the float baseline
# trained once, one trial, then ten more timed), the same trials on this machine's CPU for a
# ratio measured in one run, and one worker per visible GPU on a fresh storage.
#   bash benchmarks/gpu_check.sh OUT [DATA_ROOT]     # DATA_ROOT: the Fashion-MNIST gzip files
# Needs the project's Python packages importable (PY, default python3); downloads nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bash benchmarks/gpu_check.sh OUT [DATA_ROOT]}
DATA=${2:-}
PY=${PY:-python3}
WORK=$(mktemp -d)
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1

now() { date +%s.%N; }
seconds() { "$PY" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  "$PY" -c "import torch, torchvision, optuna; print('torch', torch.__version__, 'torchvision', \
torchvision.__version__, 'optuna', optuna.__version__, 'cuda', torch.cuda.is_available(), \
'gpus', torch.cuda.device_count())"
} 2>&1 | tee "$OUT/versions.txt"

echo "== tests marked gpu, then the evaluator's tests"
"$PY" -m pytest -q -p no:cacheprovider --import-mode=importlib -m gpu tests 2>&1 \
  | tail -n 3 | tee "$OUT/tests.txt"
"$PY" -m pytest -q -p no:cacheprovider --import-mode=importlib \
  tests/amed_opt/evaluation/test_evaluator.py 2>&1 | tail -n 3 | tee -a "$OUT/tests.txt"

run() {  # run DEVICE STORAGE N_TRIALS [more arguments]
  local device=$1 storage=$2 trials=$3
  shift 3
  local args=(--study r18 --device "$device" --storage "sqlite:///$WORK/$storage"
    --results-dir "$WORK/results" --cache-dir "$WORK/cache" --no-progress --n-trials "$trials")
  [ -n "$DATA" ] && args+=(--data-root "$DATA")
  "$PY" -m amed_opt.run "${args[@]}" "$@"
}

echo "== r18 on cuda"
t0=$(now)
run cuda cuda.db 1 >"$OUT/r18_cuda_first.log" 2>&1
echo "exit $?: the float baseline trained and one trial, $(seconds "$t0" "$(now)") s" \
  | tee "$OUT/timings.txt"
t0=$(now)
run cuda cuda.db 11 >"$OUT/r18_cuda_more.log" 2>&1
echo "exit $?: ten more trials on cuda, $(seconds "$t0" "$(now)") s" | tee -a "$OUT/timings.txt"
t0=$(now)
run cpu cpu.db 1 >"$OUT/r18_cpu_first.log" 2>&1
echo "exit $?: one trial on cpu (baseline cached), $(seconds "$t0" "$(now)") s" \
  | tee -a "$OUT/timings.txt"
t0=$(now)
run cpu cpu.db 11 >"$OUT/r18_cpu_more.log" 2>&1
echo "exit $?: ten more trials on cpu, $(seconds "$t0" "$(now)") s" | tee -a "$OUT/timings.txt"

gpus=$("$PY" -c "import torch; print(torch.cuda.device_count())")
echo "== one worker per GPU ($gpus)"
t0=$(now)
run cuda workers.db 12 --workers "$gpus" >"$OUT/r18_workers.log" 2>&1
echo "exit $?: 12 trials, $gpus worker(s), $(seconds "$t0" "$(now)") s" | tee -a "$OUT/timings.txt"
tail -n 5 "$OUT/r18_workers.log"
rm -rf "$WORK"
