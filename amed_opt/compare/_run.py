"""Running a comparison: every (sampler, seed) study, and the uniform allocations.

The network, data, baseline and evaluator are built once (`amed_opt.app.build_components`) and
shared by every study when the evaluator is `fresh`, wrapped in a `MemoizedEvaluator` (`_memo`)
that measures each allocation's accuracy once per storage. Samplers still spend one trial of their
budget on every allocation they propose; the memo saves only wall time. A `shared` evaluator
carries weights from trial to trial, so every study gets its own and nothing is memoised. Each
study is `amed_opt.app.run_study`, exactly what `python -m amed_opt.run` runs. With several
workers (`run_comparison(..., workers=N)`) the studies run in N processes at once, each study by
one worker (`_workers`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from amed_opt.app import Components
from amed_opt.app import RunOptions
from amed_opt.app import build_components
from amed_opt.app import preflight
from amed_opt.app import probe_layers
from amed_opt.app import run_study
from amed_opt.cli import visible_gpu_count
from amed_opt.compare._memo import MemoizedEvaluator
from amed_opt.compare._memo import measured_trials
from amed_opt.compare._uniform import run_uniform
from amed_opt.compare._workers import run_in_workers
from amed_opt.study.spec import EvaluatorMode
from amed_opt.study.storage import open_storage


if TYPE_CHECKING:
    from amed_opt.compare._plan import ComparisonPlan

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StudyRun:
    """One study's part of this invocation.

    Attributes:
        study_name: Its name in the storage.
        trials_run: Trials run now (0 when its budget was already met).
        wall_seconds: Wall time of its optimisation loop now.
    """

    study_name: str
    trials_run: int
    wall_seconds: float


@dataclass(frozen=True, slots=True)
class ComparisonRun:
    """What `run_comparison` did.

    Attributes:
        studies: One entry per study, in run order.
        uniform_trials_run: Uniform allocations measured now.
        wall_seconds: Wall time of this invocation (building included).
        build_seconds: Time spent building the network, data and evaluator.
        memo_hits: Evaluations answered from the memo (fresh mode).
        memo_misses: Evaluations measured (fresh mode).
        components: The parts the studies shared (the first study's, in shared mode).
    """

    studies: tuple[StudyRun, ...]
    uniform_trials_run: int
    wall_seconds: float
    build_seconds: float
    memo_hits: int
    memo_misses: int
    components: Components


def run_comparison(
    plan: ComparisonPlan, options: RunOptions, *, workers: int = 1
) -> ComparisonRun:
    """Run or resume every study of `plan` to its budget, and the uniform allocations.

    With one worker the studies run one after the other in this process, then the uniform
    allocations. With several, the uniform allocations run first (so that every worker's memo
    knows them), then `workers` processes run the studies, each study by exactly one worker
    (`_workers`): the same studies with the same trials as with one worker.

    Args:
        plan: The comparison.
        options: Device, cache folder and progress bars (`results_dir` is ignored: study
            exports go under `plan.out_dir / "studies"`).
        workers: Studies run at once, each in its own process (at least 1).

    Raises:
        SpecError, StorageError, FileNotFoundError, ValueError, RuntimeError: Bad input, from
            the runner, with a message naming the problem.
        RunFailure: A worker failed (several workers); the message names its study.
    """
    if workers < 1:
        raise ValueError(f"--workers must be a positive integer, got {workers}")
    started = time.perf_counter()
    study_options = dataclasses.replace(options, results_dir=plan.out_dir / "studies")
    # Every study is checked before anything is written, decompressed or trained.
    layers = probe_layers(plan.spec)
    for seed in plan.seeds:
        for sampler in plan.samplers:
            preflight(
                plan.study_spec(sampler, seed),
                study_options,
                layers=layers,
                create_dirs_under=plan.storage_folder or plan.out_dir,
            )
    fresh = plan.spec.evaluator.mode is EvaluatorMode.FRESH

    components = build_components(plan.spec, study_options)
    build_seconds = time.perf_counter() - started
    memo: MemoizedEvaluator | None = None
    if fresh:
        memo = MemoizedEvaluator(components.evaluator, components.hardware, components.layers)
        components = dataclasses.replace(components, evaluator=memo)
    if plan.storage_folder is not None:
        plan.storage_folder.mkdir(parents=True, exist_ok=True)
    storage = open_storage(plan.storage_url, create_dirs_under=plan.out_dir)
    if memo is not None:
        learnt = memo.learn(measured_trials(storage, plan))
        if learnt:
            logger.info("%d allocations already measured in %s", learnt, plan.storage_url)

    if workers > 1:
        uniform_run = run_uniform(plan, storage, components, study_options)
        tasks = [(sampler, seed) for seed in plan.seeds for sampler in plan.samplers]
        parallel = run_in_workers(
            plan,
            study_options,
            tasks,
            workers=workers,
            gpus=visible_gpu_count(options.device),
        )
        return ComparisonRun(
            studies=tuple(
                StudyRun(study.study_name, study.trials_run, study.wall_seconds)
                for study in parallel.studies
            ),
            uniform_trials_run=uniform_run,
            wall_seconds=time.perf_counter() - started,
            build_seconds=build_seconds,
            memo_hits=(memo.hits if memo else 0) + parallel.memo_hits,
            memo_misses=(memo.misses if memo else 0) + parallel.memo_misses,
            components=components,
        )

    runs: list[StudyRun] = []
    for seed in plan.seeds:
        for sampler in plan.samplers:
            spec = plan.study_spec(sampler, seed)
            study_components = components
            if not fresh:
                build_started = time.perf_counter()
                study_components = build_components(spec, study_options)
                build_seconds += time.perf_counter() - build_started
            result = run_study(spec, study_options, components=study_components)
            runs.append(StudyRun(result.study_name, result.trials_this_run, result.wall_seconds))
            logger.info(
                "%s: %d trials (%d now, %.0f s)",
                result.study_name,
                result.complete_trials,
                result.trials_this_run,
                result.wall_seconds,
            )

    uniform_run = run_uniform(plan, storage, components, study_options)
    return ComparisonRun(
        studies=tuple(runs),
        uniform_trials_run=uniform_run,
        wall_seconds=time.perf_counter() - started,
        build_seconds=build_seconds,
        memo_hits=memo.hits if memo else 0,
        memo_misses=memo.misses if memo else 0,
        components=components,
    )
