"""Neighbour proposals: legal moves, probabilities that add up, draws that follow them."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution

from amed_opt.samplers._proposals import Boundary
from amed_opt.samplers._proposals import NeighbourProposal
from amed_opt.samplers._proposals import draw_neighbour
from amed_opt.samplers._proposals import hastings_log_ratio
from amed_opt.samplers._proposals import iter_neighbours
from amed_opt.samplers._proposals import log_proposal_probability
from amed_opt.samplers._proposals import log_stay_probability
from amed_opt.samplers._space import OrderedSearchSpace


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


def _sum_limit(params: dict[str, int]) -> bool:
    return params["a"] + params["b"] <= 9


@pytest.mark.parametrize("n_flips", [1, 2, 3])
def test_draws_move_exactly_n_flips_parameters_by_one_step(n_flips: int) -> None:
    rng = np.random.default_rng(0)
    for state in ALL_STATES[::7]:
        for _ in range(20):
            target = draw_neighbour(
                state, sizes=SPACE.sizes, movable=SPACE.movable, n_flips=n_flips, rng=rng
            )
            moved = [p for p in range(len(state)) if state[p] != target[p]]
            assert len(moved) == n_flips
            assert all(abs(state[p] - target[p]) == 1 for p in moved)
            assert all(0 <= i < size for i, size in zip(target, SPACE.sizes, strict=True))
            assert SPACE.names.index("fixed") not in moved


@pytest.mark.parametrize("n_flips", [1, 2, 3, 4])
def test_neighbour_probabilities_sum_to_one(n_flips: int) -> None:
    for state in ALL_STATES:
        neighbours = list(
            iter_neighbours(state, sizes=SPACE.sizes, movable=SPACE.movable, n_flips=n_flips)
        )
        assert len({target for target, _ in neighbours}) == len(neighbours)
        assert math.fsum(math.exp(log_q) for _, log_q in neighbours) == pytest.approx(1.0)
        for target, log_q in neighbours:
            assert log_proposal_probability(
                state, target, sizes=SPACE.sizes, movable=SPACE.movable, n_flips=n_flips
            ) == pytest.approx(log_q)


def test_hastings_ratio_is_the_ratio_of_proposal_probabilities() -> None:
    kwargs = {"sizes": SPACE.sizes, "movable": SPACE.movable, "n_flips": 1}
    for state in ALL_STATES:
        for target, log_q in iter_neighbours(state, **kwargs):
            back = log_proposal_probability(target, state, **kwargs)
            assert hastings_log_ratio(state, target, sizes=SPACE.sizes) == pytest.approx(
                back - log_q
            )


def test_end_of_list_moves_inward_with_probability_one() -> None:
    space = OrderedSearchSpace({"x": IntDistribution(0, 4)})
    rng = np.random.default_rng(1)
    ups = {
        draw_neighbour((0,), sizes=space.sizes, movable=space.movable, n_flips=1, rng=rng)
        for _ in range(50)
    }
    assert ups == {(1,)}
    # From the end the move is forced (q = 1); back from the interior it has q = 1/2.
    assert hastings_log_ratio((0,), (1,), sizes=space.sizes) == pytest.approx(-math.log(2))
    assert hastings_log_ratio((1,), (0,), sizes=space.sizes) == pytest.approx(math.log(2))
    assert hastings_log_ratio((1,), (2,), sizes=space.sizes) == 0.0


def test_non_neighbours_have_zero_probability() -> None:
    kwargs = {"sizes": SPACE.sizes, "movable": SPACE.movable, "n_flips": 1}
    state = (1, 1, 0, 0, 2)
    assert log_proposal_probability(state, state, **kwargs) == -math.inf
    assert log_proposal_probability(state, (1, 3, 0, 0, 2), **kwargs) == -math.inf
    assert log_proposal_probability(state, (2, 2, 0, 0, 2), **kwargs) == -math.inf


@pytest.mark.parametrize("proposal_filter", [None, _sum_limit])
@pytest.mark.parametrize(("boundary", "n_flips"), [(Boundary.FORCED, 1), (Boundary.LAZY, 2)])
def test_draws_follow_the_stated_probabilities(
    proposal_filter: object, boundary: Boundary, n_flips: int, check_draws: Callable[..., None]
) -> None:
    kernel = NeighbourProposal(
        SPACE,
        n_flips=n_flips,
        boundary=boundary,
        proposal_filter=proposal_filter,  # type: ignore[arg-type]
    )
    state = SPACE.encode({"a": 8, "b": 1, "fixed": 8, "c": 1, "d": 11})
    targets = {
        target
        for target, _ in iter_neighbours(
            state, sizes=SPACE.sizes, movable=SPACE.movable, n_flips=n_flips, boundary=boundary
        )
    }
    # the neighbours carry the whole probability; the draws follow it, with the Hastings factor
    # q_F(back) / q_F(forth)
    assert sum(math.exp(kernel.log_probability(state, t)) for t in targets) == pytest.approx(1.0)
    check_draws(kernel, SPACE, state, seed=2)


def test_filter_renormalises_and_never_proposes_rejected_states() -> None:
    kernel = NeighbourProposal(SPACE, n_flips=1, proposal_filter=_sum_limit)
    rng = np.random.default_rng(3)
    state = SPACE.encode({"a": 4, "b": 3, "fixed": 8, "c": 2, "d": 3})
    assert _sum_limit(SPACE.decode(state))
    for _ in range(200):
        assert _sum_limit(SPACE.decode(kernel.draw(state, rng).state))
    assert kernel.log_normaliser(state) < 0.0  # Some neighbours (a=8) are filtered out.


def test_filter_is_called_once_per_state() -> None:
    calls: Counter[tuple[int, ...]] = Counter()

    def counting_filter(params: dict[str, int]) -> bool:
        calls[tuple(params.values())] += 1
        return _sum_limit(params)

    kernel = NeighbourProposal(SPACE, n_flips=1, proposal_filter=counting_filter)
    rng = np.random.default_rng(4)
    state = SPACE.encode({"a": 4, "b": 1, "fixed": 8, "c": 1, "d": 7})
    for _ in range(100):
        kernel.draw(state, rng)
    assert max(calls.values()) == 1


def test_isolated_head_raises() -> None:
    kernel = NeighbourProposal(
        SPACE,
        n_flips=1,
        proposal_filter=lambda params: (
            params["a"] == 2 and params["b"] == 0 and params["c"] == 1 and params["d"] == 11
        ),
    )
    with pytest.raises(RuntimeError, match="proposal_filter"):
        kernel.draw(
            SPACE.encode({"a": 2, "b": 0, "fixed": 8, "c": 1, "d": 11}), np.random.default_rng(0)
        )


def test_random_state_respects_the_filter_and_gives_up() -> None:
    kernel = NeighbourProposal(SPACE, n_flips=1, proposal_filter=_sum_limit)
    rng = np.random.default_rng(5)
    for _ in range(50):
        assert _sum_limit(SPACE.decode(kernel.random_state(rng)))
    never = NeighbourProposal(SPACE, n_flips=1, proposal_filter=lambda params: False)
    with pytest.raises(RuntimeError, match="initial_params"):
        never.random_state(rng, max_attempts=10)


# -- the LAZY boundary: a chosen parameter at an end steps inward or stays ---------------------

LAZY = Boundary.LAZY


@pytest.mark.parametrize("n_flips", [1, 2, 3])
def test_lazy_draws_move_between_one_and_n_flips_parameters(n_flips: int) -> None:
    rng = np.random.default_rng(6)
    moved_counts = Counter()
    for state in ALL_STATES[::5]:
        for _ in range(20):
            target = draw_neighbour(
                state,
                sizes=SPACE.sizes,
                movable=SPACE.movable,
                n_flips=n_flips,
                rng=rng,
                boundary=LAZY,
            )
            moved = [p for p in range(len(state)) if state[p] != target[p]]
            moved_counts[len(moved)] += 1
            assert 1 <= len(moved) <= n_flips
            assert all(abs(state[p] - target[p]) == 1 for p in moved)
            assert all(0 <= i < size for i, size in zip(target, SPACE.sizes, strict=True))
    assert set(moved_counts) == set(range(1, n_flips + 1))


@pytest.mark.parametrize("n_flips", [1, 2, 3, 4])
def test_lazy_proposal_is_symmetric_and_its_ways_add_up(n_flips: int) -> None:
    kwargs = {"sizes": SPACE.sizes, "movable": SPACE.movable, "n_flips": n_flips}
    for state in ALL_STATES:
        totals: Counter[tuple[int, ...]] = Counter()
        for target, log_q in iter_neighbours(state, boundary=LAZY, **kwargs):
            totals[target] += math.exp(log_q)
        assert state not in totals
        stay = math.exp(log_stay_probability(state, **kwargs))
        assert math.fsum(totals.values()) + stay == pytest.approx(1.0)
        for target, probability in totals.items():
            forth = log_proposal_probability(state, target, boundary=LAZY, **kwargs)
            back = log_proposal_probability(target, state, boundary=LAZY, **kwargs)
            assert math.exp(forth) == pytest.approx(probability)
            assert back == pytest.approx(forth)


def test_lazy_leaves_the_corner_without_the_forced_penalty() -> None:
    space = OrderedSearchSpace({f"l{i}": IntDistribution(2, 8) for i in range(10)})
    corner = tuple(size - 1 for size in space.sizes)
    rng = np.random.default_rng(7)
    forced = NeighbourProposal(space, n_flips=5)
    lazy = NeighbourProposal(space, n_flips=5, boundary=LAZY)
    # The paper's kernel pays 1/2 per layer leaving 8 bits; the lazy one pays only the
    # redraw normaliser (1 - 2^-5) / (1 - q(b'|b')), within a few percent of 1.
    assert forced.draw(corner, rng).log_q_ratio == pytest.approx(5 * math.log(0.5))
    for _ in range(50):
        proposal = lazy.draw(corner, rng)
        assert proposal.state != corner
        assert abs(proposal.log_q_ratio) < 0.05


def test_lazy_hastings_factor_is_the_ratio_of_enumerated_move_masses() -> None:
    # Without a filter the lazy kernel's only factor is Z(b) / Z(b'), Z = the mass of draws
    # that move; here Z comes from enumerating every way a draw can go, independently of the
    # closed form the kernel uses.
    kwargs = {"sizes": SPACE.sizes, "movable": SPACE.movable, "n_flips": 2}
    kernel = NeighbourProposal(SPACE, n_flips=2, boundary=LAZY)

    def moving_mass(state: tuple[int, ...]) -> float:
        return math.fsum(math.exp(q) for _, q in iter_neighbours(state, boundary=LAZY, **kwargs))

    rng = np.random.default_rng(9)
    for state in ALL_STATES[::3]:
        proposal = kernel.draw(state, rng)
        expected = math.log(moving_mass(state)) - math.log(moving_mass(proposal.state))
        assert proposal.log_q_ratio == pytest.approx(expected)
        assert kernel.log_probability(proposal.state, state) - kernel.log_probability(
            state, proposal.state
        ) == pytest.approx(expected)
