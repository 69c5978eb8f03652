"""Where chains start: the start policies as values, bound to a space, and inside a study."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.storages import InMemoryStorage
from optuna.trial import TrialState

from amed_opt.samplers import BestOfCandidates
from amed_opt.samplers import ChainSettings
from amed_opt.samplers import ChainStep
from amed_opt.samplers import FixedStart
from amed_opt.samplers import MetropolisHastingsSampler
from amed_opt.samplers import ProposalSettings
from amed_opt.samplers import QualityScore
from amed_opt.samplers import RandomStart
from amed_opt.samplers import StartPolicy
from amed_opt.samplers import chain_history
from amed_opt.samplers._candidates import candidate_claims
from amed_opt.samplers._candidates import candidate_trials
from amed_opt.samplers._candidates import claim_candidate
from amed_opt.samplers._candidates import params_key
from amed_opt.samplers._space import OrderedSearchSpace


optuna.logging.set_verbosity(optuna.logging.WARNING)

CheckChain = Callable[..., list[ChainStep]]

BITS = (2, 3, 4, 5, 6, 7, 8)
LAYERS = [f"{i:02d}.layer{i}.conv" for i in range(6)]
BIT_SPACE: dict[str, BaseDistribution] = {name: CategoricalDistribution(BITS) for name in LAYERS}
EIGHT_BITS = {name: 8 for name in LAYERS}
UNIFORM_STARTS = [{name: bits for name in LAYERS} for bits in (8, 6, 4, 2)]
LATENCY_8BIT = 1.0 + sum(8 * (i + 1) for i in range(len(LAYERS))) / 10.0


def at_most_39_bits(params: dict[str, int]) -> bool:
    return sum(params.values()) < 40


def accuracy_latency(trial: optuna.Trial) -> tuple[float, float]:
    """A smooth toy: accuracy falls and latency shrinks as bits shrink, layer 0 matters most."""
    bits = [trial.suggest_categorical(name, BITS) for name in LAYERS]
    accuracy = 0.95 - sum((8 - b) ** 2 * (0.004 if i else 0.02) for i, b in enumerate(bits))
    latency = 1.0 + sum(b * (i + 1) for i, b in enumerate(bits)) / 10.0
    return max(accuracy, 0.0), latency


def quality_scores(weights: list[float]) -> list[QualityScore]:
    return [
        QualityScore(latency_reference=LATENCY_8BIT, latency_weight=w, accuracy_threshold=0.5)
        for w in weights
    ]


def sampler_from(
    start: StartPolicy, weights: list[float] | None = None, seed: int = 0
) -> MetropolisHastingsSampler:
    return MetropolisHastingsSampler(
        search_space=BIT_SPACE,
        chains=ChainSettings(score=quality_scores(weights or [1.0]), temperature=0.01),
        start=start,
        seed=seed,
    )


def amed_study(sampler: MetropolisHastingsSampler, storage: Any = None) -> optuna.Study:
    return optuna.create_study(
        directions=["maximize", "minimize"], sampler=sampler, storage=storage
    )


def bind(start: StartPolicy, proposal: ProposalSettings | None = None) -> Any:
    space = OrderedSearchSpace(BIT_SPACE)
    return start.bind(space, (proposal or ProposalSettings()).kernel(space))


# -- the policies as values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "argument", "message"),
    [
        (FixedStart, [8] * 6, r"FixedStart\.params must be a mapping"),
        (BestOfCandidates, [], "non-empty"),
        (BestOfCandidates, EIGHT_BITS, "non-empty sequence"),
        (BestOfCandidates, "8bits", "non-empty sequence"),
        (BestOfCandidates, [EIGHT_BITS, 8], r"candidates\[1\] must be a mapping"),
    ],
)
def test_malformed_policies_are_refused(policy: Any, argument: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        policy(argument)


def test_policies_keep_a_copy_of_their_params() -> None:
    params = dict(EIGHT_BITS)
    candidates = [dict(EIGHT_BITS)]
    fixed, best = FixedStart(params), BestOfCandidates(candidates)
    params[LAYERS[0]] = 2
    candidates[0][LAYERS[0]] = 2
    candidates.append(UNIFORM_STARTS[1])
    assert fixed.params == EIGHT_BITS
    assert best.candidates == (EIGHT_BITS,)


@pytest.mark.parametrize(
    ("start", "proposal", "message"),
    [
        (FixedStart({LAYERS[0]: 8}), None, r"FixedStart\.params lacks parameters"),
        (FixedStart({**EIGHT_BITS, "extra": 8}), None, r"FixedStart\.params has parameters"),
        (FixedStart({**EIGHT_BITS, LAYERS[0]: 9}), None, r"FixedStart\.params: 9 is not"),
        (
            FixedStart(EIGHT_BITS),
            ProposalSettings(proposal_filter=at_most_39_bits),
            r"FixedStart\.params must be accepted by proposal_filter",
        ),
        (BestOfCandidates([{"x": 8}]), None, r"BestOfCandidates\.candidates\[0\]"),
        (BestOfCandidates([EIGHT_BITS, EIGHT_BITS]), None, "must be distinct"),
        (
            BestOfCandidates(UNIFORM_STARTS),
            ProposalSettings(proposal_filter=at_most_39_bits),
            r"BestOfCandidates\.candidates\[0\] must be accepted by proposal_filter",
        ),
    ],
)
def test_binding_checks_the_params_against_space_and_filter(
    start: StartPolicy, proposal: ProposalSettings | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        bind(start, proposal)


# -- the bound starters -----------------------------------------------------------------------


def test_initial_proposals_of_each_policy() -> None:
    fixed = bind(FixedStart(EIGHT_BITS)).initial_proposal(2, 0, 1, np.random.default_rng(0))
    assert (fixed.chain, fixed.step, fixed.draw, fixed.kind) == (2, 0, 1, "init")
    assert fixed.params == EIGHT_BITS and fixed.parent is None and fixed.log_q_ratio == 0.0
    first = bind(BestOfCandidates(UNIFORM_STARTS[1:])).initial_proposal(
        0, 0, 0, np.random.default_rng(0)
    )
    assert first.params == UNIFORM_STARTS[1]
    starter = bind(RandomStart(), ProposalSettings(proposal_filter=at_most_39_bits))
    draws = [starter.initial_proposal(0, 0, 0, np.random.default_rng(s)).params for s in range(20)]
    assert all(at_most_39_bits(params) for params in draws)
    assert len({tuple(params.values()) for params in draws}) > 10
    again = starter.initial_proposal(0, 0, 0, np.random.default_rng(3)).params
    assert again == draws[3]


# -- inside a study ---------------------------------------------------------------------------


def test_random_starts_differ_between_chains(check_chain: CheckChain) -> None:
    study = amed_study(sampler_from(RandomStart(), [0.5, 2.0]))
    study.optimize(accuracy_latency, n_trials=2)
    assert study.trials[0].params != study.trials[1].params
    for chain in (0, 1):
        assert check_chain(study, chain, BIT_SPACE)[0].kind == "init"
    assert "mh:init" not in study._storage.get_study_system_attrs(study._study_id)


def test_fixed_start_is_evaluated_once_and_adopted(check_chain: CheckChain) -> None:
    study = amed_study(sampler_from(FixedStart(EIGHT_BITS), [0.5, 2.0]))
    study.optimize(accuracy_latency, n_trials=3)
    assert study.trials[0].params == EIGHT_BITS
    assert study.trials[1].params != EIGHT_BITS
    adopted = check_chain(study, 1, BIT_SPACE)[0]
    assert adopted.kind == "adopted" and adopted.trial_number == 0 and adopted.temperature is None
    assert adopted.score == pytest.approx(quality_scores([2.0])[0](study.trials[0].values))
    stored = study._storage.get_study_system_attrs(study._study_id)["mh:init"]
    assert stored["number"] == 0 and stored["params"] == EIGHT_BITS


def test_a_failed_fixed_start_is_not_adopted(check_chain: CheckChain) -> None:
    def first_fails(trial: optuna.Trial) -> tuple[float, float]:
        values = accuracy_latency(trial)
        if trial.number == 0:
            trial.set_user_attr("fail_reason", "evaluation crashed")  # as the objective reports it
            raise RuntimeError("evaluation crashed")
        return values

    study = amed_study(sampler_from(FixedStart(EIGHT_BITS), [0.5, 2.0]))
    study.optimize(first_fails, n_trials=3, catch=(RuntimeError,))
    # Chain 0's initial trial failed, so chain 1 evaluates the start itself; chain 0 then adopts
    # that COMPLETE trial (its step 1) and moves on from it.
    assert [t.params for t in study.trials[:2]] == [EIGHT_BITS] * 2
    assert [t.user_attrs["mh_chain"] for t in study.trials] == [0, 1, 0]
    assert [step.kind for step in check_chain(study, 1, BIT_SPACE)] == ["init"]
    history = check_chain(study, 0, BIT_SPACE)
    assert [(step.kind, step.trial_number) for step in history] == [
        ("init", 0),
        ("adopted", 1),
        ("move", 2),
    ]
    assert not history[0].accepted and history[0].state == "FAIL"


def assert_each_chain_adopts_its_best(
    study: optuna.Study, weights: list[float], candidates: list[Any], check_chain: CheckChain
) -> None:
    """Chain `c` starts from the candidate trial that its score (weight `weights[c]`) ranks
    highest, the earliest among equal scores."""
    for chain, weight in enumerate(weights):
        history = check_chain(study, chain, BIT_SPACE)
        assert history[0].kind == "adopted"
        score = quality_scores([weight])[0]
        best = max(candidates, key=lambda t: (score(t.values), -t.number))
        assert history[0].trial_number == best.number
        assert history[0].score == pytest.approx(score(best.values))


def test_candidates_are_evaluated_first_then_each_chain_adopts_its_best(
    check_chain: CheckChain,
) -> None:
    weights = [0.0, 3.0]
    study = amed_study(sampler_from(BestOfCandidates(UNIFORM_STARTS), weights))
    study.optimize(accuracy_latency, n_trials=12)
    trials = study.trials
    # The first four trials evaluate the candidates in order and belong to no chain.
    for index, params in enumerate(UNIFORM_STARTS):
        assert trials[index].params == params
        assert trials[index].system_attrs["mh:candidate"]["index"] == index
        assert trials[index].user_attrs["mh_candidate"] == index
        assert "mh:proposal" not in trials[index].system_attrs
    assert_each_chain_adopts_its_best(study, weights, trials[:4], check_chain)
    # lambda = 0 keeps the accurate 8-bit start; lambda = 3 prefers a low-latency one.
    assert chain_history(study, 0)[0].params == UNIFORM_STARTS[0]
    assert chain_history(study, 1)[0].params != UNIFORM_STARTS[0]


def test_a_failed_candidate_is_evaluated_once_more() -> None:
    failures: Counter[int] = Counter()

    def flaky(trial: optuna.Trial) -> tuple[float, float]:
        values = accuracy_latency(trial)
        if trial.params == UNIFORM_STARTS[1] and not failures[1]:
            failures[1] += 1
            trial.set_user_attr("fail_reason", "evaluation crashed")  # as the objective reports it
            raise RuntimeError("evaluation crashed")
        return values

    study = amed_study(sampler_from(BestOfCandidates(UNIFORM_STARTS)))
    study.optimize(flaky, n_trials=7, catch=(RuntimeError,))
    evaluated = [t.system_attrs["mh:candidate"]["index"] for t in study.trials[:5]]
    assert evaluated == [0, 1, 1, 2, 3]
    assert [t.state for t in study.trials[1:3]] == [TrialState.FAIL, TrialState.COMPLETE]
    assert chain_history(study)[0].kind == "adopted"


def test_without_a_completed_candidate_the_chain_evaluates_the_first(
    check_chain: CheckChain,
) -> None:
    def down(trial: optuna.Trial) -> tuple[float, float]:
        values = accuracy_latency(trial)
        if trial.number < 4:
            trial.set_user_attr("fail_reason", "evaluation crashed")  # as the objective reports it
            raise RuntimeError("evaluation crashed")
        return values

    study = amed_study(sampler_from(BestOfCandidates(UNIFORM_STARTS[:2])))
    study.optimize(down, n_trials=6, catch=(RuntimeError,))
    # Each candidate is tried twice, then the chain's initial trial evaluates the first one.
    assert [t.system_attrs["mh:candidate"]["index"] for t in study.trials[:4]] == [0, 0, 1, 1]
    history = check_chain(study, 0, BIT_SPACE)
    assert history[0].kind == "init" and history[0].trial_number == 4
    assert history[0].proposal == UNIFORM_STARTS[0]


def test_interrupted_candidate_phase_resumes_the_same_chain() -> None:
    def params_of(study: optuna.Study) -> list[dict[str, Any]]:
        return [t.params for t in study.trials]

    def sampler() -> MetropolisHastingsSampler:
        return sampler_from(BestOfCandidates(UNIFORM_STARTS), seed=5)

    whole = amed_study(sampler())
    whole.optimize(accuracy_latency, n_trials=15)
    storage = InMemoryStorage()
    first = amed_study(sampler(), storage=storage)
    first.optimize(accuracy_latency, n_trials=2)
    resumed = optuna.load_study(study_name=first.study_name, storage=storage, sampler=sampler())
    resumed.optimize(accuracy_latency, n_trials=13)
    assert params_of(resumed) == params_of(whole)


class Derived:
    """A `derive` that records its calls and returns fixed params (some to be left out)."""

    def __init__(self, out: list[dict[str, int]]) -> None:
        self.out = out
        self.calls: list[list[tuple[dict[str, Any], tuple[float, ...]]]] = []

    def __call__(self, finished: Any) -> list[dict[str, int]]:
        self.calls.append([(dict(p), tuple(v)) for p, v in finished])
        return self.out


MIXED = [
    {name: (3 if i < 3 else 7) for i, name in enumerate(LAYERS)},
    {name: (5 if i % 2 else 8) for i, name in enumerate(LAYERS)},
]


def test_derived_candidates_follow_the_first_ones_and_can_be_adopted(
    check_chain: CheckChain,
) -> None:
    # Repeats of a first candidate or of an earlier derived one are left out.
    derive = Derived([MIXED[0], UNIFORM_STARTS[1], MIXED[1], MIXED[0]])
    weights = [0.0, 3.0]
    study = amed_study(sampler_from(BestOfCandidates(UNIFORM_STARTS, derive=derive), weights))
    study.optimize(accuracy_latency, n_trials=12)
    trials = study.trials
    # One call, when the first four had completed, with their params and values in order.
    assert len(derive.calls) == 1
    assert [p for p, _ in derive.calls[0]] == UNIFORM_STARTS
    assert [v for _, v in derive.calls[0]] == [tuple(t.values) for t in trials[:4]]
    assert [t.params for t in trials[:6]] == [*UNIFORM_STARTS, *MIXED]
    assert [t.system_attrs["mh:candidate"]["index"] for t in trials[:6]] == list(range(6))
    assert_each_chain_adopts_its_best(study, weights, trials[:6], check_chain)
    # Every chain step comes after the candidates.
    assert all("mh:candidate" not in t.system_attrs for t in trials[6:])


def crashing_on(bad: dict[str, int]) -> Callable[[optuna.Trial], tuple[float, float]]:
    """The toy objective, failing on `bad` as the study's objective reports a failure."""

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        values = accuracy_latency(trial)
        if trial.params == bad:
            trial.set_user_attr("fail_reason", "evaluation crashed")
            raise RuntimeError("evaluation crashed")
        return values

    return objective


