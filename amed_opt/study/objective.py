"""The Optuna objective: trial → bit allocation → evaluator → (accuracy, latency_ms[, energy_uj]).

It is the only place that writes a trial's user attributes, so every trial in the storage carries
the same record: the compact allocation, latency in cycles and milliseconds, energy per inference
in µJ, weight size, per-layer cycles, which layers are memory-bound and, when the accuracy was
measured on images, which validation images were classified correctly (`val_correct`, see
`amed_opt.study.paired`). A model-size limit becomes an Optuna constraint (`size_kib` over the
limit, feasible when <= 0); the AMED sampler never proposes over-limit allocations, the
baselines learn from the constraint.

A trial whose evaluation fails (the evaluator raises, or returns a NaN or infinite metric) gets
the user attribute `fail_reason` (one line) and raises `TrialFailure`, which the run loop passes
to `study.optimize(catch=...)`: Optuna marks the trial FAIL, the sampler treats a FAIL trial with
a `fail_reason` as a rejected proposal, and the run goes on (until too many fail in a row). A
trial that was never evaluated (its process killed) has no `fail_reason`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import NoReturn
from typing import Protocol

from amed_opt.study.naming import METRIC_NAMES
from amed_opt.study.paired import VAL_CORRECT_ATTR
from amed_opt.study.spec import OBJECTIVE_NAMES


if TYPE_CHECKING:
    import optuna

    from amed_opt.study.bits import BitConfig
    from amed_opt.study.metrics import TrialMetrics
    from amed_opt.study.search_space import BitSearchSpace

# optuna-dashboard 0.21 reads feasibility only from this legacy system attribute, not from
# Optuna 5's `trial.set_constraint` keys (see docs/dashboard notes in the README).
_LEGACY_CONSTRAINTS_KEY = "constraints"

FAIL_REASON_ATTR = "fail_reason"
"""Trial user attribute: why the evaluation of a FAIL trial failed (one line)."""
_MAX_REASON = 300


class TrialFailure(Exception):
    """The evaluation of one trial failed; the message is its `fail_reason`."""


class TrialEvaluator(Protocol):
    """Anything that measures an allocation: the torch `Evaluator`, or a synthetic model."""

    def evaluate(self, bits: BitConfig) -> TrialMetrics: ...


class MeasuredCallback(Protocol):
    """Called by the objective once a trial is measured, while the trial is still running.

    A trial can take artifacts and attributes only until it finishes, so this is not an Optuna
    `callbacks=` entry (those run after the trial is frozen): `ParetoArtifacts` is one.
    """

    def __call__(
        self, trial: optuna.Trial, metrics: TrialMetrics, bits: BitConfig, *, feasible: bool
    ) -> object: ...


class Objective:
    """Callable for `study.optimize`.

    Args:
        evaluator: Measures an allocation.
        space: The study's search space.
        max_size_bytes: Weight-size limit in bytes, or None.
        objectives: The values the trial returns, in order: `accuracy`, `latency_ms` and
            optionally `energy_uj` (`StudySpec.objectives`).
        on_measured: Called with each measured trial (e.g. `ParetoArtifacts`, which uploads an
            allocation image for trials that reach the Pareto front), or None.
    """

    def __init__(
        self,
        evaluator: TrialEvaluator,
        space: BitSearchSpace,
        *,
        max_size_bytes: int | None = None,
        objectives: Sequence[str] = METRIC_NAMES,
        on_measured: MeasuredCallback | None = None,
    ) -> None:
        unknown = [name for name in objectives if name not in OBJECTIVE_NAMES]
        if unknown or tuple(objectives[:2]) != METRIC_NAMES:
            raise ValueError(
                f"objectives must start with {', '.join(METRIC_NAMES)} and be among "
                f"{', '.join(OBJECTIVE_NAMES)}, got {list(objectives)}"
            )
        self._objectives = tuple(objectives)
        self._evaluator = evaluator
        self._space = space
        self._max_size_bytes = max_size_bytes
        self._on_measured = on_measured
        self.evaluation_seconds = 0.0
        """Seconds spent inside `evaluator.evaluate`, summed over calls (for overhead reports)."""

    def __call__(self, trial: optuna.Trial) -> tuple[float, ...]:
        bits = self._space.suggest(trial)
        started = time.perf_counter()
        try:
            metrics = self._evaluator.evaluate(bits)
        except Exception as error:  # any evaluator error fails this trial, not the run
            self._fail(trial, f"{type(error).__name__}: {error}")
        finally:
            self.evaluation_seconds += time.perf_counter() - started
        elapsed = time.perf_counter() - started
        measured = {name: getattr(metrics, name) for name in self._objectives}
        broken = [f"{key} is {value}" for key, value in measured.items() if not _finite(value)]
        if broken:
            self._fail(trial, f"the evaluator returned {', '.join(broken)}")

        trial.set_user_attr("bits", bits.compact())
        trial.set_user_attr("latency_cycles", int(metrics.latency_cycles))
        trial.set_user_attr("size_bytes", int(metrics.size_bytes))
        trial.set_user_attr(
            "cycles_by_layer", {k: int(v) for k, v in metrics.cycles_by_layer.items()}
        )
        trial.set_user_attr("memory_bound_layers", list(metrics.memory_bound_layers))
        trial.set_user_attr("evaluation_s", round(elapsed, 4))
        if metrics.energy_uj is not None:
            trial.set_user_attr("energy_uj", float(metrics.energy_uj))
        if metrics.val_correct is not None:
            trial.set_user_attr(VAL_CORRECT_ATTR, metrics.val_correct.to_attr())
        violation = 0.0
        if self._max_size_bytes is not None:
            violation = (metrics.size_bytes - self._max_size_bytes) / 1024
            trial.set_constraint("size_kib_over_limit", violation)
            trial.storage.set_trial_system_attr(
                trial._trial_id, _LEGACY_CONSTRAINTS_KEY, [violation]
            )
        if self._on_measured is not None:
            self._on_measured(trial, metrics, bits, feasible=violation <= 0)
        return tuple(_value(metrics, name) for name in self._objectives)

    @staticmethod
    def _fail(trial: optuna.Trial, reason: str) -> NoReturn:
        line = " ".join(reason.split())[:_MAX_REASON]
        trial.set_user_attr(FAIL_REASON_ATTR, line)
        raise TrialFailure(line)


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _value(metrics: TrialMetrics, name: str) -> float:
    value = getattr(metrics, name)
    if value is None:
        raise ValueError(
            f"the objective {name} was asked for but the evaluator did not measure it "
            "(energy needs a hardware model that prices energy)"
        )
    return float(value)
