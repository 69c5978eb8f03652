"""How close each sampler came to the best front the SYNTHETIC accuracy model allows.

Run (after the comparisons, e.g. `bash benchmarks/search_quality.sh run`):
`python benchmarks/reachable_front.py results/search_quality/*/comparison.json
--out benchmarks/results/search_quality/reachable.md [--cache-dir DIR]`

For each synthetic comparison, `amed_opt.evaluation.synthetic_front` finds the exact noiseless
front of its study (every allocation of its search space, priced on its accelerator) and this
script sets each sampler's figures against it:

- the hypervolume every allocation together reaches (and how many allocations make up the
  exact front), and each sampler's share of the gain that was open over the uniform ladder's:
  `(HV - HV_uniform) / (HV_reachable - HV_uniform)`;
- the best `Q` at the comparison's latency weight any allocation reaches, against each
  sampler's best `Q` over mixed allocations;
- for uniform 3..8 bits, whether a cheaper allocation can dominate it at all: `certain` (one does
  whatever the evaluation noise), `only by noise` (only if its noise favours it), `never`; with
  the margin (best noiseless accuracy at a lower latency minus the uniform allocation's reported
  accuracy) and the samplers whose front dominated it in every seed;
- per sampler, the uniform allocations its front dominated *beyond the noise* in every seed: by
  a point at most as slow whose noiseless accuracy, less the noise's half-width, reaches the
  uniform allocation's reported accuracy (a domination that holds whatever that point's noise).

The model's accuracies carry a deterministic noise of at most `jitter` (0.002): a sampler's
reported figures can exceed the noiseless ones by up to that (hypervolume by at most
`jitter * (1 - fastest relative latency)`, best Q by `jitter`). Nothing is evaluated or
searched here; the comparisons' storages are not read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from amed_opt.study.files import write_or_print


GOAL_BITS = (3, 4, 5, 6, 7, 8)


def _front(plan: dict[str, Any], cache_dir: Path) -> tuple[Any, float, list[str]]:
    """The reachable front of a comparison's study, its 8-bit latency (ms) and its layers."""
    from amed_opt.app.components import RunOptions
    from amed_opt.app.components import build_components
    from amed_opt.evaluation.synthetic import SyntheticEvaluator
    from amed_opt.evaluation.synthetic_front import reachable_front
    from amed_opt.study.spec_enums import AccuracyModel
    from amed_opt.study.spec_toml import parse_spec

    spec = parse_spec(plan["study"], source="comparison.json")
    if spec.evaluator.accuracy_model is not AccuracyModel.SYNTHETIC:
        raise ValueError(
            "its accuracy is measured; the reachable front exists for synthetic studies only"
        )
    if spec.search.max_size_kib > 0:
        raise ValueError("its study has a size limit, which the reachable front does not apply")
    components = build_components(spec, RunOptions(cache_dir=cache_dir, progress=False))
    if not isinstance(components.evaluator, SyntheticEvaluator):
        raise TypeError(f"a synthetic study built a {type(components.evaluator).__name__}")
    front = reachable_front(components.evaluator, components.space)
    return front, components.reference_latency_ms, [layer.name for layer in components.layers]


def _firm_dominations(
    front: Any, names: list[str], studies: list[dict[str, Any]]
) -> dict[str, list[int]]:
    """Per sampler, the uniform bitwidths of `GOAL_BITS` that a mixed (non-uniform) point of its
    front dominates beyond the noise (`ReachableFront.dominates_beyond_noise`) in every seed,
    like the comparison, which does not count one uniform allocation dominating another."""
    from amed_opt.study.bits import BitConfig

    found: dict[str, list[set[int]]] = {}
    for study in studies:
        allocations = [BitConfig.from_compact(p["bits"], names) for p in study["front"]]
        allocations = [a for a in allocations if len({a[n] for n in names[1:-1]}) > 1]
        found.setdefault(study["sampler"], []).append(
            {
                bits
                for bits in GOAL_BITS
                if any(front.dominates_beyond_noise(a, bits) for a in allocations)
            }
        )
    return {sampler: sorted(set.intersection(*per_seed)) for sampler, per_seed in found.items()}


