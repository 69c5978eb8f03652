"""Start candidates in the storage: found by params, claimed by compare-and-set, derived.

A trial that evaluates a start candidate is marked with it (trial system attr `mh:candidate`,
written by `ChainStorage.write_candidate`); `candidate_trials` finds those trials by the
candidate's params. A trial takes a candidate by adding its number to the candidate's claimants
in the study system attr `mh:candidate-claims`, by compare-and-set (`claim_candidate`), so that
of several workers reaching for one candidate at once exactly one gets it.

`DerivedCandidates` holds a start's candidate list as far as it is known: the first candidates,
then, once each of those has completed, failed twice or been pruned and none is running, the
candidates that `derive` computes from the completed ones. Every worker computes the list from
the study's trials alone, so all of them agree; a changed list (a resumed run with other first
candidates) is matched to the evaluated trials by params (`params_key`), not by position.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from optuna.trial import TrialState

from amed_opt.samplers._cas import compare_and_set
from amed_opt.samplers._chain_storage import CANDIDATE_KEY


if TYPE_CHECKING:
    from optuna.study import Study
    from optuna.trial import FrozenTrial

    from amed_opt.samplers._proposals import ProposalKernel
    from amed_opt.samplers._space import OrderedSearchSpace


__all__ = [
    "CLAIMS_KEY",
    "DeriveCandidates",
    "DerivedCandidates",
    "candidate_claims",
    "candidate_trials",
    "claim_candidate",
    "params_key",
]

CLAIMS_KEY = "mh:candidate-claims"
"""Study system attribute: `{claim_name(params): [trial numbers]}`, who claimed each candidate."""

State = tuple[int, ...]
ParamsKey = tuple[tuple[str, Any], ...]


def params_key(params: Mapping[str, Any]) -> ParamsKey:
    """A hashable, order-free key of a parameter set."""
    return tuple(sorted(params.items()))


def _claim_name(params: Mapping[str, Any]) -> str:
    return json.dumps(params_key(params))


def candidate_trials(trials: Iterable[FrozenTrial]) -> dict[ParamsKey, list[FrozenTrial]]:
    """Start candidate params (`params_key`) to the `trials` marked as their evaluation, in
    trial order: the candidates as evaluated, whatever their index in this run's list."""
    found: dict[ParamsKey, list[FrozenTrial]] = {}
    for trial in trials:
        data = trial.system_attrs.get(CANDIDATE_KEY)
        if data is not None and int(data["index"]) >= 0:
            found.setdefault(params_key(data["params"]), []).append(trial)
    return found


def candidate_claims(study: Study) -> dict[ParamsKey, list[int]]:
    """Start candidate params (`params_key`) to the numbers of the trials that claimed it."""
    stored = study._storage.get_study_system_attrs(study._study_id).get(CLAIMS_KEY) or {}
    return {params_key(dict(json.loads(name))): list(numbers) for name, numbers in stored.items()}


def claim_candidate(
    study: Study, number: int, params: Mapping[str, Any], free: Callable[[list[int]], bool]
) -> bool:
    """Add trial `number` to the claimants of candidate `params` by compare-and-set, if
    `free(claimants)` holds for the claimants stored at that moment; False when it does not.

    Of several workers claiming one free candidate at once, exactly one succeeds: the others'
    compare-and-set fails, they read again and find it taken.
    """
    name = _claim_name(params)
    while True:
        stored = study._storage.get_study_system_attrs(study._study_id).get(CLAIMS_KEY)
        holders = list((stored or {}).get(name, []))
        if not free(holders):
            return False
        claimed = {**(stored or {}), name: [*holders, number]}
        if compare_and_set(study._storage, study._study_id, CLAIMS_KEY, stored, claimed):
            return True


DeriveCandidates = Callable[
    [Sequence[tuple[Mapping[str, Any], Sequence[float]]]], Sequence[Mapping[str, Any]]
]
"""`finished -> more candidates`: from the `(params, values)` of the first candidates that
completed, in candidate order, the params of more candidates (`BestOfCandidates.derive`)."""


class DerivedCandidates:
    """The candidates of a start: the first ones, then those `derive` gives (if any).

    Args:
        space: The search space.
        states: The first candidates, as list indices.
        kernel: The proposal kernel (its filter leaves derived candidates out).
        derive: `DeriveCandidates`, or None for a fixed list.
    """

    def __init__(
        self,
        space: OrderedSearchSpace,
        states: tuple[State, ...],
        kernel: ProposalKernel,
        derive: DeriveCandidates | None,
    ) -> None:
        self._space = space
        self._states = states
        self._first = tuple(space.decode(state) for state in states)
        self._kernel = kernel
        self._derive = derive
        self._derived: tuple[tuple[int, ...], tuple[dict[str, Any], ...]] | None = None

    @property
    def first_state(self) -> State:
        """The first candidate, as list indices."""
        return self._states[0]

    def listed(
        self, others: Mapping[tuple[tuple[str, Any], ...], Sequence[FrozenTrial]]
    ) -> tuple[dict[str, Any], ...]:
        """The candidates as far as they are known. `others` maps candidate params
        (`params_key`) to the trials that evaluated them (the asking trial left out).

        Raises:
            ValueError: If `derive` returns params outside the search space.
        """
        if self._derive is None:
            return self._first
        finished: list[FrozenTrial] = []
        for params in self._first:
            trials = others.get(params_key(params), [])
            complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
            failed = sum(1 for t in trials if t.state == TrialState.FAIL)
            pruned = any(t.state == TrialState.PRUNED for t in trials)
            if any(t.state == TrialState.RUNNING for t in trials) or (
                not complete and failed < 2 and not pruned
            ):
                return self._first
            if complete:
                finished.append(complete[0])
        key = tuple(t.number for t in finished)
        cached = self._derived
        if cached is None or cached[0] != key:
            # One list per study settles; keep the latest (a local: threads share the sampler).
            cached = (key, self._derive_from(finished))
            self._derived = cached
        return self._first + cached[1]

    def _derive_from(self, finished: Sequence[FrozenTrial]) -> tuple[dict[str, Any], ...]:
        assert self._derive is not None
        pairs = [
            (
                {name: trial.params[name] for name in self._space.names},
                tuple(float(v) for v in trial.values),
            )
            for trial in finished
        ]
        seen = set(self._states)
        out = []
        for params in self._derive(pairs):
            state = self._space.encode(params, argument="BestOfCandidates.derive")
            if state in seen or not self._kernel.is_allowed(state):
                continue
            seen.add(state)
            out.append(self._space.decode(state))
        return tuple(out)
