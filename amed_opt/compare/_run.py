"""Running a comparison: every (sampler, seed) study, then the uniform allocations.

The network, data, baseline and evaluator are built once (`runner.build_components`) and shared
by every study when the evaluator is `fresh`: a fresh trial starts from the float weights, so its
accuracy depends only on its allocation (and not on the hardware, which prices latency). So
`MemoizedEvaluator` measures each allocation's accuracy once per storage: it learns what the
storage already holds from studies measured the same way (a resumed comparison, or the same study
on another hardware preset in the same storage) and prices latency on this comparison's
hardware. Samplers still spend one trial of their budget on every allocation they propose; the
memo saves only wall time. A `shared` evaluator carries weights from trial to trial, so every
study gets its own and nothing is memoised.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import optuna
import sqlalchemy
from optuna.trial import TrialState

from amed_opt.compare._analysis import LAYER_INFO_ATTR
from amed_opt.objective import Metrics
from amed_opt.objective import Objective
from amed_opt.objective import TrialEvaluator
from amed_opt.runner import DIRECTIONS
from amed_opt.runner import METRIC_NAMES
from amed_opt.runner import Components
from amed_opt.runner import RunOptions
from amed_opt.runner import StorageError
from amed_opt.runner import build_components
from amed_opt.runner import check_storage_url
from amed_opt.runner import git_commit
from amed_opt.runner import open_storage
from amed_opt.runner import run_study
from amed_opt.spec import EvaluatorMode
from amed_opt.spec import effective_settings
from hardware import Bound
from hardware import HardwareModel
from hardware import LayerShape
from hardware import network_latency


if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from amed_opt.bits import BitConfig
    from amed_opt.compare._plan import ComparisonPlan

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecalledMetrics:
    """A remembered accuracy with latency and size priced now, on this comparison's hardware."""

    accuracy: float
    latency_ms: float
    latency_cycles: int
    size_bytes: int
    cycles_by_layer: Mapping[str, int]
    memory_bound_layers: tuple[str, ...]


class MemoizedEvaluator:
    """Measures the accuracy of each allocation once; latency and size are priced every time.

    Valid only for evaluators whose accuracy depends on nothing but the allocation (`fresh`).
    Accuracy does not depend on the hardware, so measurements made for one hardware preset serve
    another; latency, size and memory-bound layers of a recalled allocation come from `hardware`,
    exactly as the evaluator computes them.

    Args:
        evaluator: The evaluator to memoise.
        hardware: The hardware model pricing the layers.
        layers: The quantizable layers, in network order.
    """

    def __init__(
        self, evaluator: TrialEvaluator, hardware: HardwareModel, layers: Sequence[LayerShape]
    ) -> None:
        self._evaluator = evaluator
        self._hardware = hardware
        self._layers = tuple(layers)
        self._accuracy: dict[str, float] = {}
        self.hits = 0
        """Evaluations answered from the memo."""
        self.misses = 0
        """Evaluations measured."""

    def __len__(self) -> int:
        return len(self._accuracy)

    def learn(self, trials: Iterable[FrozenTrial]) -> int:
        """Remember the accuracy of COMPLETE trials that recorded their allocation (`bits`).

        Returns:
            The number of allocations learnt.
        """
        learnt = 0
        for trial in trials:
            bits = trial.user_attrs.get("bits")
            if trial.state != TrialState.COMPLETE or trial.values is None or bits is None:
                continue
            if str(bits) not in self._accuracy:
                self._accuracy[str(bits)] = float(trial.values[0])
                learnt += 1
        return learnt

    def evaluate(self, bits: BitConfig) -> Metrics:
        """The allocation's metrics; its accuracy is measured on first use only."""
        key = bits.compact()
        accuracy = self._accuracy.get(key)
        if accuracy is None:
            metrics = self._evaluator.evaluate(bits)
            self.misses += 1
            self._accuracy[key] = float(metrics.accuracy)
            return metrics
        self.hits += 1
        latency = network_latency(
            self._hardware,
            self._layers,
            [(bits[layer.name].w_bits, bits[layer.name].a_bits) for layer in self._layers],
        )
        return RecalledMetrics(
            accuracy=accuracy,
            latency_ms=latency.latency_ms,
            latency_cycles=latency.total_cycles,
            size_bytes=bits.weight_size_bytes(self._layers),
            cycles_by_layer=latency.cycles_by_layer,
            memory_bound_layers=tuple(
                layer.name for layer in latency.layers if layer.bound is Bound.MEMORY
            ),
        )


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


# The hardware is not among them: accuracy does not depend on it.
_MEASUREMENT_SECTIONS = ("model", "data", "baseline", "evaluator", "search")


