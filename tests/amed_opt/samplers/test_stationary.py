"""The chain samples pi(b) ∝ exp(Q(b) / T), and would not without the Hastings correction.

Three checks on small toy spaces (four parameters, lists of 3, 4, 2 and 5 values), for a uniform
target, a non-uniform one and a non-uniform one restricted by a proposal filter:

1. exact: the transition matrix built from the kernel's proposal probabilities and acceptance
   probabilities leaves pi invariant (to rounding), and the same matrix without the correction
   has a different stationary distribution;
2. sampled: a long run of the sampler's own kernel (`NeighbourProposal.draw` and
   `acceptance_probability`, driven directly for speed) visits states with frequencies within a
   tolerance of pi, and the same run with the correction dropped lands outside that tolerance;
3. end to end: the sampler inside Optuna (in-memory storage) visits states close to pi, within a
   tolerance smaller than half the distance that a chain without the correction would end at.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import IntDistribution

from amed_opt.samplers import Boundary
from amed_opt.samplers import ChainSettings
from amed_opt.samplers import FixedStart
from amed_opt.samplers import MetropolisHastingsSampler
from amed_opt.samplers import ProposalSettings
from amed_opt.samplers import chain_history
from amed_opt.samplers._acceptance import acceptance_probability
from amed_opt.samplers._proposals import NeighbourProposal
from amed_opt.samplers._proposals import ProposalKernel
from amed_opt.samplers._space import OrderedSearchSpace


optuna.logging.set_verbosity(optuna.logging.WARNING)

TOY: dict[str, BaseDistribution] = {
    "a": CategoricalDistribution((2, 4, 8)),
    "b": IntDistribution(0, 3),
    "c": CategoricalDistribution((1, 2)),
    "d": CategoricalDistribution((3, 5, 7, 9, 11)),
}
SPACE = OrderedSearchSpace(TOY)
STATES = list(itertools.product(*(range(size) for size in SPACE.sizes)))
TEMPERATURE = 0.5

Params = Mapping[str, Any]


def uniform_quality(params: Params) -> float:
    return 0.0


def bumpy_quality(params: Params) -> float:
    return (
        0.3 * math.log2(params["a"])
        - 0.15 * (params["b"] - 1.5) ** 2
        + 0.2 * (params["c"] == 2) * (params["d"] >= 9)
        + 0.05 * params["d"]
    )


def corridor(params: Params) -> bool:
    """A filter that leaves some states with few allowed neighbours (a small normaliser)."""
    return (params["b"] in (0, 3) or params["d"] in (3, 11)) and (
        params["a"] != 4 or params["c"] == 1
    )


TARGETS: dict[str, tuple[Callable[[Params], float], Callable[[Params], bool] | None]] = {
    "uniform": (uniform_quality, None),
    "non-uniform": (bumpy_quality, None),
    "non-uniform, filtered": (bumpy_quality, corridor),
}


def target_distribution(target: str) -> np.ndarray:
    quality, allowed = TARGETS[target]
    weights = np.array(
        [
            0.0
            if allowed is not None and not allowed(SPACE.decode(s))
            else math.exp(quality(SPACE.decode(s)) / TEMPERATURE)
            for s in STATES
        ]
    )
    return weights / weights.sum()


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p - q).sum())


def _log_q_ratio(
    kernel: ProposalKernel, head: tuple[int, ...], target: tuple[int, ...], correction: str
) -> float:
    """The Hastings factor the chain uses: `full`, `ends only` (no filter normaliser), `none`."""
    full = kernel.log_probability(target, head) - kernel.log_probability(head, target)
    if correction == "full":
        return full
    if correction == "ends only":
        return full - (kernel.log_normaliser(head) - kernel.log_normaliser(target))
    return 0.0


# Uneven weights: "d" is chosen about four times as often as "c" (the inclusion probabilities
# are capped at 1/2, so with 2 flips "a" and "d" are equally likely).
WEIGHTS = {"a": 2.0, "b": 1.0, "c": 0.5, "d": 2.0}
KERNELS: dict[str, tuple[Boundary, int, dict[str, float] | None, float, float, bool]] = {
    # boundary, n_flips, layer weights, transfer share, small-move share, scanned small moves
    "forced, 1 flip": (Boundary.FORCED, 1, None, 0.0, 0.0, False),
    "lazy, 1 flip": (Boundary.LAZY, 1, None, 0.0, 0.0, False),
    "lazy, 2 flips": (Boundary.LAZY, 2, None, 0.0, 0.0, False),
    "weighted lazy, 1 flip": (Boundary.LAZY, 1, WEIGHTS, 0.0, 0.0, False),
    "weighted lazy, 2 flips": (Boundary.LAZY, 2, WEIGHTS, 0.0, 0.0, False),
    "weighted forced, 1 flip": (Boundary.FORCED, 1, WEIGHTS, 0.0, 0.0, False),
    # A share of the proposals are transfers (one parameter down, another up, _transfer.py).
    "forced, 1 flip, transfers": (Boundary.FORCED, 1, None, 0.5, 0.0, False),
    "weighted lazy, 2 flips, transfers": (Boundary.LAZY, 2, WEIGHTS, 0.3, 0.0, False),
    # A share of the proposals move one parameter instead of two (_mixture.py).
    "lazy, 2 flips, small moves": (Boundary.LAZY, 2, None, 0.0, 0.5, False),
    "weighted lazy, 2 flips, small moves": (Boundary.LAZY, 2, WEIGHTS, 0.0, 0.4, False),
    "weighted lazy, 2 flips, small moves, transfers": (Boundary.LAZY, 2, WEIGHTS, 0.3, 0.4, False),
    # The small moves' parameter visited in a cycle, one per step (_mixture.ScanMoves): the
    # kernel depends on the step, and every step's kernel must keep the target.
    "forced, 2 flips, scanned small moves": (Boundary.FORCED, 2, None, 0.0, 0.5, True),
    "weighted lazy, 2 flips, scanned small moves": (Boundary.LAZY, 2, WEIGHTS, 0.0, 0.6, True),
    "weighted lazy, 2 flips, scanned, transfers": (Boundary.LAZY, 2, WEIGHTS, 0.3, 0.4, True),
}
SCANNED = [name for name, settings in KERNELS.items() if settings[5]]
# The weighted kernel and transfers take no filter (ProposalSettings refuses the pair).
UNFILTERED = [
    name
    for name, (_, _, weights, transfers, _, _) in KERNELS.items()
    if weights is not None or transfers > 0
]
KERNEL_TARGETS = [
    (target, name)
    for name in KERNELS
    for target, (_, allowed) in TARGETS.items()
    if allowed is None or name not in UNFILTERED
]


def make_kernel(kernel_name: str, allowed: Callable[[Params], bool] | None) -> ProposalKernel:
    boundary, n_flips, weights, transfers, small, scan = KERNELS[kernel_name]
    return ProposalSettings(
        n_flips=n_flips,
        boundary=boundary,
        proposal_filter=allowed,
        layer_weights=weights,
        transfer_share=transfers,
        small_move_share=small,
        scan_small_moves=scan,
    ).kernel(SPACE)


def transition_matrix(
    target: str, correction: str, kernel_name: str = "forced, 1 flip", step: int = 0
) -> np.ndarray:
    """The chain's transition matrix at chain step `step` (the same at every step unless the
    kernel scans)."""
    quality, allowed = TARGETS[target]
    kernel = make_kernel(kernel_name, allowed).at_step(step)
    index = {state: i for i, state in enumerate(STATES)}
    matrix = np.zeros((len(STATES), len(STATES)))
    for head in STATES:
        if not kernel.is_allowed(head):
            matrix[index[head], index[head]] = 1.0
            continue
        head_score = quality(SPACE.decode(head))
        for neighbour in STATES:
            log_q = kernel.log_probability(head, neighbour)
            if log_q == -math.inf:
                continue
            alpha = acceptance_probability(
                quality(SPACE.decode(neighbour)),
                head_score,
                temperature=TEMPERATURE,
                log_q_ratio=_log_q_ratio(kernel, head, neighbour, correction),
            )
            matrix[index[head], index[neighbour]] = math.exp(log_q) * alpha
        matrix[index[head], index[head]] = 1.0 - matrix[index[head]].sum()
    return matrix


def stationary_distribution(matrix: np.ndarray, support: np.ndarray) -> np.ndarray:
    """The stationary distribution of the chain restricted to `support`."""
    sub = matrix[np.ix_(support, support)]
    n = len(sub)
    system = np.vstack([sub.T - np.eye(n), np.ones((1, n))])
    rhs = np.zeros(n + 1)
    rhs[-1] = 1.0
    solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
    full = np.zeros(len(matrix))
    full[support] = solution
    return full


@pytest.mark.parametrize(("target", "kernel_name"), KERNEL_TARGETS)
def test_transition_matrix_leaves_the_target_invariant(target: str, kernel_name: str) -> None:
    pi = target_distribution(target)
    matrix = transition_matrix(target, "full", kernel_name)
    assert np.allclose(matrix.sum(axis=1), 1.0)
    assert np.all(matrix >= -1e-15)
    assert np.max(np.abs(pi @ matrix - pi)) < 1e-12
    if kernel_name in SCANNED:  # each step of a cycle is another kernel; each keeps pi
        period = len(SPACE.movable)
        cycle = matrix
        for step in range(1, period):
            at_step = transition_matrix(target, "full", kernel_name, step)
            assert not np.allclose(at_step, matrix)
            assert np.max(np.abs(pi @ at_step - pi)) < 1e-12
            cycle = cycle @ at_step
        assert np.max(np.abs(pi @ cycle - pi)) < 1e-12
        assert np.allclose(transition_matrix(target, "full", kernel_name, period), matrix)
    # ... and pi is the only stationary distribution: the allowed states communicate.
    support = np.flatnonzero(pi > 0)
    reached, frontier = {int(support[0])}, [int(support[0])]
    while frontier:
        state = frontier.pop()
        for other in np.flatnonzero(matrix[state] > 0):
            if int(other) not in reached:
                reached.add(int(other))
                frontier.append(int(other))
    assert reached == set(support.tolist())


@pytest.mark.parametrize(
    ("target", "correction", "kernel_name"),
    [
        ("uniform", "none", "forced, 1 flip"),
        ("non-uniform", "none", "forced, 1 flip"),
        ("non-uniform, filtered", "none", "forced, 1 flip"),
        ("non-uniform, filtered", "ends only", "forced, 1 flip"),
        # The lazy proposal is symmetric, but redrawing null draws is not: without the
        # normaliser Z(b) / Z(b') the chain would favour states at the ends.
        ("uniform", "none", "lazy, 1 flip"),
        ("uniform", "none", "lazy, 2 flips"),
        ("non-uniform, filtered", "none", "lazy, 2 flips"),
        # Weighted choices: symmetric for lazy, but the redraw normaliser still matters; forced
        # also needs the factor for leaving an end.
        ("uniform", "none", "weighted lazy, 2 flips"),
        ("non-uniform", "none", "weighted forced, 1 flip"),
        # Transfers pick the lowered and the raised parameter by different weights.
        ("uniform", "none", "weighted lazy, 2 flips, transfers"),
        ("non-uniform", "none", "forced, 1 flip, transfers"),
        # Small moves: the mixture of two kernels with different redraw normalisers.
        ("non-uniform, filtered", "none", "lazy, 2 flips, small moves"),
        ("uniform", "none", "weighted lazy, 2 flips, small moves"),
        # Scanned small moves: the scanned parameter leaves an end with probability 1 and
        # returns with 1/2, and the mixture's components have different normalisers.
        ("uniform", "none", "forced, 2 flips, scanned small moves"),
        ("non-uniform, filtered", "none", "forced, 2 flips, scanned small moves"),
        ("uniform", "none", "weighted lazy, 2 flips, scanned small moves"),
    ],
)
def test_without_the_correction_the_target_is_missed(
    target: str, correction: str, kernel_name: str
) -> None:
    pi = target_distribution(target)
    broken = stationary_distribution(transition_matrix(target, correction, kernel_name), pi > 0)
    assert total_variation(broken, pi) > 0.03


# -- sampled: the kernel driven directly --------------------------------------------------------

N_STEPS = 20_000
BURN_IN = 500
TOLERANCE = 0.09


def visit_frequencies(
    target: str,
    correction: str,
    seed: int,
    n_steps: int = N_STEPS,
    kernel_name: str = "forced, 1 flip",
) -> np.ndarray:
    quality, allowed = TARGETS[target]
    kernel = make_kernel(kernel_name, allowed)
    rng = np.random.default_rng(seed)
    head = STATES[0]
    head_score = quality(SPACE.decode(head))
    index = {state: i for i, state in enumerate(STATES)}
    counts = np.zeros(len(STATES))
    for step in range(n_steps + BURN_IN):
        proposal = kernel.at_step(step).draw(head, rng)
        log_q_ratio = proposal.log_q_ratio
        if correction == "ends only":
            at_step = kernel.at_step(step)
            log_q_ratio -= at_step.log_normaliser(head) - at_step.log_normaliser(proposal.state)
        elif correction == "none":
            log_q_ratio = 0.0
        score = quality(SPACE.decode(proposal.state))
        alpha = acceptance_probability(
            score, head_score, temperature=TEMPERATURE, log_q_ratio=log_q_ratio
        )
        if rng.random() < alpha:
            head, head_score = proposal.state, score
        if step >= BURN_IN:
            counts[index[head]] += 1
    return counts / counts.sum()


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("correction", ["full", "none"])
def test_visit_frequencies_match_the_target_only_with_the_correction(
    target: str, correction: str
) -> None:
    pi = target_distribution(target)
    distance = total_variation(visit_frequencies(target, correction, seed=1), pi)
    if correction == "full":
        assert distance < TOLERANCE
    else:
        assert distance > TOLERANCE  # The same test fails for a chain without the correction.


@pytest.mark.parametrize(
    ("target", "kernel_name"),
    [
        (target, name)
        for target, name in KERNEL_TARGETS
        if name
        in (
            "lazy, 2 flips",
            "weighted lazy, 2 flips",
            "weighted forced, 1 flip",
            "weighted lazy, 2 flips, transfers",
            "lazy, 2 flips, small moves",
            "weighted lazy, 2 flips, small moves, transfers",
            "forced, 2 flips, scanned small moves",
            "weighted lazy, 2 flips, scanned, transfers",
        )
    ],
)
def test_lazy_and_weighted_kernels_visit_states_with_target_frequencies(
    target: str, kernel_name: str
) -> None:
    pi = target_distribution(target)
    frequencies = visit_frequencies(target, "full", seed=3, kernel_name=kernel_name)
    assert total_variation(frequencies, pi) < TOLERANCE


def test_dropping_only_the_filter_normaliser_is_detected_in_a_long_run() -> None:
    target = "non-uniform, filtered"
    pi = target_distribution(target)
    broken = stationary_distribution(transition_matrix(target, "ends only"), pi > 0)
    tolerance = total_variation(broken, pi) / 2
    n_steps = 100_000
    full = visit_frequencies(target, "full", seed=2, n_steps=n_steps)
    ends_only = visit_frequencies(target, "ends only", seed=2, n_steps=n_steps)
    assert total_variation(full, pi) < tolerance < total_variation(ends_only, pi)


# -- end to end through Optuna --------------------------------------------------------------------

SMALL: dict[str, BaseDistribution] = {
    "a": CategoricalDistribution((2, 4, 8)),
    "b": IntDistribution(0, 3),
    "c": CategoricalDistribution((1, 2)),
}


def replace_seed(sampler: MetropolisHastingsSampler) -> MetropolisHastingsSampler:
    """A fresh sampler with the same settings and seed (a copy, without the process memory)."""
    import pickle

    return pickle.loads(pickle.dumps(sampler))


def small_quality(params: Params) -> float:
    return (
        0.25 * math.log2(params["a"])
        - 0.3 * (params["b"] - 1) ** 2
        + 0.5 * (params["c"] == 2 and params["a"] == 8)
    )


SCAN = {"n_flips": 2, "small_move_share": 0.5, "scan_small_moves": True}


@pytest.mark.parametrize(
    ("boundary", "n_jobs", "weights", "scan"),
    [
        ("forced", 1, None, False),
        ("lazy", 1, None, False),
        ("forced", 4, None, False),
        ("lazy", 4, None, False),
        ("lazy", 1, {"a": 3.0, "b": 1.0, "c": 0.5}, False),
        ("lazy", 4, {"a": 3.0, "b": 1.0, "c": 0.5}, False),
        ("lazy", 1, {"a": 3.0, "b": 1.0, "c": 0.5}, True),
        ("lazy", 4, {"a": 3.0, "b": 1.0, "c": 0.5}, True),
    ],
)
def test_sampler_in_optuna_visits_states_with_target_frequencies(
    boundary: str,
    n_jobs: int,
    weights: dict[str, float] | None,
    scan: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With `n_jobs=4` four workers (threads) share the chain: pre-fetching, claims and
    compare-and-set decisions; the chain must still be exact (and equal the serial one). With
    `scan`, the proposal depends on the chain's step: pre-fetched proposals of later steps
    must use their own step's kernel."""
    monkeypatch.setattr("amed_opt.samplers._workers.POLL_INTERVAL_S", 0.0002)
    space = OrderedSearchSpace(SMALL)
    states = list(itertools.product(*(range(size) for size in space.sizes)))
    pi = np.array([math.exp(small_quality(space.decode(s))) for s in states])
    pi /= pi.sum()

    # A chain without the correction would converge this far from pi (the paper's kernel):
    kernel = NeighbourProposal(space, n_flips=1)
    broken = np.zeros((len(states), len(states)))
    for i, head in enumerate(states):
        for j, other in enumerate(states):
            log_q = kernel.log_probability(head, other)
            if log_q > -math.inf:
                alpha = acceptance_probability(
                    small_quality(space.decode(other)),
                    small_quality(space.decode(head)),
                    temperature=1.0,
                    log_q_ratio=0.0,
                )
                broken[i, j] = math.exp(log_q) * alpha
        broken[i, i] = 1.0 - broken[i].sum()
    broken_distance = total_variation(stationary_distribution(broken, pi > 0), pi)
    tolerance = 0.07
    assert broken_distance > 2 * tolerance

    # With several workers the first trials take a moment, so that trials overlap and workers
    # pre-fetch proposals of later steps (asserted below); the rest run at full speed so that
    # the chain gets enough steps, and the serial rerun has no delay.
    delay_s = [0.001 if n_jobs > 1 else 0.0]

    def objective(trial: optuna.Trial) -> float:
        params = {
            "a": trial.suggest_categorical("a", (2, 4, 8)),
            "b": trial.suggest_int("b", 0, 3),
            "c": trial.suggest_categorical("c", (1, 2)),
        }
        if trial.number < 400:
            time.sleep(delay_s[0])
        return small_quality(params)

    sampler = MetropolisHastingsSampler(
        search_space=SMALL,
        chains=ChainSettings(temperature=1.0),
        proposal=ProposalSettings(
            boundary=boundary, layer_weights=weights, **(SCAN if scan else {})
        ),
        start=FixedStart({"a": 2, "b": 0, "c": 1}),
        seed=0,
    )
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=3000 if n_jobs == 1 else 4500, n_jobs=n_jobs)
    history = chain_history(study)
    if n_jobs == 1:
        assert len(history) == 3000
    else:  # Trials pre-fetched beyond an acceptance are wasted; the rest are the serial chain.
        assert 3000 <= len(history) < len(study.trials)  # some were pre-fetched, and wasted
        delay_s[0] = 0.0
        serial = optuna.create_study(direction="maximize", sampler=replace_seed(sampler))
        serial.optimize(objective, n_trials=len(history))
        assert [r.params for r in history] == [r.params for r in chain_history(serial)]
    index = {tuple(space.decode(s).values()): i for i, s in enumerate(states)}
    counts = np.zeros(len(states))
    for record in history[200:3000]:
        assert record.params is not None
        counts[index[tuple(record.params.values())]] += 1
    assert total_variation(counts / counts.sum(), pi) < tolerance
