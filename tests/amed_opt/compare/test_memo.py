"""`MemoizedEvaluator` measures an allocation's accuracy once and prices latency on its own
hardware; `measured_trials` finds the trials measured the way a plan measures."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import optuna

from amed_opt.compare import MemoizedEvaluator
from amed_opt.compare._memo import measured_trials
from amed_opt.compare._plan import ComparisonPlan
from amed_opt.evaluation.synthetic import SyntheticEvaluator
from amed_opt.study.bits import BitConfig
from amed_opt.study.metrics import TrialMetrics
from amed_opt.study.metrics import price_allocation
from amed_opt.study.naming import SPEC_ATTR
from amed_opt.study.paired import VAL_CORRECT_ATTR
from amed_opt.study.paired import ImageOutcomes
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import with_overrides
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset


class _CountingEvaluator:
    """Wraps the synthetic evaluator and counts its calls."""

    def __init__(self, inner: SyntheticEvaluator) -> None:
        self.inner = inner
        self.calls = 0

    def evaluate(self, bits: BitConfig) -> TrialMetrics:
        self.calls += 1
        return self.inner.evaluate(bits)


def _fields(metrics: TrialMetrics) -> tuple[object, ...]:
    return (
        metrics.accuracy,
        metrics.latency_ms,
        metrics.latency_cycles,
        metrics.size_bytes,
        metrics.memory_bound_layers,
        dict(metrics.cycles_by_layer),
    )


class _ImageEvaluator:
    """Accuracy on eight images, the first `w_bits` of the first layer right."""

    def __init__(self, hardware: SystolicArray, layers: list[LayerShape]) -> None:
        self.hardware, self.layers = hardware, layers

    def evaluate(self, bits: BitConfig) -> TrialMetrics:
        outcomes = ImageOutcomes.of([k < next(iter(bits.values())).w_bits for k in range(8)])
        pricing = price_allocation(self.hardware, self.layers, bits)
        return TrialMetrics.from_pricing(outcomes.accuracy, pricing, val_correct=outcomes)


def test_memo_recalls_which_images_an_allocation_got_right() -> None:
    layers = [LayerShape.linear("fc", in_features=256, out_features=10)]
    hardware = SystolicArray(load_preset("scale-sim"))
    memo = MemoizedEvaluator(_ImageEvaluator(hardware, layers), hardware, layers)
    three = BitConfig.uniform(["fc"], 3)
    measured = memo.evaluate(three)
    recalled = memo.evaluate(three)
    assert memo.hits == 1 and recalled.val_correct == measured.val_correct is not None
    # Learnt from the storage: the stored attribute, or nothing where none was stored.
    learner = MemoizedEvaluator(_ImageEvaluator(hardware, layers), hardware, layers)
    study = optuna.create_study(directions=["maximize", "minimize"])
    assert measured.val_correct is not None
    attrs = {"bits": "3", VAL_CORRECT_ATTR: measured.val_correct.to_attr()}
    study.add_trial(optuna.trial.create_trial(values=[0.375, 1.0], user_attrs=attrs))
    study.add_trial(optuna.trial.create_trial(values=[0.5, 1.0], user_attrs={"bits": "4"}))
    assert learner.learn(study.get_trials()) == 2
    assert learner.evaluate(three).val_correct == measured.val_correct
    assert learner.evaluate(BitConfig.uniform(["fc"], 4)).val_correct is None
    assert learner.misses == 0


def test_memo_measures_accuracy_once_and_prices_latency_on_its_hardware() -> None:
    layers = [
        LayerShape.conv2d("stem", in_channels=1, out_channels=64, input_hw=(28, 28), kernel=3),
        LayerShape.conv2d("body", in_channels=64, out_channels=256, input_hw=(14, 14), kernel=3),
        LayerShape.linear("fc", in_features=256, out_features=10),
    ]
    names = [layer.name for layer in layers]
    scale_sim = SystolicArray(load_preset("scale-sim"))
    eyeriss = SystolicArray(load_preset("eyeriss"))
    inner = _CountingEvaluator(SyntheticEvaluator(layers, scale_sim, seed=0))
    memo = MemoizedEvaluator(inner, scale_sim, layers)
    four = BitConfig.uniform(names, 4)
    first = memo.evaluate(four)
    assert _fields(memo.evaluate(four)) == _fields(first) == _fields(inner.inner.evaluate(four))
    memo.evaluate(BitConfig.uniform(names, 5))
    assert (inner.calls, memo.hits, memo.misses, len(memo)) == (2, 1, 2, 2)

    # Another preset recalls the accuracy and prices the latency on its own hardware.
    on_eyeriss = MemoizedEvaluator(_CountingEvaluator(inner.inner), eyeriss, layers)
    study = optuna.create_study(directions=["maximize", "minimize"])
    attrs = {"bits": four.compact()}
    study.add_trial(optuna.trial.create_trial(values=[first.accuracy, 1.0], user_attrs=attrs))
    study.add_trial(optuna.trial.create_trial(values=[0.5, 1.0], user_attrs={}))  # no record
    study.add_trial(
        optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, user_attrs={"bits": "5"})
    )
    assert on_eyeriss.learn(study.get_trials()) == 1
    assert on_eyeriss.learn(study.get_trials()) == 0  # known already
    recalled = on_eyeriss.evaluate(four)
    expected = SyntheticEvaluator(layers, eyeriss, seed=0).evaluate(four)
    assert _fields(recalled) == _fields(expected) and on_eyeriss.misses == 0
    assert recalled.latency_ms != first.latency_ms


def test_measured_trials_are_those_of_the_same_measurement_on_any_hardware(
    plan: ComparisonPlan, new_trial: Callable[..., None]
) -> None:
    storage = optuna.storages.InMemoryStorage()
    spec = plan.study_spec(SamplerName.TPE, 0)
    steps = spec.evaluator.steps_per_trial + 1
    retrained = dataclasses.replace(
        spec, evaluator=dataclasses.replace(spec.evaluator, steps_per_trial=steps)
    )
    stored = {
        "other-preset": with_overrides(spec, hardware="eyeriss").to_dict(),
        "other-seed": with_overrides(spec, seed=5).to_dict(),
        "other-evaluator": retrained.to_dict(),
        "no-spec": None,
    }
    for name, spec_dict in stored.items():
        study = optuna.create_study(
            study_name=name, storage=storage, directions=["maximize", "minimize"]
        )
        if spec_dict is not None:
            study.set_user_attr(SPEC_ATTR, spec_dict)
        new_trial(study, 0.5, 1.0, name)
    assert [t.user_attrs["bits"] for t in measured_trials(storage, plan)] == ["other-preset"]
