"""The analysis value types: spreads over seeds, points, summaries and the score `Q`."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest

from amed_opt.compare._types import Analysis
from amed_opt.compare._types import ChainSummary
from amed_opt.compare._types import Point
from amed_opt.compare._types import SamplerSummary
from amed_opt.compare._types import Spread
from amed_opt.compare._types import StudySummary
from amed_opt.study.score import quality_score
from amed_opt.study.spec import load_spec


def test_spread_ignores_non_finite_values_and_is_nan_when_empty() -> None:
    spread = Spread.of([0.2, math.nan, 0.4, -math.inf])
    assert (spread.mean, spread.low, spread.high) == pytest.approx((0.3, 0.2, 0.4))
    assert spread.std == pytest.approx(math.sqrt(0.02))
    assert spread.text(2) == "0.30 ± 0.14"
    assert Spread.of([0.7]).std == 0.0
    empty = Spread.of([math.nan])
    assert all(math.isnan(v) for v in (empty.mean, empty.std, empty.low, empty.high))


def test_point_of_a_trial_normalises_latency_and_averages_the_searched_layers() -> None:
    trial = optuna.trial.create_trial(values=[0.9, 3.0], user_attrs={"bits": "8 4 2/8 6 8"})
    point = Point.of_trial(trial, 2.0)
    assert point == Point(trial.number, 0.9, 3.0, 1.5, "8 4 2/8 6 8")
    assert point.objectives == (0.9, 3.0)
    assert point.mean_bits == 4.0  # weight bits 4, 2, 6; first and last left out
    assert Point(0, 0.5, 1.0, 1.0, "4 6").mean_bits == 5.0  # nothing searched: all layers


def test_final_values_are_nan_before_any_trial() -> None:
    empty = StudySummary("tpe", 0, "s", 0, [], [], {}, None, None, math.nan, [], {}, 0.0, 0.0)
    assert math.isnan(empty.final_hv) and math.isnan(empty.final_best_q)
    ran = dataclasses.replace(empty, finished=2, hv_history=[0.1, 0.3], best_q_history=[0.2, 0.4])
    assert (ran.final_hv, ran.final_best_q) == (0.3, 0.4)


def test_acceptance_rate_is_accepted_over_moves() -> None:
    chain = ChainSummary(0, 1.0, 4, 1, 0.3, (1.0, 1.0), trace=[], proposals=[])
    assert chain.acceptance_rate == 0.25
    idle = dataclasses.replace(chain, moves=0, accepted=0)
    assert math.isnan(idle.acceptance_rate)


def test_quality_score_takes_threshold_and_slope_from_the_study(study_path: Path) -> None:
    spec = load_spec(str(study_path))  # threshold 0: no penalty
    assert quality_score(spec, 2.0, 0.5)((0.8, 1.0)) == pytest.approx(0.8 - 0.25)
    sampler = dataclasses.replace(spec.sampler, accuracy_threshold=0.9, penalty_slope=3.0)
    score = quality_score(dataclasses.replace(spec, sampler=sampler), 2.0, 0.5)
    assert score((0.8, 1.0)) == pytest.approx(0.8 - 0.25 - 3.0 * 0.1)
    assert score((0.95, 1.0)) == pytest.approx(0.95 - 0.25)


def test_analysis_finds_samplers_and_scores_as_the_studies_did(
    analysis_of: Callable[..., Analysis], summary: Callable[..., SamplerSummary]
) -> None:
    tpe = summary("tpe", 0.5, 0.4, {})
    analysis = analysis_of(tpe, reference_latency_ms=4.0, latency_weight=2.0)
    assert analysis.sampler("tpe") is tpe and analysis.sampler("amed") is None
    assert analysis.score()((0.9, 2.0)) == pytest.approx(0.9 - 2.0 * 0.5)
    strict = analysis_of(reference_latency_ms=4.0, q_threshold=0.95, q_slope=10.0)
    assert strict.score()((0.9, 2.0)) == pytest.approx(0.9 - 0.5 - 10.0 * 0.05)
