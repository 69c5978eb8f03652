"""MetropolisHastingsSampler inside Optuna: conformance, chain bookkeeping, several chains,
failures, rollback of undecided steps, determinism and flat storage cost.

Where chains start is tested in test_start.py, the settings' validation in test_settings.py.
"""

from __future__ import annotations

import pickle
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution
from optuna.samplers import BaseSampler
from optuna.storages import InMemoryStorage
from optuna.testing.pytest_samplers import BasicSamplerTestCase
from optuna.testing.pytest_samplers import MultiObjectiveSamplerTestCase
from optuna.testing.pytest_samplers import RelativeSamplerTestCase
from optuna.trial import TrialState

from amed_opt.samplers import ChainSettings
from amed_opt.samplers import ChainStep
from amed_opt.samplers import FixedStart
from amed_opt.samplers import GeometricAnnealing
from amed_opt.samplers import MetropolisHastingsSampler
from amed_opt.samplers import ProposalSettings
from amed_opt.samplers import QualityScore
from amed_opt.samplers import StartPolicy
from amed_opt.samplers import chain_history


optuna.logging.set_verbosity(optuna.logging.WARNING)

CheckChain = Callable[..., list[ChainStep]]

BITS = (2, 3, 4, 5, 6, 7, 8)
LAYERS = [f"{i:02d}.layer{i}.conv" for i in range(6)]
BIT_SPACE: dict[str, BaseDistribution] = {name: CategoricalDistribution(BITS) for name in LAYERS}
EIGHT_BITS = {name: 8 for name in LAYERS}
TOY_SPACE: dict[str, BaseDistribution] = {
    "p0": CategoricalDistribution((2, 3, 4, 8)),
    "p1": IntDistribution(0, 3),
    "p2": CategoricalDistribution((1.5, 2.5)),
}


def accuracy_latency(trial: optuna.Trial) -> tuple[float, float]:
    """A smooth toy: accuracy falls and latency shrinks as bits shrink, layer 0 matters most."""
    bits = [trial.suggest_categorical(name, BITS) for name in LAYERS]
    accuracy = 0.95 - sum((8 - b) ** 2 * (0.004 if i else 0.02) for i, b in enumerate(bits))
    latency = 1.0 + sum(b * (i + 1) for i, b in enumerate(bits)) / 10.0
    return max(accuracy, 0.0), latency


LATENCY_8BIT = 1.0 + sum(8 * (i + 1) for i in range(len(LAYERS))) / 10.0


def quality_scores(weights: list[float]) -> list[QualityScore]:
    return [
        QualityScore(latency_reference=LATENCY_8BIT, latency_weight=w, accuracy_threshold=0.5)
        for w in weights
    ]


def chain_settings(weights: list[float] | None = None, **kwargs: Any) -> ChainSettings:
    """One chain per latency weight (default: one chain of weight 1) at T = 0.01."""
    options: dict[str, Any] = {"score": quality_scores(weights or [1.0]), "temperature": 0.01}
    options.update(kwargs)
    return ChainSettings(**options)


def amed_sampler(
    *,
    chains: ChainSettings | None = None,
    proposal: ProposalSettings | None = None,
    start: StartPolicy | None = None,
    **kwargs: Any,
) -> MetropolisHastingsSampler:
    """The sampler on BIT_SPACE; by default one chain starting at uniform 8 bits, seed 0."""
    options: dict[str, Any] = {
        "search_space": BIT_SPACE,
        "chains": chains or chain_settings(),
        "proposal": proposal,
        "start": start or FixedStart(EIGHT_BITS),
        "seed": 0,
    }
    options.update(kwargs)
    return MetropolisHastingsSampler(**options)


def amed_study(sampler: BaseSampler, storage: Any = None) -> optuna.Study:
    return optuna.create_study(
        directions=["maximize", "minimize"], sampler=sampler, storage=storage
    )


# -- Optuna's conformance suites -------------------------------------------------------------

_RELATIVE_CATEGORICAL_SPACE: dict[str, BaseDistribution] = {
    "x": CategoricalDistribution([1, 10, 100]),
    "y": CategoricalDistribution([-1, -10, -100]),
}


