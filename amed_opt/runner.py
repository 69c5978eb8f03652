"""The composition root: builds every part of a study from its spec, then runs or resumes it.

This is the only module that wires the hardware model, the data, the float baseline, the
evaluator, the search space, the sampler and the storage together; everything else takes its
dependencies as arguments. `run_study` is what `python -m amed_opt.run` calls.

Order matters for the "nothing half-written" rule: everything that can be checked cheaply (the
spec, the hardware preset, the device, the storage URL, the dataset files) is checked before the
storage is created, so bad input never leaves a database file behind.
"""

from __future__ import annotations

import logging
import math
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
from optuna.samplers import BaseSampler
from optuna.trial import TrialState

from amed_opt.dashboard import ParetoArtifacts
from amed_opt.dashboard import dashboard_command
from amed_opt.dashboard import study_note
from amed_opt.objective import Objective
from amed_opt.objective import TrialEvaluator
from amed_opt.report import FrontPoint
from amed_opt.report import format_front
from amed_opt.report import pareto_front
from amed_opt.report import write_front
from amed_opt.samplers import Boundary
from amed_opt.samplers import ConstantTemperature
from amed_opt.samplers import GeometricAnnealing
from amed_opt.samplers import MetropolisHastingsSampler
from amed_opt.samplers import QualityScore
from amed_opt.search_space import BitSearchSpace
from amed_opt.spec import AccuracyModel
from amed_opt.spec import ChainStart
from amed_opt.spec import SamplerName
from amed_opt.spec import SpecError
from amed_opt.spec import StudySpec
from amed_opt.spec import effective_settings
from amed_opt.storage import sqlite_wal_storage
from hardware import HardwareModel
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset
from hardware import network_latency


logger = logging.getLogger(__name__)

METRIC_NAMES = ("accuracy", "latency_ms")
DIRECTIONS = [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]
# A killed worker's RUNNING trial is marked FAIL once its heartbeat is this old (seconds).
HEARTBEAT_INTERVAL_S = 5
GRACE_PERIOD_S = 20
_SPEC_ATTR = "spec"


class StorageError(RuntimeError):
    """The storage URL cannot be opened."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Run-time knobs that are not part of the study (they do not change its results).

    Attributes:
        device: Torch device string for the network (`"cpu"`, `"cuda"`, `"cuda:1"`).
        cache_dir: Folder of decompressed datasets and trained float baselines.
        results_dir: Folder of the default SQLite file, Pareto exports and artifacts.
        progress: Show progress bars.
    """

    device: str = "cpu"
    cache_dir: Path = Path(".cache/amed-opt")
    results_dir: Path = Path("results")
    progress: bool = True


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a run leaves behind.

    Attributes:
        study_name: Name of the study in the storage.
        storage_url: The storage URL.
        front: The Pareto front of all finished trials.
        csv_path: The front as CSV.
        json_path: The front as JSON.
        artifact_dir: Folder of the dashboard's artifact store.
        complete_trials: COMPLETE trials in the study after this run.
        trials_this_run: Trials this invocation ran (0 when the budget was already reached).
        wall_seconds: Wall time of the optimisation loop in this run.
        evaluation_seconds: Time spent inside the evaluator in this run.
        simulator_ms_per_network: Cold cost of pricing one allocation on the hardware model.
        reference_latency_ms: Latency of the uniform 8-bit network.
    """

    study_name: str
    storage_url: str
    front: list[FrontPoint]
    csv_path: Path
    json_path: Path
    artifact_dir: Path
    complete_trials: int
    trials_this_run: int
    wall_seconds: float
    evaluation_seconds: float
    simulator_ms_per_network: float
    reference_latency_ms: float

    @property
    def overhead_fraction(self) -> float:
        """Share of the loop's time spent outside the evaluator (sampler, storage, objective)."""
        if self.wall_seconds <= 0:
            return 0.0
        return max(0.0, self.wall_seconds - self.evaluation_seconds) / self.wall_seconds

    @property
    def dashboard_command(self) -> str:
        """The command that opens the study in optuna-dashboard."""
        return dashboard_command(self.storage_url, self.artifact_dir)


def study_name(spec: StudySpec) -> str:
    """The study's name in the storage: one study per (spec, sampler, seed)."""
    return f"{spec.name}-{spec.sampler.name.value}-seed{spec.seed}"


def build_hardware(spec: StudySpec) -> SystolicArray:
    """The hardware model of the spec's preset.

    Raises:
        FileNotFoundError: If the preset does not exist.
        ValueError: If the preset file is invalid.
    """
    return SystolicArray(load_preset(spec.hardware.preset))