def test_derive_sees_only_completed_candidates_and_respects_the_filter() -> None:
    down = crashing_on(UNIFORM_STARTS[1])
    over = {name: 8 for name in LAYERS}
    over[LAYERS[0]] = 7  # 47 bits in all: the filter refuses it
    derive = Derived([over, MIXED[0]])
    sampler = MetropolisHastingsSampler(
        search_space=BIT_SPACE,
        chains=ChainSettings(score=quality_scores([1.0]), temperature=0.01),
        proposal=ProposalSettings(proposal_filter=at_most_39_bits),
        start=BestOfCandidates(UNIFORM_STARTS[2:], derive=derive),
        seed=0,
    )
    study = amed_study(sampler)
    study.optimize(down, n_trials=4, catch=(RuntimeError,))
    assert [p for p, _ in derive.calls[0]] == UNIFORM_STARTS[2:]
    assert study.trials[2].params == MIXED[0]
    assert study.trials[2].system_attrs["mh:candidate"]["index"] == 2

    failing = amed_study(sampler_from(BestOfCandidates(UNIFORM_STARTS[:2], derive=derive)))
    derive.calls.clear()
    failing.optimize(down, n_trials=4, catch=(RuntimeError,))
    # Candidate 1 failed twice: derive gets candidate 0 alone, then MIXED[0] (the filter-free
    # sampler keeps `over`, so it is evaluated first).
    assert [p for p, _ in derive.calls[0]] == UNIFORM_STARTS[:1]
    assert [t.params for t in failing.trials] == [
        UNIFORM_STARTS[0],
        UNIFORM_STARTS[1],
        UNIFORM_STARTS[1],
        over,
    ]