class TestOptunaConformance(
    BasicSamplerTestCase, RelativeSamplerTestCase, MultiObjectiveSamplerTestCase
):
    @pytest.fixture
    def sampler(self, request: pytest.FixtureRequest) -> Callable[[], BaseSampler]:
        # The relative tests pass their own search space to sample_relative; the chain's space
        # must be that space, so it is read off the test's parameters.
        params = request.node.callspec.params if hasattr(request.node, "callspec") else {}
        name = request.node.originalname
        space: dict[str, BaseDistribution] = dict(TOY_SPACE)
        if name == "test_sample_relative_numerical":
            space = {"x": params["x_distribution"], "y": params["y_distribution"]}
        elif name == "test_sample_relative_mixed":
            space = {"x": params["x_distribution"], "y": _RELATIVE_CATEGORICAL_SPACE["y"]}
        elif name == "test_sample_relative_categorical":
            space = dict(_RELATIVE_CATEGORICAL_SPACE)
        if any(isinstance(d, FloatDistribution) for d in space.values()):
            pytest.skip("continuous parameter: the chain walks ordered discrete lists only")
        return lambda: MetropolisHastingsSampler(search_space=space, seed=0)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"search_space": {}}, "search_space"),
        ({"search_space": {"x": FloatDistribution(0, 1)}}, "search_space"),
        ({"search_space": {"x": CategoricalDistribution(("a", "b"))}}, "search_space"),
        ({"search_space": {"x": CategoricalDistribution((True, False))}}, "search_space"),
        ({"search_space": {"x": CategoricalDistribution((2, 8, 4))}}, "search_space"),
        ({"search_space": {"x": CategoricalDistribution((2, 2, 4))}}, "search_space"),
        ({"proposal": ProposalSettings(n_flips=7)}, "n_flips"),
        ({"start": FixedStart({"00.layer0.conv": 8})}, r"FixedStart\.params"),
        (
            {"proposal": ProposalSettings(proposal_filter=lambda p: sum(p.values()) < 40)},
            r"FixedStart\.params must be accepted by proposal_filter",
        ),
        ({"chains": {"score": None}}, "chains"),
        ({"proposal": {"n_flips": 1}}, "proposal"),
        ({"start": EIGHT_BITS}, "start"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"seed": True}, "seed"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(
    kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ValueError, match=argument):
        amed_sampler(**kwargs)


def test_defaults_make_a_one_chain_sampler_with_a_random_start(check_chain: CheckChain) -> None:
    sampler = MetropolisHastingsSampler(search_space=BIT_SPACE, seed=1)
    assert sampler.n_chains == 1 and sampler.chain_ids == (0,)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda trial: sum(accuracy_latency(trial)), n_trials=5)
    history = check_chain(study, 0, BIT_SPACE)
    assert [record.kind for record in history] == ["init"] + ["move"] * 4
    assert history[0].temperature == 0.01


def test_lazy_chain_accepts_more_moves_from_the_eight_bit_start(check_chain: CheckChain) -> None:
    # Q rewards fewer bits a little; the forced kernel's 2^-3 Hastings factor for a 3-layer move
    # out of the all-8-bit corner outweighs it, the lazy kernel's symmetric proposal does not.
    accepted = {"forced": 0, "lazy": 0}
    for boundary in accepted:
        for seed in range(3):
            sampler = amed_sampler(
                chains=chain_settings(temperature=0.05),
                proposal=ProposalSettings(n_flips=3, boundary=boundary),
                seed=seed,
            )
            study = amed_study(sampler)
            study.optimize(accuracy_latency, n_trials=40)
            history = check_chain(study, 0, BIT_SPACE, n_flips=3, lazy=boundary == "lazy")
            accepted[boundary] += sum(step.accepted for step in history[1:])
    # Measured: 65 of 117 forced moves accepted, 91 of 117 lazy ones.
    assert accepted["lazy"] > accepted["forced"] + 10


def test_multi_objective_study_without_score_is_refused() -> None:
    study = amed_study(amed_sampler(chains=ChainSettings()))
    with pytest.raises(ValueError, match="score"):
        study.optimize(accuracy_latency, n_trials=1)


# -- one chain --------------------------------------------------------------------------------


def test_first_trial_evaluates_initial_params_and_every_trial_is_recorded(
    check_chain: CheckChain,
) -> None:
    study = amed_study(amed_sampler())
    study.optimize(accuracy_latency, n_trials=40)
    first = study.trials[0]
    assert first.params == EIGHT_BITS
    assert first.user_attrs["mh_parent"] is None and first.user_attrs["mh_accepted"] is True
    history = check_chain(study, 0, BIT_SPACE)
    assert len(history) == 40
    assert [record.trial_number for record in history] == list(range(40))
    assert 0 < sum(record.accepted for record in history[1:]) < 39
    # The head's score is the chain's QualityScore of the head trial's values.
    head_trial = study.trials[history[-1].head_trial_number]
    assert history[-1].score == pytest.approx(quality_scores([1.0])[0](head_trial.values))