def storage_url(spec: StudySpec, options: RunOptions) -> str:
    """The spec's storage URL; the default SQLite file lives in `options.results_dir`."""
    if spec.storage.url:
        return spec.storage.url
    return f"sqlite:///{options.results_dir / (spec.name + '.db')}"


def check_storage_url(url: str) -> None:
    """Check that `url` can be opened, without creating any file.

    SQLite: the URL parses and the folder exists (the default `results/` folder is created by
    `open_storage`). Other databases: a connection succeeds.

    Raises:
        StorageError: With the reason and what to do.
    """
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise StorageError(
            f"storage URL {url!r} is not a database URL; use e.g. sqlite:///results/r18.db "
            "or postgresql://user@host/db"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StorageError(
                f"storage URL {url!r} names no file; an in-memory SQLite study cannot be resumed"
            )
        return
    try:
        engine = sqlalchemy.create_engine(url)
        with engine.connect():
            pass
    except ImportError as error:
        raise StorageError(
            f"cannot open storage {url!r}: its database driver is not installed "
            f"({error}); install it into the virtualenv, e.g. pip install {error.name or 'it'}"
        ) from None
    except Exception as error:  # host unreachable, authentication, unknown dialect, ...
        reason = str(error).splitlines()[0]
        raise StorageError(f"cannot open storage {url!r}: {reason}") from None


def open_storage(
    url: str, *, create_dirs_under: Path | None = None
) -> optuna.storages.BaseStorage:
    """An Optuna storage for `url` with heartbeats; SQLite files get WAL mode.

    Args:
        url: Storage URL.
        create_dirs_under: If the SQLite file's folder is inside this folder, create it.

    Raises:
        StorageError: If the storage cannot be opened.
    """
    check_storage_url(url)
    parsed = sqlalchemy.engine.make_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            folder = Path(parsed.database or "").parent
            if create_dirs_under is not None and _is_within(folder, create_dirs_under):
                folder.mkdir(parents=True, exist_ok=True)
            if not folder.is_dir():
                raise StorageError(
                    f"cannot open storage {url!r}: folder {str(folder)!r} does not exist; "
                    "create it or pass another --storage"
                )
            return sqlite_wal_storage(
                url, heartbeat_interval=HEARTBEAT_INTERVAL_S, grace_period=GRACE_PERIOD_S
            )
        return optuna.storages.RDBStorage(
            url, heartbeat_interval=HEARTBEAT_INTERVAL_S, grace_period=GRACE_PERIOD_S
        )
    except StorageError:
        raise
    except Exception as error:
        reason = str(error).splitlines()[0]
        raise StorageError(f"cannot open storage {url!r}: {reason}") from None


def _is_within(folder: Path, parent: Path) -> bool:
    try:
        folder.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def load_finished_trial(url: str, name: str, number: int) -> optuna.trial.FrozenTrial:
    """Trial `number` of study `name`, which must be COMPLETE; creates no storage file.

    Raises:
        StorageError: If there is no database at `url`.
        KeyError: If the study or the trial does not exist, or the trial is not complete.
    """
    check_storage_url(url)
    parsed = sqlalchemy.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise StorageError(
            f"no study database at {parsed.database}; run `python -m amed_opt.run` first "
            "or pass --storage"
        )
    storage = open_storage(url)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        known = ", ".join(s.study_name for s in optuna.get_all_study_summaries(storage))
        raise KeyError(f"no study {name!r} in {url}; studies there: {known or 'none'}") from None
    trials = study.get_trials(deepcopy=False)
    if not 0 <= number < len(trials):
        raise KeyError(f"study {name!r} has no trial {number} (it has {len(trials)})")
    trial = trials[number]
    if trial.state != TrialState.COMPLETE:
        raise KeyError(f"trial {number} of {name!r} is {trial.state.name}, not COMPLETE")
    return trial


def start_bits(space: BitSearchSpace, max_size_bytes: int | None) -> int:
    """The uniform bitwidth every chain starts from: the largest candidate under the size limit.

    Raises:
        SpecError: If even the smallest uniform allocation is over the size limit.
    """
    for bits in sorted(space.candidate_bits, reverse=True):
        size = space.uniform_bits(bits).weight_size_bytes(space.layers)
        if max_size_bytes is None or size <= max_size_bytes:
            return bits
    smallest = min(space.candidate_bits)
    size_kib = space.uniform_bits(smallest).weight_size_bytes(space.layers) / 1024
    raise SpecError(
        f"search.max_size_kib is too small: even uniform {smallest}-bit weights take "
        f"{size_kib:.1f} KiB; raise the limit or allow fewer bits"
    )


def size_filter(space: BitSearchSpace, max_size_bytes: int) -> Callable[[dict[str, Any]], bool]:
    """A proposal filter accepting parameter sets whose weights fit in `max_size_bytes`."""

    def fits(params: dict[str, Any]) -> bool:
        return space.to_bits(params).weight_size_bytes(space.layers) <= max_size_bytes

    return fits


def build_sampler(
    spec: StudySpec,
    space: BitSearchSpace,
    *,
    reference_latency_ms: float,
    max_size_bytes: int | None,
) -> BaseSampler:
    """The spec's sampler over `space`, with every argument pinned (METHOD.md §10).

    The baselines' arguments are written out rather than left to Optuna's defaults, because
    Optuna 5 changed TPE's defaults (multivariate, constant liar); a comparison must not change
    meaning with the Optuna version.
    """
    seed = spec.seed
    name = spec.sampler.name
    if name is SamplerName.AMED:
        settings = spec.sampler
        threshold = settings.accuracy_threshold or None
        scores = [
            QualityScore(
                latency_reference=reference_latency_ms,
                latency_weight=weight,
                accuracy_threshold=threshold,
                penalty_slope=settings.penalty_slope,
            )
            for weight in settings.latency_weights
        ]
        temperature: ConstantTemperature | GeometricAnnealing
        if settings.annealing < 1.0:
            temperature = GeometricAnnealing(
                settings.temperature, settings.annealing, settings.min_temperature
            )
        else:
            temperature = ConstantTemperature(settings.temperature)
        top = start_bits(space, max_size_bytes)
        uniform = [
            space.uniform_params(bits) for bits in sorted(space.candidate_bits) if bits <= top
        ]
        best_start = settings.start is ChainStart.BEST_UNIFORM
        return MetropolisHastingsSampler(
            search_space=space.distributions(),
            temperature=temperature,
            n_flips=settings.n_flips,
            boundary=Boundary(settings.boundary.value),
            score=scores,
            proposal_filter=None if max_size_bytes is None else size_filter(space, max_size_bytes),
            # Highest bits first: trial 0 is the latency reference either way.
            initial_params=None if best_start else uniform[-1],
            start_candidates=uniform[::-1] if best_start else None,
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
    return optuna.samplers.RandomSampler(seed=seed)


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
        return (
            f"AMED Metropolis-Hastings, {len(settings.latency_weights)} chain(s) with latency "
            f"weights [{weights}], {settings.n_flips} layer(s) per proposal "
            f"({settings.boundary.value} at the ends), {schedule}, start {settings.start.value}"
        )
    return {
        SamplerName.TPE: "Optuna TPESampler (multivariate, 10 start-up trials, pinned)",
        SamplerName.NSGA2: "Optuna NSGAIISampler (population 20, uniform crossover, pinned)",
        SamplerName.RANDOM: "Optuna RandomSampler",
    }[settings.name]


@dataclass(frozen=True, slots=True)
class Components:
    """Everything a study needs besides the storage (see `build_components`)."""

    layers: tuple[LayerShape, ...]
    hardware: HardwareModel
    hardware_summary: str
    evaluator: TrialEvaluator
    space: BitSearchSpace
    reference_latency_ms: float
    max_size_bytes: int | None
    baseline_note: str


def build_components(spec: StudySpec, options: RunOptions) -> Components:
    """Build the hardware model, the network, its data and the evaluator.

    Trains the float baseline on first use (cached under `options.cache_dir`).

    Raises:
        FileNotFoundError, ValueError, RuntimeError: From the preset, the data, the model or the
            baseline, with a message naming the problem.
    """
    hardware = build_hardware(spec)
    # Imported here: the torch stack is needed only from this point on, and the CLI can check
    # its cheap arguments (and print errors) without paying for importing torch.
    import torch

    from amed_opt.baseline import build_study_model
    from amed_opt.baseline import prepare_study
    from amed_opt.data import load_data
    from amed_opt.models import quantizable_layers

    device = torch.device(options.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was given but CUDA is not available; use --device cpu")

    evaluator: TrialEvaluator
    if spec.evaluator.accuracy_model is AccuracyModel.SYNTHETIC:
        from amed_opt.synthetic import SyntheticEvaluator

        data = load_data(spec.data, seed=spec.seed, cache_dir=options.cache_dir / "data")
        model = build_study_model(spec, data.info)
        layers = tuple(quantizable_layers(model, data.info.input_shape))
        evaluator = SyntheticEvaluator(layers, hardware, seed=spec.seed)
        baseline_note = "SYNTHETIC accuracy model (amed_opt.synthetic): not a measurement"
    else:
        from amed_opt.evaluator import Evaluator

        prepared = prepare_study(
            spec, cache_dir=options.cache_dir, device=device, progress=options.progress
        )
        layers = prepared.layers
        measured = Evaluator(
            prepared.baseline.model,
            layers,
            hardware,
            loaders=prepared.loaders,
            spec=spec.evaluator,
            device=device,
            seed=spec.seed,
        )
        evaluator = measured
        baseline_note = (
            f"float baseline ({prepared.baseline.source.value}): validation accuracy "
            f"{measured.float_accuracy:.4f}"
        )
    space = BitSearchSpace(layers, spec.search)
    reference = network_latency(hardware, layers, [(8, 8)] * len(layers))
    max_size = int(spec.search.max_size_kib * 1024) if spec.search.max_size_kib > 0 else None
    return Components(
        layers=tuple(layers),
        hardware=hardware,
        hardware_summary=hardware.config.summary(),
        evaluator=evaluator,
        space=space,
        reference_latency_ms=reference.latency_ms,
        max_size_bytes=max_size,
        baseline_note=baseline_note,
    )


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a study's results."""
    versions = {"python": platform.python_version()}
    for package in ("amed-opt", "optuna", "optuna-dashboard", "torch", "torchvision", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def git_commit() -> str:
    """The repository's commit (with `-dirty` when the tree has changes), or `unknown`."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def open_study(
    spec: StudySpec,
    storage: optuna.storages.BaseStorage,
    sampler: BaseSampler,
    components: Components,
) -> optuna.Study:
    """Create the study, or load it when it exists and was made from the same spec.

    Raises:
        SpecError: If a study of this name exists but was created from a different spec.
    """
    name = study_name(spec)
    existing = {summary.study_name for summary in optuna.get_all_study_summaries(storage)}
    if name in existing:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler)
        stored = study.user_attrs.get(_SPEC_ATTR)
        ours = effective_settings(spec.to_dict())
        theirs = effective_settings(stored) if stored is not None else ours
        if theirs != ours:
            changed = sorted(
                key for key in set(theirs) | set(ours) if theirs.get(key) != ours.get(key)
            )
            raise SpecError(
                f"study {name!r} already exists in this storage with different settings "
                f"({', '.join(changed)}); use another --storage or rename the study"
            )
        return study
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=sampler, directions=DIRECTIONS
    )
    study.set_metric_names(list(METRIC_NAMES))
    study.set_user_attr(_SPEC_ATTR, spec.to_dict())
    study.set_user_attr("hardware", components.hardware_summary)
    study.set_user_attr("hardware_preset", spec.hardware.preset)
    study.set_user_attr("reference_latency_ms", components.reference_latency_ms)
    study.set_user_attr("baseline", components.baseline_note)
    study.set_user_attr("versions", package_versions())
    study.set_user_attr("git_commit", git_commit())
    study.set_user_attr("layers", [layer.name for layer in components.layers])
    from optuna_dashboard import save_note

    save_note(
        study,
        study_note(
            spec,
            hardware_summary=components.hardware_summary + f"\n\n{components.baseline_note}.",
            layers=components.layers,
            reference_latency_ms=components.reference_latency_ms,
            sampler_description=describe_sampler(spec),
        ),
    )
    if spec.sampler.name is not SamplerName.AMED:
        # The AMED chains start from uniform 8-bit; the baselines get the same first trial so
        # that every study holds the latency reference and budgets stay equal.
        study.enqueue_trial(
            components.space.uniform_params(
                start_bits(components.space, components.max_size_bytes)
            )
        )
    return study


def _simulator_cost_ms(components: Components, repeats: int = 20) -> float:
    # Cold cost of one network on a fresh (unmemoised) model of the same preset: an upper
    # bound on what a trial pays the simulator.
    hardware = SystolicArray(components.hardware.config)  # type: ignore[attr-defined]
    choices = components.space.candidate_bits
    started = time.perf_counter()
    for index in range(repeats):
        bits = choices[index % len(choices)]
        network_latency(hardware, components.layers, [(bits, bits)] * len(components.layers))
    return (time.perf_counter() - started) / repeats * 1e3


def run_study(
    spec: StudySpec, options: RunOptions, *, components: Components | None = None
) -> RunResult:
    """Run (or resume) the study until it has `spec.n_trials` finished trials.

    Finished trials are COMPLETE or PRUNED ones; failed trials (a killed process, an error) do
    not count, so a resumed run tops the study up to the budget.

    Args:
        spec: The study.
        options: Run-time knobs.
        components: Parts built by `build_components` for this spec, to share them between
            studies that differ only in sampler, seed or storage (a `fresh` evaluator is
            stateless between trials; a `shared` one is not and must not be shared).

    Raises:
        SpecError, StorageError, FileNotFoundError, ValueError, RuntimeError: Bad input, with a
            message naming the problem and the fix.
    """
    url = storage_url(spec, options)
    check_storage_url(url)
    if components is None:
        components = build_components(spec, options)
    storage = open_storage(url, create_dirs_under=options.results_dir)
    sampler = build_sampler(
        spec,
        components.space,
        reference_latency_ms=components.reference_latency_ms,
        max_size_bytes=components.max_size_bytes,
    )
    study = open_study(spec, storage, sampler, components)
    name = study.study_name
    artifact_dir = options.results_dir / f"{spec.name}_artifacts"
    trials = study.get_trials(deepcopy=False)
    finished_states = (TrialState.COMPLETE, TrialState.PRUNED)
    done = sum(trial.state in finished_states for trial in trials)
    objective = Objective(
        components.evaluator,
        components.space,
        max_size_bytes=components.max_size_bytes,
        artifacts=ParetoArtifacts(artifact_dir, components.layers, trials),
    )
    remaining = max(0, spec.n_trials - done)
    if done:
        logger.info("resuming study %s: %d of %d trials done", name, done, spec.n_trials)
    started = time.perf_counter()
    ran = 0
    if remaining:
        ran = _optimize(study, objective, spec.n_trials, done, options.progress)
    wall = time.perf_counter() - started

    trials = study.get_trials(deepcopy=False)
    front = pareto_front(trials)
    csv_path, json_path = write_front(front, options.results_dir, name)
    return RunResult(
        study_name=name,
        storage_url=url,
        front=front,
        csv_path=csv_path,
        json_path=json_path,
        artifact_dir=artifact_dir,
        complete_trials=sum(trial.state == TrialState.COMPLETE for trial in trials),
        trials_this_run=ran,
        wall_seconds=wall,
        evaluation_seconds=objective.evaluation_seconds,
        simulator_ms_per_network=_simulator_cost_ms(components),
        reference_latency_ms=components.reference_latency_ms,
    )


def _optimize(
    study: optuna.Study, objective: Objective, budget: int, done: int, progress: bool
) -> int:
    from tqdm import tqdm

    finished_states = (TrialState.COMPLETE, TrialState.PRUNED)
    state: dict[str, float] = {"finished": done, "ran": 0, "best": -math.inf}
    bar = tqdm(
        total=budget, initial=done, desc=study.study_name, unit="trial", disable=not progress
    )

    def on_trial_end(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        state["ran"] += 1
        if trial.state in finished_states:
            state["finished"] += 1
            bar.update(1)
        if trial.state == TrialState.COMPLETE and trial.values is not None:
            state["best"] = max(state["best"], trial.values[0])
            bar.set_postfix(
                acc=f"{trial.values[0]:.3f}",
                ms=f"{trial.values[1]:.3f}",
                best_acc=f"{state['best']:.3f}",
            )
        if state["finished"] >= budget:
            study.stop()

    try:
        # Loops until the budget of finished trials is met: failed trials are retried.
        while state["finished"] < budget:
            before = state["finished"]
            study.optimize(
                objective,
                n_trials=budget - int(state["finished"]),
                callbacks=[on_trial_end],
                catch=(),
                gc_after_trial=False,
            )
            if state["finished"] == before:
                break
    finally:
        bar.close()
    return int(state["ran"])


def result_summary(result: RunResult) -> str:
    """The end-of-run report printed by the CLI."""
    lines = [
        "",
        f"Study {result.study_name}: {result.complete_trials} complete trials "
        f"({result.trials_this_run} run now in {result.wall_seconds:.0f} s).",
        f"Uniform 8-bit latency: {result.reference_latency_ms:.4f} ms.",
        "",
        f"Pareto front ({len(result.front)} trials):",
        format_front(result.front),
        "",
        f"Front written to {result.csv_path} and {result.json_path}.",
    ]
    if result.trials_this_run:
        per_trial = result.wall_seconds / result.trials_this_run
        lines.append(
            f"Time per trial {per_trial:.2f} s; outside the evaluator (sampler, storage, "
            f"objective) {result.overhead_fraction:.1%}; simulator "
            f"{result.simulator_ms_per_network:.2f} ms per network cold."
        )
    lines += ["", "Browse the trials:", f"  {result.dashboard_command}"]
    return "\n".join(lines)
