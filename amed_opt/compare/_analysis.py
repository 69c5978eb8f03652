"""Reading a comparison back from its storage: hypervolumes, best scores, fronts, chains.

Everything here is computed from what the objective and the samplers stored (trial values, user
and system attributes), so a report can be rebuilt at any time, from a finished or an
interrupted comparison, without torch. Histories are indexed by finished trials (COMPLETE or
PRUNED, in trial order; failed trials are retried by the runner and do not count) and cut at the
plan's budget, so every sampler is judged on the same number of trials.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

import optuna
from optuna.trial import TrialState

from amed_opt.hypervolume import REFERENCE
from amed_opt.hypervolume import hypervolume
from amed_opt.hypervolume import hypervolume_history
from amed_opt.hypervolume import trial_points
from amed_opt.report import is_feasible
from amed_opt.runner import describe_sampler
from amed_opt.runner import study_name
from amed_opt.samplers import QualityScore
from amed_opt.samplers import chain_history
from amed_opt.spec import SamplerName


if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from amed_opt.compare._plan import ComparisonPlan
    from amed_opt.spec import StudySpec

LAYER_INFO_ATTR = "layer_info"
"""User attribute of the uniform study: shape and per-bitwidth cycles of every layer."""


def weight_bits(compact: str) -> list[int]:
    """Weight bits per layer of a compact allocation string (`"8 4 3/8 8"` → `[8, 4, 3, 8]`)."""
    return [int(token.split("/")[0]) for token in compact.split()]


@dataclass(frozen=True, slots=True)
class Point:
    """One measured allocation.

    Attributes:
        trial: Trial number in its study.
        accuracy: Validation accuracy (fraction).
        latency_ms: Latency in milliseconds.
        latency: Latency over the uniform 8-bit latency.
        bits: Compact allocation string, in network order.
    """

    trial: int
    accuracy: float
    latency_ms: float
    latency: float
    bits: str

    @property
    def mean_bits(self) -> float:
        """Mean weight bits over the searched layers (all but the first and last)."""
        searched = weight_bits(self.bits)[1:-1] or weight_bits(self.bits)
        return sum(searched) / len(searched)


@dataclass(frozen=True, slots=True)
class Spread:
    """Mean, sample standard deviation, minimum and maximum over seeds."""

    mean: float
    std: float
    low: float
    high: float

    @staticmethod
    def of(values: Sequence[float]) -> Spread:
        """The spread of `values` (NaN everywhere when empty)."""
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return Spread(math.nan, math.nan, math.nan, math.nan)
        std = statistics.stdev(finite) if len(finite) > 1 else 0.0
        return Spread(statistics.fmean(finite), std, min(finite), max(finite))

    def text(self, digits: int = 4) -> str:
        """`mean ± std` with `digits` decimals."""
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"


@dataclass(frozen=True, slots=True)
class ChainSummary:
    """One AMED chain of one study.

    Attributes:
        chain: Chain id.
        latency_weight: The chain's `lambda`.
        moves: Decided proposals after the start (failed trials included).
        accepted: Accepted proposals.
        mean_alpha: Mean Metropolis-Hastings acceptance probability of the moves.
        temperatures: First and last temperature of the moves.
        trace: Per step: `[step, trial, head accuracy, head latency, head mean bits, head Q]`
            (head after the step, `Q` at the chain's own `lambda`).
        proposals: Per step: `[step, trial, accuracy, latency, accepted]` of the proposal
            (accuracy and latency `NaN` when the trial did not complete).
    """

    chain: int
    latency_weight: float
    moves: int
    accepted: int
    mean_alpha: float
    temperatures: tuple[float, float]
    trace: list[list[float]]
    proposals: list[list[float]]

    @property
    def acceptance_rate(self) -> float:
        """Accepted over decided moves (NaN without moves)."""
        return self.accepted / self.moves if self.moves else math.nan


@dataclass(frozen=True, slots=True)
class StudySummary:
    """One (sampler, seed) study at the plan's budget.

    Attributes:
        sampler: Sampler name.
        seed: Sampler seed.
        study_name: Name in the storage.
        finished: Finished trials counted (at most the budget).
        hv_history: Hypervolume after each finished trial.
        best_q_history: Best `Q` (report `lambda`) after each finished trial.
        best_q_by_weight: Best `Q` at each reported `lambda`.
        best: The trial of best `Q` (report `lambda`).
        best_mixed: The trial of best `Q` among its non-uniform allocations, so that a sampler
            whose best trial is a uniform start is judged on what it found.
        best_mixed_q: That trial's `Q` (NaN when every trial is uniform).
        front: Its Pareto front, by latency.
        uniform_dominated: Per uniform bitwidth, whether a non-uniform trial of this study
            dominates that uniform allocation.
        trial_seconds: Summed wall time of the counted trials (start to complete).
        evaluation_seconds: Summed evaluator time of the counted trials (memo hits are ~0).
        chains: The AMED chains (empty for other samplers).
    """

    sampler: str
    seed: int
    study_name: str
    finished: int
    hv_history: list[float]
    best_q_history: list[float]
    best_q_by_weight: dict[str, float]
    best: Point | None
    best_mixed: Point | None
    best_mixed_q: float
    front: list[Point]
    uniform_dominated: dict[int, bool]
    trial_seconds: float
    evaluation_seconds: float
    chains: list[ChainSummary] = field(default_factory=list)

    @property
    def final_hv(self) -> float:
        """Hypervolume at the end of the budget (NaN when nothing finished)."""
        return self.hv_history[-1] if self.hv_history else math.nan

    @property
    def final_best_q(self) -> float:
        """Best `Q` at the end of the budget (NaN when nothing finished)."""
        return self.best_q_history[-1] if self.best_q_history else math.nan


@dataclass(frozen=True, slots=True)
class SamplerSummary:
    """One sampler over its seeds.

    Attributes:
        sampler: Sampler name.
        description: The pinned settings, in words.
        seeds: Seeds with at least one finished trial.
        hv: Final hypervolume over seeds.
        best_q: Final best `Q` (report `lambda`) over seeds.
        best_mixed_q: Final best `Q` over non-uniform allocations, over seeds.
        best_q_by_weight: Final best `Q` per reported `lambda`, over seeds.
        hv_curve: Per finished-trial count: `[mean, min, max]` hypervolume over seeds.
        q_curve: The same for best `Q`.
        uniform_dominated: Per uniform bitwidth, the number of seeds whose search dominates it.
        best: The best-`Q` trial over all seeds, with its seed.
    """

    sampler: str
    description: str
    seeds: list[int]
    hv: Spread
    best_q: Spread
    best_mixed_q: Spread
    best_q_by_weight: dict[str, Spread]
    hv_curve: list[list[float]]
    q_curve: list[list[float]]
    uniform_dominated: dict[int, int]
    best: tuple[int, Point] | None


@dataclass(frozen=True, slots=True)
class Analysis:
    """A whole comparison, read from its storage.

    Attributes:
        label: The comparison's name.
        n_trials: Budget per study.
        reference_latency_ms: Latency of uniform 8 bits (the normalisation).
        latency_weight: `lambda` of the headline score.
        weights: Every `lambda` a best `Q` is reported for.
        q_threshold: Accuracy threshold of `Q` (`None`: no penalty).
        q_slope: Penalty slope of `Q`.
        studies: Per (sampler, seed).
        samplers: Per sampler, in plan order.
        uniform: The uniform allocations, by bitwidth.
        uniform_hv: Hypervolume of the uniform allocations alone.
        layers: Layer metadata (name, kind, weights, per-bitwidth cycles and bounds).
    """

    label: str
    n_trials: int
    reference_latency_ms: float
    latency_weight: float
    weights: list[float]
    q_threshold: float | None
    q_slope: float
    studies: list[StudySummary]
    samplers: list[SamplerSummary]
    uniform: dict[int, Point]
    uniform_hv: float
    layers: list[dict[str, Any]]

    def sampler(self, name: str) -> SamplerSummary | None:
        """The summary of sampler `name`, if it ran."""
        return next((s for s in self.samplers if s.sampler == name), None)


def _score(spec: StudySpec, reference_ms: float, weight: float) -> QualityScore:
    settings = spec.sampler
    return QualityScore(
        latency_reference=reference_ms,
        latency_weight=weight,
        accuracy_threshold=settings.accuracy_threshold or None,
        penalty_slope=settings.penalty_slope,
    )


def _dominates(point: Point, other: Point) -> bool:
    return (
        point.accuracy >= other.accuracy
        and point.latency_ms <= other.latency_ms
        and (point.accuracy > other.accuracy or point.latency_ms < other.latency_ms)
    )


def _front(points: Sequence[Point]) -> list[Point]:
    ordered = sorted(points, key=lambda p: (p.latency_ms, -p.accuracy, p.trial))
    front: list[Point] = []
    for point in ordered:
        if not front or point.accuracy > front[-1].accuracy:
            front.append(point)
    return front


def _point(trial: FrozenTrial, reference_ms: float) -> Point:
    accuracy, latency_ms = trial.values
    return Point(
        trial=trial.number,
        accuracy=float(accuracy),
        latency_ms=float(latency_ms),
        latency=float(latency_ms) / reference_ms,
        bits=str(trial.user_attrs.get("bits", "")),
    )


def _seconds(trial: FrozenTrial) -> float:
    if trial.datetime_start is None or trial.datetime_complete is None:
        return 0.0
    return (trial.datetime_complete - trial.datetime_start).total_seconds()


def _chains(
    study: optuna.Study, spec: StudySpec, counted: set[int], reference_ms: float
) -> list[ChainSummary]:
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    chain_ids = sorted(
        {int(t.user_attrs["mh_chain"]) for t in by_number.values() if "mh_chain" in t.user_attrs}
    )
    weights = spec.sampler.latency_weights
    summaries = []
    for chain in chain_ids:
        weight = weights[chain] if chain < len(weights) else math.nan
        score = _score(spec, reference_ms, weight) if math.isfinite(weight) else None
        trace: list[list[float]] = []
        proposals: list[list[float]] = []
        moves = accepted = 0
        alphas: list[float] = []
        temperatures: list[float] = []
        for step in chain_history(study, chain):
            if step.trial_number not in counted and step.kind != "adopted":
                break  # beyond the budget
            if step.kind == "move":
                moves += 1
                accepted += step.accepted
                alphas.append(step.acceptance_probability)
                if step.temperature is not None:
                    temperatures.append(step.temperature)
            proposal = by_number.get(step.trial_number)
            p_acc = p_lat = math.nan
            if proposal is not None and proposal.state == TrialState.COMPLETE:
                p_acc = float(proposal.values[0])
                p_lat = float(proposal.values[1]) / reference_ms
            proposals.append([step.step, step.trial_number, p_acc, p_lat, float(step.accepted)])
            head_number = step.head_trial_number
            head = by_number.get(head_number) if head_number is not None else None
            if head is None or head.values is None:
                continue
            head_point = _point(head, reference_ms)
            quality = score(head.values) if score is not None else math.nan
            trace.append(
                [
                    step.step,
                    head.number,
                    head_point.accuracy,
                    head_point.latency,
                    head_point.mean_bits,
                    quality,
                ]
            )
        summaries.append(
            ChainSummary(
                chain=chain,
                latency_weight=weight,
                moves=moves,
                accepted=accepted,
                mean_alpha=statistics.fmean(alphas) if alphas else math.nan,
                temperatures=(temperatures[0], temperatures[-1]) if temperatures else (0.0, 0.0),
                trace=trace,
                proposals=proposals,
            )
        )
    return summaries


def _study_summary(
    study: optuna.Study,
    spec: StudySpec,
    plan: ComparisonPlan,
    reference_ms: float,
    weights: Sequence[float],
    uniform: Mapping[int, Point],
) -> StudySummary:
    trials = study.get_trials(deepcopy=False)
    rows = trial_points(trials, reference_ms)[: plan.n_trials]
    counted = {number for number, _ in rows}
    by_number = {t.number: t for t in trials}
    points = [_point(by_number[n], reference_ms) for n, p in rows if p is not None]
    hv_history = hypervolume_history(
        [p if p is not None else (REFERENCE.accuracy, REFERENCE.latency) for _, p in rows]
    )
    headline = _score(spec, reference_ms, plan.latency_weight)
    best_q_history: list[float] = []
    best = -math.inf
    best_point: Point | None = None
    for number, point in rows:
        if point is not None:
            trial = by_number[number]
            quality = headline(trial.values)
            if quality > best:
                best, best_point = quality, _point(trial, reference_ms)
        best_q_history.append(best)
    best_by_weight = {
        f"{weight:g}": max(
            (_score(spec, reference_ms, weight)(by_number[p.trial].values) for p in points),
            default=math.nan,
        )
        for weight in weights
    }
    uniform_allocations = {point.bits for point in uniform.values()}
    mixed = [p for p in points if p.bits not in uniform_allocations]
    dominated = {bits: any(_dominates(p, u) for p in mixed) for bits, u in sorted(uniform.items())}
    best_mixed: tuple[float, Point] | None = None
    for p in mixed:  # The earliest trial among equal scores, like `best`.
        quality = headline(by_number[p.trial].values)
        if best_mixed is None or quality > best_mixed[0]:
            best_mixed = (quality, p)
    counted_trials = [by_number[n] for n in counted]
    chains: list[ChainSummary] = []
    if spec.sampler.name is SamplerName.AMED:
        chains = _chains(study, spec, counted, reference_ms)
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
        front=_front(points),
        uniform_dominated=dominated,
        trial_seconds=sum(_seconds(t) for t in counted_trials),
        evaluation_seconds=sum(
            float(t.user_attrs.get("evaluation_s", 0.0)) for t in counted_trials
        ),
        chains=chains,
    )


def _curve(histories: Sequence[Sequence[float]]) -> list[list[float]]:
    length = max((len(h) for h in histories), default=0)
    curve = []
    for k in range(length):
        values = [h[k] for h in histories if k < len(h) and math.isfinite(h[k])]
        if values:
            curve.append([statistics.fmean(values), min(values), max(values)])
        else:
            curve.append([math.nan, math.nan, math.nan])
    return curve


def _sampler_summary(
    plan: ComparisonPlan, sampler: SamplerName, studies: Sequence[StudySummary]
) -> SamplerSummary:
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
        description=describe_sampler(plan.study_spec(sampler, plan.spec.seed)),
        seeds=[s.seed for s in ran],
        hv=Spread.of([s.final_hv for s in ran]),
        best_q=Spread.of([s.final_best_q for s in ran]),
        best_mixed_q=Spread.of([s.best_mixed_q for s in ran]),
        best_q_by_weight={
            key: Spread.of([s.best_q_by_weight.get(key, math.nan) for s in ran]) for key in weights
        },
        hv_curve=_curve([s.hv_history for s in ran]),
        q_curve=_curve([s.best_q_history for s in ran]),
        uniform_dominated={
            bits: sum(s.uniform_dominated.get(bits, False) for s in ran) for bits in uniform_bits
        },
        best=best,
    )


def analyse_comparison(plan: ComparisonPlan, storage: optuna.storages.BaseStorage) -> Analysis:
    """Read every study of `plan` from `storage` and summarise it.

    Studies that do not exist yet are reported with no trials.

    Raises:
        ValueError: If no study of the plan holds the uniform 8-bit reference latency.
    """
    names = {s.study_name for s in optuna.get_all_study_summaries(storage, False)}
    uniform: dict[int, Point] = {}
    layers: list[dict[str, Any]] = []
    reference_ms = math.nan
    if plan.uniform_study_name in names:
        study = optuna.load_study(study_name=plan.uniform_study_name, storage=storage)
        reference_ms = float(study.user_attrs.get("reference_latency_ms", math.nan))
        layers = list(study.user_attrs.get(LAYER_INFO_ATTR, []))
        for trial in study.get_trials(deepcopy=False):
            if trial.state == TrialState.COMPLETE and is_feasible(trial):
                point = _point(trial, reference_ms)
                uniform[weight_bits(point.bits)[1]] = point

    loaded: list[tuple[SamplerName, int, optuna.Study]] = []
    for seed in plan.seeds:
        for sampler in plan.samplers:
            spec = plan.study_spec(sampler, seed)
            name = study_name(spec)
            if name in names:
                study = optuna.load_study(study_name=name, storage=storage)
                loaded.append((sampler, seed, study))
                if not math.isfinite(reference_ms):
                    reference_ms = float(study.user_attrs.get("reference_latency_ms", math.nan))
    if not math.isfinite(reference_ms) or reference_ms <= 0:
        raise ValueError(
            f"no study of comparison {plan.label!r} in {plan.storage_url} records the uniform "
            "8-bit latency; run the comparison first"
        )
    uniform = {
        bits: Point(p.trial, p.accuracy, p.latency_ms, p.latency_ms / reference_ms, p.bits)
        for bits, p in uniform.items()
    }

    weights = sorted({plan.latency_weight, *plan.spec.sampler.latency_weights})
    summaries = [
        _study_summary(study, plan.study_spec(sampler, seed), plan, reference_ms, weights, uniform)
        for sampler, seed, study in loaded
    ]
    samplers = [
        _sampler_summary(plan, sampler, [s for s in summaries if s.sampler == sampler.value])
        for sampler in plan.samplers
    ]
    uniform_hv = hypervolume([(p.accuracy, p.latency) for p in uniform.values()])
    spec = plan.spec
    return Analysis(
        label=plan.label,
        n_trials=plan.n_trials,
        reference_latency_ms=reference_ms,
        latency_weight=plan.latency_weight,
        weights=list(weights),
        q_threshold=spec.sampler.accuracy_threshold or None,
        q_slope=spec.sampler.penalty_slope,
        studies=summaries,
        samplers=samplers,
        uniform=uniform,
        uniform_hv=uniform_hv,
        layers=layers,
    )
