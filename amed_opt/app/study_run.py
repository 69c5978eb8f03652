"""Running a study: create or resume it in the storage, optimise to its budget, export the front.

Part of the composition root (see `components`); `run_study` is what `python -m amed_opt.run`
calls.

Order matters for the "nothing half-written" rule: everything that can be checked cheaply (the
spec, the hardware preset, the device, the storage URL, the dataset files) is checked before the
storage is created, so bad input never leaves a database file behind.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.samplers import BaseSampler
from optuna.trial import TrialState

from amed_opt.app.components import Components
from amed_opt.app.components import RunOptions
from amed_opt.app.components import build_components
from amed_opt.app.components import simulator_cost_ms
from amed_opt.app.sampler_factory import build_sampler
from amed_opt.app.worker_loop import FINISHED
from amed_opt.app.worker_loop import run_to_budget
from amed_opt.study.dashboard import ParetoArtifacts
from amed_opt.study.dashboard import dashboard_command
from amed_opt.study.dashboard import study_note
from amed_opt.study.front import FrontPoint
from amed_opt.study.front import format_front
from amed_opt.study.front import pareto_front
from amed_opt.study.front import write_front
from amed_opt.study.naming import DIRECTIONS
from amed_opt.study.naming import METRIC_NAMES
from amed_opt.study.naming import REFERENCE_LATENCY_ATTR
from amed_opt.study.naming import SPEC_ATTR
from amed_opt.study.naming import describe_sampler
from amed_opt.study.naming import study_name
from amed_opt.study.objective import Objective
from amed_opt.study.provenance import git_commit
from amed_opt.study.provenance import package_versions
from amed_opt.study.search_space import start_bits
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import SpecError
from amed_opt.study.spec import StudySpec
from amed_opt.study.spec import effective_settings
from amed_opt.study.storage import check_storage_url
from amed_opt.study.storage import default_storage_url
from amed_opt.study.storage import open_storage


logger = logging.getLogger(__name__)


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


def storage_url(spec: StudySpec, options: RunOptions) -> str:
    """The spec's storage URL; the default SQLite file lives in `options.results_dir`."""
    return spec.storage.url or default_storage_url(options.results_dir, spec.name)


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
    if name not in existing:
        try:
            return _create_study(spec, storage, sampler, components)
        except optuna.exceptions.DuplicatedStudyError:
            pass  # Another worker created it at the same instant: load theirs.
    study = optuna.load_study(study_name=name, storage=storage, sampler=sampler)
    stored = study.user_attrs.get(SPEC_ATTR)
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


def _create_study(
    spec: StudySpec,
    storage: optuna.storages.BaseStorage,
    sampler: BaseSampler,
    components: Components,
) -> optuna.Study:
    """Create the study and store what describes it (raises `DuplicatedStudyError` if a
    worker created it first; its attributes are then that worker's to write)."""
    study = optuna.create_study(
        study_name=study_name(spec), storage=storage, sampler=sampler, directions=list(DIRECTIONS)
    )
    study.set_metric_names(list(METRIC_NAMES))
    study.set_user_attr(SPEC_ATTR, spec.to_dict())
    study.set_user_attr("hardware", components.hardware_summary)
    study.set_user_attr("hardware_preset", spec.hardware.preset)
    study.set_user_attr(REFERENCE_LATENCY_ATTR, components.reference_latency_ms)
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


def run_study(
    spec: StudySpec, options: RunOptions, *, components: Components | None = None
) -> RunResult:
    """Run (or resume) the study until it has `spec.n_trials` finished trials.

    Finished trials are COMPLETE or PRUNED ones; failed trials (a killed process, an error) do
    not count, so a resumed run tops the study up to the budget. The budget is the study's:
    any number of workers running this on one storage share it (`worker_loop`).

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
        on_measured=ParetoArtifacts(artifact_dir, components.layers, trials),
    )
    if done:
        logger.info("resuming study %s: %d of %d trials done", name, done, spec.n_trials)
    started = time.perf_counter()
    # Called even when the budget is met: a killed worker's RUNNING trial is then failed.
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
        simulator_ms_per_network=simulator_cost_ms(components),
        reference_latency_ms=components.reference_latency_ms,
    )


def _optimize(
    study: optuna.Study, objective: Objective, budget: int, done: int, progress: bool
) -> int:
    """Run this worker's share of the study's budget (`worker_loop.run_to_budget`)."""
    from tqdm import tqdm

    state: dict[str, float] = {"best": -math.inf}
    bar = tqdm(
        total=budget, initial=done, desc=study.study_name, unit="trial", disable=not progress
    )

    def on_trial_end(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        finished = len(study.get_trials(deepcopy=False, states=FINISHED))
        bar.update(max(0, min(finished, budget) - bar.n))
        if trial.state == TrialState.COMPLETE and trial.values is not None:
            state["best"] = max(state["best"], trial.values[0])
            bar.set_postfix(
                acc=f"{trial.values[0]:.3f}",
                ms=f"{trial.values[1]:.3f}",
                best_acc=f"{state['best']:.3f}",
            )

    try:
        return run_to_budget(study, objective, budget, on_trial_end=on_trial_end)
    finally:
        bar.close()


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