def _measured_trials(
    storage: optuna.storages.BaseStorage, plan: ComparisonPlan
) -> list[FrozenTrial]:
    """Trials of studies in `storage` whose accuracy was measured as this plan measures it.

    Same network, data, baseline recipe, evaluator and search space (any hardware), and a seed of
    this plan (a study's seed is its sampler's; its network and data are those of
    `plan.spec.seed`, as for every study of a comparison).
    """
    ours = effective_settings(plan.spec.to_dict())
    trials: list[FrozenTrial] = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        stored = summary.user_attrs.get("spec")
        if not isinstance(stored, dict) or stored.get("seed") not in plan.seeds:
            continue
        theirs = effective_settings(stored)
        if any(theirs.get(key) != ours[key] for key in _MEASUREMENT_SECTIONS):
            continue
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        trials.extend(study.get_trials(deepcopy=False))
    return trials


def _check_sqlite_folder(plan: ComparisonPlan) -> None:
    # Checked before the (slow) build, and without creating anything.
    parsed = sqlalchemy.engine.make_url(plan.storage_url)
    if parsed.get_backend_name() != "sqlite" or plan.storage_folder is not None:
        return
    folder = Path(parsed.database or "").parent
    if not folder.is_dir():
        raise StorageError(
            f"cannot open storage {plan.storage_url!r}: folder {str(folder)!r} does not exist; "
            "create it or pass another --storage"
        )


def run_comparison(plan: ComparisonPlan, options: RunOptions) -> ComparisonRun:
    """Run or resume every study of `plan` to its budget, then the uniform allocations.

    Args:
        plan: The comparison.
        options: Device, cache folder and progress bars (`results_dir` is ignored: study
            exports go under `plan.out_dir / "studies"`).

    Raises:
        SpecError, StorageError, FileNotFoundError, ValueError, RuntimeError: Bad input, from
            the runner, with a message naming the problem.
    """
    started = time.perf_counter()
    check_storage_url(plan.storage_url)
    _check_sqlite_folder(plan)
    study_options = dataclasses.replace(options, results_dir=plan.out_dir / "studies")
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
        learnt = memo.learn(_measured_trials(storage, plan))
        if learnt:
            logger.info("%d allocations already measured in %s", learnt, plan.storage_url)

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


def layer_info(components: Components) -> list[dict[str, Any]]:
    """Shape, size and per-bitwidth cycles and bound of every layer (for reports)."""
    info = []
    searched = {layer.name for layer in components.space.searched_layers}
    for index, layer in enumerate(components.layers):
        by_bits = {
            str(bits): components.hardware.layer_latency(layer, bits, bits)
            for bits in components.space.candidate_bits
        }
        info.append(
            {
                "index": index,
                "name": layer.name,
                "kind": layer.kind.value,
                "in_channels": layer.in_channels,
                "out_channels": layer.out_channels,
                "input_hw": [layer.input_h, layer.input_w],
                "kernel": [layer.kernel_h, layer.kernel_w],
                "groups": layer.groups,
                "depthwise": layer.groups > 1 and layer.groups == layer.in_channels,
                "weight_count": layer.weight_count,
                "macs": layer.macs,
                "searched": layer.name in searched,
                "cycles": {bits: lat.total_cycles for bits, lat in by_bits.items()},
                "memory_bound": {bits: lat.bound is Bound.MEMORY for bits, lat in by_bits.items()},
            }
        )
    return info


def run_uniform(
    plan: ComparisonPlan,
    storage: optuna.storages.BaseStorage,
    components: Components,
    options: RunOptions,
) -> int:
    """Measure the uniform allocations (every searched layer at 2, 3, ..., 8 bits) once.

    They live in the study `plan.uniform_study_name`, one trial each, measured by the same
    objective as the searches. In `shared` mode each gets a new evaluator (trained
    `steps_per_trial` steps from the float weights).

    Returns:
        The number measured now.
    """
    study = optuna.create_study(
        study_name=plan.uniform_study_name,
        storage=storage,
        directions=list(DIRECTIONS),
        sampler=optuna.samplers.RandomSampler(seed=plan.spec.seed),
        load_if_exists=True,
    )
    if not study.user_attrs:
        study.set_metric_names(list(METRIC_NAMES))
        study.set_user_attr("spec", plan.spec.to_dict())
        study.set_user_attr("reference_latency_ms", components.reference_latency_ms)
        study.set_user_attr("git_commit", git_commit())
        study.set_user_attr(LAYER_INFO_ATTR, layer_info(components))
    done = {
        trial.user_attrs.get("bits")
        for trial in study.get_trials(deepcopy=False)
        if trial.state == TrialState.COMPLETE
    }
    space = components.space
    ran = 0
    for bits in space.candidate_bits:
        allocation = space.uniform_bits(bits)
        if allocation.compact() in done:
            continue
        evaluator = components.evaluator
        if plan.spec.evaluator.mode is EvaluatorMode.SHARED:
            evaluator = build_components(plan.spec, options).evaluator
        objective = Objective(evaluator, space, max_size_bytes=components.max_size_bytes)
        study.enqueue_trial(space.uniform_params(bits))
        study.optimize(objective, n_trials=1, catch=(), gc_after_trial=False)
        ran += 1
    return ran
