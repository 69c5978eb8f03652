"""Latency weights read off the start candidates' front (`FrontWeights`): the slopes, the spread,
what the sampler stores and resumes, and that each chain then samples its own fixed target."""

from __future__ import annotations

import itertools
import math
import pickle
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution

from amed_opt.samplers import WEIGHTS_KEY
from amed_opt.samplers import BestOfCandidates
from amed_opt.samplers import ChainSettings
from amed_opt.samplers import FixedStart
from amed_opt.samplers import FrontWeights
from amed_opt.samplers import MetropolisHastingsSampler
from amed_opt.samplers import ProposalSettings
from amed_opt.samplers import QualityScore
from amed_opt.samplers import chain_history
from amed_opt.samplers._front_weights import PAST_ENDS
from amed_opt.samplers._front_weights import front_slopes
from amed_opt.samplers._front_weights import spread_weights
from amed_opt.samplers._space import OrderedSearchSpace


optuna.logging.set_verbosity(optuna.logging.WARNING)


# -- the slopes of the front ----------------------------------------------------------------------


def test_slopes_follow_the_upper_hull_of_the_non_dominated_points() -> None:
    points = [
        (1.0, 0.50),
        (2.0, 0.80),  # slope 0.3 from the first
        (3.0, 0.85),  # under the chord from (2, 0.8) to (4, 0.95): not on the hull
        (4.0, 0.95),  # slope 0.075 from (2, 0.8)
        (5.0, 0.90),  # dominated by (4, 0.95)
        (6.0, 0.97),  # slope 0.01
    ]
    assert front_slopes(points) == pytest.approx((0.3, 0.075, 0.01))


def test_slopes_ignore_non_finite_points_and_keep_the_best_of_equal_latencies() -> None:
    points = [(1.0, 0.5), (1.0, 0.6), (2.0, 0.8), (math.nan, 0.99), (3.0, math.inf)]
    assert front_slopes(points) == pytest.approx((0.2,))


@pytest.mark.parametrize(
    "points",
    [[], [(1.0, 0.5)], [(1.0, 0.9), (2.0, 0.8), (3.0, 0.9)], [(1.0, 0.5), (1.0, 0.5)]],
)
def test_a_front_of_one_point_has_no_slope(points: list[tuple[float, float]]) -> None:
    assert front_slopes(points) == ()


def test_weights_start_past_the_steepest_then_spread_from_it_to_past_the_flattest() -> None:
    weights = spread_weights((0.8, 0.2, 0.05), 5)
    assert weights is not None
    assert weights[0] == pytest.approx(0.8 * PAST_ENDS)
    assert weights[1] == pytest.approx(0.8)
    assert weights[-1] == pytest.approx(0.05 / PAST_ENDS)
    ratios = [a / b for a, b in itertools.pairwise(weights[1:])]
    assert ratios == pytest.approx([ratios[0]] * 3)
    assert spread_weights((0.8, 0.2, 0.05), 2) == pytest.approx((1.6, 0.025))
    (single,) = spread_weights((0.8, 0.2, 0.05), 1) or ()
    assert single == pytest.approx(math.sqrt(0.8 * 0.05 / PAST_ENDS))
    assert spread_weights((), 3) is None
    with pytest.raises(ValueError, match="count must be >= 1"):
        spread_weights((0.1,), 0)


TEMPLATE = QualityScore(latency_reference=2.0, latency_weight=1.0)


def test_front_weights_read_accuracy_and_latency_and_fall_back_without_a_slope() -> None:
    front = FrontWeights(TEMPLATE, (1.0, 0.25, 0.5))
    # Latency is divided by the reference (2.0): points (0.5, 0.6), (1.0, 0.9), failed, dominated.
    values = [(0.6, 1.0), (0.9, 2.0), None, (0.7, 2.0)]
    assert front.weights(values) == pytest.approx(spread_weights((0.6,), 3))
    assert front.weights([(0.6, 1.0), None]) == (1.0, 0.25, 0.5)
    scores = front.scores((0.3, 0.1))
    assert [s.latency_weight for s in scores] == [0.3, 0.1]
    assert scores[0].latency_reference == 2.0


