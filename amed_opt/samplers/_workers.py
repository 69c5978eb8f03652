"""Several workers on one chain: which step a new trial claims, and waiting for earlier steps.

The scheme (docs/sampler.md, "Several workers") is *pre-fetching along the rejection path*.
A chain at step `s` with head `h` makes the proposal of step `j` from `h` with the random
stream keyed by `(seed, chain, j)`, which is exactly the proposal the serial chain makes at
step `j` if steps `s .. j-1` are all rejected. So while one trial evaluates step `s`, other
workers evaluate the proposals of steps `s+1, s+2, ...` from the same head; each claims its
(step, parent) in the chain's record by compare-and-set, so no two running trials evaluate the
same proposal. Decisions are then taken strictly in step order: the trial of step `j` waits
(in `after_trial`) until step `j-1` is decided. If every earlier step was rejected, its
proposal is the serial chain's step `j` and is decided with the serial chain's uniform draw; if
one was accepted, the chain left `h` and the trial is *speculative*: no chain step, marked
`mh_speculative`. The chain is therefore the serial chain, step for step (same seed, same
history, same states), whatever the number of workers: its law is exactly MH's.

With a low acceptance rate most pre-fetched trials are used; every acceptance wastes the
trials in flight beyond it.
"""

from __future__ import annotations

import datetime
import logging
import time
import warnings
from typing import TYPE_CHECKING

import optuna
from optuna.trial import TrialState

from amed_opt.samplers._acceptance import off_path_decision
from amed_opt.samplers._batched import rdb_backend


if TYPE_CHECKING:
    from optuna.study import Study
    from optuna.trial import FrozenTrial
    from optuna.trial import TrialState

    from amed_opt.samplers._chain_storage import ChainStorage
    from amed_opt.samplers._chain_storage import ChainView
    from amed_opt.samplers._chain_storage import Claim
    from amed_opt.samplers._records import ChainState
    from amed_opt.samplers._records import ProposalRecord


__all__ = [
    "MAX_WAIT_S",
    "POLL_INTERVAL_S",
    "Waiter",
    "earlier_steps_alive",
    "free_step",
    "off_path_reason",
    "on_path",
    "release",
]

_logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.05
"""Seconds between two reads of a chain's record while a trial waits for earlier steps."""

MAX_WAIT_S = 3600.0
"""A trial gives up waiting for earlier steps after this long (storages without heartbeat,
where a killed worker's trial stays RUNNING forever); it then counts as speculative."""


def on_path(view: ChainView) -> list[Claim]:
    """The live claims of proposals from the (optimistic) head at or after its step."""
    step = view.optimistic.step
    head = view.optimistic.head
    parent = None if head is None else head.number
    return [claim for claim in view.claims if claim[1] == parent and claim[0] >= step]


def free_step(view: ChainView) -> int:
    """The first step at or after the chain's (optimistic) step that no live claim holds."""
    taken = {claim[0] for claim in on_path(view)}
    step = view.optimistic.step
    while step in taken:
        step += 1
    return step


class Waiter:
    """Sleeps between polls while a trial waits, keeping the trial's heartbeat alive.

    Optuna beats a trial's heartbeat only while the objective runs, so a trial that waits in
    `sample_relative` or `after_trial` beats it here; and since a killed worker's trial is
    failed only when some worker calls `fail_stale_trials`, the waiter calls it too (every
    heartbeat interval), so that it never waits on a dead worker forever.
    """

    def __init__(self, study: Study, trial_id: int) -> None:
        self._study = study
        self._trial_id = trial_id
        self._started = time.monotonic()
        self._last_beat = -float("inf")
        storage = study._storage
        interval = getattr(storage, "get_heartbeat_interval", lambda: None)()
        self._interval = None if interval is None else float(interval)

    @property
    def waited_s(self) -> float:
        return time.monotonic() - self._started

    @property
    def expired(self) -> bool:
        return self.waited_s > MAX_WAIT_S

    def tick(self) -> None:
        time.sleep(POLL_INTERVAL_S)
        now = time.monotonic()
        if self._interval is None or now - self._last_beat < self._interval:
            return
        self._last_beat = now
        self._study._storage.record_heartbeat(self._trial_id)  # type: ignore[attr-defined]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(self._study)
        # A dead worker's trial that never beat its heartbeat is not stale to Optuna.
        backend = rdb_backend(self._study._storage)
        grace = getattr(backend, "grace_period", None) or 2 * self._interval
        fail_silent_trials(self._study, grace)


