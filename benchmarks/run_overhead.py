"""What a trial of the main job costs besides measuring accuracy: sampler, simulator, storage.

Run: `python benchmarks/run_overhead.py [--study r18] [--trials 100] [--reference-trials 10]`

Two measurements in one run, on the study's real components (model layers, hardware preset,
float baseline from the cache, trained on first use):

1. The reference: the mean time of `--reference-trials` real evaluations (set the bits,
   re-estimate BatchNorm, measure validation accuracy) of random allocations, after every
   (layer, bitwidth) pair has been used once: the cost of a trial's useful work.
2. The overhead: the same study (same layers, hardware, sampler settings, SQLite in WAL mode,
   objective, user attributes, dashboard artifacts) run for `--trials` trials through
   `amed_opt.app.run_study`, with the accuracy measurement replaced by the synthetic model
   (`amed_opt.evaluation.synthetic`, ~0.1 ms), so that everything left is overhead. Time inside the
   sampler's methods and inside the simulator is measured by wrapping them; the rest is Optuna's
   trial bookkeeping and storage writes (parameters, values, attributes) plus the objective.

Prints milliseconds per trial for each part and its share of a real trial (reference + overhead).
Goal (issue #5): sampler, simulator and storage together under 5% of trial time.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import random
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from sampler_overhead import SAMPLER_METHODS  # benchmarks/ is on sys.path when run as a script

import amed_opt.evaluation.synthetic
from amed_opt import app
from amed_opt.evaluation.synthetic import SyntheticEvaluator
from amed_opt.samplers import MetropolisHastingsSampler
from amed_opt.study.spec import load_spec
from amed_opt.study.spec import with_overrides


class _Stopwatch:
    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="r18")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--reference-trials", type=int, default=10)
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/amed-opt"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    spec = load_spec(args.study)
    with tempfile.TemporaryDirectory() as tmp:
        options = app.RunOptions(cache_dir=args.cache_dir, results_dir=Path(tmp), progress=False)
        components = app.build_components(spec, options)

        rng = random.Random(0)
        space = components.space
        allocations = [
            space.to_bits(
                {name: rng.choice(space.candidate_bits) for name in space.distributions()}
            )
            for _ in range(args.reference_trials)
        ]
        # Warm-up: a (layer, bitwidth) pair computes its initial quantizer steps the first time
        # it is used; a study pays that once per pair, so the uniform allocations pay it here.
        for bits in space.candidate_bits:
            components.evaluator.evaluate(space.uniform_bits(bits))
        started = time.perf_counter()
        for bits in allocations:
            components.evaluator.evaluate(bits)
        reference_s = (time.perf_counter() - started) / args.reference_trials

        sampler_clock, simulator_clock = _Stopwatch(), _Stopwatch()
        for method in SAMPLER_METHODS:
            original = getattr(MetropolisHastingsSampler, method)
            setattr(MetropolisHastingsSampler, method, sampler_clock.wrap(original))
        amed_opt.evaluation.synthetic.price_allocation = simulator_clock.wrap(  # type: ignore[attr-defined]
            amed_opt.evaluation.synthetic.price_allocation
        )
        synthetic = SyntheticEvaluator(components.layers, components.hardware, seed=spec.seed)
        overhead_components = dataclasses.replace(components, evaluator=synthetic)
        overhead_spec = with_overrides(
            spec, n_trials=args.trials, storage=f"sqlite:///{tmp}/overhead.db"
        )
        result = app.run_study(overhead_spec, options, components=overhead_components)

    trials = result.trials_this_run
    total_ms = result.wall_seconds / trials * 1e3
    sampler_ms = sampler_clock.seconds / trials * 1e3
    simulator_ms = simulator_clock.seconds / trials * 1e3
    synthetic_ms = result.evaluation_seconds / trials * 1e3 - simulator_ms
    rest_ms = total_ms - sampler_ms - simulator_ms - synthetic_ms
    trial_ms = reference_s * 1e3 + total_ms - synthetic_ms
    print(f"study {spec.name}, preset {spec.hardware.preset}, {len(components.layers)} layers")
    print(
        f"reference: real evaluation {reference_s * 1e3:8.1f} ms per trial (mean of "
        f"{args.reference_trials} random allocations)"
    )
    print(f"overhead over {trials} trials (SQLite WAL, AMED sampler, artifacts on):")
    rows = [
        ("sampler (its methods, storage calls included)", sampler_ms),
        ("simulator (network latency and size)", simulator_ms),
        ("storage + Optuna bookkeeping + objective", rest_ms),
    ]
    for label, value in rows:
        print(f"  {label:48s} {value:7.2f} ms  {value / trial_ms:6.2%} of a trial")
    together = sampler_ms + simulator_ms + rest_ms
    print(
        f"  {'together':48s} {together:7.2f} ms  {together / trial_ms:6.2%} of a trial (goal < 5%)"
    )


if __name__ == "__main__":
    main()
