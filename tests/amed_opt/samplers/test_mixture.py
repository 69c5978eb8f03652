"""Small moves: a share of the proposals moves one parameter instead of `n_flips`, drawn or
visited in a cycle (scanned)."""

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
from amed_opt.samplers._mixture import ScanMoves
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


# -- scanned small moves --------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {"n_flips": 2, "boundary": "lazy", "layer_weights": WEIGHTS},
        {"n_flips": 3, "boundary": "forced", "proposal_filter": no_high_d},
        {"n_flips": 2, "boundary": "lazy", "layer_weights": WEIGHTS, "transfer_share": 0.3},
    ],
)
@pytest.mark.parametrize("step", [0, 5])
def test_each_step_of_a_scan_is_a_proposal_whose_draws_follow_its_probabilities(
    settings: dict[str, Any],
    step: int,
    toy_space: OrderedSearchSpace,
    check_draws: Callable[..., None],
) -> None:
    kernel = ProposalSettings(**settings, small_move_share=0.5, scan_small_moves=True)
    at_step = kernel.kernel(toy_space).at_step(step)
    allowed = [s for s in states(toy_space) if at_step.is_allowed(s)]
    for source in allowed:
        total = sum(math.exp(at_step.log_probability(source, t)) for t in allowed)
        assert total == pytest.approx(1.0)
    state = toy_space.encode({"a": 4, "b": 1, "fixed": 8, "c": 2, "d": 7})
    # Enough draws that the rarest target (four parameters moved at once, p ~ 1.5e-4) is seen.
    check_draws(at_step, toy_space, state, seed=11 + step, n_draws=50_000)


def test_a_scan_visits_the_heaviest_parameters_first_one_per_step(
    toy_space: OrderedSearchSpace,
) -> None:
    # Weights a 4, d 2, b 1, c 0.25: the one-parameter moves of steps 1, 2, 3, ... (step 0 is a
    # chain's start) change a, d, b, c, a, ..., whatever the state; without weights the space's
    # order (a, b, c, d; "fixed" never).
    state = toy_space.encode({"a": 4, "b": 1, "fixed": 8, "c": 2, "d": 7})
    names = toy_space.names
    for weights, cycle in ((WEIGHTS, "adbc"), (None, "abcd")):
        settings = ProposalSettings(
            n_flips=2,
            boundary="lazy",
            layer_weights=weights,
            small_move_share=0.999,
            scan_small_moves=True,
        )
        kernel = settings.kernel(toy_space)
        rng = np.random.default_rng(0)
        for step in range(1, 10):
            singles: Counter[str] = Counter()
            for _ in range(200):
                target = kernel.at_step(step).draw(state, rng).state
                if moved(state, target) == 1:
                    singles.update(
                        names[p]
                        for p, (a, b) in enumerate(zip(state, target, strict=True))
                        if a != b
                    )
            assert set(singles) == {cycle[(step - 1) % 4]}
            assert singles[cycle[(step - 1) % 4]] > 180


def test_a_scanned_move_leaves_an_end_inward_and_respects_the_filter(
    toy_space: OrderedSearchSpace,
) -> None:
    sizes = toy_space.sizes
    a, d = toy_space.names.index("a"), toy_space.names.index("d")
    low = toy_space.encode({"a": 2, "b": 1, "fixed": 8, "c": 2, "d": 7})
    scan = ScanMoves(sizes, [a, d])  # at step 1, a chain's first move
    assert scan.parameter == a and scan.at_step(2).parameter == d
    assert scan.at_step(3).parameter == a and scan.at_step(0).parameter == d
    (up,) = [t for t in states(toy_space) if scan.log_probability(low, t) > -math.inf]
    assert up[a] == low[a] + 1 and scan.log_probability(low, up) == 0.0
    middle = toy_space.encode({"a": 4, "b": 1, "fixed": 8, "c": 2, "d": 7})
    assert scan.log_probability(middle, low) == pytest.approx(math.log(0.5))
    # With a filter that refuses d = 9 and 11, the scan moves d from 7 to 5 only, and from 5...
    allowed = lambda s: toy_space.decode(s)["d"] <= 7  # noqa: E731
    scan_d = ScanMoves(sizes, [d], allowed=allowed)
    targets = [t for t in states(toy_space) if scan_d.log_probability(middle, t) > -math.inf]
    assert [toy_space.decode(t)["d"] for t in targets] == [5]
    # ... and where it refuses both neighbours, the scan cannot move and the mixture is its base.
    stuck = ScanMoves(sizes, [d], allowed=lambda s: toy_space.decode(s)["d"] == 7)
    assert not stuck.can_move(middle)
    with pytest.raises(ValueError, match="cannot move"):
        stuck.draw_state(middle, np.random.default_rng(0))
    base = NeighbourProposal(toy_space, n_flips=2, boundary=Boundary.LAZY)
    mixture = ProposalMixture(base, stuck, 0.5)
    for target in states(toy_space):
        assert mixture.log_probability(middle, target) == base.log_probability(middle, target)


def test_a_kernel_that_does_not_scan_is_the_same_at_every_step(
    toy_space: OrderedSearchSpace,
) -> None:
    for settings in (
        {"n_flips": 3},
        {"n_flips": 2, "layer_weights": WEIGHTS, "transfer_share": 0.2},
        {"n_flips": 2, "small_move_share": 0.5},
    ):
        kernel = ProposalSettings(**settings).kernel(toy_space)
        assert kernel.at_step(5) is kernel
    scanning = ProposalSettings(n_flips=2, small_move_share=0.5, scan_small_moves=True)
    kernel = scanning.kernel(toy_space)
    assert kernel.at_step(1) is kernel and kernel.at_step(2) is not kernel


def test_scan_refusals() -> None:
    with pytest.raises(ValueError, match="scan_small_moves needs small_move_share > 0"):
        ProposalSettings(n_flips=2, boundary="lazy", scan_small_moves=True)
    with pytest.raises(ValueError, match="scan_small_moves must be a bool"):
        ProposalSettings(n_flips=2, small_move_share=0.5, scan_small_moves=1)  # type: ignore[arg-type]
    for order in ((), (0, 0), (2,), (9,)):  # empty, repeated, a fixed parameter, outside
        with pytest.raises(ValueError, match="a scan's order must"):
            ScanMoves((3, 4, 1), order)
    with pytest.raises(ValueError, match="a chain step must be an int >= 0"):
        ScanMoves((3, 4), (0,), step=-1)
