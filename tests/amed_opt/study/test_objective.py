"""The Optuna objective: what it asks the evaluator, what it stores, what it returns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import optuna
import pytest

from amed_opt.study.bits import BitConfig
from amed_opt.study.metrics import TrialMetrics
from amed_opt.study.metrics import price_allocation
from amed_opt.study.objective import Objective
from amed_opt.study.paired import VAL_CORRECT_ATTR
from amed_opt.study.paired import ImageOutcomes
from amed_opt.study.paired import mcnemar
from amed_opt.study.paired import outcomes_of
from amed_opt.study.search_space import BitSearchSpace
from amed_opt.study.spec import SearchSpec
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset


LAYERS = tuple(
    LayerShape.conv2d(f"conv{i}", in_channels=16, out_channels=16, kernel=3, input_hw=(14, 14))
    for i in range(4)
)
HARDWARE = SystolicArray(load_preset("scale-sim-lowmem"))


class RecordingEvaluator:
    """Accuracy = mean weight bits / 10; remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[BitConfig] = []

    def evaluate(self, bits: BitConfig) -> TrialMetrics:
        self.asked.append(bits)
        accuracy = sum(b.w_bits for b in bits.values()) / len(bits) / 10
        return TrialMetrics.from_pricing(accuracy, price_allocation(HARDWARE, LAYERS, bits))


class RecordingCallback:
    def __init__(self) -> None:
        self.calls: list[tuple[int, float, bool]] = []

    def __call__(
        self, trial: optuna.Trial, metrics: TrialMetrics, bits: BitConfig, *, feasible: bool
    ) -> None:
        self.calls.append((trial.number, metrics.accuracy, feasible))


def _study(params: Sequence[dict[str, int]]) -> optuna.Study:
    study = optuna.create_study(directions=["maximize", "minimize"])
    for entry in params:
        study.enqueue_trial(entry)
    return study


def test_a_trial_is_evaluated_stored_and_returned() -> None:
    space = BitSearchSpace(LAYERS, SearchSpec())
    evaluator = RecordingEvaluator()
    callback = RecordingCallback()
    objective = Objective(evaluator, space, on_measured=callback)
    params = space.to_params(BitConfig.from_compact("8 4 2 8", [layer.name for layer in LAYERS]))
    study = _study([params])

    study.optimize(objective, n_trials=1)

    trial = study.trials[0]
    (bits,) = evaluator.asked
    assert bits.compact() == "8 4 2 8"
    pricing = price_allocation(HARDWARE, LAYERS, bits)
    assert trial.values == [pytest.approx(0.55), pricing.latency_ms]
    attrs = trial.user_attrs
    assert attrs["bits"] == "8 4 2 8"
    assert attrs["latency_cycles"] == pricing.latency_cycles
    assert attrs["size_bytes"] == pricing.size_bytes
    assert attrs["cycles_by_layer"] == dict(pricing.cycles_by_layer)
    assert attrs["memory_bound_layers"] == list(pricing.memory_bound_layers)
    assert attrs["evaluation_s"] >= 0
    assert VAL_CORRECT_ATTR not in attrs  # accuracy not measured on images: nothing to pair
    assert trial.constraints == {}
    assert callback.calls == [(0, pytest.approx(0.55), True)]
    assert objective.evaluation_seconds >= attrs["evaluation_s"] - 1e-4  # stored rounded


class ImageEvaluator:
    """Accuracy measured on 2,000 images: those whose index is below 250 * mean weight bits."""

    def evaluate(self, bits: BitConfig) -> TrialMetrics:
        threshold = 250 * sum(b.w_bits for b in bits.values()) / len(bits)
        outcomes = ImageOutcomes.of(np.arange(2000) < threshold)
        pricing = price_allocation(HARDWARE, LAYERS, bits)
        return TrialMetrics.from_pricing(outcomes.accuracy, pricing, val_correct=outcomes)


def test_which_images_a_trial_got_right_is_stored_and_decodes(tmp_path: Path) -> None:
    space = BitSearchSpace(LAYERS, SearchSpec())
    objective = Objective(ImageEvaluator(), space)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=storage, directions=["maximize", "minimize"])
    study.enqueue_trial(space.uniform_params(4))
    study.enqueue_trial(space.uniform_params(2))
    study.optimize(objective, n_trials=2)

    stored = optuna.load_study(study_name=study.study_name, storage=storage).trials
    four, two = (outcomes_of(trial.user_attrs) for trial in stored)
    assert four is not None and two is not None
    assert four.count == 2000 and len(stored[0].user_attrs[VAL_CORRECT_ATTR]["packed"]) <= 350
    assert [four.accuracy, two.accuracy] == [stored[0].values[0], stored[1].values[0]]
    assert four.array()[:5].all() and not four.array()[-5:].any()
    test = mcnemar(four, two)
    assert (test.b, test.c) == (1500 - 1250, 0)  # first and last layers stay at 8 bits


def test_a_size_limit_becomes_a_constraint_the_dashboard_can_read() -> None:
    space = BitSearchSpace(LAYERS, SearchSpec())
    names = [layer.name for layer in LAYERS]
    limit = price_allocation(HARDWARE, LAYERS, BitConfig.uniform(names, 6)).size_bytes
    callback = RecordingCallback()
    objective = Objective(RecordingEvaluator(), space, max_size_bytes=limit, on_measured=callback)
    study = _study([space.uniform_params(8), space.uniform_params(2)])

    study.optimize(objective, n_trials=2)

    over, under = study.trials
    assert over.constraints["size_kib_over_limit"] > 0
    assert under.constraints["size_kib_over_limit"] < 0
    # optuna-dashboard 0.21 reads feasibility from the legacy system attribute only.
    assert over.system_attrs["constraints"] == [over.constraints["size_kib_over_limit"]]
    assert [feasible for _, _, feasible in callback.calls] == [False, True]