def earlier_steps_alive(view: ChainView, record: ProposalRecord) -> bool:
    """Whether every step before `record`'s, from its head, is claimed by a running trial."""
    taken = {claim[0] for claim in view.claims if claim[1] == record.parent}
    return all(step in taken for step in range(view.strict.step, record.step))


def off_path_reason(record: ProposalRecord, chain_state: ChainState) -> str:
    """Why the trial of `record` is no chain step, given the chain's state now."""
    head = None if chain_state.head is None else chain_state.head.number
    if chain_state.step <= record.step and head != record.parent:
        return (
            f"speculative: chain {record.chain} left head {record.parent} before step "
            f"{record.step} (it is at step {chain_state.step}, head {head})"
        )
    if chain_state.step < record.step:
        return (
            f"speculative: an earlier step of chain {record.chain} from head {record.parent} "
            f"has no running trial; step {record.step} will be proposed again"
        )
    return (
        f"stale: chain {record.chain} was at step {chain_state.step} when the trial for step "
        f"{record.step} finished"
    )


def release(
    chains: ChainStorage,
    study: Study,
    trial: FrozenTrial,
    state: TrialState,
    record: ProposalRecord,
    reason: str,
) -> None:
    """Drop the trial's claim (by compare-and-set) and record the trial as no chain step."""
    while True:
        view = chains.view(study, chains.read_study_attrs(study), record.chain)
        stored = (view.raw or {}).get("claims", ())
        if not any(int(claim[2]) == trial.number for claim in stored):
            break
        claims = tuple(claim for claim in view.claims if claim[2] != trial.number)
        if chains.commit_chain(study, record.chain, view, claims=claims):
            break
    if reason.startswith("stale"):
        _logger.warning("trial %d is no step of chain %d: %s", trial.number, record.chain, reason)
    chains.write_decision(study, trial._trial_id, record, off_path_decision(state, reason))


def heartbeatless_trials(
    study: Study,
    *,
    started_before: datetime.datetime | None = None,
    started_after: datetime.datetime | None = None,
) -> list[int]:
    """Ids of the study's RUNNING trials that never recorded a heartbeat, started in the window
    (none on storages that record no heartbeats).

    Times are this machine's local clock, which is what Optuna writes `datetime_start` with.
    """
    storage = rdb_backend(study._storage)
    if storage is None or storage.get_heartbeat_interval() is None:
        return []
    from optuna.storages._rdb import models  # Optuna keeps heartbeats in this private table.

    session = storage.scoped_session()
    try:
        rows = (
            session.query(models.TrialModel)
            .filter(models.TrialModel.study_id == study._study_id)
            .filter(models.TrialModel.state == TrialState.RUNNING)
            .all()
        )
        return [
            int(row.trial_id)
            for row in rows
            if not row.heartbeats
            and row.datetime_start is not None
            and (started_before is None or row.datetime_start < started_before)
            and (started_after is None or row.datetime_start >= started_after)
        ]
    finally:
        storage.scoped_session.remove()


def fail_silent_trials(study: Study, grace_period_s: float) -> None:
    """Fail RUNNING trials that never recorded a heartbeat and started more than the grace
    period ago: their process died between creating the trial and its first heartbeat, and
    Optuna's stale check skips trials without a heartbeat, so they would stay RUNNING (holding
    the budget, and the chain steps a waiting trial needs decided) forever. A live trial
    records its first heartbeat as it starts."""
    cutoff = datetime.datetime.now() - datetime.timedelta(seconds=grace_period_s)
    for trial_id in heartbeatless_trials(study, started_before=cutoff):
        try:
            study._storage.set_trial_state_values(trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # Another worker failed or finished it first.
        _logger.warning("trial id %d never beat its heartbeat; failed as stale", trial_id)
