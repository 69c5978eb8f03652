"""The AMED chains of one study, step by step, read back from the sampler's stored records.

`chain_summaries` walks every chain with `amed_opt.samplers.chain_history` up to the plan's
budget: moves, acceptances, temperatures, the head after each step (the trace the report and
`chains.png` show) and every proposal.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from collections.abc import Sequence
from collections.abc import Set
from typing import TYPE_CHECKING

from optuna.trial import TrialState

from amed_opt.compare._types import ChainSummary
from amed_opt.compare._types import Point
from amed_opt.samplers import WEIGHTS_KEY
from amed_opt.samplers import chain_history
from amed_opt.study.score import quality_score


if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

    from amed_opt.samplers import ChainStep
    from amed_opt.samplers import QualityScore
    from amed_opt.study.spec import StudySpec

CHAIN_ATTR = "mh_chain"
"""Trial user attribute the AMED sampler records the chain of a proposal in."""


def chain_weights(study: optuna.Study, spec: StudySpec) -> tuple[float, ...]:
    """The latency weight of each chain of an AMED `study`, in chain order.

    Weights read off the uniform front (`chain_weights = "uniform-front"`) are stored in the
    study once its start candidates finished; until then, and for fixed weights, the spec's.
    """
    stored = study._storage.get_study_system_attrs(study._study_id).get(WEIGHTS_KEY)
    return spec.sampler.latency_weights if stored is None else tuple(float(w) for w in stored)


def chain_summaries(
    study: optuna.Study,
    spec: StudySpec,
    counted: Set[int],
    reference_ms: float,
    reference_uj: float | None = None,
) -> list[ChainSummary]:
    """Every chain of an AMED `study`, cut at the budget.

    Args:
        study: A study run by the AMED sampler.
        spec: Its spec (the chains' latency weights, the score's threshold and slope).
        counted: Numbers of the trials within the budget; a chain stops at its first step
            outside it (an adopted start, another chain's trial, always counts).
        reference_ms: Latency of uniform 8 bits.
        reference_uj: Energy of uniform 8 bits (needed when energy is an objective).
    """
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    chain_ids = sorted(
        {int(t.user_attrs[CHAIN_ATTR]) for t in by_number.values() if CHAIN_ATTR in t.user_attrs}
    )
    weights = chain_weights(study, spec)
    summaries = []
    for chain in chain_ids:
        weight = weights[chain] if chain < len(weights) else math.nan
        score = (
            quality_score(spec, reference_ms, weight, reference_uj=reference_uj)
            if math.isfinite(weight)
            else None
        )
        steps = chain_history(study, chain)
        summaries.append(
            _summary(chain, weight, score, steps, by_number, counted, reference_ms, reference_uj)
        )
    return summaries


def _summary(
    chain: int,
    weight: float,
    score: QualityScore | None,
    steps: Sequence[ChainStep],
    by_number: Mapping[int, FrozenTrial],
    counted: Set[int],
    reference_ms: float,
    reference_uj: float | None,
) -> ChainSummary:
    trace: list[list[float]] = []
    proposals: list[list[float]] = []
    moves = accepted = 0
    alphas: list[float] = []
    temperatures: list[float] = []
    for step in steps:
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
        point = Point.of_trial(head, reference_ms, reference_uj)
        quality = score(head.values) if score is not None else math.nan
        trace.append(
            [step.step, head.number, point.accuracy, point.latency, point.mean_bits, quality]
        )
    return ChainSummary(
        chain=chain,
        latency_weight=weight,
        moves=moves,
        accepted=accepted,
        mean_alpha=statistics.fmean(alphas) if alphas else math.nan,
        temperatures=(temperatures[0], temperatures[-1]) if temperatures else (0.0, 0.0),
        trace=trace,
        proposals=proposals,
    )
