"""The Metropolis–Hastings decision: accept or reject a finished trial's proposal.

For a chain at `b` with quality `Q(b)` and a proposal `b'` drawn from `q(. | b)`,

    alpha = min(1, exp((Q(b') - Q(b)) / T) * q(b | b') / q(b' | b)),

which makes `pi(b) ∝ exp(Q(b) / T)` the stationary distribution of the chain (detailed balance).
The proposal ratio enters as its logarithm, computed in `_proposals.py`. `decide` turns a
finished trial into the chain's decision record and next state; a trial whose step another trial
has already decided is stale (`stale_decision`) and is no chain step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from optuna.trial import TrialState

from amed_opt.samplers._records import ChainState
from amed_opt.samplers._records import DecisionRecord
from amed_opt.samplers._records import Head


if TYPE_CHECKING:
    from amed_opt.samplers._records import ProposalRecord
    from amed_opt.samplers._score import ScoreFunction


__all__ = [
    "FAIL_REASON_ATTR",
    "acceptance_probability",
    "decide",
    "is_stale",
    "off_path_decision",
    "stale_decision",
]

FAIL_REASON_ATTR = "fail_reason"
"""Trial user attr set by an objective whose evaluation failed (an exception, a NaN metric):
such a FAIL trial is a rejected proposal. A FAIL trial without it (killed, interrupted, failed
by a heartbeat) is no decision, and its proposal is made again."""

_MISSING = object()


def acceptance_probability(
    proposal_score: float, head_score: float, *, temperature: float, log_q_ratio: float
) -> float:
    """The probability of moving from the head to the proposal.

    Args:
        proposal_score: `Q(b')`, finite.
        head_score: `Q(b)`, finite.
        temperature: `T > 0`.
        log_q_ratio: `log q(b | b') - log q(b' | b)`.

    Returns:
        `alpha` in [0, 1].

    Raises:
        ValueError: If a score is not finite or the temperature is not positive.
    """
    if not (math.isfinite(proposal_score) and math.isfinite(head_score)):
        raise ValueError(
            f"scores must be finite, got proposal {proposal_score} and head {head_score}"
        )
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    log_alpha = (proposal_score - head_score) / temperature + log_q_ratio
    return 1.0 if log_alpha >= 0.0 else math.exp(log_alpha)


def is_stale(record: ProposalRecord, chain_state: ChainState) -> bool:
    """Whether the chain moved on since `record` was proposed (another trial took the step)."""
    head = chain_state.head
    return chain_state.step != record.step or (head.number if head else None) != record.parent


def stale_decision(
    record: ProposalRecord, chain_state: ChainState, state: TrialState
) -> DecisionRecord:
    """The record of a trial whose step another trial has already decided: no chain step."""
    return DecisionRecord(
        state=state.name,
        accepted=False,
        stale=True,
        acceptance_probability=None,
        score=None,
        head_score=None,
        temperature=None,
        reason=(
            f"stale: chain {record.chain} was at step {chain_state.step} when the trial "
            f"for step {record.step} finished"
        ),
        previous=None,
    )


def off_path_decision(state: TrialState, reason: str) -> DecisionRecord:
    """The record of a trial that is no chain step (`reason` says why: stale, speculative)."""
    return DecisionRecord(
        state=state.name,
        accepted=False,
        stale=True,
        acceptance_probability=None,
        score=None,
        head_score=None,
        temperature=None,
        reason=reason,
        previous=None,
    )


def decide(
    record: ProposalRecord,
    chain_state: ChainState,
    *,
    trial_number: int,
    trial_params: Mapping[str, Any],
    state: TrialState,
    values: Sequence[float] | None,
    score_function: ScoreFunction,
    temperature: float,
    draw_uniform: Callable[[], float],
) -> tuple[DecisionRecord, ChainState]:
    """Accept or reject the proposal `record` of a finished trial (not stale).

    A failed or pruned trial, a trial whose params differ from the proposal and a trial with a
    non-finite score are rejected without a draw. A chain's initial evaluation, and a move from
    a head without a finite score, are accepted. Otherwise the proposal is accepted when
    `draw_uniform() < alpha`.

    Args:
        record: The trial's proposal.
        chain_state: The chain's state, at the step of `record`.
        trial_number: The trial's number.
        trial_params: The params the trial evaluated.
        state: The state the trial finished in.
        values: Its objective values (`None` unless COMPLETE).
        score_function: The chain's score.
        temperature: The temperature of the step.
        draw_uniform: The step's uniform draw in [0, 1); called at most once.

    Returns:
        The decision, and the chain's state after it (one step further).
    """
    head = chain_state.head
    head_score = None if head is None else float(score_function(head.values))
    score: float | None = None
    alpha = 0.0
    accepted = False
    reason = ""
    if state != TrialState.COMPLETE or values is None:
        reason = f"trial {state.name.lower()}"
    elif any(trial_params.get(name, _MISSING) != value for name, value in record.params.items()):
        reason = "the trial's params differ from the proposal"
    else:
        score = float(score_function(values))
        if not math.isfinite(score):
            reason = "score is not finite"
        elif record.kind == "init" or head_score is None or not math.isfinite(head_score):
            alpha = 1.0
            accepted = True
        else:
            alpha = acceptance_probability(
                score, head_score, temperature=temperature, log_q_ratio=record.log_q_ratio
            )
            accepted = bool(draw_uniform() < alpha)

    decision = DecisionRecord(
        state=state.name,
        accepted=accepted,
        stale=False,
        acceptance_probability=alpha,
        score=score,
        head_score=head_score,
        temperature=temperature,
        reason=reason,
        previous=chain_state.last_trial,
    )
    new_head = head
    if accepted:
        assert values is not None and score is not None
        new_head = Head(
            number=trial_number,
            params=dict(record.params),
            values=tuple(float(v) for v in values),
            score=score,
        )
    new_state = ChainState(
        step=record.step + 1,
        head=new_head,
        last_trial=trial_number,
        origin=chain_state.origin,
        origin_step=chain_state.origin_step,
    )
    return decision, new_state