def test_derived_params_outside_the_space_raise() -> None:
    study = amed_study(
        sampler_from(BestOfCandidates(UNIFORM_STARTS[:1], derive=Derived([{"x": 1}])))
    )
    study.optimize(accuracy_latency, n_trials=1)
    with pytest.raises(ValueError, match="BestOfCandidates.derive"):
        study.optimize(accuracy_latency, n_trials=1)


def test_derive_must_be_callable() -> None:
    with pytest.raises(ValueError, match="derive must be callable"):
        BestOfCandidates(UNIFORM_STARTS, derive=3)  # type: ignore[arg-type]


def test_an_interrupted_derived_phase_resumes_the_same_study() -> None:
    def sampler() -> MetropolisHastingsSampler:
        return sampler_from(BestOfCandidates(UNIFORM_STARTS, derive=Derived(MIXED)), seed=5)

    whole = amed_study(sampler())
    whole.optimize(accuracy_latency, n_trials=15)
    for stop in (4, 5):
        storage = InMemoryStorage()
        first = amed_study(sampler(), storage=storage)
        first.optimize(accuracy_latency, n_trials=stop)
        resumed = optuna.load_study(
            study_name=first.study_name, storage=storage, sampler=sampler()
        )
        resumed.optimize(accuracy_latency, n_trials=15 - stop)
        assert [t.params for t in resumed.trials] == [t.params for t in whole.trials]


