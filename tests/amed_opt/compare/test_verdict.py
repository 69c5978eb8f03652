"""The verdict's rules on hand-made analyses: each part of the goal met or not, the gaps, the
uniform allocation that is not required, and the chains' diagnosis."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable

import optuna
import pytest

from amed_opt.compare import analyse_comparison
from amed_opt.compare import verdict
from amed_opt.compare._plan import ComparisonPlan
from amed_opt.compare._types import Analysis
from amed_opt.compare._types import ChainSummary
from amed_opt.compare._types import Paired
from amed_opt.compare._types import Point
from amed_opt.compare._types import SamplerSummary
from amed_opt.compare._types import Spread
from amed_opt.compare._types import StudySummary
from amed_opt.compare._verdict import diagnosis
from amed_opt.study.files import json_ready
from amed_opt.study.naming import study_name
from amed_opt.study.paired import ImageOutcomes
from amed_opt.study.paired import McNemar
from amed_opt.study.spec import AccuracyModel
from amed_opt.study.spec import SamplerName


ALL_THREE = {b: 3 for b in range(2, 9)}
"""Every uniform allocation dominated in all three seeds."""

Summary = Callable[..., SamplerSummary]
Make = Callable[..., Analysis]


def test_amed_ahead_on_every_part_wins(summary: Summary, analysis_of: Make) -> None:
    lines = verdict(
        analysis_of(summary("amed", 0.60, 0.50, ALL_THREE), summary("tpe", 0.60, 0.45, {}))
    )
    assert lines[0].startswith("**Met**") and lines[2].startswith("**Met**")
    # Equal hypervolume meets the goal, but only as a tie.
    assert lines[1].startswith("**Met, within noise** (a tie, not a win)")
    assert lines[3] == "Overall: 3 of 3 parts of the goal met, 2 of them beyond the noise."
    # A gap of 0.05 against one seed standard deviation of 0.01.
    assert "AMED 0.5000 ± 0.0100 against TPE 0.4500 ± 0.0100" in lines[0]
    assert "difference +0.0500; one seed standard deviation 0.0100: beyond noise" in lines[0]
    assert "difference +0.0000; one seed standard deviation 0.0100: within noise" in lines[1]
    assert "dominates 6 of the 6 uniform allocations above 2 bits" in lines[2]


def test_the_best_baseline_of_each_metric_is_the_rival(
    summary: Summary, analysis_of: Make
) -> None:
    lines = verdict(
        analysis_of(
            summary("amed", 0.55, 0.40, {**ALL_THREE, 3: 1}),
            summary("tpe", 0.60, 0.45, {}),
            summary("random", 0.58, 0.50, {}),
        )
    )
    assert [line.startswith("**Not met**") for line in lines[:3]] == [True, True, True]
    assert "against Random" in lines[0] and "against TPE" in lines[1]
    assert "dominated only 3-bit in 1 of 3 seeds" in lines[2]
    assert lines[3] == "Overall: 0 of 3 parts of the goal met, 0 of them beyond the noise."


def test_paired_seeds_and_the_accuracy_standard_error_set_the_noise(
    summary: Summary, analysis_of: Make
) -> None:
    amed = summary("amed", 0.62, 0.50, ALL_THREE)
    tpe = summary("tpe", 0.60, 0.49, {})
    # Paired differences of best Q vary by 0.001 between seeds: less than the seeds' spread.
    pair = Paired(
        seeds=[0, 1, 2],
        hv=[0.019, 0.020, 0.021],
        best_q=[0.009, 0.010, 0.011],
        hv_spread=Spread.of([0.019, 0.020, 0.021]),
        best_q_spread=Spread.of([0.009, 0.010, 0.011]),
    )
    tpe = dataclasses.replace(tpe, versus_amed=pair)
    lines = verdict(analysis_of(amed, tpe))
    assert "paired seed sd 0.0010 over 3 seeds: beyond noise" in lines[0]
    # Best trials at 88 % on 2,000 images: standard error sqrt(2) * 0.73 points each side.
    point = Point(trial=1, accuracy=0.88, latency_ms=1.0, latency=0.5, bits="8 4 8")
    amed = dataclasses.replace(amed, best=(0, point))
    tpe = dataclasses.replace(tpe, best=(0, point))
    analysis = dataclasses.replace(analysis_of(amed, tpe), validation_images=2000)
    lines = verdict(analysis)
    se = math.sqrt(2 * 0.88 * 0.12 / 2000)
    assert f"accuracy standard error {se:.4f} (binomial, 2000 images" in lines[0]
    assert lines[0].startswith("**Met, within noise**")  # 0.01 < 0.0103
    assert lines[1].startswith("**Met**") and "beyond noise" in lines[1]  # 0.02 > 0.0103
    assert lines[3] == "Overall: 3 of 3 parts of the goal met, 2 of them beyond the noise."


def test_the_fastest_uniform_allocation_is_reported_but_not_required(
    summary: Summary, analysis_of: Make
) -> None:
    lines = verdict(
        analysis_of(summary("amed", 0.6, 0.5, {**ALL_THREE, 2: 0}), summary("tpe", 0.6, 0.4, {}))
    )
    assert lines[2].startswith("**Met**")
    assert "uniform 2-bit, the fastest allocation possible, is dominated in 0 of 3" in lines[2]
    nothing = verdict(analysis_of(summary("amed", 0.6, 0.5, {}), summary("tpe", 0.6, 0.4, {})))
    assert nothing[2].startswith("**Not met**")  # no uniform allocation to dominate


def test_a_best_q_only_a_uniform_start_reached_is_reported_beside_the_verdict(
    summary: Summary, analysis_of: Make
) -> None:
    lines = verdict(
        analysis_of(
            summary("amed", 0.6, 0.5, ALL_THREE, mixed_q=0.3), summary("tpe", 0.6, 0.4, {})
        )
    )
    assert lines[0].startswith("**Met**") and len(lines) == 5
    assert "mixed allocations only" in lines[4] and ": behind." in lines[4]
    ahead = verdict(analysis_of(summary("amed", 0.6, 0.5, {}), summary("tpe", 0.6, 0.4, {})))
    assert ": ahead." in ahead[4]


def test_nothing_to_judge_without_amed_or_a_baseline(summary: Summary, analysis_of: Make) -> None:
    assert verdict(analysis_of(summary("tpe", 0.6, 0.4, {}))) == [
        "AMED did not run in this comparison; nothing to judge."
    ]
    assert verdict(analysis_of(summary("amed", 0.6, 0.4, {}))) == [
        "No baseline ran in this comparison; nothing to compare AMED with."
    ]


def _study(sampler: str, front: list[Point], chains: list[ChainSummary]) -> StudySummary:
    return StudySummary(sampler, 0, sampler, 1, [0.1], [0.1], {}, None, None, 0.1, front, {},
                        0.0, 0.0, chains)  # fmt: skip


def test_diagnosis_reports_acceptance_and_how_fast_the_chain_heads_got(analysis_of: Make) -> None:
    trace = [[0, 0, 0.9, 1.0, 8.0, 0.4], [1, 1, 0.85, 0.62, 6.0, 0.5]]
    chains = [
        ChainSummary(0, 0.5, 4, 1, 0.3, (0.01, 0.01), trace, []),
        ChainSummary(1, 2.0, 2, 2, 0.9, (0.01, 0.01), trace[:1], []),
    ]
    front = [Point(3, 0.8, 1.0, 0.5, "8 4 8"), Point(4, 0.9, 2.0, 1.0, "8 8 8")]
    analysis = analysis_of(studies=[_study("amed", [], chains), _study("tpe", front, [])])
    assert diagnosis(analysis) == [
        "Acceptance rate over all chains and seeds: 25% to 100%.",
        "The lowest latency any AMED chain head reached is 0.620 of 8-bit; the baselines' "
        "fronts reach 0.500.",
    ]
    idle = [ChainSummary(0, 0.5, 0, 0, float("nan"), (0.0, 0.0), [], [])]
    assert diagnosis(analysis_of(studies=[_study("amed", [], idle)])) == ["No chain made a move."]
    assert diagnosis(analysis_of(studies=[_study("tpe", front, [])])) == []


N_IMAGES = 64
"""The synthetic test study's validation images."""


