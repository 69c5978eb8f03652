"""Per-study and per-sampler summaries on hand-made trials: budget, hypervolume and best-`Q`
histories, the Pareto front, dominance over the uniform allocations, and the aggregates."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from amed_opt.compare._studies import curve
from amed_opt.compare._studies import dominations
from amed_opt.compare._studies import sampler_summary
from amed_opt.compare._studies import study_summary
from amed_opt.compare._types import Point
from amed_opt.compare._types import StudySummary
from amed_opt.study.paired import VAL_CORRECT_ATTR
from amed_opt.study.paired import ImageOutcomes
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import load_spec
from amed_opt.study.spec import with_overrides


REFERENCE_MS = 2.0
UNIFORM = {
    2: Point(0, 0.10, 0.4, 0.2, "8 2 2 8"),
    4: Point(1, 0.45, 1.0, 0.5, "8 4 4 8"),
    8: Point(2, 0.90, 2.0, 1.0, "8 8 8 8"),
}


@pytest.fixture
def summary_of_trials(
    study_path: Path, new_trial: Callable[..., None]
) -> Callable[[int], StudySummary]:
    """A TPE study of seven hand-made trials, summarised at a budget of `n_trials`."""
    study = optuna.create_study(study_name="hand-tpe", directions=["maximize", "minimize"])
    new_trial(study, 0.90, 2.0, "8 8 8 8", evaluation_s=0.25)  # uniform 8 bits, Q -0.1
    new_trial(study, 0.50, 1.0, "8 4 4 8", evaluation_s=0.25)  # uniform 4 bits, Q 0
    new_trial(study, 0, 0, "8 3 3 8", state=TrialState.PRUNED)
    new_trial(study, 0.85, 0.9, "8 6 5 8", evaluation_s=0.25)  # Q 0.4, dominates 4 bits
    new_trial(study, 0.95, 0.8, "8 7 7 8", violation=1.0, evaluation_s=0.25)  # too large
    new_trial(study, 0.85, 0.9, "8 5 6 8", evaluation_s=0.25)  # ties trial 3
    new_trial(study, 0.99, 0.1, "8 2 3 8", evaluation_s=0.25)  # beyond a budget of 6
    spec = with_overrides(load_spec(str(study_path)), sampler="tpe", seed=3)

    def summarise(n_trials: int) -> StudySummary:
        return study_summary(study, spec, n_trials, 1.0, REFERENCE_MS, [0.5, 1.0], UNIFORM)

    return summarise


def test_a_study_is_judged_on_its_budget_of_finished_trials(
    summary_of_trials: Callable[[int], StudySummary],
) -> None:
    summary = summary_of_trials(6)
    assert (summary.sampler, summary.seed, summary.study_name) == ("tpe", 3, "hand-tpe")
    assert summary.finished == 6  # the pruned trial counts; trial 6 is beyond the budget
    # Normalised points: (0.9, 1) adds nothing, (0.5, 0.5) adds 0.25, (0.85, 0.45) covers it.
    assert summary.hv_history == pytest.approx([0, 0.25, 0.25, 0.4675, 0.4675, 0.4675])
    assert summary.best_q_history == pytest.approx([-0.1, 0, 0, 0.4, 0.4, 0.4])
    assert summary.best_q_by_weight == pytest.approx({"0.5": 0.625, "1": 0.4})
    assert summary.evaluation_seconds == pytest.approx(1.25)
    assert summary.chains == []
    assert summary_of_trials(7).final_best_q == pytest.approx(0.99 - 0.05)


def test_front_and_best_trials_skip_infeasible_and_uniform_allocations(
    summary_of_trials: Callable[[int], StudySummary],
) -> None:
    summary = summary_of_trials(6)
    # Trial 4 (size limit) is on no front; of the tie 3 and 5 the earlier is kept.
    assert [p.trial for p in summary.front] == [3, 0]
    assert summary.front[0] == Point(3, 0.85, 0.9, 0.45, "8 6 5 8")
    assert summary.best is not None and summary.best.trial == 3
    assert summary.best_mixed == summary.best and summary.best_mixed_q == pytest.approx(0.4)
    assert summary.uniform_dominated == {2: False, 4: True, 8: False}


def test_best_mixed_is_nan_when_every_trial_is_uniform(
    summary_of_trials: Callable[[int], StudySummary],
) -> None:
    summary = summary_of_trials(2)  # uniform 8 and 4 bits only
    assert summary.best is not None and summary.best.trial == 1
    assert summary.best_mixed is None and math.isnan(summary.best_mixed_q)
    assert summary.uniform_dominated == {2: False, 4: False, 8: False}


def test_curve_is_mean_min_max_per_trial_over_the_histories_long_enough() -> None:
    rows = curve([[1.0, 2.0, math.nan], [3.0], [-math.inf, 4.0]])
    assert rows[:2] == [[2.0, 1.0, 3.0], [3.0, 2.0, 4.0]]
    assert all(math.isnan(v) for v in rows[2])
    assert curve([]) == []


def test_sampler_summary_aggregates_the_seeds_that_ran(
    summary_of_trials: Callable[[int], StudySummary],
) -> None:
    first = summary_of_trials(6)
    better = dataclasses.replace(
        summary_of_trials(7), seed=4, uniform_dominated={2: True, 4: True, 8: False}
    )
    idle = dataclasses.replace(first, seed=5, finished=0, hv_history=[], best_q_history=[])
    summary = sampler_summary(SamplerName.TPE, "pinned TPE", [first, better, idle])
    assert (summary.sampler, summary.description, summary.seeds) == ("tpe", "pinned TPE", [3, 4])
    assert summary.best == (4, better.best)
    assert summary.best_q.mean == pytest.approx((0.4 + 0.94) / 2)
    assert summary.hv.low == pytest.approx(0.4675) and summary.hv.high == better.final_hv
    assert summary.uniform_dominated == {2: 1, 4: 2, 8: 0}
    assert list(summary.best_q_by_weight) == ["0.5", "1"]
    assert len(summary.hv_curve) == 7 and summary.hv_curve[6] == [better.final_hv] * 3


def test_gain_over_the_uniform_ladder_and_the_pairing_with_amed(
    summary_of_trials: Callable[[int], StudySummary],
) -> None:
    first = summary_of_trials(6)  # seed 3
    other = dataclasses.replace(summary_of_trials(7), seed=4)
    amed = [
        dataclasses.replace(first, sampler="amed", hv_history=[0.7], best_q_history=[0.5]),
        dataclasses.replace(other, sampler="amed", seed=9),  # TPE has no seed 9
    ]
    summary = sampler_summary(
        SamplerName.TPE, "pinned TPE", [first, other], uniform_hv=0.4, amed=amed
    )
    assert summary.hv_gain.mean == pytest.approx((first.final_hv + other.final_hv) / 2 - 0.4)
    pair = summary.versus_amed
    assert pair is not None and pair.seeds == [3]
    assert pair.hv == [pytest.approx(0.7 - first.final_hv)]
    assert pair.best_q == [pytest.approx(0.5 - first.final_best_q)]
    assert sampler_summary(SamplerName.AMED, "amed", amed, amed=amed).versus_amed is None


def test_the_firmest_domination_of_each_uniform_allocation_is_kept() -> None:
    def right(*ranges: range) -> dict[str, object]:
        flags = [any(i in r for r in ranges) for i in range(64)]
        return ImageOutcomes.of(flags).to_attr()

    uniform = {4: Point(0, 40 / 64, 1.0, 0.5, "8 4 4 8")}
    study = optuna.create_study(directions=["maximize", "minimize"])
    # Both as fast as uniform 4 bits. Trial 0 is more accurate (48 images against 40), but its
    # gain is spread over 28 discordant images (18 against 10: p = 0.19); trial 1's six are all
    # on its side (p = 0.031).
    trials = [
        ((48, "8 5 3 8"), right(range(30), range(40, 58))),
        ((46, "8 3 5 8"), right(range(46))),
        ((47, "8 4 5 8"), None),
    ]
    for (correct, bits), attr in trials:
        attrs = {"bits": bits} | ({} if attr is None else {VAL_CORRECT_ATTR: attr})
        study.add_trial(optuna.trial.create_trial(values=[correct / 64, 1.0], user_attrs=attrs))
    points = [Point.of_trial(t, 2.0) for t in study.trials]
    by_number = {t.number: t for t in study.trials}
    outcomes = {4: ImageOutcomes.from_attr(right(range(40)))}
    (firm,) = dominations(points, by_number, uniform, outcomes)
    assert (firm.uniform_bits, firm.trial, firm.basis) == (4, 1, "accuracy")
    assert firm.test is not None and (firm.test.b, firm.test.c) == (6, 0)
    # Without the uniform allocation's per-image results nothing is tested: the most accurate.
    (untested,) = dominations(points, by_number, uniform, {})
    assert (untested.trial, untested.basis, untested.test) == (0, "no per-image data", None)
    # Within noise when nothing firmer dominates it.
    (noisy,) = dominations(points[:1], by_number, uniform, outcomes)
    assert noisy.basis == "within noise" and noisy.test is not None
    assert noisy.test.p_value == pytest.approx(0.185, abs=0.001)