def _setup(data: dict[str, Any], cache_dir: Path) -> tuple[list[str], list[str], list[str]]:
    """One setup's rows of the search, the domination and the firm-domination tables."""
    analysis, plan = data["analysis"], data["plan"]
    preset = plan["study"]["hardware"]["preset"]
    name = f"{plan['study']['name'].removesuffix(f'-{preset}')} / {preset}"
    front, reference, names = _front(plan, cache_dir)
    weight = float(analysis["latency_weight"])
    reachable_hv = front.hypervolume(reference)
    reachable_q, _ = front.best_q(weight, reference)
    uniform_hv = float(analysis["uniform_hv"])
    open_gain = reachable_hv - uniform_hv
    cells = []
    for summary in analysis["samplers"]:
        hv = summary["hv"]["mean"]
        share = (hv - uniform_hv) / open_gain if open_gain > 0 else float("nan")
        cells.append(
            f"{summary['sampler']} {hv:.4f} ({share:.0%}), Q {summary['best_mixed_q']['mean']:.4f}"
        )
    search = (
        f"| {name} | {reachable_hv:.4f} | {uniform_hv:.4f} | {reachable_q:.4f} | "
        + "<br>".join(cells)
        + f" | {len(front)} |"
    )
    reaches = []
    for bits in GOAL_BITS:
        found = front.uniform_reach(bits)
        by = [
            s["sampler"]
            for s in analysis["samplers"]
            if s["uniform_dominated"].get(str(bits), 0) >= max(1, len(s["seeds"]))
        ]
        reaches.append(
            f"{found.reach.value} ({found.margin:+.4f}){': ' + ', '.join(by) if by else ''}"
        )
    domination = f"| {name} | " + " | ".join(reaches) + " |"
    firm = _firm_dominations(front, names, analysis["studies"])
    firm_row = (
        f"| {name} | "
        + " | ".join(
            ", ".join(map(str, firm.get(s["sampler"], []))) or "-" for s in analysis["samplers"]
        )
        + " |"
    )
    samplers = [s["sampler"] for s in analysis["samplers"]]
    return [search], [domination], [f"{','.join(samplers)}", firm_row]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="comparison.json files")
    parser.add_argument("--out", type=Path, help="Markdown file (default: stdout)")
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/amed-opt"))
    args = parser.parse_args(argv)
    search = [
        "| setup | reachable HV | uniform ladder HV | reachable best Q (λ=1) | per sampler: "
        "HV (share of the open gain), best mixed Q | points on the front |",
        "|---|---|---|---|---|---|",
    ]
    domination = [
        "| setup | " + " | ".join(f"uniform {b}" for b in GOAL_BITS) + " |",
        "|---|" + "---|" * len(GOAL_BITS),
    ]
    firm: list[str] = []
    commits = set()
    for path in args.reports:
        try:
            data = json.loads(path.read_text())
            rows, reach, (samplers, firm_row) = _setup(data, args.cache_dir)
        except (OSError, ValueError, KeyError) as error:
            detail = f"missing key {error}" if isinstance(error, KeyError) else str(error)
            print(f"error: {path}: {detail}", file=sys.stderr)
            return 2
        if not firm:
            names = samplers.split(",")
            firm = ["| setup | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        commits.add(data["provenance"]["git_commit"])
        search += rows
        domination += reach
        firm.append(firm_row)
    text = "\n".join(
        [
            f"Commits of the comparisons: {', '.join(sorted(commits))}",
            "",
            *search,
            "",
            "Can a cheaper allocation dominate uniform b bits? (margin; samplers that did in "
            "every seed)",
            "",
            *domination,
            "",
            "Uniform 3..8 bits dominated beyond the noise in every seed (a front point at most as "
            "slow whose noiseless accuracy, less the noise's half-width, reaches the uniform "
            "allocation's reported accuracy):",
            "",
            *firm,
            "",
        ]
    )
    write_or_print(text, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
