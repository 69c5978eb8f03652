"""The paper's claim, measured: does each accelerator get its own allocation?

Run (one network at a time; the storage is shared, so accuracies measured for one preset are
reused for the others and the command resumes):

    python benchmarks/adaptivity.py --study r18 --presets scale-sim eyeriss scale-sim-lowmem \
        loom-lite --seeds 2 --n-trials 100 --out benchmarks/results/adaptivity/r18

For every preset `i` the study's AMED search runs on that preset (its shipped settings and
pricing, `[hardware] input_resolution` included) for each seed (`amed_opt.compare`, fresh
evaluator). Each seed's best non-uniform allocation by `Q = accuracy - latency / latency(uniform 8
bits)` is then priced on every preset `j`: `q[i][j]` is the mean over seeds of that allocation's
`Q` on preset `j` (its measured accuracy, its latency on `j` over uniform 8 bits on `j`).

If hardware matters, each column is won by its diagonal: the allocation searched for preset `j`
scores best on `j`. The benchmark writes `cross_pricing.json` (`network`, `presets`, `seeds`,
`q`), `details.json` (allocations, accuracies, latencies, provenance), `adaptivity.md` (the
matrix, the verdict, the margins) and `bits_per_layer.png` (mean weight bits per layer for each
preset, as the AMED paper's Figure S5), plus each preset's comparison report under `compare/`
(or `--compare-out`).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
from pathlib import Path
from typing import Any

import matplotlib

from amed_opt.app import RunOptions
from amed_opt.cli import configure_logging
from amed_opt.compare import analyse_comparison
from amed_opt.compare import plan_comparison
from amed_opt.compare import run_comparison
from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import weight_bits_of
from amed_opt.study.files import atomic_write_text
from amed_opt.study.files import write_json
from amed_opt.study.metrics import price_allocation
from amed_opt.study.provenance import cpu_description
from amed_opt.study.provenance import git_commit
from amed_opt.study.provenance import now_utc
from amed_opt.study.spec import SamplerName
from amed_opt.study.storage import open_storage
from hardware import SystolicArray
from hardware import load_preset


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _quality(accuracy: float, latency_ms: float, reference_ms: float) -> float:
    return accuracy - latency_ms / reference_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="r18")
    parser.add_argument(
        "--presets", nargs="+", default=["scale-sim", "eyeriss", "scale-sim-lowmem", "loom-lite"]
    )
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--n-trials", type=int, default=100)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--storage", help="default: sqlite:///<out>/adaptivity.db")
    parser.add_argument(
        "--compare-out",
        type=Path,
        help="the per-preset comparison reports (default <out>/compare)",
    )
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/amed-opt"))
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    configure_logging()
    command = "python benchmarks/adaptivity.py " + shlex.join(sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    url = args.storage or f"sqlite:///{args.out / 'adaptivity.db'}"
    options = RunOptions(cache_dir=args.cache_dir, progress=not args.no_progress)

    searched: dict[str, list[dict[str, Any]]] = {}
    layers = None
    seeds: list[int] = []
    for preset in args.presets:
        plan = plan_comparison(
            args.study,
            samplers=(SamplerName.AMED,),
            n_trials=args.n_trials,
            seeds=args.seeds,
            hardware=preset,
            storage=url,
            out=(args.compare_out or args.out / "compare") / preset,
            # The study's own AMED settings (its start included), not the comparison protocol's.
            warm_start="none",
        )
        run = run_comparison(plan, options)
        layers = run.components.layers
        analysis = analyse_comparison(plan, open_storage(url))
        seeds = list(plan.seeds)
        searched[preset] = [
            {
                "seed": study.seed,
                "trial": study.best_mixed.trial,
                "bits": study.best_mixed.bits,
                "accuracy": study.best_mixed.accuracy,
            }
            for study in analysis.studies
            if study.best_mixed is not None
        ]
        print(f"{preset}: {run.memo_misses} measured, {run.memo_hits} recalled", flush=True)
    assert layers is not None
    names = [layer.name for layer in layers]

    arrays = {preset: SystolicArray(load_preset(preset)) for preset in args.presets}
    reference = {
        preset: price_allocation(array, layers, BitConfig.uniform(names, 8)).latency_ms
        for preset, array in arrays.items()
    }
    q: list[list[float]] = []
    for row in args.presets:
        scores = []
        for column in args.presets:
            values = []
            for found in searched[row]:
                bits = BitConfig.from_compact(found["bits"], names)
                latency = price_allocation(arrays[column], layers, bits).latency_ms
                found.setdefault("latency_ms", {})[column] = latency
                values.append(_quality(found["accuracy"], latency, reference[column]))
            scores.append(statistics.fmean(values) if values else float("nan"))
        q.append(scores)

    write_json(
        args.out / "cross_pricing.json",
        {"network": args.study, "presets": args.presets, "seeds": seeds, "q": q},
    )
    write_json(
        args.out / "details.json",
        {
            "network": args.study,
            "presets": args.presets,
            "seeds": seeds,
            "n_trials": args.n_trials,
            "reference_latency_ms": reference,
            "allocations": searched,
            "layers": names,
            "command": command,
            "git_commit": git_commit(),
            "machine": cpu_description(),
            "generated": now_utc(),
        },
    )
    _plot(args.out / "bits_per_layer.png", args.study, args.presets, searched, names)
    report = _report(args.study, args.presets, seeds, q, command, args.n_trials)
    atomic_write_text(args.out / "adaptivity.md", report)
    print(report)


def _mean_bits(found: list[dict[str, Any]], count: int) -> list[float]:
    allocations = [weight_bits_of(entry["bits"]) for entry in found]
    if not allocations:
        return [float("nan")] * count
    return [statistics.fmean(bits[i] for bits in allocations) for i in range(count)]


def _plot(
    path: Path,
    network: str,
    presets: list[str],
    searched: dict[str, list[dict[str, Any]]],
    names: list[str],
) -> None:
    figure, axes = plt.subplots(figsize=(max(8, 0.25 * len(names) + 3), 4.4))
    width = 0.8 / len(presets)
    for slot, preset in enumerate(presets):
        bits = _mean_bits(searched[preset], len(names))
        xs = [i + (slot - (len(presets) - 1) / 2) * width for i in range(len(names))]
        axes.bar(xs, bits, width=width, label=preset)
    axes.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    axes.set_ylabel("mean weight bits over seeds")
    axes.set_ylim(0, 8.5)
    axes.set_title(f"{network}: best non-uniform allocation searched for each preset")
    axes.legend(fontsize=8, ncols=len(presets))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _report(
    network: str, presets: list[str], seeds: list[int], q: list[list[float]], command: str, n: int
) -> str:
    lines = [
        f"# Hardware adaptivity: {network}",
        "",
        f"`{command}` (commit {git_commit()}, {now_utc()}).",
        "",
        f"AMED searched {n} trials per seed on each preset (seeds {seeds}). Row: the preset the "
        "search ran on; column: the preset its best non-uniform allocation is priced on; cell: "
        "the mean over seeds of `Q = accuracy - latency / latency(uniform 8 bits)` on the "
        "column's preset. The best cell of each column is in bold.",
        "",
        "| searched on \\ priced on | " + " | ".join(presets) + " |",
        "|---|" + "---|" * len(presets),
    ]
    best_rows = [max(range(len(presets)), key=lambda i, j=j: q[i][j]) for j in range(len(presets))]
    for i, row in enumerate(presets):
        cells = [
            f"**{q[i][j]:.4f}**" if best_rows[j] == i else f"{q[i][j]:.4f}"
            for j in range(len(presets))
        ]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    margins = []
    for j, column in enumerate(presets):
        others = [q[i][j] for i in range(len(presets)) if i != j]
        margins.append((column, q[j][j] - max(others)))
    wins = [column for column, margin in margins if margin > 0]
    lines += [
        "",
        "Diagonal margin per column (own allocation's `Q` minus the best other's): "
        + ", ".join(f"{column} {margin:+.4f}" for column, margin in margins)
        + ".",
        "",
        f"Verdict: the diagonal is strictly best in {len(wins)} of {len(presets)} columns"
        + (f" ({', '.join(wins)})" if wins else "")
        + f"; largest margin {max(m for _, m in margins):+.4f}."
        + (
            " Goal met (every column, a margin >= 0.01)."
            if len(wins) == len(presets) and max(m for _, m in margins) >= 0.01
            else " Goal not met."
        ),
        "",
        "![mean weight bits per layer](bits_per_layer.png)",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