def _first_right(k: int) -> dict[str, object]:
    """The stored per-image results of a model that got the first `k` images right."""
    return ImageOutcomes.of([i < k for i in range(N_IMAGES)]).to_attr()


def _paired_analysis(
    plan: ComparisonPlan, new_trial: Callable[..., None], *, faster: bool, right: int
) -> Analysis:
    """Uniform 2, 4 and 8 bits; AMED's trial 0 dominates uniform 4 bits with six more images
    right, all on its side (p = 0.03125), and trial 1 dominates uniform 8 bits with `right`
    images right against 50, at the same latency or (`faster`) a strictly lower one. The
    trials carry per-image results, as measured ones do, so the plan says measured."""
    evaluator = dataclasses.replace(plan.spec.evaluator, accuracy_model=AccuracyModel.MEASURED)
    plan = dataclasses.replace(plan, spec=dataclasses.replace(plan.spec, evaluator=evaluator))
    storage = optuna.storages.InMemoryStorage()

    def create(name: str, **attrs: object) -> optuna.Study:
        study = optuna.create_study(
            study_name=name, storage=storage, directions=["maximize", "minimize"]
        )
        for key, value in attrs.items():
            study.set_user_attr(key, value)
        return study

    uniform = create(plan.uniform_study_name, reference_latency_ms=2.0)
    for right_u, latency, bits in [
        (10, 0.4, "8 2 2 8"),
        (40, 1.0, "8 4 4 8"),
        (50, 2.0, "8 8 8 8"),
    ]:
        new_trial(uniform, right_u / N_IMAGES, latency, bits, val_correct=_first_right(right_u))
    amed = create(study_name(plan.study_spec(SamplerName.AMED, 0)))
    new_trial(amed, 46 / N_IMAGES, 0.9, "8 5 5 8", val_correct=_first_right(46))
    latency = 1.9 if faster else 2.0
    new_trial(amed, right / N_IMAGES, latency, "8 8 7 8", val_correct=_first_right(right))
    tpe = create(study_name(plan.study_spec(SamplerName.TPE, 0)))
    new_trial(tpe, 45 / N_IMAGES, 1.5, "8 6 6 8", val_correct=_first_right(45))
    return analyse_comparison(plan, storage)


