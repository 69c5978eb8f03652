"""What a study is called and what it measures: the names every part of amed-opt agrees on.

A study in the storage is one (spec, sampler, seed): `<spec name>-<sampler>-seed<seed>`. Its
objectives are `accuracy` (maximize) and `latency_ms` (minimize), in that order, and optionally
`energy_uj` (minimize); these names and
the study's `spec` user attribute are a stable interface read by the dashboard, `compare` and
`finetune`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from optuna.study import StudyDirection

from amed_opt.study.spec import ChainStart
from amed_opt.study.spec import ChainWeights
from amed_opt.study.spec import LayerChoice
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import SmallMoveOrder


if TYPE_CHECKING:
    from amed_opt.study.spec import StudySpec

METRIC_NAMES = ("accuracy", "latency_ms")
"""The objectives every study has, in the order the objective returns them (a study may add
`energy_uj`, see `SearchSpec.objectives`)."""
DIRECTIONS = (StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE)
"""Their directions."""


def directions(objectives: Sequence[str]) -> list[StudyDirection]:
    """The Optuna directions of `objectives`: accuracy is maximised, everything else minimised."""
    return [
        StudyDirection.MAXIMIZE if name == "accuracy" else StudyDirection.MINIMIZE
        for name in objectives
    ]


SPEC_ATTR = "spec"
"""Study user attribute holding `StudySpec.to_dict()`."""
REFERENCE_LATENCY_ATTR = "reference_latency_ms"
"""Study user attribute holding the latency of the uniform 8-bit network (ms)."""
REFERENCE_ENERGY_ATTR = "reference_energy_uj"
"""Study user attribute holding the energy of one inference of the uniform 8-bit network (µJ;
None when the hardware prices no energy)."""


def study_name(spec: StudySpec) -> str:
    """The study's name in the storage: one study per (spec, sampler, seed)."""
    return f"{spec.name}-{spec.sampler.name.value}-seed{spec.seed}"


def describe_sampler(spec: StudySpec) -> str:
    """One line describing the sampler, for the dashboard note and the console."""
    settings = spec.sampler
    if settings.name is SamplerName.AMED:
        schedule = (
            f"T0={settings.temperature:g}, x{settings.annealing:g} per step, "
            f"floor {settings.min_temperature:g}"
            if settings.annealing < 1.0
            else f"T={settings.temperature:g}"
        )
        weights = ", ".join(f"{w:g}" for w in settings.latency_weights)
        layers = (
            f"{settings.n_flips} layer(s) per proposal"
            if settings.layer_choice is LayerChoice.UNIFORM
            else f"about {settings.n_flips} layer(s) per proposal, chosen by latency saved"
        )
        if settings.small_move_share > 0:
            share = f"{settings.small_move_share:.0%}"
            layers += (
                f", {share} of the proposals one layer, the layers in turn"
                if settings.small_move_order is SmallMoveOrder.SCAN
                else f", {share} of the proposals about one layer"
            )
        if settings.transfer_share > 0:
            share = f"{settings.transfer_share:.0%}"
            layers += f", {share} of the proposals transfers between two layers"
        if settings.chain_weights is ChainWeights.UNIFORM_FRONT:
            weights = f"read off the uniform ladder's front (without a slope: [{weights}])"
        else:
            weights = f"[{weights}]"
        return (
            f"AMED Metropolis-Hastings, {len(settings.latency_weights)} chain(s) with latency "
            f"weights {weights}, {layers} ({settings.boundary.value} at the ends), "
            f"{schedule}, start {settings.start.value}"
        )
    described = {
        SamplerName.TPE: "Optuna TPESampler (multivariate, 10 start-up trials, pinned)",
        SamplerName.NSGA2: "Optuna NSGAIISampler (population 20, uniform crossover, pinned)",
        SamplerName.RANDOM: "Optuna RandomSampler",
        SamplerName.GREEDY: (
            "Greedy descent in the manner of AIMET's AMP: from the best uniform allocation "
            f"it can lower (Q at lambda {settings.latency_weights[0]:g}), each round evaluates "
            "every searched layer one step lower and keeps the one losing the least accuracy per "
            "latency saved"
        ),
    }[settings.name]
    if settings.start is not ChainStart.HIGHEST_UNIFORM:  # best-uniform, -bridged or probed
        return described + "; warm start: the uniform ladder (8, 7, ..., 2 bits) enqueued first"
    return described