def test_workers_evaluate_each_derived_candidate_once_after_the_first_ones() -> None:
    derive = Derived(MIXED)
    study = amed_study(sampler_from(BestOfCandidates(UNIFORM_STARTS, derive=derive), [0.0, 3.0]))

    def slow(trial: optuna.Trial) -> tuple[float, float]:
        time.sleep(0.01)  # so that the workers' trials overlap
        return accuracy_latency(trial)

    study.optimize(slow, n_trials=16, n_jobs=4)
    marked = [t for t in study.trials if "mh:candidate" in t.system_attrs]
    indices = sorted(t.system_attrs["mh:candidate"]["index"] for t in marked)
    assert indices == list(range(6))  # each candidate once, none twice
    derived = [t for t in marked if t.system_attrs["mh:candidate"]["index"] >= 4]
    first = [t for t in marked if t.system_attrs["mh:candidate"]["index"] < 4]
    assert sorted(sorted(t.params.items()) for t in derived) == sorted(
        sorted(p.items()) for p in MIXED
    )
    # Derived only once every first candidate had completed, the same list in every worker.
    assert [p for p, _ in derive.calls[0]] == UNIFORM_STARTS
    assert all(call == derive.calls[0] for call in derive.calls)
    assert all(t.state == TrialState.COMPLETE for t in first)


