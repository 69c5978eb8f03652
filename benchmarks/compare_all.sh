#!/usr/bin/env bash
# The comparisons behind benchmarks/results/ (issue 6), in the order they were run.
#   bash benchmarks/compare_all.sh baselines   # TPE, NSGA-II, random: independent of [sampler]
#   bash benchmarks/compare_all.sh amed        # the AMED studies, uniform allocations, reports
#   bash benchmarks/compare_all.sh publish     # copy reports and figures to benchmarks/results/
# Every step resumes: run the same command again after an interruption. After changing a study's
# [sampler] section, delete its AMED studies first (`python benchmarks/reset_amed.py --study S
# [--hardware P] --seeds K`): a study never resumes under different settings. Budgets are those that
# fit the 2-core development machine (about 2 s per ResNet-18 trial, 3 s per MobileNetV2 trial);
# measurements are memoised across presets in results/compare/<study>.db.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
LOGS=results/compare/logs
mkdir -p "$LOGS"

# name | arguments
RUNS=(
  "r18-scale-sim|--study r18 --n-trials 150 --seeds 3"
  "r18-eyeriss|--study r18 --hardware eyeriss --n-trials 100 --seeds 2"
  "mbv2-scale-sim|--study mbv2 --n-trials 60 --seeds 2"
  "mbv2-scale-sim-lowmem|--study mbv2 --hardware scale-sim-lowmem --n-trials 60 --seeds 2"
  "mbv2-224-synthetic-scale-sim|--study benchmarks/studies/mbv2-224-synthetic.toml --n-trials 100 --seeds 2"
  "mbv2-224-synthetic-scale-sim-lowmem|--study benchmarks/studies/mbv2-224-synthetic.toml --hardware scale-sim-lowmem --n-trials 100 --seeds 2"
)

run_all() {  # $1: sampler list
  for entry in "${RUNS[@]}"; do
    name=${entry%%|*}
    args=${entry#*|}
    echo "== $name ($1)"
    # shellcheck disable=SC2086
    "$PY" -m amed_opt.compare $args --samplers "$1" --out "results/compare/$name" \
      --no-progress >>"$LOGS/$name.log" 2>&1
    tail -n 4 "$LOGS/$name.log"
  done
}

case "${1:-}" in
  baselines) run_all tpe,nsga2,random ;;
  amed) run_all amed,tpe,nsga2,random ;;
  publish)
    for entry in "${RUNS[@]}"; do
      name=${entry%%|*}
      mkdir -p "benchmarks/results/$name"
      cp "results/compare/$name"/{report.md,comparison.json,*.png} "benchmarks/results/$name/"
    done
    "$PY" benchmarks/adaptivity_layers.py \
      --base results/compare/mbv2-224-synthetic-scale-sim/comparison.json \
      --other results/compare/mbv2-224-synthetic-scale-sim-lowmem/comparison.json \
      --out benchmarks/results/adaptivity-mbv2-224-synthetic
    "$PY" benchmarks/adaptivity_layers.py \
      --base results/compare/mbv2-scale-sim/comparison.json \
      --other results/compare/mbv2-scale-sim-lowmem/comparison.json \
      --out benchmarks/results/adaptivity-mbv2-28
    ;;
  *) echo "usage: bash benchmarks/compare_all.sh baselines|amed|publish" >&2; exit 2 ;;
esac
