"""Study specifications: the single source of configuration, loaded once from TOML.

A study file (`studies/r18.toml`) is read into frozen dataclasses and validated before anything
is built: every key must be known, every value must have the right type and range, and an error
names the file, the key and the reason. Library code receives these typed objects; nothing below
`amed_opt.run` reads argv, the environment or globals.

The schema, section by section, is the set of dataclasses below; each field's docstring line in
the class docstring is its documentation. `load_spec("r18")` reads `studies/r18.toml`; any other
argument is a path.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from amed_opt.bits import MAX_BITS
from amed_opt.bits import MIN_BITS


STUDIES_DIR = Path(__file__).resolve().parent.parent / "studies"


class SpecError(ValueError):
    """A study file is malformed: unknown key, wrong type or value out of range."""


class EvaluatorMode(enum.Enum):
    """How trials relate to each other (METHOD.md §6)."""

    SHARED = "shared"
    """One network keeps training across trials, as in the paper."""
    FRESH = "fresh"
    """Every trial starts from the float checkpoint; trials are independent."""


class AccuracyModel(enum.Enum):
    """Where a trial's accuracy comes from."""

    MEASURED = "measured"
    """The quantized network on the validation split (the only choice for real results)."""
    SYNTHETIC = "synthetic"
    """A seeded stand-in formula (`amed_opt.synthetic`), for tests and fast comparisons only."""


class SamplerName(enum.Enum):
    """Which sampler drives the search."""

    AMED = "amed"
    TPE = "tpe"
    NSGA2 = "nsga2"
    RANDOM = "random"


class ProposalBoundary(enum.Enum):
    """What the AMED proposal does with a chosen layer at 2 or 8 bits (`samplers.Boundary`)."""

    FORCED = "forced"
    """Takes the only legal step (METHOD.md §5, the paper's sampler)."""
    LAZY = "lazy"
    """Steps inward or stays, 1/2 each: a symmetric proposal, no Hastings penalty at the ends."""


