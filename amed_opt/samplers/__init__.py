"""The AMED Metropolis–Hastings sampler for Optuna (no torch needed).

`MetropolisHastingsSampler` runs one or more Metropolis–Hastings chains over ordered discrete
parameters (per-layer bit widths), keeping every chain's state in the study's storage.
`Boundary` names the proposal's rule at the ends of a bit list. `QualityScore` is the AMED
quality `Q` of `METHOD.md` §4; `ConstantTemperature` and `GeometricAnnealing` are temperature
schedules; `chain_history` reads a chain back step by step.
See `docs/sampler.md`.
"""

from amed_opt.samplers._history import ChainStep
from amed_opt.samplers._history import chain_history
from amed_opt.samplers._metropolis_hastings import MetropolisHastingsSampler
from amed_opt.samplers._proposals import Boundary
from amed_opt.samplers._score import QualityScore
from amed_opt.samplers._score import ScoreFunction
from amed_opt.samplers._temperature import ConstantTemperature
from amed_opt.samplers._temperature import GeometricAnnealing
from amed_opt.samplers._temperature import TemperatureSchedule


__all__ = [
    "Boundary",
    "ChainStep",
    "ConstantTemperature",
    "GeometricAnnealing",
    "MetropolisHastingsSampler",
    "QualityScore",
    "ScoreFunction",
    "TemperatureSchedule",
    "chain_history",
]
