"""Small moves: a share of the proposals moves one parameter instead of `n_flips`."""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from amed_opt.samplers import ProposalSettings
from amed_opt.samplers._mixture import ProposalMixture
from amed_opt.samplers._mixture import SmallMoves
from amed_opt.samplers._proposals import Boundary
from amed_opt.samplers._proposals import NeighbourProposal
from amed_opt.samplers._space import OrderedSearchSpace


WEIGHTS = {"a": 4.0, "b": 1.0, "c": 0.25, "d": 2.0}


def states(space: OrderedSearchSpace) -> list[tuple[int, ...]]:
    return list(itertools.product(*(range(size) for size in space.sizes)))


def moved(source: tuple[int, ...], target: tuple[int, ...]) -> int:
    return sum(a != b for a, b in zip(source, target, strict=True))


def no_high_d(params: dict[str, Any]) -> bool:
    return bool(params["d"] <= 7)


@pytest.mark.parametrize(
    "settings",
    [
        {"n_flips": 2, "boundary": "lazy"},
        {"n_flips": 3, "boundary": "forced", "proposal_filter": no_high_d},
        {"n_flips": 2, "boundary": "lazy", "layer_weights": WEIGHTS},
        {"n_flips": 2, "boundary": "lazy", "layer_weights": WEIGHTS, "transfer_share": 0.3},
    ],
)
def test_the_mixture_is_a_proposal_whose_draws_follow_its_probabilities(
    settings: dict[str, Any],
    toy_space: OrderedSearchSpace,
    check_draws: Callable[..., None],
) -> None:
    kernel = ProposalSettings(**settings, small_move_share=0.4).kernel(toy_space)
    assert isinstance(kernel, ProposalMixture)
    allowed = [s for s in states(toy_space) if kernel.is_allowed(s)]
    for source in allowed:
        total = sum(math.exp(kernel.log_probability(source, t)) for t in allowed)
        assert total == pytest.approx(1.0)
    state = toy_space.encode({"a": 4, "b": 1, "fixed": 8, "c": 2, "d": 7})
    check_draws(kernel, toy_space, state, seed=7)


def test_a_share_of_the_moves_changes_one_parameter(toy_space: OrderedSearchSpace) -> None:
    # Three flips of four movable parameters: without small moves no proposal changes only
    # one of them (forced), with a share 0.5 about half do.
    state = toy_space.encode({"a": 4, "b": 1, "fixed": 8, "c": 2, "d": 7})
    rng = np.random.default_rng(3)
    counts: Counter[int] = Counter()
    for share in (0.0, 0.5):
        kernel = ProposalSettings(n_flips=3, small_move_share=share).kernel(toy_space)
        counts.update(
            f"{share}:{moved(state, kernel.draw(state, rng).state)}" for _ in range(4000)
        )
    assert counts["0.0:1"] == 0 and counts["0.0:3"] == 4000
    assert 0.45 < counts["0.5:1"] / 4000 < 0.55
    assert counts["0.5:1"] + counts["0.5:3"] == 4000


def test_where_the_filter_leaves_no_small_move_the_base_kernel_proposes(
    toy_space: OrderedSearchSpace,
) -> None:
    # From the state below, every one-parameter move breaks the filter (the four movable
    # parameters must all leave their values together), so only the four-flip kernel proposes
    # and the mixture is exactly it.
    def only_all(params: dict[str, Any]) -> bool:
        kept = {params["a"] == 4, params["b"] == 1, params["c"] == 2, params["d"] == 7}
        return len(kept) == 1

    space = toy_space
    state = space.encode({"a": 4, "b": 1, "fixed": 8, "c": 2, "d": 7})
    small = NeighbourProposal(space, n_flips=1, boundary=Boundary.FORCED, proposal_filter=only_all)
    base = NeighbourProposal(space, n_flips=4, boundary=Boundary.FORCED, proposal_filter=only_all)
    assert not SmallMoves(small).can_move(state) and base.log_normaliser(state) > -math.inf
    mixture = ProposalMixture(base, SmallMoves(small), 0.9)
    for target in states(space):
        assert mixture.log_probability(state, target) == base.log_probability(state, target)


def test_settings_refuse_bad_small_move_shares() -> None:
    for share in (-0.1, 1.0, True, "0.5"):
        with pytest.raises(ValueError, match="small_move_share must be a number in"):
            ProposalSettings(n_flips=3, small_move_share=share)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="small_move_share > 0 needs n_flips > 1"):
        ProposalSettings(n_flips=1, small_move_share=0.5)


def test_small_moves_break_the_parity_of_an_even_forced_proposal() -> None:
    with pytest.warns(UserWarning, match="only reaches half"):
        ProposalSettings(n_flips=2, boundary="forced")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ProposalSettings(n_flips=2, boundary="forced", small_move_share=0.3)
