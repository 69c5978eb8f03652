#!/usr/bin/env bash
# Issue 15's reporting runs: every sampler on ResNet-18 and MobileNetV2 (SYNTHETIC accuracy,
# benchmarks/studies/*-synthetic.toml, priced at 224x224) on the three tuning presets and the two
# held-out ones (loom-lite, npu-ws), on reporting seeds 100 and 101 only.
#   bash benchmarks/search_quality.sh run      # the comparisons (resumes after an interruption)
#   bash benchmarks/search_quality.sh table    # benchmarks/results/search_quality/README.md
# Extra arguments after the step go to every comparison (e.g. --workers 2); SAMPLERS=a,b limits
# the samplers (the baselines do not depend on the AMED settings, so they may run first).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=results/search_quality
STEP=${1:-}
shift || true
mkdir -p "$OUT/logs"
case "$STEP" in
  run)
    for study in r18 mbv2; do
      for preset in scale-sim eyeriss scale-sim-lowmem loom-lite npu-ws; do
        name="$study-$preset"
        echo "== $name"
        "$PY" -m amed_opt.compare --study "benchmarks/studies/$study-synthetic.toml" \
          --hardware "$preset" --samplers "${SAMPLERS:-amed,greedy,tpe,nsga2,random}" --n-trials 100 \
          --seeds 2 --first-seed 100 --storage "sqlite:///$OUT/$study.db" --out "$OUT/$name" \
          --no-progress "$@" >>"$OUT/logs/$name.log" 2>&1
        tail -n 4 "$OUT/logs/$name.log"
      done
    done
    ;;
  table)
    "$PY" benchmarks/search_quality.py "$OUT"/*/comparison.json \
      --out benchmarks/results/search_quality/table.md
    ;;
  *)
    echo "usage: bash benchmarks/search_quality.sh run|table [compare arguments]" >&2
    exit 2
    ;;
esac
