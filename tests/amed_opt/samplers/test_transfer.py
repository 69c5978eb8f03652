"""Transfers: one parameter down and another up, by fixed weights, mixed into a neighbour."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from optuna.distributions import IntDistribution

from amed_opt.samplers import ProposalSettings
from amed_opt.samplers._mixture import ProposalMixture
from amed_opt.samplers._proposals import Boundary
from amed_opt.samplers._space import OrderedSearchSpace
from amed_opt.samplers._transfer import TransferProposal
from amed_opt.samplers._weighted import WeightedProposal


WEIGHTS = {"a": 4.0, "b": 1.0, "c": 0.25, "d": 2.0}


def states(space: OrderedSearchSpace) -> list[tuple[int, ...]]:
    return list(itertools.product(*(range(size) for size in space.sizes)))


def mixed(space: OrderedSearchSpace, share: float = 0.4) -> ProposalMixture:
    base = WeightedProposal(space, weights=WEIGHTS, n_flips=2, boundary=Boundary.LAZY)
    return ProposalMixture(base, TransferProposal(space, weights=WEIGHTS), share)


@pytest.mark.parametrize("weights", [None, WEIGHTS])
def test_a_transfer_lowers_one_parameter_and_raises_another(
    weights: dict[str, float] | None, toy_space: OrderedSearchSpace
) -> None:
    transfers = TransferProposal(toy_space, weights=weights)
    every = states(toy_space)
    for source in every:
        probabilities = {t: math.exp(transfers.log_probability(source, t)) for t in every}
        if not transfers.can_move(source):
            assert sum(probabilities.values()) == 0
            continue
        assert sum(probabilities.values()) == pytest.approx(1.0)
        for target, probability in probabilities.items():
            steps = sorted(b - a for a, b in zip(source, target, strict=True) if a != b)
            assert (probability > 0) == (steps == [-1, 1])
    # Nothing can be lowered from the lowest values, nor raised from the highest.
    highest = tuple(size - 1 for size in toy_space.sizes)
    assert not transfers.can_move((0,) * len(highest)) and not transfers.can_move(highest)
    with pytest.raises(ValueError, match="no transfer can move"):
        transfers.draw_state(highest, np.random.default_rng(0))


def test_heavy_parameters_are_lowered_and_light_ones_raised_more_often(
    toy_space: OrderedSearchSpace,
) -> None:
    transfers = TransferProposal(toy_space, weights=WEIGHTS)
    state = toy_space.encode({"a": 4, "b": 1, "fixed": 8, "c": 2, "d": 7})  # c only goes down
    rng = np.random.default_rng(1)
    lowered: Counter[str] = Counter()
    raised: Counter[str] = Counter()
    for _ in range(6000):
        target = transfers.draw_state(state, rng)
        for position, (a, b) in enumerate(zip(state, target, strict=True)):
            if b < a:
                lowered[toy_space.names[position]] += 1
            elif b > a:
                raised[toy_space.names[position]] += 1
    # (c, at its highest, cannot take precision, so b, which would mostly give to c, gives less)
    assert lowered["a"] > lowered["d"] > lowered["b"] > 0 and lowered["c"] > 0
    assert raised["b"] > raised["d"] > raised["a"] > 0 and raised["c"] == 0


def test_mixed_probabilities_sum_to_one_and_draws_follow_them(
    toy_space: OrderedSearchSpace, check_draws: Callable[..., None]
) -> None:
    proposal = mixed(toy_space)
    every = states(toy_space)
    for source in every:
        total = sum(math.exp(proposal.log_probability(source, t)) for t in every)
        assert total == pytest.approx(1.0)
    state = toy_space.encode({"a": 4, "b": 1, "fixed": 8, "c": 2, "d": 11})
    check_draws(proposal, toy_space, state, seed=5)


def test_where_no_transfer_can_move_only_the_base_kernel_proposes(
    toy_space: OrderedSearchSpace,
) -> None:
    proposal = mixed(toy_space, share=0.9)
    base = WeightedProposal(toy_space, weights=WEIGHTS, n_flips=2, boundary=Boundary.LAZY)
    lowest = (0,) * len(toy_space.sizes)
    for target in states(toy_space):
        assert proposal.log_probability(lowest, target) == base.log_probability(lowest, target)


def test_settings_build_the_mixture_and_refuse_bad_shares_and_filters(
    toy_space: OrderedSearchSpace,
) -> None:
    kernel = ProposalSettings(n_flips=2, boundary="lazy", transfer_share=0.25).kernel(toy_space)
    assert isinstance(kernel, ProposalMixture)
    assert not isinstance(ProposalSettings(n_flips=1).kernel(toy_space), ProposalMixture)
    for share in (-0.1, 1.0, True, "0.5"):
        with pytest.raises(ValueError, match="transfer_share must be a number in"):
            ProposalSettings(transfer_share=share)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot be combined with proposal_filter"):
        ProposalSettings(transfer_share=0.2, proposal_filter=lambda params: True)
    with pytest.raises(ValueError, match="transfer weights must name"):
        TransferProposal(toy_space, weights={"a": 1.0})
    with pytest.raises(ValueError, match="finite numbers > 0"):
        TransferProposal(toy_space, weights={**WEIGHTS, "b": 0.0})
    one = OrderedSearchSpace({"a": IntDistribution(0, 3), "fixed": IntDistribution(1, 1)})
    with pytest.raises(ValueError, match="two parameters with more than one value"):
        TransferProposal(one)
    with pytest.raises(ValueError, match=r"share must be a number in \(0, 1\)"):
        mixed(toy_space, share=0.0)
