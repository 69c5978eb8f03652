"""The AMED Metropolis–Hastings sampler for Optuna (no torch needed).

`MetropolisHastingsSampler` runs one or more Metropolis–Hastings chains over ordered discrete
parameters (per-layer bit widths), keeping every chain's state in the study's storage. Its
settings come in three groups: `ChainSettings` (scores, temperatures, which chains),
`ProposalSettings` (`n_flips`, the `Boundary` rule at the ends of a bit list, a proposal filter)
and a start policy (`RandomStart`, `FixedStart`, `BestOfCandidates`); `FrontWeights` reads the
chains' latency weights off the start candidates' front. `QualityScore` is the AMED
quality `Q` of `METHOD.md` §4; `ConstantTemperature` and `GeometricAnnealing` are temperature
schedules; `chain_history` reads a chain back step by step. `GreedySampler` is the greedy
bit-lowering baseline of `amed_opt.compare` (docs/compare.md).
See `docs/sampler.md`.
"""

from amed_opt.samplers._batched import ParamChecks
from amed_opt.samplers._batched import count_trials
from amed_opt.samplers._batched import prefill_params
from amed_opt.samplers._batched import rdb_backend
from amed_opt.samplers._candidates import DeriveCandidates
from amed_opt.samplers._candidates import params_key
from amed_opt.samplers._front_weights import WEIGHTS_KEY
from amed_opt.samplers._front_weights import FrontWeights
from amed_opt.samplers._greedy import GreedySampler
from amed_opt.samplers._history import ChainStep
from amed_opt.samplers._history import chain_history
from amed_opt.samplers._metropolis_hastings import MetropolisHastingsSampler
from amed_opt.samplers._proposals import Boundary
from amed_opt.samplers._score import QualityScore
from amed_opt.samplers._score import ScoreFunction
from amed_opt.samplers._settings import ChainSettings
from amed_opt.samplers._settings import ProposalSettings
from amed_opt.samplers._settings import TemperatureLike
from amed_opt.samplers._start import BestOfCandidates
from amed_opt.samplers._start import FixedStart
from amed_opt.samplers._start import RandomStart
from amed_opt.samplers._start import StartPolicy
from amed_opt.samplers._temperature import ConstantTemperature
from amed_opt.samplers._temperature import GeometricAnnealing
from amed_opt.samplers._temperature import TemperatureSchedule


__all__ = [
    "ParamChecks",
    "count_trials",
    "prefill_params",
    "rdb_backend",
    "BestOfCandidates",
    "DeriveCandidates",
    "Boundary",
    "ChainSettings",
    "ChainStep",
    "ConstantTemperature",
    "FixedStart",
    "FrontWeights",
    "GeometricAnnealing",
    "GreedySampler",
    "MetropolisHastingsSampler",
    "ProposalSettings",
    "QualityScore",
    "RandomStart",
    "ScoreFunction",
    "StartPolicy",
    "TemperatureLike",
    "TemperatureSchedule",
    "WEIGHTS_KEY",
    "chain_history",
    "params_key",
]