def test_a_pruned_first_candidate_counts_as_evaluated() -> None:
    def prune_one(trial: optuna.Trial) -> tuple[float, float]:
        values = accuracy_latency(trial)
        if trial.params == UNIFORM_STARTS[1]:
            raise optuna.TrialPruned
        return values

    derive = Derived(MIXED)
    study = amed_study(sampler_from(BestOfCandidates(UNIFORM_STARTS[:2], derive=derive)))
    study.optimize(prune_one, n_trials=5)
    assert [p for p, _ in derive.calls[0]] == UNIFORM_STARTS[:1]
    assert [t.params for t in study.trials[:4]] == [*UNIFORM_STARTS[:2], *MIXED]
    assert chain_history(study)[0].kind == "adopted"


def test_a_failing_derived_candidate_is_tried_twice_then_left() -> None:
    flaky = crashing_on(MIXED[0])
    study = amed_study(sampler_from(BestOfCandidates(UNIFORM_STARTS[:2], derive=Derived(MIXED))))
    study.optimize(flaky, n_trials=7, catch=(RuntimeError,))
    assert [t.params for t in study.trials[:5]] == [
        *UNIFORM_STARTS[:2],
        MIXED[0],
        MIXED[0],
        MIXED[1],
    ]
    assert [t.state for t in study.trials[2:4]] == [TrialState.FAIL] * 2
    start = chain_history(study)[0]
    assert start.kind == "adopted" and start.trial_number in (0, 1, 4)


