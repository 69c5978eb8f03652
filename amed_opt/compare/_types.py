"""The values a comparison is read back into: points, spreads over seeds, and the summaries of
every chain, study and sampler, gathered in one `Analysis`.

They are plain frozen dataclasses, so `amed_opt.study.files.json_ready` turns an `Analysis` into
the `analysis` section of `comparison.json` field by field. `quality_score` is the one place a
comparison turns a study's settings into the AMED score `Q` it ranks by.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from amed_opt.samplers import QualityScore
from amed_opt.study.bits import weight_bits_of


if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from amed_opt.study.paired import McNemar
    from amed_opt.study.pareto import Objectives


@dataclass(frozen=True, slots=True)
class Point:
    """One measured allocation.

    Attributes:
        trial: Trial number in its study.
        accuracy: Validation accuracy (fraction).
        latency_ms: Latency in milliseconds.
        latency: Latency over the uniform 8-bit latency.
        bits: Compact allocation string, in network order.
        energy_uj: Energy per inference in µJ, when energy is an objective of the comparison.
        energy: Energy over the uniform 8-bit energy, likewise.
    """

    trial: int
    accuracy: float
    latency_ms: float
    latency: float
    bits: str
    energy_uj: float | None = None
    energy: float | None = None

    @classmethod
    def of_trial(
        cls, trial: FrozenTrial, reference_ms: float, reference_uj: float | None = None
    ) -> Point:
        """The point of a COMPLETE trial, its costs normalised by the uniform 8-bit network's
        (`reference_uj` is needed when the trial's values hold energy)."""
        accuracy, latency_ms, *energy = trial.values
        energy_uj = float(energy[0]) if energy else None
        return cls(
            trial=trial.number,
            accuracy=float(accuracy),
            latency_ms=float(latency_ms),
            latency=float(latency_ms) / reference_ms,
            bits=str(trial.user_attrs.get("bits", "")),
            energy_uj=energy_uj,
            energy=None if energy_uj is None or not reference_uj else energy_uj / reference_uj,
        )

    def normalised(self, reference_ms: float, reference_uj: float | None) -> Point:
        """The same point with its costs normalised by other references."""
        energy = None
        if self.energy_uj is not None and reference_uj:
            energy = self.energy_uj / reference_uj
        return dataclasses.replace(self, latency=self.latency_ms / reference_ms, energy=energy)

    @property
    def objectives(self) -> Objectives:
        """`(accuracy, latency_ms[, energy_uj])`, as `amed_opt.study.pareto` compares points
        (and as the trial's values are ordered)."""
        if self.energy_uj is None:
            return self.accuracy, self.latency_ms
        return self.accuracy, self.latency_ms, self.energy_uj

    @property
    def hv_point(self) -> tuple[float, ...]:
        """`(accuracy, latency[, energy])` normalised, as the hypervolume measures points."""
        if self.energy is None:
            return self.accuracy, self.latency
        return self.accuracy, self.latency, self.energy

    @property
    def mean_bits(self) -> float:
        """Mean weight bits over the searched layers (all but the first and last)."""
        searched = weight_bits_of(self.bits)[1:-1] or weight_bits_of(self.bits)
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


ON_ACCURACY = "accuracy"
ON_COST = "cost"
WITHIN_NOISE = "within noise"
NO_IMAGES = "no per-image data"
BASES = (ON_ACCURACY, ON_COST, WITHIN_NOISE, NO_IMAGES)
"""`Domination.basis`, firmest first."""


@dataclass(frozen=True, slots=True)
class Domination:
    """A study's trial dominating a uniform allocation, paired with it on the same images.

    Attributes:
        uniform_bits: The uniform allocation's bitwidth.
        trial: The dominating trial: of the study's non-uniform trials that dominate it, the one
            whose domination is firmest (`basis`, in the order below), then the most accurate,
            then the cheapest, then the earliest.
        accuracy_gain: Its accuracy minus the uniform allocation's (a fraction, >= 0).
        latency_ratio: Its latency over the uniform allocation's (<= 1).
        test: McNemar's exact test of the trial (A) against the uniform allocation (B) on the
            validation images; None when either lacks per-image results.
        basis: What the domination rests on: `accuracy` (the accuracy gain is significant at
            0.05), `cost` (the gain is not, but a cost — latency, or energy when it is an
            objective — is strictly lower: costs are computed, not measured), `within noise`
            (equal costs and a gain that is not significant), or `no per-image data`.
    """

    uniform_bits: int
    trial: int
    accuracy_gain: float
    latency_ratio: float
    test: McNemar | None
    basis: str

    @property
    def within_noise(self) -> bool:
        """Whether the domination rests on an accuracy gain within the noise."""
        return self.basis == WITHIN_NOISE


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
        dominations: Per uniform allocation dominated (`uniform_dominated`), the trial that
            dominates it and the paired test on the images, by bitwidth.
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
    dominations: list[Domination] = field(default_factory=list)

    @property
    def final_hv(self) -> float:
        """Hypervolume at the end of the budget (NaN when nothing finished)."""
        return self.hv_history[-1] if self.hv_history else math.nan

    @property
    def final_best_q(self) -> float:
        """Best `Q` at the end of the budget (NaN when nothing finished)."""
        return self.best_q_history[-1] if self.best_q_history else math.nan


def accuracy_se(accuracy: float, n_images: int) -> float:
    """The binomial standard error `sqrt(p (1 - p) / n)` of an accuracy `p` measured on
    `n_images` images (NaN when `n_images` is unknown, i.e. <= 0)."""
    if n_images <= 0 or not math.isfinite(accuracy):
        return math.nan
    p = min(1.0, max(0.0, accuracy))
    return math.sqrt(p * (1.0 - p) / n_images)


def _no_spread() -> Spread:
    return Spread.of([])


@dataclass(frozen=True, slots=True)
class Paired:
    """A sampler against AMED on the seeds both ran: AMED's value minus the sampler's, per seed
    (positive: AMED ahead). Seeds pair the studies, so their spread is the seed noise of the
    difference itself, not of either side.

    Attributes:
        seeds: The seeds both ran, in order.
        hv: Per seed, AMED's final hypervolume minus the sampler's.
        best_q: Per seed, AMED's final best `Q` minus the sampler's.
        hv_spread: Spread of `hv` over the seeds.
        best_q_spread: Spread of `best_q` over the seeds.
    """

    seeds: list[int]
    hv: list[float]
    best_q: list[float]
    hv_spread: Spread
    best_q_spread: Spread


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
        hv_gain: Final hypervolume minus the uniform allocations' alone, over seeds: what the
            search added to the uniform ladder (negative: less than the ladder alone).
        versus_amed: The per-seed differences to AMED (`None` for AMED, or without it).
        best_versus_amed: McNemar's test of AMED's best-`Q` trial (A) against this sampler's
            (B) on the same validation images; None for AMED, without AMED, or when either
            trial lacks per-image results.
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
    hv_gain: Spread = field(default_factory=_no_spread)
    versus_amed: Paired | None = None
    best_versus_amed: McNemar | None = None


@dataclass(frozen=True, slots=True)
class Analysis:
    """A whole comparison, read from its storage.

    Attributes:
        label: The comparison's name.
        n_trials: Budget per study.
        reference_latency_ms: Latency of uniform 8 bits (the normalisation).
        reference_energy_uj: Energy of uniform 8 bits, when energy is an objective.
        q_energy_weight: `epsilon` of the headline `Q` (0: energy not scored).
        latency_weight: `lambda` of the headline score.
        weights: Every `lambda` a best `Q` is reported for.
        q_threshold: Accuracy threshold of `Q` (`None`: no penalty).
        q_slope: Penalty slope of `Q`.
        studies: Per (sampler, seed).
        samplers: Per sampler, in plan order.
        uniform: The uniform allocations, by bitwidth.
        uniform_hv: Hypervolume of the uniform allocations alone.
        layers: Layer metadata (name, kind, weights, per-bitwidth cycles and bounds).
        validation_images: Images every accuracy is measured on (0: unknown), for its binomial
            standard error (`accuracy_se`).
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
    reference_energy_uj: float | None = None
    q_energy_weight: float = 0.0
    validation_images: int = 0

    def sampler(self, name: str) -> SamplerSummary | None:
        """The summary of sampler `name`, if it ran."""
        return next((s for s in self.samplers if s.sampler == name), None)

    def score(self) -> QualityScore:
        """The headline `Q` (at `latency_weight`), as the comparison's studies were scored."""
        weighted = self.q_energy_weight > 0
        return QualityScore(
            latency_reference=self.reference_latency_ms,
            latency_weight=self.latency_weight,
            accuracy_threshold=self.q_threshold,
            penalty_slope=self.q_slope,
            energy_weight=self.q_energy_weight,
            energy_reference=self.reference_energy_uj if weighted else None,
        )
