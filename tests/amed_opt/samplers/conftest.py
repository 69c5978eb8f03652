"""Fixtures of the sampler tests: `check_chain` verifies a chain read back from the storage;
`toy_space` is a small space of five parameters (one fixed) and `check_draws` compares a
proposal's draws with its stated probabilities."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from collections.abc import Mapping

import numpy as np
import optuna
import pytest
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution
from optuna.trial import TrialState

from amed_opt.samplers import ChainStep
from amed_opt.samplers import chain_history
from amed_opt.samplers._acceptance import acceptance_probability
from amed_opt.samplers._proposals import ProposalKernel
from amed_opt.samplers._space import OrderedSearchSpace


def assert_valid_chain(
    study: optuna.Study,
    chain_id: int,
    search_space: Mapping[str, BaseDistribution],
    *,
    n_flips: int = 1,
    lazy: bool = False,
    user_attrs: bool = True,
) -> list[ChainStep]:
    """Check every step of a chain against the trials in the storage; return the history.

    A forced proposal moves exactly `n_flips` parameters; a `lazy` one between 1 and `n_flips`.
    """
    space = OrderedSearchSpace(search_space)
    history = chain_history(study, chain_id)
    trials = {trial.number: trial for trial in study.get_trials(deepcopy=False)}
    head: ChainStep | None = None
    for position, record in enumerate(history):
        assert record.step == position
        if record.kind == "adopted":
            assert (head is None or head.params is None) and record.accepted
            assert trials[record.trial_number].state == TrialState.COMPLETE
            head = record
            continue
        trial = trials[record.trial_number]
        proposal = trial.system_attrs["mh:proposal"]
        decision = trial.system_attrs["mh:decision"]
        assert proposal["chain"] == chain_id and proposal["step"] == position
        assert not decision["stale"]
        assert decision["state"] == trial.state.name
        if user_attrs:
            assert trial.user_attrs["mh_chain"] == chain_id
            assert trial.user_attrs["mh_step"] == position
            assert trial.user_attrs["mh_accepted"] == record.accepted
            assert trial.user_attrs["mh_acceptance_probability"] == record.acceptance_probability
        if record.kind == "init":
            assert head is None or head.params is None
            assert proposal["parent"] is None
        else:
            assert head is not None and head.params is not None
            assert proposal["parent"] == head.head_trial_number
            before = space.encode(head.params)
            after = space.encode(proposal["params"])
            moved = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
            assert 1 <= len(moved) <= n_flips if lazy else len(moved) == n_flips
            assert all(abs(before[i] - after[i]) == 1 for i in moved)
        if trial.state != TrialState.COMPLETE:
            assert not record.accepted and record.acceptance_probability == 0.0
        elif record.kind == "move" and decision["score"] is not None:
            expected = acceptance_probability(
                decision["score"],
                decision["head_score"],
                temperature=decision["temperature"],
                log_q_ratio=proposal["log_q_ratio"],
            )
            assert record.acceptance_probability == pytest.approx(expected)
        if record.accepted:
            assert record.params == proposal["params"]
            assert {name: trial.params[name] for name in space.names} == proposal["params"]
            assert record.head_trial_number == trial.number
        else:
            assert record.params == (None if head is None else head.params)
        head = record
    return history


@pytest.fixture
def check_chain() -> Callable[..., list[ChainStep]]:
    """`assert_valid_chain(study, chain_id, search_space, *, n_flips=1, user_attrs=True)`."""
    return assert_valid_chain


@pytest.fixture
def toy_space() -> OrderedSearchSpace:
    """Lists of 3, 4, 1 (fixed), 2 and 5 values; `d` listed high to low."""
    return OrderedSearchSpace(
        {
            "a": CategoricalDistribution((2, 4, 8)),
            "b": IntDistribution(0, 3),
            "fixed": CategoricalDistribution((8,)),
            "c": CategoricalDistribution((1, 2)),
            "d": CategoricalDistribution((11, 9, 7, 5, 3)),
        }
    )


def assert_draws_follow(
    proposal: ProposalKernel,
    space: OrderedSearchSpace,
    state: tuple[int, ...],
    *,
    seed: int,
    n_draws: int = 20_000,
) -> None:
    """`proposal.draw(state)` returns each state of `space` about as often as
    `log_probability` says (within five binomial standard errors), never one it gives
    probability 0, and with the Hastings factor `log_probability` implies."""
    rng = np.random.default_rng(seed)
    counts: Counter[tuple[int, ...]] = Counter()
    for _ in range(n_draws):
        drawn = proposal.draw(state, rng)
        counts[drawn.state] += 1
        assert drawn.log_q_ratio == pytest.approx(
            proposal.log_probability(drawn.state, state)
            - proposal.log_probability(state, drawn.state)
        )
    every = itertools.product(*(range(size) for size in space.sizes))
    expected = {t: math.exp(proposal.log_probability(state, t)) for t in every}
    assert set(counts) == {t for t, p in expected.items() if p > 0}
    for target, probability in expected.items():
        tolerance = 5 * math.sqrt(probability * (1 - probability) / n_draws) + 1e-9
        assert abs(counts[target] / n_draws - probability) <= tolerance


@pytest.fixture
def check_draws() -> Callable[..., None]:
    """`assert_draws_follow(proposal, space, state, *, seed, n_draws=20_000)`."""
    return assert_draws_follow