def test_single_objective_default_score_minimises(check_chain: CheckChain) -> None:
    space = {f"x{i}": IntDistribution(0, 10) for i in range(3)}

    def objective(trial: optuna.Trial) -> float:
        return sum((trial.suggest_int(name, 0, 10) - 7) ** 2 for name in space)

    sampler = MetropolisHastingsSampler(
        search_space=space,
        chains=ChainSettings(temperature=0.5),
        start=FixedStart(dict.fromkeys(space, 0)),
        seed=3,
    )
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=150)
    history = check_chain(study, 0, space)
    assert history[0].score == -147.0
    assert study.best_value <= 3.0
    assert history[-1].score is not None and history[-1].score >= -6.0


def test_failed_and_pruned_trials_are_rejected_and_the_chain_goes_on(
    check_chain: CheckChain,
) -> None:
    def flaky(trial: optuna.Trial) -> tuple[float, float]:
        values = accuracy_latency(trial)
        if trial.number % 5 == 3:
            trial.set_user_attr("fail_reason", "evaluation crashed")  # as the objective reports it
            raise RuntimeError("evaluation crashed")
        if trial.number % 5 == 4:
            raise optuna.TrialPruned()
        return values

    study = amed_study(amed_sampler())
    study.optimize(flaky, n_trials=30, catch=(RuntimeError,))
    history = check_chain(study, 0, BIT_SPACE)
    assert len(history) == 30
    states = Counter(record.state for record in history)
    assert states["FAIL"] == 6 and states["PRUNED"] == 6
    for record in history:
        if record.state != "COMPLETE":
            assert study.trials[record.trial_number].system_attrs["mh:decision"]["reason"]


def test_a_failed_initial_trial_is_retried(check_chain: CheckChain) -> None:
    def fails_first(trial: optuna.Trial) -> tuple[float, float]:
        values = accuracy_latency(trial)
        if trial.number == 0:
            trial.set_user_attr(
                "fail_reason", "first evaluation crashed"
            )  # as the objective reports it
            raise RuntimeError("first evaluation crashed")
        return values

    study = amed_study(amed_sampler())
    study.optimize(fails_first, n_trials=5, catch=(RuntimeError,))
    history = check_chain(study, 0, BIT_SPACE)
    assert [record.kind for record in history[:3]] == ["init", "init", "move"]
    assert history[0].params is None and history[1].params == EIGHT_BITS


def test_trials_that_do_not_evaluate_the_proposal(check_chain: CheckChain) -> None:
    study = amed_study(amed_sampler())
    study.optimize(accuracy_latency, n_trials=3)
    # Fully fixed: the sampler is never asked, the trial belongs to no chain.
    study.enqueue_trial({name: 2 for name in LAYERS})
    # Partly fixed: the sampler proposes, but the trial evaluates something else.
    study.enqueue_trial({LAYERS[0]: 2})
    study.optimize(accuracy_latency, n_trials=3)
    assert "mh:proposal" not in study.trials[3].system_attrs
    assert "mh_chain" not in study.trials[3].user_attrs
    decision = study.trials[4].system_attrs["mh:decision"]
    assert decision["accepted"] is False and "differ" in decision["reason"]
    history = check_chain(study, 0, BIT_SPACE)
    assert [record.trial_number for record in history] == [0, 1, 2, 4, 5]


def test_parameters_outside_the_space_are_sampled_independently(check_chain: CheckChain) -> None:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        learning_rate = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        accuracy, latency = accuracy_latency(trial)
        return accuracy - 0.01 * learning_rate, latency

    study = amed_study(amed_sampler())
    study.optimize(objective, n_trials=10)
    assert len({trial.params["lr"] for trial in study.trials}) == 10
    assert len(check_chain(study, 0, BIT_SPACE)) == 10


def test_proposal_filter_is_respected(check_chain: CheckChain) -> None:
    def allowed(params: dict[str, int]) -> bool:
        return params[LAYERS[0]] >= 6 and sum(params.values()) >= 30

    sampler = amed_sampler(
        chains=chain_settings(temperature=0.05),
        proposal=ProposalSettings(proposal_filter=allowed),
    )
    study = amed_study(sampler)
    study.optimize(accuracy_latency, n_trials=60)
    assert all(allowed(trial.params) for trial in study.trials)
    assert {trial.params[LAYERS[0]] for trial in study.trials} == {6, 7, 8}
    check_chain(study, 0, BIT_SPACE)


