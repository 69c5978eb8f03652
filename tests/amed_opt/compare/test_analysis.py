"""`analyse_comparison` on a hand-made storage: which studies it reads, the uniform allocations,
the reference latency, and the aggregates per sampler in plan order."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable

import optuna
import pytest
from optuna.trial import TrialState

from amed_opt.compare import analyse_comparison
from amed_opt.compare._plan import ComparisonPlan
from amed_opt.samplers import WEIGHTS_KEY
from amed_opt.study.naming import describe_sampler
from amed_opt.study.naming import study_name
from amed_opt.study.spec import AccuracyModel
from amed_opt.study.spec import SamplerName


LAYERS = [{"name": f"conv{i}"} for i in range(4)]


def _create(storage: optuna.storages.BaseStorage, name: str, **attrs: object) -> optuna.Study:
    study = optuna.create_study(
        study_name=name, storage=storage, directions=["maximize", "minimize"]
    )
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    return study


def test_reads_the_uniform_allocations_and_the_studies_that_exist(
    plan: ComparisonPlan, new_trial: Callable[..., None]
) -> None:
    storage = optuna.storages.InMemoryStorage()
    uniform = _create(
        storage, plan.uniform_study_name, reference_latency_ms=2.0, layer_info=LAYERS
    )
    new_trial(uniform, 0.9, 2.0, "8 8 8 8")
    new_trial(uniform, 0.5, 1.0, "8 4 4 8")
    new_trial(uniform, 0.1, 0.4, "8 2 2 8", violation=3.0)  # too large: no uniform point
    new_trial(uniform, 0, 0, "8 3 3 8", state=TrialState.FAIL)
    tpe = _create(storage, study_name(plan.study_spec(SamplerName.TPE, 0)))
    for accuracy, latency_ms, bits in [(0.9, 2.0, "8 8 8 8"), (0.8, 0.8, "8 5 6 8")]:
        new_trial(tpe, accuracy, latency_ms, bits)

    analysis = analyse_comparison(plan, storage)
    assert (analysis.label, analysis.n_trials, analysis.reference_latency_ms) == (
        "synthetic-r18",
        10,
        2.0,
    )
    assert sorted(analysis.uniform) == [4, 8]
    assert (analysis.uniform[4].latency, analysis.uniform[8].latency) == (0.5, 1.0)
    assert analysis.uniform_hv == pytest.approx(0.25)
    assert analysis.layers == LAYERS
    assert analysis.weights == [0.5, 1.0, 2.0]  # the headline lambda and the chains'
    assert (analysis.q_threshold, analysis.q_slope) == (None, 10.0)
    # One study ran; AMED's does not exist yet.
    assert [s.study_name for s in analysis.studies] == ["synthetic-r18-tpe-seed0"]
    assert [s.sampler for s in analysis.samplers] == ["amed", "tpe"]
    amed, tpe_summary = analysis.samplers
    assert amed.seeds == [] and amed.best is None
    assert tpe_summary.seeds == [0] and tpe_summary.uniform_dominated == {4: 1, 8: 0}
    assert tpe_summary.best_q.mean == pytest.approx(0.8 - 0.4)
    assert tpe_summary.description == describe_sampler(plan.study_spec(SamplerName.TPE, 0))
    # a synthetic accuracy is a formula, not a count over images: no binomial error
    assert analysis.validation_images == 0
    evaluator = dataclasses.replace(plan.spec.evaluator, accuracy_model=AccuracyModel.MEASURED)
    measured = dataclasses.replace(plan, spec=dataclasses.replace(plan.spec, evaluator=evaluator))
    images = analyse_comparison(measured, storage).validation_images
    assert images == plan.spec.data.validation_images == 64


def test_the_reference_latency_may_come_from_any_study(
    plan: ComparisonPlan, new_trial: Callable[..., None]
) -> None:
    storage = optuna.storages.InMemoryStorage()
    amed = _create(
        storage,
        study_name(plan.study_spec(SamplerName.AMED, 0)),
        reference_latency_ms=4.0,
    )
    new_trial(amed, 0.9, 4.0, "8 8 8 8")
    analysis = analyse_comparison(plan, storage)
    assert analysis.reference_latency_ms == 4.0
    assert analysis.uniform == {} and analysis.uniform_hv == 0.0 and analysis.layers == []
    assert analysis.samplers[0].seeds == [0]


def test_best_q_is_reported_at_the_weights_the_chains_stored(
    plan: ComparisonPlan, new_trial: Callable[..., None]
) -> None:
    """With weights read off the uniform front, the AMED study stores its chains' weights; the
    best-Q-per-weight table uses those, not the spec's fallback list."""
    storage = optuna.storages.InMemoryStorage()
    amed = _create(
        storage, study_name(plan.study_spec(SamplerName.AMED, 0)), reference_latency_ms=2.0
    )
    storage.set_study_system_attr(amed._study_id, WEIGHTS_KEY, [0.3, 0.07])
    new_trial(amed, 0.9, 2.0, "8 8 8 8")
    new_trial(amed, 0.8, 1.0, "8 4 4 8")
    analysis = analyse_comparison(plan, storage)
    assert analysis.weights == [0.07, 0.3, 1.0]  # the chains' stored weights and the headline λ
    (study,) = analysis.studies
    assert study.best_q_by_weight == pytest.approx({"0.07": 0.83, "0.3": 0.65, "1": 0.3})


def test_without_a_reference_latency_it_asks_to_run_the_comparison(
    plan: ComparisonPlan,
) -> None:
    storage = optuna.storages.InMemoryStorage()
    _create(storage, study_name(plan.study_spec(SamplerName.TPE, 0)))
    with pytest.raises(ValueError, match="run the comparison first"):
        analyse_comparison(plan, storage)


def test_reading_a_comparison_needs_no_torch() -> None:
    code = "import sys, amed_opt.compare; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "False"
