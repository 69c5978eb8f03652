"""`MemoizedEvaluator`: each allocation's accuracy measured once per storage.

A `fresh` trial starts from the float weights, so its accuracy depends only on its allocation
(and not on the hardware, which prices latency). The memo measures each allocation once, learns
what the storage already holds from studies measured the same way (`measured_trials`: a resumed
comparison, or the same study on another hardware preset in the same storage) and prices
latency, size and memory-bound layers on this comparison's hardware (`price_allocation`). It
remembers which validation images each allocation got right too (`val_correct`), so a recalled
trial stores them like a measured one.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import optuna
from optuna.trial import TrialState

from amed_opt.study.metrics import TrialMetrics
from amed_opt.study.metrics import price_allocation
from amed_opt.study.naming import SPEC_ATTR
from amed_opt.study.paired import ImageOutcomes
from amed_opt.study.paired import outcomes_of
from amed_opt.study.spec import effective_settings


if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from amed_opt.compare._plan import ComparisonPlan
    from amed_opt.study.bits import BitConfig
    from amed_opt.study.objective import TrialEvaluator
    from hardware import HardwareModel
    from hardware import LayerShape


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
        self._outcomes: dict[str, ImageOutcomes] = {}
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
            outcomes = outcomes_of(trial.user_attrs)
            if outcomes is not None:
                self._outcomes.setdefault(str(bits), outcomes)
        return learnt

    def evaluate(self, bits: BitConfig) -> TrialMetrics:
        """The allocation's metrics; its accuracy is measured on first use only."""
        key = bits.compact()
        accuracy = self._accuracy.get(key)
        if accuracy is None:
            metrics = self._evaluator.evaluate(bits)
            self.misses += 1
            self._accuracy[key] = float(metrics.accuracy)
            if metrics.val_correct is not None:
                self._outcomes[key] = metrics.val_correct
            return metrics
        self.hits += 1
        return TrialMetrics.from_pricing(
            accuracy,
            price_allocation(self._hardware, self._layers, bits),
            val_correct=self._outcomes.get(key),
        )


# The hardware is not among them: accuracy does not depend on it.
_MEASUREMENT_SECTIONS = ("model", "data", "baseline", "evaluator", "search")


def _measurement(settings: dict[str, Any]) -> list[Any]:
    """What determines a trial's accuracy: the sections above, without the search's objectives
    (they change what is stored, not what is measured)."""
    search = settings.get("search")
    if isinstance(search, dict):
        settings = {**settings, "search": {k: v for k, v in search.items() if k != "objectives"}}
    return [settings.get(key) for key in _MEASUREMENT_SECTIONS]


def measured_trials(
    storage: optuna.storages.BaseStorage, plan: ComparisonPlan
) -> list[FrozenTrial]:
    """Trials of studies in `storage` whose accuracy was measured as this plan measures it.

    Same network, data, baseline recipe, evaluator and search space (any hardware), and a seed of
    this plan (a study's seed is its sampler's; its network and data are those of
    `plan.spec.seed`, as for every study of a comparison).
    """
    ours = _measurement(effective_settings(plan.spec.to_dict()))
    trials: list[FrozenTrial] = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        stored = summary.user_attrs.get(SPEC_ATTR)
        if not isinstance(stored, dict) or stored.get("seed") not in plan.seeds:
            continue
        if _measurement(effective_settings(stored)) != ours:
            continue
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        trials.extend(study.get_trials(deepcopy=False))
    return trials
