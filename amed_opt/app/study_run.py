"""Running a study: create or resume it in the storage, optimise to its budget, export the front.

Part of the composition root (see `components`); `run_study` is what `python -m amed_opt.run`
calls.

Order matters for the "nothing half-written" rule: `preflight` checks everything (the spec, the
hardware preset, the device, the storage, the folders, the dataset files, the model, the search
space and the sampler's arguments, the stored settings of an existing study) before any file is
created, decompressed or trained, so bad input never leaves a file behind.

During the work, a trial whose evaluation fails is FAIL with a `fail_reason` and the run goes
on; `FailureGuard` stops it after `RunOptions.max_consecutive_failures` in a row, and a failing
disk or database ends it; both are a `RunFailure` (exit code 1), and the database keeps every
finished trial, so the same command resumes.
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
from amed_opt.app.failures import FailureGuard
from amed_opt.app.failures import quiet_trial_failures
from amed_opt.app.preflight import check_resumable
from amed_opt.app.preflight import preflight
from amed_opt.app.preflight import storage_url
from amed_opt.app.sampler_factory import build_sampler
from amed_opt.app.worker_loop import FINISHED
from amed_opt.app.worker_loop import run_to_budget
from amed_opt.study.dashboard import ParetoArtifacts
from amed_opt.study.dashboard import command_arguments
from amed_opt.study.dashboard import dashboard_command
from amed_opt.study.dashboard import study_note
from amed_opt.study.errors import RunFailure
from amed_opt.study.front import FrontPoint
from amed_opt.study.front import format_front
from amed_opt.study.front import pareto_front
from amed_opt.study.front import write_front
from amed_opt.study.naming import REFERENCE_ENERGY_ATTR
from amed_opt.study.naming import REFERENCE_LATENCY_ATTR
from amed_opt.study.naming import SPEC_ATTR
from amed_opt.study.naming import describe_sampler
from amed_opt.study.naming import directions
from amed_opt.study.naming import study_name
from amed_opt.study.objective import Objective
from amed_opt.study.objective import TrialFailure
from amed_opt.study.provenance import git_commit
from amed_opt.study.provenance import package_versions
from amed_opt.study.search_space import uniform_ladder
from amed_opt.study.spec import ChainStart
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import StudySpec
from amed_opt.study.storage import close_storage
from amed_opt.study.storage import open_storage
from amed_opt.study.storage import redact_url


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
        reference_energy_uj: Energy of one inference of the uniform 8-bit network in µJ
            (None when the hardware prices no energy).
        inputs_note: Which input the accuracy, and which the latency and energy, refer to.
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
    reference_energy_uj: float | None
    inputs_note: str

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


def stored_spec(spec: StudySpec) -> dict[str, object]:
    """`spec.to_dict()` as the study stores it: the storage URL without its password."""
    plain = spec.to_dict()
    plain["storage"] = {**plain["storage"], "url": redact_url(spec.storage.url)}
    return plain


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
    check_resumable(spec, study.user_attrs.get(SPEC_ATTR))
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
        study_name=study_name(spec),
        storage=storage,
        sampler=sampler,
        directions=directions(spec.objectives),
    )
    study.set_metric_names(list(spec.objectives))
    study.set_user_attr(SPEC_ATTR, stored_spec(spec))
    study.set_user_attr("hardware", components.hardware_summary)
    study.set_user_attr("hardware_preset", spec.hardware.preset)
    study.set_user_attr(REFERENCE_LATENCY_ATTR, components.reference_latency_ms)
    study.set_user_attr(REFERENCE_ENERGY_ATTR, components.reference_energy_uj)
    study.set_user_attr("inputs", components.inputs_note)
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
            reference_energy_uj=components.reference_energy_uj,
            inputs_note=components.inputs_note,
            sampler_description=describe_sampler(spec),
        ),
    )
    enqueue_warm_start(study, spec, components)
    return study


def enqueue_warm_start(study: optuna.Study, spec: StudySpec, components: Components) -> None:
    """Enqueue a baseline sampler's first trials in a new `study`; nothing for AMED.

    The AMED chains start from uniform 8-bit; the baselines get the same first trial so that
    every study holds the latency reference and budgets stay equal. With `start =
    "best-uniform"`, `"best-bridged"` or `"probed"` they get AMED's whole uniform ladder (the
    fair warm start; AMED's midpoints and probes are its own proposals).
    """
    if spec.sampler.name is SamplerName.AMED:
        return
    ladder = uniform_ladder(components.space, components.max_size_bytes)
    enqueued = spec.n_trials if spec.sampler.start is not ChainStart.HIGHEST_UNIFORM else 1
    for params in ladder[:enqueued]:
        study.enqueue_trial(params)


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
        SpecError, StorageError, FileNotFoundError, ValueError: Bad input found before anything
            is written, with a message naming the problem and the fix.
        RunFailure: The work failed (too many failed trials in a row, a diverging baseline,
            the disk or the database); the study keeps its finished trials.
    """
    url = storage_url(spec, options)
    preflight(spec, options, layers=None if components is None else components.layers)
    if components is None:
        components = build_components(spec, options)
    try:
        return _run(spec, options, components, url)
    except (OSError, RunFailure) as error:
        if isinstance(error, RunFailure | FileNotFoundError):
            raise
        raise _work_failure(error) from error
    except Exception as error:
        import sqlalchemy

        if isinstance(
            error, sqlalchemy.exc.SQLAlchemyError | optuna.exceptions.StorageInternalError
        ):
            raise _work_failure(error) from error
        raise


