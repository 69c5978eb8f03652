"""Reading a comparison back from its storage: hypervolumes, best scores, fronts, chains.

Everything here is computed from what the objective and the samplers stored (trial values, user
and system attributes, the per-image results that paired tests use), so a report can be rebuilt
at any time, from a finished or an interrupted comparison, without torch. Histories are indexed
by finished trials and cut at the plan's budget, so every sampler is judged on the same number
of trials (`_studies`). The value types live in `_types` and are re-exported here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import optuna
from optuna.trial import TrialState

from amed_opt.compare._chains import chain_weights
from amed_opt.compare._plan import LAYER_INFO_ATTR
from amed_opt.compare._studies import sampler_summary
from amed_opt.compare._studies import study_summary
from amed_opt.compare._types import Analysis
from amed_opt.compare._types import ChainSummary
from amed_opt.compare._types import Point
from amed_opt.compare._types import SamplerSummary
from amed_opt.compare._types import Spread
from amed_opt.compare._types import StudySummary
from amed_opt.study.bits import weight_bits_of
from amed_opt.study.hypervolume import hypervolume
from amed_opt.study.naming import REFERENCE_ENERGY_ATTR
from amed_opt.study.naming import REFERENCE_LATENCY_ATTR
from amed_opt.study.naming import describe_sampler
from amed_opt.study.naming import study_name
from amed_opt.study.paired import ImageOutcomes
from amed_opt.study.paired import McNemar
from amed_opt.study.paired import mcnemar
from amed_opt.study.paired import outcomes_of
from amed_opt.study.pareto import is_feasible
from amed_opt.study.score import quality_score
from amed_opt.study.spec import AccuracyModel
from amed_opt.study.spec import SamplerName


if TYPE_CHECKING:
    from amed_opt.compare._plan import ComparisonPlan

__all__ = [
    "Analysis",
    "ChainSummary",
    "Point",
    "SamplerSummary",
    "Spread",
    "StudySummary",
    "analyse_comparison",
]


def _reference_ms(study: optuna.Study) -> float:
    return float(study.user_attrs.get(REFERENCE_LATENCY_ATTR, math.nan))


def _reference_uj(study: optuna.Study) -> float | None:
    value = study.user_attrs.get(REFERENCE_ENERGY_ATTR)
    return None if value is None else float(value)


@dataclasses.dataclass
class _Uniform:
    """What the uniform study holds: its feasible allocations by bitwidth (costs not yet
    normalised), their per-image results, the layer metadata, the reference costs."""

    points: dict[int, Point] = dataclasses.field(default_factory=dict)
    outcomes: dict[int, ImageOutcomes] = dataclasses.field(default_factory=dict)
    layers: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    reference_ms: float = math.nan
    reference_uj: float | None = None


def _read_uniform(storage: optuna.storages.BaseStorage, name: str) -> _Uniform:
    """The uniform allocations of the uniform study `name`."""
    study = optuna.load_study(study_name=name, storage=storage)
    found = _Uniform(
        layers=list(study.user_attrs.get(LAYER_INFO_ATTR, [])),
        reference_ms=_reference_ms(study),
        reference_uj=_reference_uj(study),
    )
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.COMPLETE and is_feasible(trial):
            point = Point.of_trial(trial, found.reference_ms, found.reference_uj)
            bits = weight_bits_of(point.bits)[1]
            found.points[bits] = point
            outcomes = outcomes_of(trial.user_attrs)
            if outcomes is not None:
                found.outcomes[bits] = outcomes
    return found


def _best_versus_amed(
    samplers: Sequence[SamplerSummary], studies: dict[tuple[str, int], optuna.Study]
) -> list[SamplerSummary]:
    """Each baseline with McNemar's test of AMED's best-Q trial against its own, when both
    stored their per-image results."""
    amed = next((s for s in samplers if s.sampler == "amed"), None)
    ours = _best_outcomes(amed, studies) if amed is not None else None
    if ours is None:
        return list(samplers)
    tested = []
    for summary in samplers:
        theirs = _best_outcomes(summary, studies) if summary is not amed else None
        test: McNemar | None = None if theirs is None else mcnemar(ours, theirs)
        tested.append(dataclasses.replace(summary, best_versus_amed=test))
    return tested


def _best_outcomes(
    summary: SamplerSummary, studies: dict[tuple[str, int], optuna.Study]
) -> ImageOutcomes | None:
    if summary.best is None or (summary.sampler, summary.best[0]) not in studies:
        return None
    seed, point = summary.best
    study = studies[summary.sampler, seed]
    trial = next((t for t in study.get_trials(deepcopy=False) if t.number == point.trial), None)
    return None if trial is None else outcomes_of(trial.user_attrs)


def analyse_comparison(plan: ComparisonPlan, storage: optuna.storages.BaseStorage) -> Analysis:
    """Read every study of `plan` from `storage` and summarise it.

    Studies that do not exist yet are reported with no trials.

    Raises:
        ValueError: If no study of the plan holds the uniform 8-bit reference latency.
    """
    names = {s.study_name for s in optuna.get_all_study_summaries(storage, False)}
    found = _Uniform()
    if plan.uniform_study_name in names:
        found = _read_uniform(storage, plan.uniform_study_name)
    reference_ms, reference_uj = found.reference_ms, found.reference_uj

    loaded: list[tuple[SamplerName, int, optuna.Study]] = []
    for seed in plan.seeds:
        for sampler in plan.samplers:
            name = study_name(plan.study_spec(sampler, seed))
            if name in names:
                study = optuna.load_study(study_name=name, storage=storage)
                loaded.append((sampler, seed, study))
                if not math.isfinite(reference_ms):
                    reference_ms, reference_uj = _reference_ms(study), _reference_uj(study)
    if not math.isfinite(reference_ms) or reference_ms <= 0:
        raise ValueError(
            f"no study of comparison {plan.label!r} in {plan.storage_url} records the uniform "
            "8-bit latency; run the comparison first"
        )
    if "energy_uj" in plan.spec.objectives and not reference_uj:
        raise ValueError(
            f"no study of comparison {plan.label!r} in {plan.storage_url} records the uniform "
            "8-bit energy that energy_uj is normalised by; run the comparison first"
        )
    uniform = {bits: p.normalised(reference_ms, reference_uj) for bits, p in found.points.items()}

    # The chains' own weights: with `chain_weights = "uniform-front"` they are the ones each
    # AMED study stored, not the spec's fallback.
    chained = [
        chain_weights(study, plan.study_spec(sampler, seed))
        for sampler, seed, study in loaded
        if sampler is SamplerName.AMED
    ] or [plan.spec.sampler.latency_weights]
    weights = sorted({plan.latency_weight, *(w for ws in chained for w in ws)})
    summaries = [
        study_summary(
            study,
            plan.study_spec(sampler, seed),
            plan.n_trials,
            plan.latency_weight,
            reference_ms,
            weights,
            uniform,
            reference_uj,
            uniform_outcomes=found.outcomes,
        )
        for sampler, seed, study in loaded
    ]
    uniform_hv = hypervolume([p.hv_point for p in uniform.values()])
    amed = [s for s in summaries if s.sampler == "amed"]
    samplers = [
        sampler_summary(
            sampler,
            describe_sampler(plan.study_spec(sampler, plan.spec.seed)),
            [s for s in summaries if s.sampler == sampler.value],
            uniform_hv=uniform_hv,
            amed=amed,
        )
        for sampler in plan.samplers
    ]
    samplers = _best_versus_amed(
        samplers, {(sampler.value, seed): study for sampler, seed, study in loaded}
    )
    headline = quality_score(
        plan.spec, reference_ms, plan.latency_weight, reference_uj=reference_uj
    )
    return Analysis(
        label=plan.label,
        n_trials=plan.n_trials,
        reference_latency_ms=reference_ms,
        latency_weight=plan.latency_weight,
        weights=list(weights),
        q_threshold=headline.accuracy_threshold,
        q_slope=headline.penalty_slope,
        studies=summaries,
        samplers=samplers,
        uniform=uniform,
        uniform_hv=uniform_hv,
        layers=found.layers,
        reference_energy_uj=reference_uj,
        q_energy_weight=headline.energy_weight,
        # synthetic accuracy is a formula, not a count over images: no binomial error
        validation_images=(
            0
            if plan.spec.evaluator.accuracy_model is AccuracyModel.SYNTHETIC
            else plan.spec.data.validation_images
        ),
    )
