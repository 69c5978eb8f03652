"""How often would a parallel-tempering swap between two AMED chains be accepted?

Run: `python benchmarks/swap_acceptance.py --storage sqlite:///T/sw-r18-scale-sim.db
--study NAME [--study NAME ...] [--latency-weights 2,0.5,8,0.1,0.02] [--temperature 0.01]`

A swap exchanges the heads `x_i`, `x_j` of chains `i` and `j` (latency weights `l_i`, `l_j`, one
temperature `T`). With `Q_l(x) = accuracy(x) - l * latency(x) / reference`, it keeps every
chain's target exact when accepted with probability

    min(1, exp([Q_i(x_j) - Q_i(x_i) + Q_j(x_i) - Q_j(x_j)] / T))
        = min(1, exp((l_j - l_i) (latency(x_j) - latency(x_i)) / (reference T))),

where accuracy cancels: a swap is certain when it hands the faster head to the chain with the
larger weight, and otherwise falls off exponentially with the latency gap. This script replays
the chains of finished AMED studies (`amed_opt.samplers.chain_history`) and, after every step
once every chain has a head, evaluates that probability for every pair of chains. It changes
nothing in the studies. Use tuning-seed studies only (it informs a sampler design).
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
from collections.abc import Sequence

import optuna

from amed_opt.samplers import chain_history
from amed_opt.study.naming import REFERENCE_LATENCY_ATTR


def swap_acceptance(
    weight_i: float, weight_j: float, latency_i: float, latency_j: float, temperature: float
) -> float:
    """Acceptance of swapping the heads of chains `i` and `j` (latencies relative to the
    reference), both at `temperature`."""
    exponent = (weight_j - weight_i) * (latency_j - latency_i) / temperature
    return 1.0 if exponent >= 0 else math.exp(exponent)


def swap_probabilities(
    study: optuna.Study, weights: Sequence[float], temperature: float
) -> list[float]:
    """The swap acceptance of every chain pair after every step of `study`'s chains."""
    reference = float(study.user_attrs[REFERENCE_LATENCY_ATTR])
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    events = sorted(
        (step.trial_number, chain, trials[step.head_trial_number].values[1] / reference)
        for chain in range(len(weights))
        for step in chain_history(study, chain)
        if step.head_trial_number is not None
    )
    heads: dict[int, float] = {}
    found = []
    for _, chain, latency in events:
        heads[chain] = latency
        if len(heads) < len(weights):
            continue
        for i, j in itertools.combinations(range(len(weights)), 2):
            found.append(swap_acceptance(weights[i], weights[j], heads[i], heads[j], temperature))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", required=True, help="Optuna storage URL")
    parser.add_argument("--study", action="append", required=True, help="an AMED study name")
    parser.add_argument("--latency-weights", default="2,0.5,8,0.1,0.02")
    parser.add_argument("--temperature", type=float, default=0.01)
    args = parser.parse_args(argv)
    weights = [float(w) for w in args.latency_weights.split(",")]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    found: list[float] = []
    for name in args.study:
        try:
            study = optuna.load_study(study_name=name, storage=args.storage)
        except KeyError:
            print(f"swap_acceptance: error: no study {name!r} in {args.storage}", file=sys.stderr)
            return 2
        found += swap_probabilities(study, weights, args.temperature)
    if not found:
        print("swap_acceptance: error: no step with every chain at a head", file=sys.stderr)
        return 2
    print(
        f"{len(found)} chain pairs: median acceptance {statistics.median(found):.2g}, "
        f"share above 0.5 {sum(p > 0.5 for p in found) / len(found):.3f}, "
        f"share below 0.001 {sum(p < 1e-3 for p in found) / len(found):.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
