"""The sampler factory: the spec's sampler over the study's search space, every argument pinned.

The baselines' arguments are written out rather than left to Optuna's defaults, because Optuna 5
changed TPE's defaults (multivariate, constant liar); a comparison must not change meaning with
the Optuna version (METHOD.md §10).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import optuna
from optuna.samplers import BaseSampler

from amed_opt.samplers import BestOfCandidates
from amed_opt.samplers import Boundary
from amed_opt.samplers import ChainSettings
from amed_opt.samplers import ConstantTemperature
from amed_opt.samplers import FixedStart
from amed_opt.samplers import FrontWeights
from amed_opt.samplers import GeometricAnnealing
from amed_opt.samplers import GreedySampler
from amed_opt.samplers import MetropolisHastingsSampler
from amed_opt.samplers import ProposalSettings
from amed_opt.study.proposal_weights import cost_weights
from amed_opt.study.score import quality_scores
from amed_opt.study.search_space import BitSearchSpace
from amed_opt.study.search_space import size_filter
from amed_opt.study.search_space import uniform_ladder
from amed_opt.study.sensitivity import probed_start
from amed_opt.study.sensitivity import start_budget
from amed_opt.study.spec import ChainStart
from amed_opt.study.spec import ChainWeights
from amed_opt.study.spec import LayerChoice
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import SmallMoveOrder
from amed_opt.study.spec import StudySpec
from amed_opt.study.start_candidates import bridged_ladder


if TYPE_CHECKING:
    from hardware.protocol import HardwareModel


def build_sampler(
    spec: StudySpec,
    space: BitSearchSpace,
    *,
    reference_latency_ms: float,
    max_size_bytes: int | None,
    hardware: HardwareModel,
) -> BaseSampler:
    """The spec's sampler over `space`, with every argument pinned (METHOD.md §10).

    `hardware` prices the layers of `space` (`[sampler] layer_choice = "cost"` weighs the
    proposal's layers by the latency it says each can save).

    The baselines' arguments are written out rather than left to Optuna's defaults, because
    Optuna 5 changed TPE's defaults (multivariate, constant liar); a comparison must not change
    meaning with the Optuna version.
    """
    seed = spec.seed
    name = spec.sampler.name
    if name is SamplerName.AMED:
        settings = spec.sampler
        scores = quality_scores(spec, reference_latency_ms)
        temperature: ConstantTemperature | GeometricAnnealing
        if settings.annealing < 1.0:
            temperature = GeometricAnnealing(
                settings.temperature, settings.annealing, settings.min_temperature
            )
        else:
            temperature = ConstantTemperature(settings.temperature)
        # Highest bits first: trial 0 is the latency reference either way.
        ladder = uniform_ladder(space, max_size_bytes)
        start: FixedStart | BestOfCandidates
        if settings.start is ChainStart.BEST_UNIFORM:
            start = BestOfCandidates(ladder)
        elif settings.start is ChainStart.BEST_BRIDGED:
            start = BestOfCandidates(bridged_ladder(hardware, space, max_size_bytes))
        elif settings.start is ChainStart.PROBED:
            max_probes, max_picks = start_budget(
                spec.n_trials, len(ladder), len(space.searched_layers), len(scores)
            )
            first, model = probed_start(
                hardware,
                space,
                max_size_bytes,
                latency_weights=settings.latency_weights,
                max_probes=max_probes,
                accuracy_index=spec.objectives.index("accuracy"),
                max_picks=max_picks,
            )
            start = BestOfCandidates(first, derive=model)
        else:
            start = FixedStart(ladder[0])
        return MetropolisHastingsSampler(
            search_space=space.distributions(),
            chains=ChainSettings(
                score=(
                    FrontWeights(scores[0], settings.latency_weights)
                    if settings.chain_weights is ChainWeights.UNIFORM_FRONT
                    else scores
                ),
                temperature=temperature,
            ),
            proposal=ProposalSettings(
                n_flips=settings.n_flips,
                boundary=Boundary(settings.boundary.value),
                proposal_filter=(
                    None if max_size_bytes is None else size_filter(space, max_size_bytes)
                ),
                layer_weights=(
                    cost_weights(hardware, space)
                    if settings.layer_choice is LayerChoice.COST
                    else None
                ),
                transfer_share=settings.transfer_share,
                small_move_share=settings.small_move_share,
                scan_small_moves=settings.small_move_order is SmallMoveOrder.SCAN,
            ),
            start=start,
            seed=seed,
        )
    if name is SamplerName.TPE:
        return optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=10,
            n_ei_candidates=24,
            multivariate=True,
            group=False,
            constant_liar=False,
        )
    if name is SamplerName.NSGA2:
        return optuna.samplers.NSGAIISampler(
            seed=seed,
            population_size=20,
            mutation_prob=None,
            crossover=optuna.samplers.nsgaii.UniformCrossover(swapping_prob=0.5),
            crossover_prob=0.9,
            swapping_prob=0.5,
        )
    if name is SamplerName.GREEDY:
        # Q at the study's first latency weight picks the start among the uniform ladder,
        # which `open_study` enqueues (all of it with `start = "best-uniform"`, else 8 bits).
        return GreedySampler(
            search_space=space.distributions(),
            score=quality_scores(spec, reference_latency_ms)[0],
            candidates=uniform_ladder(space, max_size_bytes),
            proposal_filter=(
                None if max_size_bytes is None else size_filter(space, max_size_bytes)
            ),
            seed=seed,
        )
    return optuna.samplers.RandomSampler(seed=seed)