class ChainStart(enum.Enum):
    """Where the AMED chains start."""

    HIGHEST_UNIFORM = "highest-uniform"
    """Uniform 8 bits (or the highest uniform bitwidth under the size limit): METHOD.md §5."""
    BEST_UNIFORM = "best-uniform"
    """The uniform allocations are evaluated first, from the highest bitwidth down; each chain
    starts from the one its own score ranks highest."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """The network.

    Attributes:
        arch: A torchvision classification model name (`resnet18`, `mobilenet_v2`, ...).
        weights: Where the float weights come from: `"train"` trains a baseline on first use and
            caches it; a torchvision weights name (`"IMAGENET1K_V1"`) loads those; anything else
            is a path to a local checkpoint (a state dict).
    """

    arch: str
    weights: str = "train"


@dataclass(frozen=True, slots=True)
class DataSpec:
    """The dataset and how it is split and batched.

    Attributes:
        dataset: `fashion-mnist` (default, Debian's `dataset-fashion-mnist`), `cifar10`,
            `cifar100`, `imagenet` (a local ImageFolder tree) or `synthetic` (random images,
            for tests and smoke runs only).
        root: Dataset folder; empty means the dataset's default location.
        resolution: Input side in pixels; 0 means the dataset's native size.
        validation_images: Images held out from the training set (seeded) to score trials.
        calibration_images: Training images used to initialise quantizer steps.
        batch_size: Batch size for training (baseline and QAT).
        eval_batch_size: Batch size for evaluation.
        num_workers: DataLoader worker processes.
    """

    dataset: str = "fashion-mnist"
    root: str = ""
    resolution: int = 0
    validation_images: int = 2000
    calibration_images: int = 512
    batch_size: int = 128
    eval_batch_size: int = 500
    num_workers: int = 0


@dataclass(frozen=True, slots=True)
class BaselineSpec:
    """Recipe of the float baseline trained on first use (SGD, Nesterov, cosine schedule).

    Attributes:
        epochs: Training epochs over the training split (validation images excluded).
        lr: Peak learning rate.
        momentum: SGD momentum.
        weight_decay: L2 weight decay.
    """

    epochs: int = 3
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4


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
        momentum: QAT SGD momentum.
        recalibrate_bn: Re-estimate BatchNorm statistics on the calibration images after
            quantizing (cheap, and it recovers most low-bit PTQ accuracy).
        accuracy_model: `measured` (default) or `synthetic`, a labelled stand-in formula that
            needs no data or training, for tests and fast sampler comparisons only.
    """

    mode: EvaluatorMode = EvaluatorMode.FRESH
    steps_per_trial: int = 0
    lr: float = 0.001
    momentum: float = 0.9
    recalibrate_bn: bool = True
    accuracy_model: AccuracyModel = AccuracyModel.MEASURED


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
    """

    bits: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8)
    separate_activation_bits: bool = False
    fixed_bits: int = 8
    max_size_kib: float = 0.0


@dataclass(frozen=True, slots=True)
class HardwareSpec:
    """The accelerator.

    Attributes:
        preset: A preset of the `hardware` package (`scale-sim`, `eyeriss`, `scale-sim-lowmem`)
            or a path to a preset TOML file.
    """

    preset: str = "scale-sim"


@dataclass(frozen=True, slots=True)
class SamplerSpec:
    """The sampler and the quality score of METHOD.md §4-5.

    Attributes:
        name: `amed` (the Metropolis-Hastings chain), `tpe`, `nsga2` or `random`.
        temperature: MH temperature at the start of each chain (accuracy-fraction units).
        min_temperature: Floor of the annealed temperature.
        annealing: Geometric factor per chain step (1.0 keeps the temperature constant).
        n_flips: Layers chosen per proposal.
        boundary: `forced` (a chosen layer at 2 or 8 bits takes the only legal step, as in
            METHOD.md §5) or `lazy` (it steps inward or stays, 1/2 each; leaving the all-8-bit
            start then costs no Hastings factor, see docs/sampler.md).
        start: `highest-uniform` (every chain starts at uniform 8 bits, METHOD.md §5) or
            `best-uniform` (the first trials evaluate uniform 8, 7, ..., 2 bits, and each chain
            starts from the one with its highest `Q`; those trials count in the budget).
        latency_weights: One chain per weight `lambda` in
            `Q = acc - lambda * lat / lat_8bit - penalty`; several weights spread the chains
            along the Pareto front.
        accuracy_threshold: Accuracy (fraction) below which the penalty applies; 0 means none.
        penalty_slope: Penalty per unit of accuracy below the threshold (`mu`).
    """

    name: SamplerName = SamplerName.AMED
    temperature: float = 0.01
    min_temperature: float = 0.001
    annealing: float = 1.0
    n_flips: int = 1
    boundary: ProposalBoundary = ProposalBoundary.FORCED
    start: ChainStart = ChainStart.HIGHEST_UNIFORM
    latency_weights: tuple[float, ...] = (1.0,)
    accuracy_threshold: float = 0.0
    penalty_slope: float = 10.0


@dataclass(frozen=True, slots=True)
class StorageSpec:
    """Where trials are stored.

    Attributes:
        url: An Optuna storage URL; empty means `sqlite:///results/<study name>.db`.
    """

    url: str = ""


@dataclass(frozen=True, slots=True)
class StudySpec:
    """A whole study.

    Attributes:
        name: Study name in the storage (and the default result file names).
        description: One paragraph shown in the dashboard note.
        seed: Seed of the data split, the baseline training and the sampler.
        n_trials: Default trial budget (finished trials, all chains together).
    """

    name: str
    model: ModelSpec
    description: str = ""
    seed: int = 0
    n_trials: int = 100
    data: DataSpec = field(default_factory=DataSpec)
    baseline: BaselineSpec = field(default_factory=BaselineSpec)
    evaluator: EvaluatorSpec = field(default_factory=EvaluatorSpec)
    search: SearchSpec = field(default_factory=SearchSpec)
    hardware: HardwareSpec = field(default_factory=HardwareSpec)
    sampler: SamplerSpec = field(default_factory=SamplerSpec)
    storage: StorageSpec = field(default_factory=StorageSpec)

    @property
    def storage_url(self) -> str:
        """The storage URL, defaulting to `sqlite:///results/<name>.db`."""
        return self.storage.url or f"sqlite:///results/{self.name}.db"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the whole spec (enums as their values)."""
        return _to_plain(self)


def effective_settings(spec_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a stored spec (`StudySpec.to_dict()`) that can change a trial's result.

    Used to decide whether an existing study may be resumed and whether its measurements can
    be reused. The trial budget is left out (it may grow between runs), and so are the QAT
    optimiser settings when no QAT step is taken (`steps_per_trial == 0`): changing the
    learning-rate default must not orphan studies whose trials never used it. A section key
    the stored spec lacks (a setting added since) counts at its default, which is what that
    study ran with.
    """
    settings = {key: value for key, value in spec_dict.items() if key != "n_trials"}
    for section in dataclasses.fields(StudySpec):
        stored = settings.get(section.name)
        if isinstance(stored, Mapping) and section.default_factory is not dataclasses.MISSING:
            defaults = _to_plain(section.default_factory())
            settings[section.name] = {**defaults, **stored}
    evaluator = settings.get("evaluator")
    if isinstance(evaluator, Mapping) and evaluator.get("steps_per_trial") == 0:
        settings["evaluator"] = {
            key: value for key, value in evaluator.items() if key not in ("lr", "momentum")
        }
    return settings


def available_studies() -> list[str]:
    """Names of the study files shipped in `studies/`."""
    return sorted(path.stem for path in STUDIES_DIR.glob("*.toml"))


def resolve_study_path(name_or_path: str) -> Path:
    """`"r18"` → `studies/r18.toml`; an existing path is returned as it is.

    Raises:
        FileNotFoundError: If neither a study name nor an existing file matches.
    """
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"study file {str(path)!r} does not exist")
        return path
    candidate = STUDIES_DIR / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    known = ", ".join(available_studies()) or "none"
    raise FileNotFoundError(
        f"unknown study {name_or_path!r}: pass a path to a .toml file or one of: {known}"
    )


def load_spec(name_or_path: str) -> StudySpec:
    """Read and validate a study file.

    Args:
        name_or_path: A study name from `studies/` (`"r18"`) or a path to a TOML file.

    Returns:
        The validated, frozen spec.

    Raises:
        FileNotFoundError: If the study does not exist.
        SpecError: If the file is not valid TOML or does not match the schema; the message names
            the file, the key and the reason.
    """
    path = resolve_study_path(name_or_path)
    try:
        with path.open("rb") as stream:
            table = tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{path}: not valid TOML: {error}") from None
    return parse_spec(table, source=str(path))


def parse_spec(table: Mapping[str, Any], *, source: str = "<spec>") -> StudySpec:
    """Validate a TOML-like mapping into a `StudySpec` (see `load_spec`)."""
    spec = _build(StudySpec, table, source=source, prefix="")
    _check_ranges(spec, source)
    return spec


def _build(cls: type[Any], table: Any, *, source: str, prefix: str) -> Any:
    section = prefix.rstrip(".") or "top level"
    if not isinstance(table, Mapping):
        raise SpecError(f"{source}: [{section}] must be a table, got {type(table).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise SpecError(
            f"{source}: unknown key '{prefix}{unknown[0]}' in [{section}]; "
            f"known keys: {', '.join(fields)}"
        )
    values: dict[str, Any] = {}
    for name, spec_field in fields.items():
        key = f"{prefix}{name}"
        if name not in table:
            no_default = spec_field.default is dataclasses.MISSING
            if no_default and spec_field.default_factory is dataclasses.MISSING:
                raise SpecError(f"{source}: missing required key {key!r}")
            continue
        values[name] = _convert(hints[name], table[name], source=source, key=key)
    return cls(**values)


def _convert(hint: Any, value: Any, *, source: str, key: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, source=source, prefix=f"{key}.")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        choices = [member.value for member in hint]
        if value not in choices:
            raise SpecError(
                f"{source}: {key} must be one of {', '.join(map(str, choices))}, got {value!r}"
            )
        return hint(value)
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise SpecError(f"{source}: {key} must be a list, got {type(value).__name__}")
        return tuple(
            _convert(item_type, item, source=source, key=f"{key}[{index}]")
            for index, item in enumerate(value)
        )
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"spec field {key} has an unsupported union type {hint}")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (bool, int, float, str):
        if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
            return value
        raise SpecError(
            f"{source}: {key} must be {_type_name(hint)}, got {type(value).__name__} {value!r}"
        )
    raise TypeError(f"spec field {key} has an unsupported type {hint}")


def _type_name(hint: type) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}[hint]


def _check_ranges(spec: StudySpec, source: str) -> None:
    def fail(key: str, reason: str) -> None:
        raise SpecError(f"{source}: {key} {reason}")

    if not spec.name or any(ch in spec.name for ch in "/\\ "):
        fail("name", f"must be a non-empty name without spaces or slashes, got {spec.name!r}")
    if spec.n_trials <= 0:
        fail("n_trials", f"must be > 0, got {spec.n_trials}")
    data = spec.data
    for key in ("validation_images", "calibration_images", "batch_size", "eval_batch_size"):
        if getattr(data, key) <= 0:
            fail(f"data.{key}", f"must be > 0, got {getattr(data, key)}")
    if data.resolution < 0:
        fail("data.resolution", f"must be >= 0 (0 = native), got {data.resolution}")
    if data.num_workers < 0:
        fail("data.num_workers", f"must be >= 0, got {data.num_workers}")
    if spec.baseline.epochs < 0:
        fail("baseline.epochs", f"must be >= 0, got {spec.baseline.epochs}")
    if spec.baseline.lr <= 0:
        fail("baseline.lr", f"must be > 0, got {spec.baseline.lr}")
    if spec.evaluator.steps_per_trial < 0:
        fail("evaluator.steps_per_trial", f"must be >= 0, got {spec.evaluator.steps_per_trial}")
    if spec.evaluator.lr <= 0:
        fail("evaluator.lr", f"must be > 0, got {spec.evaluator.lr}")
    bits = spec.search.bits
    if not bits:
        fail("search.bits", "must list at least one bitwidth")
    if list(bits) != sorted(set(bits)):
        fail("search.bits", f"must be strictly increasing, got {list(bits)}")
    for value in (*bits, spec.search.fixed_bits):
        if not MIN_BITS <= value <= MAX_BITS:
            fail("search.bits", f"values must be in [{MIN_BITS}, {MAX_BITS}], got {value}")
    if spec.search.max_size_kib < 0:
        fail("search.max_size_kib", f"must be >= 0 (0 = no limit), got {spec.search.max_size_kib}")
    sampler = spec.sampler
    if not sampler.temperature > 0:
        fail("sampler.temperature", f"must be > 0, got {sampler.temperature}")
    if not 0 < sampler.min_temperature <= sampler.temperature:
        fail("sampler.min_temperature", "must be in (0, sampler.temperature]")
    if not 0 < sampler.annealing <= 1:
        fail("sampler.annealing", f"must be in (0, 1], got {sampler.annealing}")
    if sampler.n_flips < 1:
        fail("sampler.n_flips", f"must be >= 1, got {sampler.n_flips}")
    if not sampler.latency_weights or any(
        not math.isfinite(w) or w < 0 for w in sampler.latency_weights
    ):
        fail("sampler.latency_weights", "must be a non-empty list of finite numbers >= 0")
    if not 0 <= sampler.accuracy_threshold <= 1:
        fail("sampler.accuracy_threshold", "must be a fraction in [0, 1]")
    if sampler.penalty_slope < 0:
        fail("sampler.penalty_slope", f"must be >= 0, got {sampler.penalty_slope}")


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_to_plain(item) for item in value]
    return value


def with_overrides(
    spec: StudySpec,
    *,
    sampler: str | None = None,
    n_trials: int | None = None,
    storage: str | None = None,
    seed: int | None = None,
    hardware: str | None = None,
    data_root: str | None = None,
    name_suffix: str = "",
) -> StudySpec:
    """The spec with command-line overrides applied and validated.

    Args:
        spec: The loaded spec.
        sampler: A `SamplerName` value.
        n_trials: Trial budget (> 0).
        storage: Optuna storage URL.
        seed: Seed.
        hardware: Hardware preset name or path.
        data_root: Dataset folder.
        name_suffix: Appended to the study name (used to keep one study per sampler/seed).

    Raises:
        SpecError: If an override is invalid.
    """
    source = "command line"
    if sampler is not None:
        choices = [member.value for member in SamplerName]
        if sampler not in choices:
            raise SpecError(
                f"{source}: --sampler must be one of {', '.join(choices)}, got {sampler!r}"
            )
        spec = dataclasses.replace(
            spec, sampler=dataclasses.replace(spec.sampler, name=SamplerName(sampler))
        )
    if n_trials is not None:
        spec = dataclasses.replace(spec, n_trials=n_trials)
    if storage is not None:
        spec = dataclasses.replace(spec, storage=StorageSpec(url=storage))
    if seed is not None:
        spec = dataclasses.replace(spec, seed=seed)
    if hardware is not None:
        spec = dataclasses.replace(spec, hardware=HardwareSpec(preset=hardware))
    if data_root is not None:
        spec = dataclasses.replace(spec, data=dataclasses.replace(spec.data, root=data_root))
    if name_suffix:
        spec = dataclasses.replace(spec, name=spec.name + name_suffix)
    _check_ranges(spec, source)
    return spec
