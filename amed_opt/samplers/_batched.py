"""Batched storage access: several writes to one running trial in one transaction, and the
states of several trials in one read.

Optuna writes each suggested parameter and each trial attribute in its own transaction. On an
RDB storage a transaction costs a round trip and a commit (on SQLite a write lock and a WAL
sync), so a 21-layer trial spent more time writing its parameters one by one than the sampler
spent choosing them, and a worker's share of the storage grew with the number of workers
(`benchmarks/workers.py`). These functions make the same writes, with the same checks, in one
transaction:

* `write_trial_attrs` — trial user and system attributes (the MH decision's seven attributes).
* `prefill_params` — the sampler's relative parameters of a trial, written before the objective
  suggests them; Optuna then finds each one already set and does not write it again.
* `trial_states` — the states of the trials a proposal must check (the running claims of every
  chain), in one query where Optuna would load each whole trial (two queries and its rows).
* `count_trials` — the study's trials counted by state (the worker loop's budget), one query.

Both write the rows Optuna writes (its private `optuna.storages._rdb.models`), after Optuna's
own "trial is still running" check. A worker's first trial writes its parameters through
Optuna's row-level method, which checks each distribution against the study's stored one; later
trials check against the distributions remembered from it (as Optuna's cache does). Other
storages (in-memory, journal) are written one value at a time, as Optuna would. The private
APIs are used here only (`rdb_backend` is also how the worker loop reaches the RDB storage).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any


if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution
    from optuna.storages import BaseStorage
    from optuna.storages import RDBStorage
    from optuna.trial import TrialState


__all__ = [
    "ParamChecks",
    "count_trials",
    "prefill_params",
    "rdb_backend",
    "trial_states",
    "write_trial_attrs",
]


def rdb_backend(storage: BaseStorage) -> RDBStorage | None:
    """The RDB storage under Optuna's cache wrapper (`_CachedStorage._backend`), or None when
    the study's storage is not an RDB one (in-memory, journal)."""
    from optuna.storages import RDBStorage

    backend = getattr(storage, "_backend", storage)
    return backend if isinstance(backend, RDBStorage) else None


def _session(backend: Any) -> Any:
    from optuna.storages._rdb.storage import _create_scoped_session

    return _create_scoped_session(backend.scoped_session, True)


def write_trial_attrs(
    storage: BaseStorage,
    trial_id: int,
    *,
    user: Mapping[str, Any] | None = None,
    system: Mapping[str, Any] | None = None,
) -> None:
    """Set user and system attributes of a running trial, in one transaction on RDB storages.

    Raises:
        optuna.exceptions.UpdateFinishedTrialError: If the trial has finished (nothing written).
    """
    user = dict(user or {})
    system = dict(system or {})
    backend = rdb_backend(storage)
    if backend is None:
        for key, value in system.items():
            storage.set_trial_system_attr(trial_id, key, value)
        for key, value in user.items():
            storage.set_trial_user_attr(trial_id, key, value)
        return
    from optuna.storages._rdb import models

    with _session(backend) as session:
        _running_trial(backend, session, trial_id)
        for model, values in (
            (models.TrialSystemAttributeModel, system),
            (models.TrialUserAttributeModel, user),
        ):
            if not values:
                continue
            # Replace, as Optuna's upsert does: delete the keys, insert the new values.
            session.query(model).filter(model.trial_id == trial_id).filter(
                model.key.in_(list(values))
            ).delete(synchronize_session=False)
            session.add_all(
                model(trial_id=trial_id, key=key, value_json=json.dumps(value))
                for key, value in values.items()
            )


def _running_trial(backend: Any, session: Any, trial_id: int) -> Any:
    """The trial's row; raises Optuna's `UpdateFinishedTrialError` if it has finished."""
    from optuna.storages._rdb import models

    trial = models.TrialModel.find_or_raise_by_id(trial_id, session)
    backend.check_trial_is_updatable(trial_id, trial.state)
    return trial


