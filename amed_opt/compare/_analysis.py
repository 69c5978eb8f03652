"""Reading a comparison back from its storage: hypervolumes, best scores, fronts, chains.

Everything here is computed from what the objective and the samplers stored (trial values, user
and system attributes), so a report can be rebuilt at any time, from a finished or an
interrupted comparison, without torch. Histories are indexed by finished trials and cut at the
plan's budget, so every sampler is judged on the same number of trials (`_studies`). The value
types live in `_types` and are re-exported here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
from typing import Any

import optuna
from optuna.trial import TrialState

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
from amed_opt.study.pareto import is_feasible
from amed_opt.study.score import quality_score


if TYPE_CHECKING:
    from amed_opt.compare._plan import ComparisonPlan
    from amed_opt.study.spec import SamplerName

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


def _read_uniform(
    storage: optuna.storages.BaseStorage, name: str
) -> tuple[dict[int, Point], list[dict[str, Any]], float, float | None]:
    """The feasible uniform allocations by bitwidth (costs not yet normalised), the layer
    metadata and the reference latency and energy of the uniform study `name`."""
    study = optuna.load_study(study_name=name, storage=storage)
    reference_ms = _reference_ms(study)
    reference_uj = _reference_uj(study)
    uniform: dict[int, Point] = {}
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.COMPLETE and is_feasible(trial):
            point = Point.of_trial(trial, reference_ms, reference_uj)
            uniform[weight_bits_of(point.bits)[1]] = point
    layers = list(study.user_attrs.get(LAYER_INFO_ATTR, []))
    return uniform, layers, reference_ms, reference_uj


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
    reference_uj: float | None = None
    if plan.uniform_study_name in names:
        uniform, layers, reference_ms, reference_uj = _read_uniform(
            storage, plan.uniform_study_name
        )

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
    uniform = {bits: p.normalised(reference_ms, reference_uj) for bits, p in uniform.items()}

    weights = sorted({plan.latency_weight, *plan.spec.sampler.latency_weights})
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
        layers=layers,
        reference_energy_uj=reference_uj,
        q_energy_weight=headline.energy_weight,
        validation_images=plan.spec.data.validation_images,
    )
