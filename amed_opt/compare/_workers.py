"""Running a comparison's studies in several worker processes (`--workers N`).

Each study is run by exactly one worker, from where it stands to its budget, so every sampler
sees its own sequential history, exactly as with one worker: TPE and NSGA-II stay comparable
and the same seeds give the same trials, whatever N. The workers are processes started with
`spawn` (fresh interpreters: no forked torch, CUDA context or database connection); each builds
its parts once, opens the storage itself and asks this process for studies, handed out in plan
order (seeds outer, samplers inner), until none is left. With `--device cuda`, worker `i` runs
on `cuda:(i mod GPUs)` (`amed_opt.cli.worker_device`).

In `fresh` mode each worker has its own `MemoizedEvaluator`, which learns what the storage holds
before each study (the uniform ladder, measured first by the parent, and every study finished
so far): two workers may still measure one allocation at the same time, which costs time, not
results as long as a repeated measurement gives the same accuracy, which the memo assumes
anyway (non-deterministic GPU kernels can change its last digits).

Each worker talks to this process through its own pipe (a worker killed mid-message damages
only its own). This process shows one progress bar (finished trials over all studies, and
studies done). The first worker that fails, or dies, stops the others and becomes a
`RunFailure` naming it and its study (one line, exit code 1); Ctrl-C, or a worker interrupted
on its own, interrupts every worker (their running trials end FAIL, as with one worker) and
re-raises `KeyboardInterrupt`, so the command says how to resume.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Sequence
from multiprocessing.connection import wait
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple
from typing import NoReturn

from optuna.trial import TrialState

from amed_opt.app import RunOptions
from amed_opt.app import build_components
from amed_opt.app import run_study
from amed_opt.cli import configure_logging
from amed_opt.cli import one_line
from amed_opt.cli import worker_device
from amed_opt.compare._interrupts import WorkerInterrupts
from amed_opt.compare._memo import MemoizedEvaluator
from amed_opt.compare._memo import measured_trials
from amed_opt.study.errors import RunFailure
from amed_opt.study.naming import study_name
from amed_opt.study.spec import EvaluatorMode
from amed_opt.study.spec import SamplerName
from amed_opt.study.storage import close_storage
from amed_opt.study.storage import open_storage


if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from amed_opt.compare._plan import ComparisonPlan

logger = logging.getLogger(__name__)

STOP_WAIT_S = 30.0
"""Seconds interrupted workers get to mark their running trials FAIL before being terminated."""
_POLL_S = 0.5
_RESUME = "the storage keeps every finished trial: run the same command to resume"


class StudyResult(NamedTuple):
    """One study as a worker ran it."""

    study_name: str
    complete_trials: int
    trials_run: int
    wall_seconds: float


class WorkersRun(NamedTuple):
    """What the workers did: every study in plan order, and their memos' use."""

    studies: list[StudyResult]
    memo_hits: int
    memo_misses: int


class WorkerFailed(Exception):
    """A worker's error, carrying its traceback text (shown with `--traceback`)."""


def run_in_workers(
    plan: ComparisonPlan,
    options: RunOptions,
    tasks: Sequence[tuple[SamplerName, int]],
    *,
    workers: int,
    gpus: int,
) -> WorkersRun:
    """Run every `(sampler, seed)` study of `tasks` to its budget, each by one of `workers`
    processes; `gpus` is the number of visible GPUs (`amed_opt.cli.visible_gpu_count`).

    Raises:
        RunFailure: A worker failed or died (the others were stopped); the message names it.
        KeyboardInterrupt: On Ctrl-C, or when a worker was interrupted; every worker stopped.
    """
    context = multiprocessing.get_context("spawn")
    count = max(1, min(workers, len(tasks)))
    pipes = [context.Pipe() for _ in range(count)]
    processes = [
        context.Process(
            target=worker_main,
            args=(
                index,
                plan,
                dataclasses.replace(
                    options,
                    device=worker_device(options.device, index, gpus),
                    on_progress=None,  # each worker reports through its pipe instead
                ),
                pipes[index][1],
            ),
            name=f"amed-opt-compare-worker-{index}",
        )
        for index in range(count)
    ]
    monitor = _Monitor(plan, list(tasks), [ours for ours, _ in pipes], options.progress)
    stopped = False
    try:
        _start(processes)
        for _, theirs in pipes:
            theirs.close()  # a worker's death then reads as the end of its pipe
        with monitor.redirect_logging():
            monitor.follow(processes)
    except BaseException:
        stopped = True
        _interrupt(processes, monitor.open_connections())
        raise
    finally:
        _terminate(processes)
        if stopped:
            _fail_left_running(plan, tasks)
        monitor.close()
    return WorkersRun(monitor.ordered_results(), monitor.memo_hits, monitor.memo_misses)


