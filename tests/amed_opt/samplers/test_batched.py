"""Batched trial writes: the same rows and checks as Optuna's one-at-a-time writes, in one go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from amed_opt.samplers import ParamChecks
from amed_opt.samplers import prefill_params
from amed_opt.samplers._batched import write_trial_attrs
from amed_opt.study.storage import open_storage


optuna.logging.set_verbosity(optuna.logging.WARNING)
# ask/tell on a storage with heartbeats (open_storage enables them) warns; not the subject here
pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage")

BITS = (2, 3, 4, 8)
SPACE = {f"layer{i}": CategoricalDistribution(BITS) for i in range(5)}


class FixedRelative(optuna.samplers.BaseSampler):
    """Proposes the same relative params for every trial (the shape of the MH sampler)."""

    def __init__(self, params: dict[str, Any], space: dict[str, Any] = SPACE) -> None:
        self.params = params
        self.space = space

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        return dict(self.space)

    def sample_relative(self, study: Any, trial: Any, search_space: Any) -> dict[str, Any]:
        return dict(self.params)

    def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
        raise AssertionError("every parameter is relative")


def sqlite_study(tmp_path: Path, sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    storage = open_storage(f"sqlite:///{tmp_path / 'batched.db'}")
    return optuna.create_study(study_name="b", storage=storage, sampler=sampler)


def count_param_writes(study: optuna.Study, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    written: list[str] = []
    original = study._storage.set_trial_param

    def counting(trial_id: int, name: str, *args: Any) -> None:
        written.append(name)
        original(trial_id, name, *args)

    monkeypatch.setattr(study._storage, "set_trial_param", counting)
    return written


def suggest_all(trial: optuna.Trial) -> dict[str, int]:
    return {name: trial.suggest_categorical(name, BITS) for name in SPACE}


@pytest.mark.parametrize("trials", [1, 3])
def test_prefilled_params_are_stored_and_not_written_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trials: int
) -> None:
    proposal = {"layer0": 2, "layer1": 8, "layer2": 3, "layer3": 4, "layer4": 2}
    study = sqlite_study(tmp_path, FixedRelative(proposal))
    written = count_param_writes(study, monkeypatch)
    checks = ParamChecks()
    for _ in range(trials):  # the first trial checks in storage, later ones from memory
        trial = study.ask()
        assert prefill_params(trial, checks)
        assert suggest_all(trial) == proposal
        study.tell(trial, 0.5)
    assert written == []
    reread = optuna.load_study(study_name="b", storage=f"sqlite:///{tmp_path / 'batched.db'}")
    assert [t.params for t in reread.trials] == [proposal] * trials
    assert all(t.distributions == SPACE for t in reread.trials)


def test_a_prefilled_study_equals_one_written_by_optuna(tmp_path: Path) -> None:
    proposal = {name: 4 for name in SPACE}
    stores = []
    for prefill in (True, False):
        folder = tmp_path / str(prefill)
        folder.mkdir()
        study = sqlite_study(folder, FixedRelative(proposal))
        for _ in range(2):
            trial = study.ask()
            if prefill:
                prefill_params(trial, ParamChecks())
            study.tell(trial, sum(suggest_all(trial).values()))
        stores.append([(t.params, t.distributions, t.values) for t in study.trials])
    assert stores[0] == stores[1]


@pytest.mark.parametrize("remembered", [False, True])
def test_an_incompatible_distribution_is_refused_as_optuna_refuses_it(
    tmp_path: Path, remembered: bool
) -> None:
    study = sqlite_study(tmp_path, FixedRelative({name: 4 for name in SPACE}))
    checks = ParamChecks()
    first = study.ask()
    prefill_params(first, checks)
    study.tell(first, 1.0)
    other = {name: CategoricalDistribution((4, 5)) for name in SPACE}
    study.sampler = FixedRelative({name: 4 for name in SPACE}, other)
    trial = study.ask()
    with pytest.raises(ValueError, match="dynamic value space|different distribution"):
        prefill_params(trial, checks if remembered else ParamChecks())
    assert study._storage.get_trial(trial._trial_id).params == {}  # nothing half-written


def test_enqueued_params_are_left_to_optuna(tmp_path: Path) -> None:
    study = sqlite_study(tmp_path, FixedRelative({name: 4 for name in SPACE}))
    study.enqueue_trial({name: 8 for name in SPACE})
    trial = study.ask()
    assert not prefill_params(trial, ParamChecks())
    assert suggest_all(trial) == {name: 8 for name in SPACE}


def test_other_storages_are_left_to_optuna() -> None:
    study = optuna.create_study(sampler=FixedRelative({name: 3 for name in SPACE}))
    trial = study.ask()
    assert not prefill_params(trial, ParamChecks())
    assert suggest_all(trial) == {name: 3 for name in SPACE}


@pytest.mark.parametrize("storage", ["sqlite", "memory"])
def test_trial_attrs_are_written_and_replaced(tmp_path: Path, storage: str) -> None:
    study = (
        sqlite_study(tmp_path, optuna.samplers.RandomSampler())
        if storage == "sqlite"
        else optuna.create_study()
    )
    trial = study.ask()
    trial.set_user_attr("kept", 1)
    write_trial_attrs(study._storage, trial._trial_id, user={"a": 1, "b": [1, 2]}, system={"s": 3})
    write_trial_attrs(study._storage, trial._trial_id, user={"a": "two"})
    stored = study._storage.get_trial(trial._trial_id)
    assert stored.user_attrs == {"kept": 1, "a": "two", "b": [1, 2]}
    assert stored.system_attrs["s"] == 3


def test_attrs_of_a_finished_trial_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    study = sqlite_study(tmp_path, optuna.samplers.RandomSampler())
    trial = study.ask()
    study.tell(trial, 1.0)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        write_trial_attrs(study._storage, trial._trial_id, user={"a": 1}, system={"s": 2})
    stored = study._storage.get_trial(trial._trial_id)
    assert stored.state == TrialState.COMPLETE
    assert stored.user_attrs == {}
    assert "s" not in stored.system_attrs


def test_trial_states_are_read_in_one_query_on_rdb_storages(tmp_path: Path) -> None:
    from amed_opt.samplers._batched import trial_states

    study = sqlite_study(tmp_path, optuna.samplers.RandomSampler())
    done = study.ask()
    study.tell(done, 1.0)
    study.ask()
    assert trial_states(study._storage, study._study_id, {0, 1, 7}) == {
        0: TrialState.COMPLETE,
        1: TrialState.RUNNING,
    }
    assert trial_states(optuna.create_study()._storage, 0, {0}) == {}


def test_chain_views_from_states_read_at_once_equal_views_read_one_by_one(
    tmp_path: Path,
) -> None:
    from amed_opt.samplers import ChainSettings
    from amed_opt.samplers import FixedStart
    from amed_opt.samplers import MetropolisHastingsSampler

    sampler = MetropolisHastingsSampler(
        search_space=SPACE,
        chains=ChainSettings(temperature=[0.05] * 3),
        start=FixedStart({name: 8 for name in SPACE}),
        seed=0,
    )
    study = sqlite_study(tmp_path, sampler)
    study.optimize(lambda t: sum(suggest_all(t).values()) / 40, n_trials=6)
    running = [study.ask() for _ in range(4)]  # claims on every chain, some pre-fetched
    for trial in running:
        suggest_all(trial)
    study.tell(running[0], 0.5)
    chains = sampler._chains
    attrs = chains.read_study_attrs(study)
    at_once = chains.views(study, attrs, [0, 1, 2])
    one_by_one = {c: chains.view(study, attrs, c) for c in (0, 1, 2)}
    assert at_once == one_by_one
    assert sum(len(v.claims) for v in at_once.values()) == 3