def test_a_candidate_list_changed_between_runs_keeps_what_was_evaluated() -> None:
    """Candidates are matched by params: a resumed run whose first list grew (a larger budget
    allows more probes) evaluates the new first candidates, then only the derived ones not
    yet evaluated, and derives from the whole first list."""
    storage = InMemoryStorage()
    before = amed_study(
        sampler_from(BestOfCandidates(UNIFORM_STARTS[:2], derive=Derived(MIXED))), storage
    )
    before.optimize(accuracy_latency, n_trials=3)  # U0, U1, then MIXED[0]
    derive = Derived(MIXED)
    resumed = optuna.load_study(
        study_name=before.study_name,
        storage=storage,
        sampler=sampler_from(BestOfCandidates(UNIFORM_STARTS[:3], derive=derive)),
    )
    resumed.optimize(accuracy_latency, n_trials=3)
    assert [t.params for t in resumed.trials[:5]] == [
        *UNIFORM_STARTS[:2],
        MIXED[0],
        UNIFORM_STARTS[2],
        MIXED[1],
    ]
    assert [p for p, _ in derive.calls[-1]] == UNIFORM_STARTS[:3]
    assert chain_history(resumed)[0].kind == "adopted"


def test_a_claimed_candidate_is_not_claimed_again() -> None:
    study = amed_study(sampler_from(BestOfCandidates(UNIFORM_STARTS)))
    first = claim_candidate(study, 5, UNIFORM_STARTS[0], lambda holders: not holders)
    again = claim_candidate(study, 6, UNIFORM_STARTS[0], lambda holders: not holders)
    other = claim_candidate(study, 6, UNIFORM_STARTS[1], lambda holders: not holders)
    assert (first, again, other) == (True, False, True)
    assert candidate_claims(study) == {
        params_key(UNIFORM_STARTS[0]): [5],
        params_key(UNIFORM_STARTS[1]): [6],
    }


def test_a_stale_read_does_not_take_a_claimed_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The race a mark-and-read-back claim lost: trial 0 reads the candidates before trial 1
    claims candidate 0, and claims after it. The compare-and-set sees the claim: trial 0 takes
    candidate 1, and candidate 0 is evaluated once."""
    import amed_opt.samplers._start as start_module

    study = amed_study(sampler_from(BestOfCandidates(UNIFORM_STARTS)))
    stalled = study._storage.create_new_trial(study._study_id)  # trial 0, not sampled yet
    later = study.ask()
    assert later.number == 1 and later.relative_params == UNIFORM_STARTS[0]
    # Trial 0's first read predates trial 1's claim and mark: it sees nothing taken.
    stale = {"trials": 1, "claims": 1}

    def once(name: str, real: Any) -> Any:
        def read(study: optuna.Study) -> Any:
            if stale[name]:
                stale[name] -= 1
                return {}
            return real(study)

        return read

    monkeypatch.setattr(start_module, "candidate_trials", once("trials", candidate_trials))
    monkeypatch.setattr(start_module, "candidate_claims", once("claims", candidate_claims))
    early = optuna.Trial(study, stalled)
    assert early.number == 0 and early.relative_params == UNIFORM_STARTS[1]
    claims = candidate_claims(study)
    assert claims[params_key(UNIFORM_STARTS[0])] == [1]
    assert claims[params_key(UNIFORM_STARTS[1])] == [0]
