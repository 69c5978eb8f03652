"""What a comparison runs: one study per (sampler, seed), all in one storage.

`plan_comparison` turns the command line into a validated, frozen `ComparisonPlan` before
anything is built, so bad input fails fast and leaves no file behind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from amed_opt.study.spec import ChainStart
from amed_opt.study.spec import EvaluatorMode
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import SamplerSpec
from amed_opt.study.spec import SpecError
from amed_opt.study.spec import StudySpec
from amed_opt.study.spec import load_spec
from amed_opt.study.spec import with_overrides
from hardware import load_preset


DEFAULT_ROOT = Path("results/compare")
"""Default folder of comparison storages and reports."""
LAYER_INFO_ATTR = "layer_info"
"""User attribute of the uniform study: shape and per-bitwidth cycles of every layer."""
DISPLAY_NAMES = {
    "amed": "AMED (MH)",
    "tpe": "TPE",
    "nsga2": "NSGA-II",
    "random": "Random",
    "greedy": "Greedy",
}
"""How the report and the figures name each sampler."""
WARM_STARTS = ("ladder", "none")
"""`ladder`: every sampler's study starts with the uniform allocations 8, 7, ..., 2 bits
(counted in its budget; AMED with `start = "best-uniform"`). `none`: every study's first trial
is uniform 8 bits and AMED starts as its study file says."""


@dataclass(frozen=True, slots=True)
class ComparisonPlan:
    """A validated comparison.

    Attributes:
        label: Name of the comparison: the study name, plus `-<preset>` when `--hardware`
            changes the preset and `-<mode>` when `--evaluator` changes the mode. It prefixes
            every study name and names the output folder.
        spec: The study (overrides applied, `name == label`) at the first seed.
        samplers: Samplers, in report order.
        seeds: Sampler seeds, one study per (sampler, seed).
        n_trials: Finished trials per study.
        storage_url: Where every study lives.
        out_dir: Where the report, JSON and plots go.
        latency_weight: `lambda` of the score `Q` the report ranks samplers by.
        storage_folder: Folder of the default SQLite file, created on the first run; `None`
            when the storage was named (a named SQLite file's folder must exist).
        warm_start: One of `WARM_STARTS`: the start every sampler gets.
    """

    label: str
    spec: StudySpec
    samplers: tuple[SamplerName, ...]
    seeds: tuple[int, ...]
    n_trials: int
    storage_url: str
    out_dir: Path
    latency_weight: float
    storage_folder: Path | None = None
    warm_start: str = "ladder"

    def study_spec(self, sampler: SamplerName, seed: int) -> StudySpec:
        """The spec of one study of the comparison.

        The seed changes the sampler's seed only: the network, data split and float baseline
        are built once, from `spec.seed`, and shared by every study. Baseline samplers keep the
        AMED-only settings at their defaults, so retuning AMED leaves their studies valid. With
        the `ladder` warm start every sampler starts from the uniform ladder (AMED's first
        candidates, the baselines' enqueued trials): a `highest-uniform` start becomes
        `best-uniform`, and AMED's `best-bridged` (the ladder, then its midpoints) and `probed`
        (the ladder, then its probes and model candidates) are kept.
        """
        sampler_spec = (
            self.spec.sampler if sampler is SamplerName.AMED else SamplerSpec(name=sampler)
        )
        if self.warm_start == "ladder" and sampler_spec.start is ChainStart.HIGHEST_UNIFORM:
            sampler_spec = dataclasses.replace(sampler_spec, start=ChainStart.BEST_UNIFORM)
        spec = dataclasses.replace(self.spec, sampler=sampler_spec)
        return with_overrides(spec, sampler=sampler.value, seed=seed)

    @property
    def uniform_study_name(self) -> str:
        """The study holding the uniform allocations (2..8 bits), evaluated the same way."""
        return f"{self.label}-uniform"


def display_name(sampler: str) -> str:
    """The sampler's name in the report and the figures (`sampler` itself when unknown)."""
    return DISPLAY_NAMES.get(sampler, sampler)


def _label_part(text: str) -> str:
    return Path(text).stem if text.endswith(".toml") else text


def parse_samplers(text: str) -> tuple[SamplerName, ...]:
    """`"amed,tpe"` → `(SamplerName.AMED, SamplerName.TPE)`.

    Raises:
        SpecError: On an unknown, repeated or missing name.
    """
    names = [part.strip() for part in text.split(",") if part.strip()]
    choices = [member.value for member in SamplerName]
    if not names:
        raise SpecError(f"--samplers must name at least one of {', '.join(choices)}")
    unknown = [name for name in names if name not in choices]
    if unknown:
        raise SpecError(
            f"--samplers: unknown sampler {unknown[0]!r}; choose from {', '.join(choices)}"
        )
    if len(set(names)) != len(names):
        raise SpecError(f"--samplers names a sampler twice: {text!r}")
    return tuple(SamplerName(name) for name in names)


def plan_comparison(
    study: str,
    *,
    samplers: Sequence[SamplerName],
    n_trials: int | None = None,
    seeds: int = 3,
    evaluator: str | None = None,
    hardware: str | None = None,
    storage: str | None = None,
    out: Path | None = None,
    latency_weight: float = 1.0,
    objectives: Sequence[str] | None = None,
    root: Path = DEFAULT_ROOT,
    warm_start: str = "ladder",
    first_seed: int | None = None,
) -> ComparisonPlan:
    """Validate the comparison's settings.

    Args:
        study: Study name from `studies/` or a path to a study file.
        samplers: Samplers to compare.
        n_trials: Finished trials per study; `None`: the study's `n_trials`.
        seeds: Number of seeds; seed `k` is the study's seed plus `k`.
        evaluator: `fresh` or `shared` to override the study's evaluator mode.
        hardware: Hardware preset name or preset file to override the study's.
        storage: Optuna storage URL; `None`: `sqlite:///<root>/<study name>.db`, one file per
            study whatever the preset or mode (the labels keep the studies apart, and a `fresh`
            comparison reuses the accuracies measured for another preset).
        out: Output folder; `None`: `<root>/<label>`.
        latency_weight: `lambda` of the reported score `Q` (>= 0).
        objectives: The studies' objectives (`search.objectives`); `None`: the study's. Other
            objectives than the study file's make other studies (`-energy` in their label).
        root: Folder of the default storage and output.
        warm_start: One of `WARM_STARTS` (default `ladder`, the fair protocol).
        first_seed: The first sampler seed (then +1, ...); `None`: the study's seed. Seeds
            from `REPORTING_SEEDS_FROM` (100) on are reporting seeds (`_seeds`).

    Raises:
        FileNotFoundError: If the study or the preset does not exist.
        SpecError: If a setting is invalid; the message names it.
    """
    spec = load_spec(study)
    if seeds <= 0:
        raise SpecError(f"--seeds must be a positive integer, got {seeds}")
    if n_trials is not None and n_trials <= 0:
        raise SpecError(f"--n-trials must be a positive integer, got {n_trials}")
    if not latency_weight >= 0:
        raise SpecError(f"--latency-weight must be a number >= 0, got {latency_weight}")
    if not samplers:
        raise SpecError("--samplers must name at least one sampler")
    if warm_start not in WARM_STARTS:
        raise SpecError(
            f"--warm-start must be one of {', '.join(WARM_STARTS)}, got {warm_start!r}"
        )
    if first_seed is not None and first_seed < 0:
        raise SpecError(f"--first-seed must be an integer >= 0, got {first_seed}")
    suffix = ""
    if hardware is not None:
        load_preset(hardware)  # FileNotFoundError / ValueError name the preset
        if hardware != spec.hardware.preset:
            suffix += f"-{_label_part(hardware)}"
    if evaluator is not None:
        choices = [member.value for member in EvaluatorMode]
        if evaluator not in choices:
            raise SpecError(f"--evaluator must be one of {', '.join(choices)}, got {evaluator!r}")
        mode = EvaluatorMode(evaluator)
        if mode is not spec.evaluator.mode:
            suffix += f"-{mode.value}"
            spec = dataclasses.replace(
                spec, evaluator=dataclasses.replace(spec.evaluator, mode=mode)
            )
    if objectives is not None and tuple(objectives) != spec.objectives:
        suffix += "-energy" if "energy_uj" in objectives else "-" + "-".join(objectives[1:])
    label = spec.name + suffix
    url = storage or f"sqlite:///{root / (spec.name + '.db')}"
    spec = with_overrides(
        spec,
        n_trials=n_trials,
        storage=url,
        hardware=hardware,
        objectives=objectives,
        name_suffix=suffix,
    )
    return ComparisonPlan(
        label=label,
        spec=spec,
        samplers=tuple(samplers),
        seeds=tuple((spec.seed if first_seed is None else first_seed) + k for k in range(seeds)),
        n_trials=spec.n_trials,
        storage_url=url,
        out_dir=out if out is not None else root / label,
        latency_weight=float(latency_weight),
        storage_folder=None if storage else root,
        warm_start=warm_start,
    )