def test_annealing_temperature_follows_the_chain_step(check_chain: CheckChain) -> None:
    schedule = GeometricAnnealing(initial_temperature=0.1, decay=0.9, min_temperature=0.02)
    study = amed_study(amed_sampler(chains=chain_settings(temperature=schedule)))
    study.optimize(accuracy_latency, n_trials=30)
    history = check_chain(study, 0, BIT_SPACE)
    for record in history:
        assert record.temperature == pytest.approx(schedule(record.step))


def test_user_attrs_can_be_turned_off(check_chain: CheckChain) -> None:
    study = amed_study(amed_sampler(record_user_attrs=False))
    study.optimize(accuracy_latency, n_trials=5)
    assert all(not trial.user_attrs for trial in study.trials)
    check_chain(study, 0, BIT_SPACE, user_attrs=False)


# -- determinism ------------------------------------------------------------------------------


def _param_sequence(seed: int, n_trials: int = 25, **kwargs: Any) -> list[dict[str, Any]]:
    """The params of a study's trials, for `amed_sampler(seed=seed, **kwargs)`."""
    study = amed_study(amed_sampler(seed=seed, **kwargs))
    study.optimize(accuracy_latency, n_trials=n_trials)
    return [trial.params for trial in study.trials]


def test_same_seed_same_trials_other_seed_other_trials() -> None:
    assert _param_sequence(7) == _param_sequence(7)
    assert _param_sequence(7) != _param_sequence(8)
    chains = chain_settings([0.5, 2.0])
    assert _param_sequence(7, chains=chains) == _param_sequence(7, chains=chains)


def test_a_new_sampler_continues_a_stored_chain_exactly() -> None:
    storage = InMemoryStorage()
    uninterrupted = amed_study(amed_sampler(seed=11))
    uninterrupted.optimize(accuracy_latency, n_trials=30)
    study = amed_study(amed_sampler(seed=11), storage=storage)
    study.optimize(accuracy_latency, n_trials=12)
    resumed = optuna.load_study(
        study_name=study.study_name, storage=storage, sampler=amed_sampler(seed=11)
    )
    resumed.optimize(accuracy_latency, n_trials=18)
    assert [t.params for t in resumed.trials] == [t.params for t in uninterrupted.trials]


# -- rollback of a decision whose trial never finished ----------------------------------------


def test_decided_but_unfinished_step_is_proposed_again(check_chain: CheckChain) -> None:
    storage = InMemoryStorage()
    study = amed_study(amed_sampler(seed=5), storage=storage)
    study.optimize(accuracy_latency, n_trials=6)
    # Simulate a kill between after_trial and the end of the trial: run after_trial by hand and
    # never finish the trial.
    trial = study.ask()
    values = accuracy_latency(trial)
    frozen = storage.get_trial(trial._trial_id)
    study.sampler.after_trial(study, frozen, TrialState.COMPLETE, list(values))
    assert storage.get_trial(trial._trial_id).state == TrialState.RUNNING
    killed_params = frozen.params

    fresh = optuna.load_study(
        study_name=study.study_name, storage=storage, sampler=amed_sampler(seed=5)
    )
    fresh.optimize(accuracy_latency, n_trials=4)
    retried = fresh.trials[7]
    assert retried.params == killed_params
    assert retried.system_attrs["mh:proposal"]["step"] == 6
    history = check_chain(fresh, 0, BIT_SPACE)
    assert len(history) == 10
    assert 6 not in [record.trial_number for record in history]


def test_a_trial_finished_late_in_another_state_does_not_count() -> None:
    storage = InMemoryStorage()
    study = amed_study(amed_sampler(seed=5), storage=storage)
    study.optimize(accuracy_latency, n_trials=3)
    trial = study.ask()
    values = accuracy_latency(trial)
    frozen = storage.get_trial(trial._trial_id)
    study.sampler.after_trial(study, frozen, TrialState.COMPLETE, list(values))
    # As a heartbeat would: the stale trial is failed, without after_trial.
    storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    history = chain_history(optuna.load_study(study_name=study.study_name, storage=storage))
    assert [record.trial_number for record in history] == [0, 1, 2]


