"""`chain_history`: a chain step by step, rebuilt from the storage.

The chain's state points at the trial of its latest decision; each decision names the trial of
the previous one. Walking that list backwards gives exactly the steps that count: proposals that
were rolled back (a process killed before the trial ended) or that went stale are not on it. This
reads all trials once, so it is meant for analysis, not for every trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from amed_opt.samplers._chain_storage import DECISION_KEY
from amed_opt.samplers._chain_storage import PROPOSAL_KEY
from amed_opt.samplers._chain_storage import ChainStorage
from amed_opt.samplers._records import DecisionRecord
from amed_opt.samplers._records import ProposalRecord


if TYPE_CHECKING:
    from optuna.study import Study


__all__ = ["ChainStep", "chain_history"]


@dataclass(frozen=True, slots=True)
class ChainStep:
    """One step of a chain.

    Attributes:
        step: Chain step, from 0.
        trial_number: The trial that evaluated the step's proposal (for an adopted start, the
            other chain's trial that was adopted).
        kind: `"init"`, `"move"` or `"adopted"`.
        proposal: The params proposed at this step.
        state: Name of the trial state the decision was made for (`"COMPLETE"`, `"FAIL"`, ...).
        accepted: Whether the step's proposal became the head.
        acceptance_probability: The MH probability `alpha` of the step.
        temperature: Temperature of the step (`None` for an adopted start).
        params: Params of the head after the step (`None` while the chain has no head).
        score: Score of the head after the step (`None` while the chain has no head).
        head_trial_number: Trial number of the head after the step.
    """

    step: int
    trial_number: int
    kind: str
    proposal: dict[str, Any]
    state: str
    accepted: bool
    acceptance_probability: float
    temperature: float | None
    params: dict[str, Any] | None
    score: float | None
    head_trial_number: int | None


def chain_history(study: Study, chain_id: int = 0) -> list[ChainStep]:
    """The decided steps of a chain, in order.

    Args:
        study: A study run with `MetropolisHastingsSampler`.
        chain_id: Which chain.

    Returns:
        One record per step; empty if the chain has not decided any step.

    Raises:
        ValueError: If `chain_id` is negative.
        RuntimeError: If the stored chain is inconsistent.
    """
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id < 0:
        raise ValueError(f"chain_id must be an int >= 0, got {chain_id!r}")
    chains = ChainStorage()
    state = chains.chain_state(study, chains.read_study_attrs(study), chain_id)
    trials = study.get_trials(deepcopy=False)
    by_number = {trial.number: trial for trial in trials}

    decided: list[tuple[int, ProposalRecord, DecisionRecord]] = []
    number = state.last_trial
    while number is not None:
        trial = by_number.get(number)
        if trial is None or PROPOSAL_KEY not in trial.system_attrs:
            raise RuntimeError(f"chain {chain_id} refers to trial {number}, which is not a step")
        proposal = ProposalRecord.from_json(trial.system_attrs[PROPOSAL_KEY])
        decision = DecisionRecord.from_json(trial.system_attrs[DECISION_KEY])
        decided.append((number, proposal, decision))
        number = decision.previous
    decided.reverse()

    steps: list[ChainStep] = []
    head_params: dict[str, Any] | None = None
    head_score: float | None = None
    head_number: int | None = None
    records = iter(decided)
    for step in range(state.step):
        if step == state.origin_step and state.origin is not None:
            origin = state.origin
            head_params, head_score, head_number = dict(origin.params), origin.score, origin.number
            steps.append(
                ChainStep(
                    step=step,
                    trial_number=origin.number,
                    kind="adopted",
                    proposal=dict(origin.params),
                    state="COMPLETE",
                    accepted=True,
                    acceptance_probability=1.0,
                    temperature=None,
                    params=dict(head_params),
                    score=head_score,
                    head_trial_number=head_number,
                )
            )
            continue
        try:
            number, proposal, decision = next(records)
        except StopIteration:
            raise RuntimeError(f"chain {chain_id} lacks the record of step {step}") from None
        if proposal.step != step:
            raise RuntimeError(
                f"chain {chain_id}: trial {number} is step {proposal.step}, expected {step}"
            )
        if decision.accepted:
            head_params, head_score, head_number = dict(proposal.params), decision.score, number
        steps.append(
            ChainStep(
                step=step,
                trial_number=number,
                kind=proposal.kind,
                proposal=dict(proposal.params),
                state=decision.state,
                accepted=decision.accepted,
                acceptance_probability=float(decision.acceptance_probability or 0.0),
                temperature=decision.temperature,
                params=None if head_params is None else dict(head_params),
                score=head_score,
                head_trial_number=head_number,
            )
        )
    return steps