@pytest.mark.parametrize(
    ("template", "fallback", "message"),
    [
        (lambda values: 0.0, (1.0,), "template must be a QualityScore"),
        (TEMPLATE, (), "fallback must be a non-empty list"),
        (TEMPLATE, (1.0, -1.0), "fallback must be a non-empty list"),
        (TEMPLATE, (math.nan,), "fallback must be a non-empty list"),
    ],
)
def test_malformed_front_weights_are_refused(template: Any, fallback: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FrontWeights(template, fallback)


# -- inside a study -------------------------------------------------------------------------------

SPACE: dict[str, BaseDistribution] = {
    "a": CategoricalDistribution((2, 4, 8)),
    "b": IntDistribution(0, 3),
    "c": CategoricalDistribution((1, 2)),
}
CANDIDATES = [{"a": 8, "b": 3, "c": 2}, {"a": 4, "b": 2, "c": 2}, {"a": 2, "b": 0, "c": 1}]


def accuracy(params: dict[str, Any]) -> float:
    return 0.4 + 0.1 * math.log2(params["a"]) + 0.04 * params["b"] - 0.03 * (params["c"] == 1)


def latency(params: dict[str, Any]) -> float:
    return 0.5 * params["a"] + 0.3 * params["b"] + 0.2 * params["c"]


REFERENCE = latency(CANDIDATES[0])


def objective(trial: optuna.Trial) -> tuple[float, float]:
    params = {
        "a": trial.suggest_categorical("a", (2, 4, 8)),
        "b": trial.suggest_int("b", 0, 3),
        "c": trial.suggest_categorical("c", (1, 2)),
    }
    return accuracy(params), latency(params)


def front_sampler(
    fallback: tuple[float, ...] = (1.0, 1.0), temperature: float = 0.01, seed: int = 0
) -> MetropolisHastingsSampler:
    return MetropolisHastingsSampler(
        search_space=SPACE,
        chains=ChainSettings(
            score=FrontWeights(QualityScore(latency_reference=REFERENCE), fallback),
            temperature=temperature,
        ),
        proposal=ProposalSettings(boundary="lazy"),
        start=BestOfCandidates(CANDIDATES),
        seed=seed,
    )


def stored_weights(study: optuna.Study) -> list[float]:
    return study._storage.get_study_system_attrs(study._study_id)[WEIGHTS_KEY]


def expected_weights(count: int) -> tuple[float, ...]:
    points = [(latency(c) / REFERENCE, accuracy(c)) for c in CANDIDATES]
    weights = spread_weights(front_slopes(points), count)
    assert weights is not None
    return weights


def test_the_sampler_stores_the_weights_and_scores_each_chain_with_its_own() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=front_sampler())
    study.optimize(objective, n_trials=12)
    weights = stored_weights(study)
    assert weights == pytest.approx(expected_weights(2))
    assert weights[0] > weights[1]
    steps = [t for t in study.trials if "mh_chain" in t.user_attrs]
    assert {t.user_attrs["mh_chain"] for t in steps} == {0, 1}
    for trial in steps:
        weight = weights[trial.user_attrs["mh_chain"]]
        q = trial.values[0] - weight * trial.values[1] / REFERENCE
        assert trial.user_attrs["mh_score"] == pytest.approx(q)


def test_a_resumed_run_reads_the_stored_weights_and_refuses_another_chain_count() -> None:
    storage = optuna.storages.InMemoryStorage()
    first = optuna.create_study(
        directions=["maximize", "minimize"], sampler=front_sampler(), storage=storage
    )
    first.optimize(objective, n_trials=8)
    # Stored weights win over the candidates: pretend the ladder said otherwise.
    storage.set_study_system_attr(first._study_id, WEIGHTS_KEY, [0.7, 0.2])
    resumed = optuna.load_study(
        study_name=first.study_name,
        storage=storage,
        sampler=pickle.loads(pickle.dumps(front_sampler())),
    )
    resumed.optimize(objective, n_trials=4)
    later = [t for t in resumed.trials[8:] if "mh_chain" in t.user_attrs]
    assert later
    for trial in later:
        weight = (0.7, 0.2)[trial.user_attrs["mh_chain"]]
        q = trial.values[0] - weight * trial.values[1] / REFERENCE
        assert trial.user_attrs["mh_score"] == pytest.approx(q)
    three = optuna.load_study(
        study_name=first.study_name, storage=storage, sampler=front_sampler((1.0, 1.0, 1.0))
    )
    with pytest.raises(ValueError, match="have 2 latency weights .* this sampler has 3 chains"):
        three.optimize(objective, n_trials=1)


def test_without_a_sloped_front_the_chains_take_the_fallback_weights() -> None:
    study = optuna.create_study(
        directions=["maximize", "minimize"], sampler=front_sampler((0.3, 0.03))
    )

    def flat(trial: optuna.Trial) -> tuple[float, float]:
        accuracy_, latency_ = objective(trial)
        return 0.5, latency_  # every allocation as accurate: one point on the front

    study.optimize(flat, n_trials=6)
    assert stored_weights(study) == [0.3, 0.03]


def test_front_weights_need_the_candidate_start() -> None:
    with pytest.raises(ValueError, match="BestOfCandidates"):
        MetropolisHastingsSampler(
            search_space=SPACE,
            chains=ChainSettings(score=FrontWeights(TEMPLATE, (1.0,))),
            start=FixedStart(CANDIDATES[0]),
        )


def test_each_chain_samples_its_own_target_at_the_weights_read_off_the_front() -> None:
    """After the candidates, each chain is an exact MH chain for `exp(Q_c / T)` at its weight:
    its visit frequencies match that target, and not the other chain's."""
    temperature = 0.05
    study = optuna.create_study(
        directions=["maximize", "minimize"], sampler=front_sampler(temperature=temperature)
    )
    study.optimize(objective, n_trials=len(CANDIDATES) + 2 * 1500)
    weights = stored_weights(study)
    space = OrderedSearchSpace(SPACE)
    states = [space.decode(s) for s in itertools.product(*(range(n) for n in space.sizes))]
    keys = [tuple(s.values()) for s in states]

    def target(weight: float) -> np.ndarray:
        q = np.array([accuracy(s) - weight * latency(s) / REFERENCE for s in states])
        p = np.exp((q - q.max()) / temperature)
        return p / p.sum()

    for chain, weight in enumerate(weights):
        counts = np.zeros(len(states))
        for record in chain_history(study, chain_id=chain)[100:]:
            assert record.params is not None
            counts[keys.index(tuple(record.params[n] for n in SPACE))] += 1
        frequencies = counts / counts.sum()
        own = 0.5 * np.abs(frequencies - target(weight)).sum()
        other = 0.5 * np.abs(frequencies - target(weights[1 - chain])).sum()
        assert own < 0.15 < other  # (the two targets are about 0.85 apart)
