"""The sections of a study file (`[model]`, `[data]`, ...) as frozen, self-validating dataclasses.

Each field's line in its class docstring is its documentation. Every section checks its own
fields in `__post_init__` (`FieldChecks`): types (a bool is not an integer), finite numbers and
ranges; a `SpecError` names the key with its section (`sampler.temperature must be > 0, got 0`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from amed_opt.study.bits import MAX_BITS
from amed_opt.study.bits import MIN_BITS
from amed_opt.study.spec_checks import FieldChecks
from amed_opt.study.spec_enums import AccuracyModel
from amed_opt.study.spec_enums import ChainStart
from amed_opt.study.spec_enums import ChainWeights
from amed_opt.study.spec_enums import EvaluatorMode
from amed_opt.study.spec_enums import LayerChoice
from amed_opt.study.spec_enums import ProposalBoundary
from amed_opt.study.spec_enums import SamplerName
from amed_opt.study.spec_enums import SmallMoveOrder


MIN_RESOLUTION = 8
"""The smallest input side in pixels a study may ask for (0 asks for the native size)."""

OBJECTIVE_NAMES = ("accuracy", "latency_ms", "energy_uj")
"""The objectives a study may search, in this order: `accuracy` (maximize) and `latency_ms`
(minimize) always, `energy_uj` (minimize, µJ per inference) optionally."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """The network.

    Attributes:
        arch: A torchvision classification model name (`resnet18`, `mobilenet_v2`, ...).
        weights: Where the float weights come from: `"train"` trains a baseline on first use and
            caches it; a torchvision weights name (`"IMAGENET1K_V1"`) loads those; anything else
            is a path to a local checkpoint (a state dict).
    """

    SECTION: ClassVar[str] = "model"

    arch: str
    weights: str = "train"

    def __post_init__(self) -> None:
        FieldChecks(self, self.SECTION).non_empty("arch", "weights")


@dataclass(frozen=True, slots=True)
class DataSpec:
    """The dataset and how it is split and batched.

    Attributes:
        dataset: `fashion-mnist` (default, Debian's `dataset-fashion-mnist`), `cifar10`,
            `cifar100`, `imagenet` (a local ImageFolder tree) or `synthetic` (random images,
            for tests and smoke runs only).
        root: Dataset folder; empty means the dataset's default location.
        resolution: Input side in pixels, at least `MIN_RESOLUTION` (8); 0 means the
            dataset's native size.
        validation_images: Images held out from the training set (seeded) to score trials.
        calibration_images: Training images used to initialise quantizer steps.
        batch_size: Batch size for training (baseline and QAT).
        eval_batch_size: Batch size for evaluation.
        num_workers: DataLoader worker processes.
    """

    SECTION: ClassVar[str] = "data"

    dataset: str = "fashion-mnist"
    root: str = ""
    resolution: int = 0
    validation_images: int = 2000
    calibration_images: int = 512
    batch_size: int = 128
    eval_batch_size: int = 500
    num_workers: int = 0

    def __post_init__(self) -> None:
        check = FieldChecks(self, self.SECTION)
        check.non_empty("dataset")
        check.require(
            self.resolution == 0 or self.resolution >= MIN_RESOLUTION,
            "resolution",
            f"must be 0 (native size) or >= {MIN_RESOLUTION} pixels, got {self.resolution}",
        )
        check.positive("validation_images", "calibration_images", "batch_size", "eval_batch_size")
        check.at_least(0, "num_workers")


@dataclass(frozen=True, slots=True)
class BaselineSpec:
    """Recipe of the float baseline trained on first use (SGD, Nesterov, cosine schedule).

    Attributes:
        epochs: Training epochs over the training split (validation images excluded).
        lr: Peak learning rate (> 0).
        momentum: SGD momentum, in [0, 1).
        weight_decay: L2 weight decay (>= 0).
    """

    SECTION: ClassVar[str] = "baseline"

    epochs: int = 3
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4

    def __post_init__(self) -> None:
        check = FieldChecks(self, self.SECTION)
        check.at_least(0, "epochs", "weight_decay")
        check.positive("lr")
        check.below_one("momentum")


@dataclass(frozen=True, slots=True)
class EvaluatorSpec:
    """How a trial's accuracy is measured.

    Attributes:
        mode: `shared` (weights keep training across trials) or `fresh` (from the float
            checkpoint every trial).
        steps_per_trial: Quantization-aware SGD steps before measuring.
        lr: QAT learning rate (weights and quantizer steps). Small, because QAT starts from a
            converged float model: on r18, 3 shared-mode steps at 0.01 cost 6.5 points of
            validation accuracy, at 0.001 none.
        momentum: QAT SGD momentum, in [0, 1).
        recalibrate_bn: Re-estimate BatchNorm statistics on the calibration images after
            quantizing (cheap, and it recovers most low-bit PTQ accuracy).
        accuracy_model: `measured` (default) or `synthetic`, a labelled stand-in formula that
            needs no data or training, for tests and fast sampler comparisons only.
    """

    SECTION: ClassVar[str] = "evaluator"

    mode: EvaluatorMode = EvaluatorMode.FRESH
    steps_per_trial: int = 0
    lr: float = 0.001
    momentum: float = 0.9
    recalibrate_bn: bool = True
    accuracy_model: AccuracyModel = AccuracyModel.MEASURED

    def __post_init__(self) -> None:
        check = FieldChecks(self, self.SECTION)
        check.at_least(0, "steps_per_trial")
        check.positive("lr")
        check.below_one("momentum")


@dataclass(frozen=True, slots=True)
class SearchSpec:
    """The search space.

    Attributes:
        bits: Ordered candidate bitwidths of each searched layer.
        separate_activation_bits: Search weight and activation bits as two parameters per layer
            (both from `bits`); otherwise one parameter sets both.
        fixed_bits: Bitwidth of the first and last quantizable layers, which are not searched.
        max_size_kib: Hard limit on weight storage in KiB (bit-packed); 0 means none.
            Over-limit allocations are never evaluated.
        objectives: The study's Optuna objectives: `["accuracy", "latency_ms"]` (default) or
            `["accuracy", "latency_ms", "energy_uj"]` (energy per inference in µJ, minimized).
    """

    SECTION: ClassVar[str] = "search"

    bits: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8)
    separate_activation_bits: bool = False
    fixed_bits: int = 8
    max_size_kib: float = 0.0
    objectives: tuple[str, ...] = OBJECTIVE_NAMES[:2]

    def __post_init__(self) -> None:
        check = FieldChecks(self, self.SECTION)
        check.require(
            self.objectives in (OBJECTIVE_NAMES[:2], OBJECTIVE_NAMES),
            "objectives",
            f"must be {list(OBJECTIVE_NAMES[:2])} or {list(OBJECTIVE_NAMES)} (accuracy first, "
            f"latency_ms second), got {list(self.objectives)}",
        )
        bits = self.bits
        # One bitwidth leaves nothing to search (and no neighbour for the chain to propose).
        check.require(
            len(bits) >= 2, "bits", f"must list at least two bitwidths, got {list(bits)}"
        )
        increasing = list(bits) == sorted(set(bits))
        check.require(increasing, "bits", f"must be strictly increasing, got {list(bits)}")
        for value in bits:
            check.require(
                MIN_BITS <= value <= MAX_BITS,
                "bits",
                f"values must be in [{MIN_BITS}, {MAX_BITS}], got {value}",
            )
        check.require(
            MIN_BITS <= self.fixed_bits <= MAX_BITS,
            "fixed_bits",
            f"must be in [{MIN_BITS}, {MAX_BITS}], got {self.fixed_bits}",
        )
        check.at_least(0, "max_size_kib", note=" (0 = no limit)")


@dataclass(frozen=True, slots=True)
class HardwareSpec:
    """The accelerator.

    Attributes:
        preset: A preset of the `hardware` package (`scale-sim`, `eyeriss`, `scale-sim-lowmem`,
            `loom-lite`) or a path to a preset TOML file.
        input_resolution: Side in pixels of the input the latency and energy refer to: the
            layer shapes are traced from the same network at this size, independently of the
            size its accuracy is measured at (`data.resolution`). 0 (the default) prices the
            input the accuracy is measured at; otherwise at least `MIN_RESOLUTION`.
    """

    SECTION: ClassVar[str] = "hardware"

    preset: str = "scale-sim"
    input_resolution: int = 0

    def __post_init__(self) -> None:
        check = FieldChecks(self, self.SECTION)
        check.non_empty("preset")
        check.require(
            self.input_resolution == 0 or self.input_resolution >= MIN_RESOLUTION,
            "input_resolution",
            f"must be 0 (the accuracy's input) or >= {MIN_RESOLUTION} pixels, "
            f"got {self.input_resolution}",
        )


@dataclass(frozen=True, slots=True)
class SamplerSpec:
    """The sampler and the quality score of METHOD.md §4-5.

    Attributes:
        name: `amed` (the Metropolis-Hastings chain), `tpe`, `nsga2`, `random` or `greedy`
            (lowers one layer at a time from the best uniform allocation; a baseline).
        temperature: MH temperature at the start of each chain (accuracy-fraction units).
        min_temperature: Floor of the annealed temperature, in (0, `temperature`].
        annealing: Geometric factor per chain step, in (0, 1] (1.0 keeps the temperature
            constant).
        n_flips: Layers chosen per proposal.
        boundary: `forced` (a chosen layer at 2 or 8 bits takes the only legal step, as in
            METHOD.md §5) or `lazy` (it steps inward or stays, 1/2 each; leaving the all-8-bit
            start then costs no Hastings factor, see docs/sampler.md).
        layer_choice: `uniform` (exactly `n_flips` layers, all equally likely, METHOD.md §5)
            or `cost` (each layer on its own, about `n_flips` per proposal, more often the
            more latency the hardware says lowering it saves; exact, see docs/sampler.md; not
            with `search.max_size_kib`).
        transfer_share: Share in [0, 1) of the proposals that are *transfers* instead: one
            layer lowered a step and another raised a step, the lowered one chosen like
            `layer_choice`, the raised one by the inverse (with `cost`: light layers take the
            precision heavy ones give up); 0: none. Exact, see docs/sampler.md; not with
            `search.max_size_kib`.
        small_move_share: Share in [0, 1) of the proposals that move about one layer instead
            of about `n_flips` (chosen like `layer_choice`); 0: none; > 0 needs `n_flips > 1`.
            Exact, see docs/sampler.md.
        small_move_order: `drawn` (a small move's layer is chosen like `layer_choice`) or
            `scan` (taken from a fixed cycle that advances one layer per chain step, with
            `cost` the layers that save the most latency first); `scan` needs
            `small_move_share > 0`. Exact, see docs/sampler.md.
        start: `highest-uniform` (every chain starts at uniform 8 bits, METHOD.md §5) or
            `best-uniform` (the first trials evaluate uniform 8, 7, ..., 2 bits, and each chain
            starts from the one with its highest `Q`; those trials count in the budget) or
            `best-bridged` (as `best-uniform`, then between every two neighbouring uniform
            allocations the higher one with the layers that save the most latency lowered
            until half the latency between them is saved; six more trials on 2..8 bits) or
            `probed` (as `best-uniform`, then one probe per searched layer, that layer alone at
            the lowest bitwidth, the layers saving the most latency first, at most half of
            `n_trials`, then the allocations the separable model of those measurements rates
            best along the front and against each uniform one, as many as leave every chain
            two steps, `amed_opt.study.sensitivity`). For the
            other samplers, `best-uniform`, `best-bridged` and `probed` enqueue the same uniform
            trials first (the comparison's fair warm start) and `highest-uniform` only uniform
            8 bits.
        latency_weights: One chain per weight `lambda` in
            `Q = acc - lambda * lat / lat_8bit - epsilon * energy / energy_8bit - penalty`;
            several weights spread the chains along the Pareto front.
        chain_weights: `fixed` (chain `c` at `latency_weights[c]`) or `uniform-front` (one
            chain per entry of `latency_weights`, at weights read off the evaluated uniform
            ladder: twice the steepest slope of its front, then geometric from that slope to
            half the flattest, so the chains spread along the front whatever the accelerator;
            `latency_weights` serve when that front has no slope; needs `start =
            "best-uniform"`; not shipped: it did not beat fixed weights on the tuning setups;
            docs/sampler.md).
        energy_weight: `epsilon`, the weight of energy per inference in `Q` (0, the default,
            ignores energy; > 0 needs a hardware model that prices energy).
        accuracy_threshold: Accuracy (fraction) below which the penalty applies; 0 means none.
        penalty_slope: Penalty per unit of accuracy below the threshold (`mu`).
    """

    SECTION: ClassVar[str] = "sampler"

    name: SamplerName = SamplerName.AMED
    temperature: float = 0.01
    min_temperature: float = 0.001
    annealing: float = 1.0
    n_flips: int = 1
    boundary: ProposalBoundary = ProposalBoundary.FORCED
    layer_choice: LayerChoice = LayerChoice.UNIFORM
    transfer_share: float = 0.0
    small_move_share: float = 0.0
    small_move_order: SmallMoveOrder = SmallMoveOrder.DRAWN
    start: ChainStart = ChainStart.HIGHEST_UNIFORM
    latency_weights: tuple[float, ...] = (1.0,)
    chain_weights: ChainWeights = ChainWeights.FIXED
    energy_weight: float = 0.0
    accuracy_threshold: float = 0.0
    penalty_slope: float = 10.0

    def __post_init__(self) -> None:
        check = FieldChecks(self, self.SECTION)
        check.positive("temperature")
        check.require(
            0 < self.min_temperature <= self.temperature,
            "min_temperature",
            f"must be in (0, sampler.temperature], got {self.min_temperature}",
        )
        check.require(
            0 < self.annealing <= 1, "annealing", f"must be in (0, 1], got {self.annealing}"
        )
        check.at_least(1, "n_flips")
        check.below_one("transfer_share", "small_move_share")
        check.require(
            self.small_move_share == 0 or self.n_flips > 1,
            "small_move_share",
            "> 0 needs sampler.n_flips > 1 (with one flip every proposal is already a small "
            "move): set small_move_share = 0 or raise n_flips",
        )
        check.require(
            self.small_move_order is SmallMoveOrder.DRAWN or self.small_move_share > 0,
            "small_move_order",
            '= "scan" orders the small moves and needs sampler.small_move_share > 0: set a '
            'share or small_move_order = "drawn"',
        )
        check.require(
            bool(self.latency_weights) and all(w >= 0 for w in self.latency_weights),
            "latency_weights",
            f"must be a non-empty list of finite numbers >= 0, got {list(self.latency_weights)}",
        )
        check.require(
            self.chain_weights is ChainWeights.FIXED or self.start is ChainStart.BEST_UNIFORM,
            "chain_weights",
            '"uniform-front" reads the weights off the uniform ladder: set '
            'sampler.start = "best-uniform"',
        )
        check.at_least(0, "energy_weight")
        check.require(
            0 <= self.accuracy_threshold <= 1,
            "accuracy_threshold",
            f"must be a fraction in [0, 1], got {self.accuracy_threshold}",
        )
        check.at_least(0, "penalty_slope")


@dataclass(frozen=True, slots=True)
class StorageSpec:
    """Where trials are stored.

    Attributes:
        url: An Optuna storage URL; empty means the SQLite file `<study name>.db` in the
            run's results folder (`amed_opt.study.storage.default_storage_url`).
    """

    SECTION: ClassVar[str] = "storage"

    url: str = ""

    def __post_init__(self) -> None:
        FieldChecks(self, self.SECTION)
