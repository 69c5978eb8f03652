"""Transfers: one parameter down and another up, by fixed weights, mixed into a neighbour."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution

from amed_opt.samplers import ProposalSettings
from amed_opt.samplers._proposals import Boundary
from amed_opt.samplers._space import OrderedSearchSpace
from amed_opt.samplers._transfer import TransferProposal
from amed_opt.samplers._transfer import WithTransfers
from amed_opt.samplers._weighted import WeightedProposal


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
LOWEST = (0, 0, 0, 0, 0)
HIGHEST = tuple(size - 1 for size in SPACE.sizes)


def mixed(share: float = 0.4) -> WithTransfers:
    base = WeightedProposal(SPACE, weights=WEIGHTS, n_flips=2, boundary=Boundary.LAZY)
    return WithTransfers(base, TransferProposal(SPACE, weights=WEIGHTS), share)


@pytest.mark.parametrize("weights", [None, WEIGHTS])
def test_a_transfer_lowers_one_parameter_and_raises_another(
    weights: dict[str, float] | None,
) -> None:
    transfers = TransferProposal(SPACE, weights=weights)
    for source in ALL_STATES:
        probabilities = {t: math.exp(transfers.log_probability(source, t)) for t in ALL_STATES}
        if not transfers.can_move(source):
            assert sum(probabilities.values()) == 0
            continue
        assert sum(probabilities.values()) == pytest.approx(1.0)
        for target, probability in probabilities.items():
            steps = sorted(b - a for a, b in zip(source, target, strict=True) if a != b)
            assert (probability > 0) == (steps == [-1, 1])
    # Nothing can be lowered from the lowest values, nor raised from the highest.
    assert not transfers.can_move(LOWEST) and not transfers.can_move(HIGHEST)
    with pytest.raises(ValueError, match="no transfer can move"):
        transfers.draw_state(HIGHEST, np.random.default_rng(0))


def test_heavy_parameters_are_lowered_and_light_ones_raised_more_often() -> None:
    transfers = TransferProposal(SPACE, weights=WEIGHTS)
    state = SPACE.encode({"a": 4, "b": 1, "fixed": 8, "c": 2, "d": 7})  # c can only go down
    rng = np.random.default_rng(1)
    lowered: Counter[str] = Counter()
    raised: Counter[str] = Counter()
    for _ in range(6000):
        target = transfers.draw_state(state, rng)
        for position, (a, b) in enumerate(zip(state, target, strict=True)):
            if b < a:
                lowered[SPACE.names[position]] += 1
            elif b > a:
                raised[SPACE.names[position]] += 1
    # (c, at its highest, cannot take precision, so b, which would mostly give to c, gives less)
    assert lowered["a"] > lowered["d"] > lowered["b"] > 0 and lowered["c"] > 0
    assert raised["b"] > raised["d"] > raised["a"] > 0 and raised["c"] == 0


def test_mixed_probabilities_sum_to_one_and_draws_follow_them() -> None:
    proposal = mixed()
    for source in ALL_STATES:
        total = sum(math.exp(proposal.log_probability(source, t)) for t in ALL_STATES)
        assert total == pytest.approx(1.0)
    state = SPACE.encode({"a": 4, "b": 1, "fixed": 8, "c": 2, "d": 11})
    rng = np.random.default_rng(5)
    n_draws = 20_000
    counts: Counter[tuple[int, ...]] = Counter()
    for _ in range(n_draws):
        drawn = proposal.draw(state, rng)
        counts[drawn.state] += 1
        assert drawn.log_q_ratio == pytest.approx(
            proposal.log_probability(drawn.state, state)
            - proposal.log_probability(state, drawn.state)
        )
    expected = {t: math.exp(proposal.log_probability(state, t)) for t in ALL_STATES}
    assert set(counts) == {t for t, p in expected.items() if p > 0}
    for target, probability in expected.items():
        tolerance = 5 * math.sqrt(probability * (1 - probability) / n_draws) + 1e-9
        assert abs(counts[target] / n_draws - probability) <= tolerance


def test_where_no_transfer_can_move_only_the_base_kernel_proposes() -> None:
    proposal = mixed(share=0.9)
    base = WeightedProposal(SPACE, weights=WEIGHTS, n_flips=2, boundary=Boundary.LAZY)
    for target in ALL_STATES:
        assert proposal.log_probability(LOWEST, target) == base.log_probability(LOWEST, target)


def test_settings_build_the_mixture_and_refuse_bad_shares_and_filters() -> None:
    kernel = ProposalSettings(n_flips=2, boundary="lazy", transfer_share=0.25).kernel(SPACE)
    assert isinstance(kernel, WithTransfers)
    assert not isinstance(ProposalSettings(n_flips=1).kernel(SPACE), WithTransfers)
    for share in (-0.1, 1.0, True, "0.5"):
        with pytest.raises(ValueError, match="transfer_share must be a number in"):
            ProposalSettings(transfer_share=share)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot be combined with proposal_filter"):
        ProposalSettings(transfer_share=0.2, proposal_filter=lambda params: True)
    with pytest.raises(ValueError, match="transfer weights must name"):
        TransferProposal(SPACE, weights={"a": 1.0})
    with pytest.raises(ValueError, match="finite numbers > 0"):
        TransferProposal(SPACE, weights={**WEIGHTS, "b": 0.0})
    one = OrderedSearchSpace({"a": IntDistribution(0, 3), "fixed": IntDistribution(1, 1)})
    with pytest.raises(ValueError, match="two parameters with more than one value"):
        TransferProposal(one)
    with pytest.raises(ValueError, match=r"share must be a number in \(0, 1\)"):
        mixed(share=0.0)