def _work_failure(error: BaseException) -> RunFailure:
    reason = (str(error).splitlines() or [type(error).__name__])[0]
    return RunFailure(
        f"the run failed while writing ({type(error).__name__}: {reason}); the database keeps "
        "every finished trial: fix the cause (disk space, permissions, the server) and run the "
        "same command to resume"
    )


def _run(spec: StudySpec, options: RunOptions, components: Components, url: str) -> RunResult:
    storage = open_storage(
        url, create_dirs_under=options.results_dir, timings=options.storage_timings
    )
    try:
        return _run_on(spec, options, components, url, storage)
    finally:
        # Closed here, not whenever the garbage collector gets to it: SQLite folds its WAL into
        # the database file when the last connection closes, so a later reader of the file
        # would otherwise see it change under it.
        close_storage(storage)


def _run_on(
    spec: StudySpec,
    options: RunOptions,
    components: Components,
    url: str,
    storage: optuna.storages.BaseStorage,
) -> RunResult:
    sampler = build_sampler(
        spec,
        components.space,
        reference_latency_ms=components.reference_latency_ms,
        max_size_bytes=components.max_size_bytes,
        hardware=components.hardware,
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
        objectives=spec.objectives,
        on_measured=ParetoArtifacts(
            artifact_dir,
            components.layers,
            trials,
            command_arguments=command_arguments(spec, url),
        ),
    )
    if done:
        logger.info("resuming study %s: %d of %d trials done", name, done, spec.n_trials)
    started = time.perf_counter()
    # Called even when the budget is met: a killed worker's RUNNING trial is then failed.
    guard = FailureGuard(options.max_consecutive_failures)
    ran = _optimize(study, objective, spec.n_trials, done, options, guard)
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
        reference_energy_uj=components.reference_energy_uj,
        inputs_note=components.inputs_note,
    )


def _optimize(
    study: optuna.Study,
    objective: Objective,
    budget: int,
    done: int,
    options: RunOptions,
    guard: FailureGuard,
) -> int:
    """Run this worker's share of the study's budget (`worker_loop.run_to_budget`)."""
    from tqdm import tqdm

    state: dict[str, float] = {"best": -math.inf}
    bar = tqdm(
        total=budget,
        initial=done,
        desc=study.study_name,
        unit="trial",
        disable=not options.progress,
    )
    report = options.on_progress
    if report is not None:
        report(study.study_name, min(done, budget))

    def on_trial_end(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        finished = len(study.get_trials(deepcopy=False, states=FINISHED))
        bar.update(max(0, min(finished, budget) - bar.n))
        if report is not None:
            report(study.study_name, min(finished, budget))
        if trial.state == TrialState.COMPLETE and trial.values is not None:
            state["best"] = max(state["best"], trial.values[0])
            bar.set_postfix(
                acc=f"{trial.values[0]:.3f}",
                ms=f"{trial.values[1]:.3f}",
                best_acc=f"{state['best']:.3f}",
            )

    try:
        # Until the study's budget of finished trials is met (failed trials are replaced), or
        # until the guard has seen too many trials fail in a row.
        with quiet_trial_failures():
            ran = run_to_budget(
                study,
                objective,
                budget,
                on_trial_end=on_trial_end,
                callbacks=[guard],
                catch=(TrialFailure,),
                should_stop=lambda: guard.tripped,
                timings=options.storage_timings,
            )
    finally:
        bar.close()
    if guard.tripped:
        raise guard.failure()
    return ran


def result_summary(result: RunResult) -> str:
    """The end-of-run report printed by the CLI."""
    lines = [
        "",
        f"Study {result.study_name}: {result.complete_trials} complete trials "
        f"({result.trials_this_run} run now in {result.wall_seconds:.0f} s).",
        f"Uniform 8-bit network: {result.reference_latency_ms:.4f} ms"
        + (
            f", {result.reference_energy_uj:.1f} µJ per inference."
            if result.reference_energy_uj is not None
            else "."
        ),
        f"Inputs: {result.inputs_note}.",
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