def test_a_second_trial_on_a_busy_chain_prefetches_the_next_step(
    check_chain: CheckChain,
) -> None:
    serial = amed_study(amed_sampler(seed=2))
    serial.optimize(accuracy_latency, n_trials=4)
    study = amed_study(amed_sampler(seed=2))
    study.optimize(accuracy_latency, n_trials=2)
    first, second = study.ask(), study.ask()
    first_values, second_values = accuracy_latency(first), accuracy_latency(second)
    steps = [t.system_attrs["mh:proposal"]["step"] for t in study.trials[2:]]
    assert steps == [2, 3]  # Both from the head of step 2: the rejection path.
    study.tell(first, first_values)
    study.tell(second, second_values)
    history = check_chain(study, 0, BIT_SPACE)
    decision = study.trials[3].system_attrs["mh:decision"]
    if history[2].accepted:  # The chain left the head: the prefetched trial is no step.
        assert decision["stale"] is True and "speculative" in decision["reason"]
        assert "mh_speculative" in study.trials[3].user_attrs
        assert "mh_accepted" not in study.trials[3].user_attrs
    else:  # It is exactly the serial chain's step 3.
        assert [r.params for r in history] == [r.params for r in chain_history(serial)]
    study.optimize(accuracy_latency, n_trials=3)
    assert len(check_chain(study, 0, BIT_SPACE)) >= 5


def test_threads_beyond_the_number_of_chains_run_the_serial_chain(
    check_chain: CheckChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("amed_opt.samplers._workers.POLL_INTERVAL_S", 0.001)
    study = amed_study(amed_sampler(seed=4))
    study.optimize(accuracy_latency, n_trials=40, n_jobs=3)
    history = check_chain(study, 0, BIT_SPACE)
    stale = [t for t in study.trials if t.system_attrs["mh:decision"]["stale"]]
    assert len(history) + len(stale) == 40
    serial = amed_study(amed_sampler(seed=4))
    serial.optimize(accuracy_latency, n_trials=len(history))
    # Pre-fetching keeps the chain's law: it is the serial chain, step for step.
    assert [(r.params, r.accepted) for r in history] == [
        (r.params, r.accepted) for r in chain_history(serial)
    ]


def test_a_failed_trial_without_fail_reason_is_proposed_again(check_chain: CheckChain) -> None:
    def killed_once(trial: optuna.Trial) -> tuple[float, float]:
        values = accuracy_latency(trial)
        if trial.number == 3:
            raise KeyboardInterrupt  # An interrupted evaluation: no fail_reason.
        return values

    study = amed_study(amed_sampler(seed=1))
    with pytest.raises(KeyboardInterrupt):
        study.optimize(killed_once, n_trials=10)
    study.optimize(accuracy_latency, n_trials=3)
    interrupted, again = study.trials[3], study.trials[4]
    assert interrupted.state == TrialState.FAIL and "mh_stale" in interrupted.user_attrs
    assert again.params == interrupted.params
    assert [r.trial_number for r in check_chain(study, 0, BIT_SPACE)] == [0, 1, 2, 4, 5, 6]


def test_a_failed_trial_with_fail_reason_is_a_rejected_step(check_chain: CheckChain) -> None:
    def fails_deterministically(trial: optuna.Trial) -> tuple[float, float]:
        values = accuracy_latency(trial)
        if trial.number == 3:
            trial.set_user_attr("fail_reason", "NaN accuracy")
            raise RuntimeError("NaN accuracy")
        return values

    study = amed_study(amed_sampler(seed=1))
    study.optimize(fails_deterministically, n_trials=6, catch=(RuntimeError,))
    history = check_chain(study, 0, BIT_SPACE)
    assert [r.trial_number for r in history] == [0, 1, 2, 3, 4, 5]
    assert history[3].state == "FAIL" and not history[3].accepted
    assert study.trials[3].user_attrs["mh_accepted"] is False
    assert study.trials[4].params != study.trials[3].params  # The chain drew a new proposal.


# -- several chains ---------------------------------------------------------------------------


def test_chains_in_one_process_take_turns_and_adopt_the_shared_start(
    check_chain: CheckChain,
) -> None:
    weights = [0.25, 1.0, 4.0]
    evaluated: list[dict[str, Any]] = []

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        values = accuracy_latency(trial)
        evaluated.append(trial.params)
        return values

    study = amed_study(amed_sampler(chains=chain_settings(weights)))
    study.optimize(objective, n_trials=90)
    histories = [check_chain(study, c, BIT_SPACE) for c in range(3)]
    assert evaluated[:3].count(EIGHT_BITS) == 1
    assert histories[0][0].kind == "init" and histories[0][0].trial_number == 0
    for chain in (1, 2):
        first = histories[chain][0]
        assert first.kind == "adopted" and first.trial_number == 0
        assert first.score == pytest.approx(quality_scores(weights)[chain](study.trials[0].values))
    # Each new trial goes to the chain with the fewest steps (an adopted start is a step).
    assert [len(history) for history in histories] == [31, 31, 30]
    assert Counter(t.user_attrs["mh_chain"] for t in study.trials) == {0: 31, 1: 30, 2: 29}
    # A heavier latency weight drives its chain towards fewer bits.
    mean_bits = [
        np.mean([sum(record.params.values()) for record in history[15:]]) for history in histories
    ]
    assert mean_bits[0] > mean_bits[1] > mean_bits[2]


def test_one_chain_per_worker_sharing_a_storage(check_chain: CheckChain) -> None:
    storage = InMemoryStorage()
    chains = chain_settings([0.5, 1.0, 2.0])
    study = amed_study(amed_sampler(chains=replace(chains, chain_ids=[0])), storage=storage)
    study.optimize(accuracy_latency, n_trials=1)  # Chain 0 evaluates the shared start.
    errors: list[BaseException] = []

    def worker(chain: int) -> None:
        try:
            own = optuna.load_study(
                study_name=study.study_name,
                storage=storage,
                sampler=amed_sampler(chains=replace(chains, chain_ids=[chain])),
            )
            own.optimize(accuracy_latency, n_trials=25)
        except BaseException as error:  # Re-raised in the main thread.
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(chain,)) for chain in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    trials = study.get_trials()
    assert Counter(t.user_attrs["mh_chain"] for t in trials) == {0: 26, 1: 25, 2: 25}
    for chain in range(3):
        history = check_chain(study, chain, BIT_SPACE)
        assert len(history) == 26
        assert all(
            study.trials[r.trial_number].user_attrs["mh_chain"] == chain
            for r in history
            if r.kind != "adopted"
        )