def test_a_domination_resting_on_an_accuracy_gain_within_noise_is_flagged(
    plan: ComparisonPlan, new_trial: Callable[..., None]
) -> None:
    analysis = _paired_analysis(plan, new_trial, faster=False, right=51)
    (study,) = [s for s in analysis.studies if s.sampler == "amed"]
    four, eight = study.dominations
    assert (four.uniform_bits, four.trial, four.basis) == (4, 0, "accuracy")
    assert four.test is not None and (four.test.b, four.test.c, four.test.p_value) == (
        6,
        0,
        0.03125,
    )
    assert four.accuracy_gain == pytest.approx(6 / N_IMAGES)
    assert (eight.uniform_bits, eight.trial, eight.basis) == (8, 1, "within noise")
    assert eight.test is not None and (eight.test.b, eight.test.c, eight.test.p_value) == (1, 0, 1)
    lines = verdict(analysis)
    assert lines[2].startswith("**Met, within noise** (a tie, not a win)")
    assert (
        "of the 2 dominations found above the fastest uniform allocation: 1 rest on an "
        in lines[2]
    )
    assert (
        "1 within noise (no lower cost, and an accuracy gain that is not significant: " in lines[2]
    )
    assert "8-bit in seed 0)" in lines[2]
    assert lines[3] == "Overall: 3 of 3 parts of the goal met, 2 of them beyond the noise."
    # The best-Q trials, paired: AMED's (46 right) against TPE's (45), one image apart.
    assert analysis.samplers[1].best_versus_amed == McNemar(b=1, c=0, n=64, p_value=1.0)
    assert "AMED's accuracy minus TPE's +1.56 points (b 1, c 0, McNemar p = 1)" in lines[0]
    assert "within noise at 0.05 (paired standard error" in lines[0]


def test_a_significant_gain_or_a_strictly_lower_latency_is_not_within_noise(
    plan: ComparisonPlan, new_trial: Callable[..., None]
) -> None:
    significant = _paired_analysis(plan, new_trial, faster=False, right=57)
    (study,) = [s for s in significant.studies if s.sampler == "amed"]
    assert [d.basis for d in study.dominations] == ["accuracy", "accuracy"]
    lines = verdict(significant)
    assert (
        lines[2].startswith("**Met** — ") and "2 rest on an accuracy gain significant" in lines[2]
    )
    # Within noise in accuracy, but strictly faster: the domination rests on the latency.
    faster = _paired_analysis(plan, new_trial, faster=True, right=51)
    (study,) = [s for s in faster.studies if s.sampler == "amed"]
    assert [d.basis for d in study.dominations] == ["accuracy", "cost"]
    lines = verdict(faster)
    assert lines[2].startswith("**Met** — ")
    assert "1 on a strictly lower cost alone" in lines[2] and "0 within noise" in lines[2]
    # Serialised into comparison.json with the counts and the p-value.
    stored = json.loads(json.dumps(json_ready(faster), allow_nan=False))
    (amed,) = [s for s in stored["studies"] if s["sampler"] == "amed"]
    assert amed["dominations"][1]["test"] == {"b": 1, "c": 0, "n": 64, "p_value": 1.0}
    assert amed["dominations"][1]["basis"] == "cost"


def test_without_per_image_results_the_verdict_says_so(
    plan: ComparisonPlan, new_trial: Callable[..., None]
) -> None:
    storage = optuna.storages.InMemoryStorage()
    uniform = optuna.create_study(
        study_name=plan.uniform_study_name, storage=storage, directions=["maximize", "minimize"]
    )
    uniform.set_user_attr("reference_latency_ms", 2.0)
    new_trial(uniform, 0.1, 0.4, "8 2 2 8")
    new_trial(uniform, 0.5, 2.0, "8 8 8 8")
    for sampler, accuracy in [(SamplerName.AMED, 0.6), (SamplerName.TPE, 0.55)]:
        study = optuna.create_study(
            study_name=study_name(plan.study_spec(sampler, 0)),
            storage=storage,
            directions=["maximize", "minimize"],
        )
        new_trial(study, accuracy, 1.5, "8 6 6 8")
    lines = verdict(analyse_comparison(plan, storage))
    assert lines[2].startswith("**Met** — ")
    assert (
        "no per-image data, so whether these dominations are beyond the accuracy noise" in lines[2]
    )
    assert "best-Q trials paired on the same images: no per-image data" in lines[0]