class _Monitor:
    """This process's view of the workers: hands out the studies, shows one progress bar,
    collects the results and raises on the first failure."""

    def __init__(
        self,
        plan: ComparisonPlan,
        tasks: list[tuple[SamplerName, int]],
        connections: list[Connection],
        progress: bool,
    ) -> None:
        from tqdm import tqdm

        self._plan = plan
        self._pending = list(tasks)
        self._names = [study_name(plan.study_spec(sampler, seed)) for sampler, seed in tasks]
        self._finished = dict.fromkeys(self._names, 0)
        self._connections = connections
        self._index = {id(connection): index for index, connection in enumerate(connections)}
        self._open = dict(enumerate(connections))
        self._current: dict[int, str] = {}
        self.results: dict[str, StudyResult] = {}
        self.memo_hits = 0
        self.memo_misses = 0
        self._bar = tqdm(
            total=len(self._names) * plan.n_trials,
            desc=f"{plan.label} ({len(connections)} workers)",
            unit="trial",
            disable=not progress,
        )
        self._show()

    def open_connections(self) -> list[Connection]:
        return list(self._open.values())

    def ordered_results(self) -> list[StudyResult]:
        return [self.results[name] for name in self._names]

    def follow(self, processes: Sequence[BaseProcess]) -> None:
        """Serve the workers until every one has exited."""
        while self._open:
            for ready in wait(list(self._open.values()), timeout=_POLL_S):
                index = self._index[id(ready)]
                try:
                    message = self._connections[index].recv()
                except (EOFError, OSError):
                    self._died(index, processes[index])
                self._handle(index, message)
        for process in processes:
            process.join()

    def _handle(self, index: int, message: tuple[Any, ...]) -> None:
        kind, *rest = message
        if kind == "next":
            task = self._pending.pop(0) if self._pending else None
            try:
                self._connections[index].send(task)
            except OSError:
                pass  # it died: the end of its pipe says so next
        elif kind == "start":
            self._current[index] = rest[0]
        elif kind == "progress":
            name, finished = rest
            self._finished[name] = finished
            self._show()
        elif kind == "done":
            result = StudyResult(*rest)
            self.results[result.study_name] = result
            self._finished[result.study_name] = self._plan.n_trials
            self._current.pop(index, None)
            self._show()
            logger.info(
                "%s: %d trials (%d now, %.0f s)",
                result.study_name,
                result.complete_trials,
                result.trials_run,
                result.wall_seconds,
            )
        elif kind == "exit":
            hits, misses = rest
            self.memo_hits += hits
            self.memo_misses += misses
            self._open.pop(index).close()
        elif kind == "interrupted":
            raise KeyboardInterrupt
        elif kind == "failed":
            line, details = rest
            raise RunFailure(
                f"worker {index} failed{self._where(index)}: {line}; the other workers were "
                f"stopped and {_RESUME}"
            ) from WorkerFailed(details)

    def _died(self, index: int, process: BaseProcess) -> NoReturn:
        """A worker's pipe ended without its goodbye: it was killed (or ran out of memory)."""
        self._open.pop(index).close()
        process.join(5.0)
        raise RunFailure(
            f"worker {index} stopped with exit code {process.exitcode}{self._where(index)}; "
            + _RESUME
        )

    def _where(self, index: int) -> str:
        name = self._current.get(index)
        return f" while running study {name}" if name else ""

    def _show(self) -> None:
        budget = self._plan.n_trials
        done = sum(min(finished, budget) for finished in self._finished.values())
        self._bar.update(max(0, done - self._bar.n))
        self._bar.set_postfix_str(f"studies {len(self.results)}/{len(self._names)}")

    def redirect_logging(self) -> contextlib.AbstractContextManager[None]:
        """Log lines above the bar instead of through it (while it is shown)."""
        if self._bar.disable:
            return contextlib.nullcontext()
        from tqdm.contrib.logging import logging_redirect_tqdm

        return logging_redirect_tqdm()

    def close(self) -> None:
        self._bar.close()
        for connection in self._open.values():
            connection.close()


