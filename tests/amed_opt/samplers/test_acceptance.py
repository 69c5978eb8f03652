"""The Metropolis–Hastings decision on a finished trial."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest
from optuna.trial import TrialState

from amed_opt.samplers._acceptance import acceptance_probability
from amed_opt.samplers._acceptance import decide
from amed_opt.samplers._acceptance import is_stale
from amed_opt.samplers._acceptance import stale_decision
from amed_opt.samplers._records import ChainState
from amed_opt.samplers._records import Head
from amed_opt.samplers._records import ProposalRecord


HEAD = Head(number=4, params={"a": 8}, values=(1.0,), score=1.0)
STATE = ChainState(step=5, head=HEAD, last_trial=4)
MOVE = ProposalRecord(
    chain=0, step=5, draw=0, kind="move", params={"a": 4}, parent=4, log_q_ratio=0
)


def first_value(values: Sequence[float]) -> float:
    return float(values[0])


def decide_move(
    values: list[float] | None,
    *,
    state: TrialState = TrialState.COMPLETE,
    params: dict[str, Any] | None = None,
    uniform: float = 0.5,
    record: ProposalRecord = MOVE,
) -> Any:
    draws: list[float] = []

    def draw() -> float:
        draws.append(uniform)
        return uniform

    decision, new_state = decide(
        record,
        STATE,
        trial_number=9,
        trial_params={"a": 4} if params is None else params,
        state=state,
        values=values,
        score_function=first_value,
        temperature=0.5,
        draw_uniform=draw,
    )
    return decision, new_state, draws


def test_acceptance_probability_is_the_hastings_ratio_capped_at_one() -> None:
    assert acceptance_probability(2.0, 1.0, temperature=0.5, log_q_ratio=0.0) == 1.0
    alpha = acceptance_probability(0.0, 1.0, temperature=0.5, log_q_ratio=math.log(2.0))
    assert alpha == pytest.approx(2.0 * math.exp(-2.0))
    with pytest.raises(ValueError, match="finite"):
        acceptance_probability(math.nan, 1.0, temperature=0.5, log_q_ratio=0.0)
    with pytest.raises(ValueError, match="temperature"):
        acceptance_probability(0.0, 1.0, temperature=0.0, log_q_ratio=0.0)


@pytest.mark.parametrize(("uniform", "accepted"), [(0.13, True), (0.14, False)])
def test_a_worse_move_is_accepted_when_the_draw_is_below_alpha(
    uniform: float, accepted: bool
) -> None:
    decision, new_state, draws = decide_move([0.0], uniform=uniform)  # alpha = e^-2 = 0.135
    assert draws == [uniform]
    assert decision.acceptance_probability == pytest.approx(math.exp(-2.0))
    assert decision.accepted is accepted and decision.score == 0.0 and decision.head_score == 1.0
    assert decision.previous == 4 and decision.temperature == 0.5 and not decision.stale
    assert new_state.step == 6 and new_state.last_trial == 9
    expected = Head(number=9, params={"a": 4}, values=(0.0,), score=0.0) if accepted else HEAD
    assert new_state.head == expected


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"values": None, "state": TrialState.FAIL}, "trial fail"),
        ({"values": None, "state": TrialState.PRUNED}, "trial pruned"),
        ({"values": [2.0], "params": {"a": 2}}, "the trial's params differ from the proposal"),
        ({"values": [2.0], "params": {}}, "the trial's params differ from the proposal"),
        ({"values": [math.inf]}, "score is not finite"),
    ],
)
def test_rejections_without_a_draw(kwargs: dict[str, Any], reason: str) -> None:
    decision, new_state, draws = decide_move(**kwargs)
    assert draws == [] and not decision.accepted and decision.acceptance_probability == 0.0
    assert decision.reason == reason and new_state.head == HEAD and new_state.step == 6


def test_an_initial_evaluation_is_accepted_without_a_draw() -> None:
    init = ProposalRecord(
        chain=0, step=5, draw=0, kind="init", params={"a": 4}, parent=4, log_q_ratio=0
    )
    decision, new_state, draws = decide_move([-3.0], record=init)
    assert draws == [] and decision.accepted and decision.acceptance_probability == 1.0
    assert new_state.head is not None and new_state.head.number == 9


def test_staleness_and_its_record() -> None:
    assert not is_stale(MOVE, STATE)
    assert is_stale(MOVE, ChainState(step=6, head=HEAD))
    assert is_stale(MOVE, ChainState(step=5, head=Head(number=7, params={}, values=(), score=0)))
    decision = stale_decision(MOVE, ChainState(step=6, head=HEAD), TrialState.COMPLETE)
    assert decision.stale and not decision.accepted and decision.acceptance_probability is None
    assert decision.reason == "stale: chain 0 was at step 6 when the trial for step 5 finished"