# -- cost per trial ---------------------------------------------------------------------------


class _CountingStorage(InMemoryStorage):
    """Counts storage calls made while the sampler's own methods run."""

    def __init__(self) -> None:
        super().__init__()
        self.inside_sampler = False
        self.calls: Counter[str] = Counter()

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if (
            not name.startswith("_")
            and callable(attribute)
            and super().__getattribute__("inside_sampler")
        ):
            super().__getattribute__("calls")[name] += 1
        return attribute


def _count_sampler_calls(sampler: MetropolisHastingsSampler, storage: _CountingStorage) -> None:
    for method_name in ("sample_relative", "after_trial", "infer_relative_search_space"):
        method = getattr(sampler, method_name)

        def wrapped(*args: Any, __method: Callable[..., Any] = method) -> Any:
            storage.inside_sampler = True
            try:
                return __method(*args)
            finally:
                storage.inside_sampler = False

        setattr(sampler, method_name, wrapped)


def test_storage_calls_per_trial_do_not_grow_with_the_study() -> None:
    storage = _CountingStorage()
    sampler = amed_sampler(chains=chain_settings([0.5, 2.0]))
    _count_sampler_calls(sampler, storage)
    study = amed_study(sampler, storage=storage)
    study.optimize(accuracy_latency, n_trials=20)
    storage.calls.clear()
    study.optimize(accuracy_latency, n_trials=20)
    early = Counter(storage.calls)
    study.optimize(accuracy_latency, n_trials=300)
    storage.calls.clear()
    study.optimize(accuracy_latency, n_trials=20)
    late = Counter(storage.calls)
    assert early == late
    assert "get_all_trials" not in late and "get_n_trials" not in late
    del late["check_trial_is_updatable"]  # Called by the storage's own setters.
    # Per trial: two compare-and-set writes of the chain record (the claim, the decision),
    # each a read and a write on an in-memory storage (one UPDATE on an RDB storage).
    assert sum(late.values()) <= 20 * 16


def test_sampler_pickles() -> None:
    sampler = amed_sampler(seed=9)
    clone = pickle.loads(pickle.dumps(sampler))
    study_a, study_b = amed_study(sampler), amed_study(clone)
    study_a.optimize(accuracy_latency, n_trials=10)
    study_b.optimize(accuracy_latency, n_trials=10)
    assert [t.params for t in study_a.trials] == [t.params for t in study_b.trials]