def _start(processes: Sequence[BaseProcess]) -> None:
    """Start the workers with SIGINT ignored: each installs its own handler once it runs, so a
    Ctrl-C during their start (importing torch) prints no traceback from them."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        for process in processes:
            process.start()
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def _interrupt(processes: Sequence[BaseProcess], connections: list[Connection]) -> None:
    """Interrupt the running workers (as Ctrl-C would) and wait for them to stop.

    SIGINT is sent again every second (a worker still starting ignores it); their messages are
    read meanwhile so that no worker blocks on a full pipe.
    """
    deadline = time.monotonic() + STOP_WAIT_S
    next_signal = 0.0
    while time.monotonic() < deadline:
        alive = [process for process in processes if process.is_alive()]
        if not alive:
            return
        if time.monotonic() >= next_signal:
            for process in alive:
                if process.pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process.pid, signal.SIGINT)
            next_signal = time.monotonic() + 1.0
        by_id = {id(connection): connection for connection in connections}
        for ready in wait(connections, timeout=0.1):
            try:
                by_id[id(ready)].recv()
            except (EOFError, OSError):
                connections.remove(by_id[id(ready)])
        if not connections:
            time.sleep(0.1)


def _fail_left_running(plan: ComparisonPlan, tasks: Sequence[tuple[SamplerName, int]]) -> None:
    """Once every worker has stopped, mark FAIL the trials of `tasks` still RUNNING: a worker
    fails its own trial when interrupted, unless it is terminated first or its write waits on
    a lock past the busy timeout, and each study has no other worker. FAIL without a
    `fail_reason` is an interrupted trial (the AMED chain proposes that step again)."""
    with contextlib.suppress(Exception):
        storage = open_storage(plan.storage_url)
        try:
            for sampler, seed in tasks:
                with contextlib.suppress(KeyError):
                    study_id = storage.get_study_id_from_name(
                        study_name(plan.study_spec(sampler, seed))
                    )
                    for trial in storage.get_all_trials(study_id, deepcopy=False):
                        if trial.state == TrialState.RUNNING:
                            storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        finally:
            close_storage(storage)


def _terminate(processes: Sequence[BaseProcess]) -> None:
    """Terminate, then kill, any worker still running."""
    for process in processes:
        if process.pid is None:
            continue  # never started
        if process.is_alive():
            process.terminate()
            process.join(5.0)
        if process.is_alive():
            process.kill()
            process.join()


_INTERRUPTS = WorkerInterrupts()
_send = _INTERRUPTS.send


def worker_main(index: int, plan: ComparisonPlan, options: RunOptions, parent: Any) -> None:
    """A worker process: run the studies the parent hands out, reporting through `parent`."""
    try:
        _INTERRUPTS.install()  # SIGINT was ignored until here (`_start`)
        try:
            configure_logging()
            logging.getLogger().setLevel(logging.WARNING)  # the parent reports each study
            hits, misses = _run_tasks(plan, options, parent)
        except KeyboardInterrupt:
            _send(parent, ("interrupted",))
            return
        except BaseException as error:
            _send(parent, ("failed", one_line(error), traceback.format_exc()))
            return
        _send(parent, ("exit", hits, misses))
    except (KeyboardInterrupt, OSError):
        pass  # the parent is gone or stopping us: nothing left to say
    finally:
        parent.close()


def _run_tasks(plan: ComparisonPlan, options: RunOptions, parent: Any) -> tuple[int, int]:
    """The worker's loop; returns its memo's hits and misses."""

    def report(name: str, finished: int) -> None:
        _send(parent, ("progress", name, finished))

    options = dataclasses.replace(options, progress=False, on_progress=report)
    fresh = plan.spec.evaluator.mode is EvaluatorMode.FRESH
    memo: MemoizedEvaluator | None = None
    components = None
    if fresh:
        components = build_components(plan.spec, options)
        memo = MemoizedEvaluator(components.evaluator, components.hardware, components.layers)
        components = dataclasses.replace(components, evaluator=memo)
    storage = open_storage(plan.storage_url, timings=options.storage_timings)
    try:
        while True:
            _send(parent, ("next",))
            task = parent.recv()
            if task is None:
                break
            sampler, seed = task
            spec = plan.study_spec(sampler, seed)
            _send(parent, ("start", study_name(spec)))
            if memo is not None:
                memo.learn(measured_trials(storage, plan))
            study_components = components
            if study_components is None:  # `shared`: the evaluator carries weights, one each
                study_components = build_components(spec, options)
            result = run_study(spec, options, components=study_components)
            _send(
                parent,
                (
                    "done",
                    result.study_name,
                    result.complete_trials,
                    result.trials_this_run,
                    result.wall_seconds,
                ),
            )
    finally:
        close_storage(storage)
    return (memo.hits, memo.misses) if memo else (0, 0)
