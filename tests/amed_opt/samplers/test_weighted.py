"""Weighted proposals: probabilities that add up, a symmetric lazy kernel, draws that match."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution

from amed_opt.samplers import ProposalSettings
from amed_opt.samplers._proposals import Boundary
from amed_opt.samplers._space import OrderedSearchSpace
from amed_opt.samplers._weighted import P_MAX
from amed_opt.samplers._weighted import WeightedProposal
from amed_opt.samplers._weighted import inclusion_probabilities


SPACE = OrderedSearchSpace(
    {
        "a": CategoricalDistribution((2, 4, 8)),
        "b": IntDistribution(0, 3),
        "fixed": CategoricalDistribution((8,)),
        "c": CategoricalDistribution((1, 2)),
        "d": CategoricalDistribution((11, 9, 7, 5, 3)),
    }
)
ALL_STATES = list(itertools.product(*(range(size) for size in SPACE.sizes)))
WEIGHTS = {"a": 4.0, "b": 1.0, "c": 0.25, "d": 2.0}


def kernel(boundary: Boundary, n_flips: int = 2) -> WeightedProposal:
    return WeightedProposal(SPACE, weights=WEIGHTS, n_flips=n_flips, boundary=boundary)


def test_inclusion_probabilities_are_proportional_to_the_weights_and_capped() -> None:
    assert inclusion_probabilities([1.0, 1.0, 2.0], 1) == pytest.approx((0.25, 0.25, 0.5))
    capped = inclusion_probabilities([1.0, 1.0, 6.0], 2)
    assert capped == pytest.approx((0.25, 0.25, P_MAX))
    # Equal weights choose n_flips parameters on average.
    assert sum(inclusion_probabilities([3.0] * 10, 4)) == pytest.approx(4.0)


@pytest.mark.parametrize("boundary", list(Boundary))
@pytest.mark.parametrize("n_flips", [1, 2, 3])
def test_probabilities_from_every_state_sum_to_one(boundary: Boundary, n_flips: int) -> None:
    proposal = kernel(boundary, n_flips)
    for source in ALL_STATES:
        total = sum(math.exp(proposal.log_probability(source, t)) for t in ALL_STATES)
        assert total == pytest.approx(1.0)
        assert proposal.log_probability(source, source) == -math.inf


def test_lazy_kernel_is_symmetric_up_to_the_redraw_normaliser() -> None:
    proposal = kernel(Boundary.LAZY)
    for source, target in itertools.product(ALL_STATES[::7], ALL_STATES):
        forth = proposal.log_probability(source, target)
        back = proposal.log_probability(target, source)
        if forth == -math.inf:
            assert back == -math.inf
            continue
        assert forth + proposal.log_normaliser(source) == pytest.approx(
            back + proposal.log_normaliser(target)
        )


@pytest.mark.parametrize("boundary", list(Boundary))
def test_draws_follow_the_stated_probabilities(
    boundary: Boundary, check_draws: Callable[..., None]
) -> None:
    state = SPACE.encode({"a": 8, "b": 1, "fixed": 8, "c": 1, "d": 11})
    check_draws(kernel(boundary), SPACE, state, seed=4)


def test_heavier_parameters_move_more_often() -> None:
    proposal = kernel(Boundary.LAZY, n_flips=1)
    rng = np.random.default_rng(0)
    state = SPACE.encode({"a": 4, "b": 1, "fixed": 8, "c": 1, "d": 7})
    moved: Counter[str] = Counter()
    for _ in range(4000):
        drawn = proposal.draw(state, rng).state
        moved.update(SPACE.names[p] for p in range(len(state)) if drawn[p] != state[p])
    assert moved["a"] > moved["d"] > moved["b"] > moved["c"] > 0
    assert moved["fixed"] == 0


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"a": 1.0, "b": 1.0, "c": 1.0}, "missing ['d']"),
        ({**WEIGHTS, "e": 1.0}, "unknown ['e']"),
        ({**WEIGHTS, "c": 0.0}, "finite numbers > 0"),
        ({**WEIGHTS, "c": math.nan}, "finite numbers > 0"),
    ],
)
def test_bad_weights_are_refused(weights: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ProposalSettings(n_flips=1, layer_weights=weights).kernel(SPACE)


def test_weights_and_a_filter_are_refused_together() -> None:
    with pytest.raises(ValueError, match="layer_weights cannot be combined with proposal_filter"):
        ProposalSettings(layer_weights=WEIGHTS, proposal_filter=lambda params: True)
