"""Summaries of one (sampler, seed) study and of one sampler over its seeds.

A study is judged on its first `n_trials` finished trials (COMPLETE or PRUNED, in trial order;
failed trials are retried by the runner and do not count): its hypervolume and best `Q` after
every trial, its best trials, its Pareto front, and which uniform allocations it dominates,
with the dominating trial paired with the uniform allocation on the same validation images
(McNemar's exact test, `amed_opt.study.paired`). A sampler's summary aggregates its studies over
seeds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING

from amed_opt.compare._chains import chain_summaries
from amed_opt.compare._types import BASES
from amed_opt.compare._types import NO_IMAGES
from amed_opt.compare._types import ON_ACCURACY
from amed_opt.compare._types import ON_COST
from amed_opt.compare._types import WITHIN_NOISE
from amed_opt.compare._types import ChainSummary
from amed_opt.compare._types import Domination
from amed_opt.compare._types import Paired
from amed_opt.compare._types import Point
from amed_opt.compare._types import SamplerSummary
from amed_opt.compare._types import Spread
from amed_opt.compare._types import StudySummary
from amed_opt.study.hypervolume import REFERENCE
from amed_opt.study.hypervolume import hypervolume_history
from amed_opt.study.hypervolume import trial_points
from amed_opt.study.paired import mcnemar
from amed_opt.study.paired import outcomes_of
from amed_opt.study.pareto import dominates
from amed_opt.study.pareto import pareto_front
from amed_opt.study.score import quality_score
from amed_opt.study.spec import SamplerName


if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

    from amed_opt.study.paired import ImageOutcomes
    from amed_opt.study.spec import StudySpec


def study_summary(
    study: optuna.Study,
    spec: StudySpec,
    n_trials: int,
    latency_weight: float,
    reference_ms: float,
    weights: Sequence[float],
    uniform: Mapping[int, Point],
    reference_uj: float | None = None,
    uniform_outcomes: Mapping[int, ImageOutcomes] | None = None,
) -> StudySummary:
    """Summarise `study` (run from `spec`) at a budget of `n_trials` finished trials.

    Args:
        study: The study.
        spec: Its spec.
        n_trials: The budget.
        latency_weight: `lambda` of the headline `Q`.
        reference_ms: Latency of uniform 8 bits.
        weights: Every `lambda` a best `Q` is reported for.
        uniform: The uniform allocations, by bitwidth.
        reference_uj: Energy of uniform 8 bits (needed when energy is an objective).
        uniform_outcomes: The uniform allocations' per-image results, by bitwidth (those
            measured without images are absent).
    """
    trials = study.get_trials(deepcopy=False)
    rows = trial_points(trials, reference_ms, reference_uj)[:n_trials]
    counted = {number for number, _ in rows}
    by_number = {t.number: t for t in trials}
    points = [
        Point.of_trial(by_number[n], reference_ms, reference_uj) for n, p in rows if p is not None
    ]
    nothing = REFERENCE.corner(len(spec.objectives))
    hv_history = hypervolume_history([p if p is not None else nothing for _, p in rows])
    headline = quality_score(spec, reference_ms, latency_weight, reference_uj=reference_uj)
    best_q_history: list[float] = []
    best = -math.inf
    best_point: Point | None = None
    for number, point in rows:
        if point is not None:
            trial = by_number[number]
            quality = headline(trial.values)
            if quality > best:
                best, best_point = quality, Point.of_trial(trial, reference_ms, reference_uj)
        best_q_history.append(best)
    best_by_weight = {
        f"{weight:g}": max(
            (
                quality_score(spec, reference_ms, weight, reference_uj=reference_uj)(
                    by_number[p.trial].values
                )
                for p in points
            ),
            default=math.nan,
        )
        for weight in weights
    }
    uniform_allocations = {point.bits for point in uniform.values()}
    mixed = [p for p in points if p.bits not in uniform_allocations]
    found = dominations(mixed, by_number, uniform, uniform_outcomes or {})
    dominated = {bits: any(d.uniform_bits == bits for d in found) for bits in sorted(uniform)}
    best_mixed: tuple[float, Point] | None = None
    for p in mixed:  # The earliest trial among equal scores, like `best`.
        quality = headline(by_number[p.trial].values)
        if best_mixed is None or quality > best_mixed[0]:
            best_mixed = (quality, p)
    counted_trials = [by_number[n] for n in counted]
    chains: list[ChainSummary] = []
    if spec.sampler.name is SamplerName.AMED:
        chains = chain_summaries(study, spec, counted, reference_ms, reference_uj)
    return StudySummary(
        sampler=spec.sampler.name.value,
        seed=spec.seed,
        study_name=study.study_name,
        finished=len(rows),
        hv_history=hv_history,
        best_q_history=best_q_history,
        best_q_by_weight=best_by_weight,
        best=best_point,
        best_mixed=None if best_mixed is None else best_mixed[1],
        best_mixed_q=math.nan if best_mixed is None else best_mixed[0],
        front=pareto_front(points, lambda p: p.objectives, tie_break=lambda p: p.trial),
        uniform_dominated=dominated,
        trial_seconds=sum(_seconds(t) for t in counted_trials),
        evaluation_seconds=sum(
            float(t.user_attrs.get("evaluation_s", 0.0)) for t in counted_trials
        ),
        chains=chains,
        dominations=found,
    )


def dominations(
    mixed: Sequence[Point],
    trials: Mapping[int, FrozenTrial],
    uniform: Mapping[int, Point],
    uniform_outcomes: Mapping[int, ImageOutcomes],
) -> list[Domination]:
    """For each uniform allocation that a point of `mixed` dominates, by bitwidth, the firmest
    domination (`Domination.trial`), paired with the uniform allocation on the images when both
    stored their per-image results (`trials` holds the points' trials by number)."""
    found = []
    for bits, point in sorted(uniform.items()):
        candidates = [
            _domination(bits, p, point, trials[p.trial], uniform_outcomes.get(bits))
            for p in mixed
            if dominates(p.objectives, point.objectives)
        ]
        if candidates:
            found.append(
                min(
                    candidates,
                    key=lambda d: (
                        BASES.index(d.basis),
                        -d.accuracy_gain,
                        d.latency_ratio,
                        d.trial,
                    ),
                )
            )
    return found


def _domination(
    bits: int, point: Point, uniform: Point, trial: FrozenTrial, theirs: ImageOutcomes | None
) -> Domination:
    ours = outcomes_of(trial.user_attrs)
    test = None if ours is None or theirs is None else mcnemar(ours, theirs)
    cheaper = any(a < b for a, b in zip(point.objectives[1:], uniform.objectives[1:], strict=True))
    if test is None:
        basis = NO_IMAGES
    elif test.significant and test.b > test.c:
        basis = ON_ACCURACY
    else:
        basis = ON_COST if cheaper else WITHIN_NOISE
    return Domination(
        uniform_bits=bits,
        trial=point.trial,
        accuracy_gain=point.accuracy - uniform.accuracy,
        latency_ratio=point.latency_ms / uniform.latency_ms,
        test=test,
        basis=basis,
    )


def _seconds(trial: FrozenTrial) -> float:
    if trial.datetime_start is None or trial.datetime_complete is None:
        return 0.0
    return (trial.datetime_complete - trial.datetime_start).total_seconds()


def curve(histories: Sequence[Sequence[float]]) -> list[list[float]]:
    """Per index: `[mean, min, max]` over the histories long enough (NaN where none is)."""
    length = max((len(h) for h in histories), default=0)
    spreads = [Spread.of([h[k] for h in histories if k < len(h)]) for k in range(length)]
    return [[s.mean, s.low, s.high] for s in spreads]


def paired(amed: Sequence[StudySummary], studies: Sequence[StudySummary]) -> Paired:
    """AMED's final hypervolume and best `Q` minus those of `studies`, seed by seed (on the
    seeds where both finished a trial)."""
    theirs = {s.seed: s for s in studies if s.finished}
    pairs = [(ours, theirs[ours.seed]) for ours in amed if ours.finished and ours.seed in theirs]
    hv = [a.final_hv - b.final_hv for a, b in pairs]
    best_q = [a.final_best_q - b.final_best_q for a, b in pairs]
    return Paired(
        seeds=[a.seed for a, _ in pairs],
        hv=hv,
        best_q=best_q,
        hv_spread=Spread.of(hv),
        best_q_spread=Spread.of(best_q),
    )


def sampler_summary(
    sampler: SamplerName,
    description: str,
    studies: Sequence[StudySummary],
    *,
    uniform_hv: float = math.nan,
    amed: Sequence[StudySummary] = (),
) -> SamplerSummary:
    """Aggregate `sampler`'s studies over seeds (those that finished no trial are left out).

    `uniform_hv` is the hypervolume of the uniform allocations alone (the gain is measured from
    it); `amed` are AMED's studies, which a baseline is paired with seed by seed.
    """
    ran = [s for s in studies if s.finished]
    weights = sorted({key for s in ran for key in s.best_q_by_weight}, key=float)
    best: tuple[int, Point] | None = None
    best_q = -math.inf
    for summary in ran:
        if summary.best is not None and summary.final_best_q > best_q:
            best_q, best = summary.final_best_q, (summary.seed, summary.best)
    uniform_bits = sorted({bits for s in ran for bits in s.uniform_dominated})
    return SamplerSummary(
        sampler=sampler.value,
        description=description,
        seeds=[s.seed for s in ran],
        hv=Spread.of([s.final_hv for s in ran]),
        best_q=Spread.of([s.final_best_q for s in ran]),
        best_mixed_q=Spread.of([s.best_mixed_q for s in ran]),
        best_q_by_weight={
            key: Spread.of([s.best_q_by_weight.get(key, math.nan) for s in ran]) for key in weights
        },
        hv_curve=curve([s.hv_history for s in ran]),
        q_curve=curve([s.best_q_history for s in ran]),
        uniform_dominated={
            bits: sum(s.uniform_dominated.get(bits, False) for s in ran) for bits in uniform_bits
        },
        best=best,
        hv_gain=Spread.of([s.final_hv - uniform_hv for s in ran]),
        versus_amed=paired(amed, ran) if amed and sampler is not SamplerName.AMED else None,
    )