class ParamChecks:
    """The distributions this process already checked against the study's stored ones.

    Optuna checks a new parameter's distribution against the first stored one of the same name
    (one query per parameter); like Optuna's cache, a worker checks each name once.
    """

    def __init__(self) -> None:
        self._checked: dict[tuple[int, str], BaseDistribution] = {}

    def previous(self, study_id: int, name: str) -> BaseDistribution | None:
        """The distribution checked for `name` in this study, or None (check it in storage)."""
        return self._checked.get((study_id, name))

    def remember(self, study_id: int, name: str, distribution: BaseDistribution) -> None:
        """Record that `distribution` passed the check for `name` in this study."""
        self._checked.setdefault((study_id, name), distribution)


def prefill_params(trial: optuna.Trial, checks: ParamChecks) -> bool:
    """Write the sampler's relative parameters of `trial` in one transaction; True if written.

    Afterwards `trial.suggest_*(name, ...)` returns the stored value without a write (and
    still checks that its distribution matches). Does nothing (returns False) on storages other
    than RDB, for trials with fixed (enqueued) parameters, for samplers with no relative
    parameters, or when this Optuna's `Trial` no longer keeps its cached frozen trial.
    """
    cached = getattr(trial, "_cached_frozen_trial", None)
    backend = rdb_backend(trial.storage)
    if cached is None or backend is None or cached.system_attrs.get("fixed_params"):
        return False
    params = trial.relative_params
    space = trial.relative_search_space or {}
    todo = {
        name: (value, space[name])
        for name, value in params.items()
        if name in space and name not in cached.distributions
    }
    if not todo:
        return False
    study_id = trial.study._study_id
    previous = {name: checks.previous(study_id, name) for name in todo}
    known = {name: p for name, p in previous.items() if p is not None}
    with _session(backend) as session:
        if len(known) < len(todo):
            # First trial of this worker: Optuna's own writes, which look up and check each
            # name's stored distribution.
            for name, (value, distribution) in todo.items():
                backend._set_trial_param_without_commit(
                    session,
                    trial._trial_id,
                    name,
                    distribution.to_internal_repr(value),
                    distribution,
                    previous[name],
                )
        else:
            from optuna.distributions import check_distribution_compatibility
            from optuna.distributions import distribution_to_json
            from optuna.storages._rdb import models

            _running_trial(backend, session, trial._trial_id)
            for name, (_, distribution) in todo.items():
                check_distribution_compatibility(known[name], distribution)
            session.add_all(
                models.TrialParamModel(
                    trial_id=trial._trial_id,
                    param_name=name,
                    param_value=distribution.to_internal_repr(value),
                    distribution_json=distribution_to_json(distribution),
                )
                for name, (value, distribution) in todo.items()
            )
    for name, (value, distribution) in todo.items():
        checks.remember(study_id, name, distribution)
        cached.distributions[name] = distribution
        cached.params[name] = value
    return True


def _state(value: Any) -> TrialState:
    """A trials-table state as read (the enum, or its name on some drivers)."""
    from optuna.trial import TrialState

    return TrialState[str(getattr(value, "name", value))]


def trial_states(
    storage: BaseStorage, study_id: int, numbers: Collection[int]
) -> dict[int, TrialState]:
    """The states of the study's trials `numbers`, read in one query on RDB storages; `{}` on
    other storages (the caller then reads each trial)."""
    backend = rdb_backend(storage)
    if backend is None or not numbers:
        return {}
    import sqlalchemy
    from optuna.storages._rdb import models

    table = models.TrialModel.__table__
    query = (
        sqlalchemy.select(table.c.number, table.c.state)
        .where(table.c.study_id == study_id)
        .where(table.c.number.in_(sorted(numbers)))
    )
    with backend.engine.connect() as connection:
        rows = connection.execute(query).all()
    return {int(number): _state(state) for number, state in rows}


def count_trials(storage: BaseStorage, study_id: int) -> dict[TrialState, int] | None:
    """The study's trials counted by state in one query on RDB storages; None on others.

    Reading the trials through Optuna's cache instead re-reads every running trial (each
    worker's), a cost that grows with the workers.
    """
    backend = rdb_backend(storage)
    if backend is None:
        return None
    import sqlalchemy
    from optuna.storages._rdb import models

    table = models.TrialModel.__table__
    query = (
        sqlalchemy.select(table.c.state, sqlalchemy.func.count())
        .where(table.c.study_id == study_id)
        .group_by(table.c.state)
    )
    with backend.engine.connect() as connection:
        rows = connection.execute(query).all()
    return {_state(state): int(n) for state, n in rows}
