"""The chain's records survive JSON, and read the stored format back unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from amed_opt.samplers._records import ChainState
from amed_opt.samplers._records import DecisionRecord
from amed_opt.samplers._records import Head
from amed_opt.samplers._records import ProposalRecord


HEAD = Head(number=3, params={"a": 8, "b": 2.5}, values=(0.9, 12.0), score=-0.25)
RECORDS: list[Any] = [
    HEAD,
    ChainState(),
    ChainState(step=4, head=HEAD, last_trial=7, origin=HEAD, origin_step=1),
    ProposalRecord(
        chain=1, step=4, draw=0, kind="move", params={"a": 4, "b": 2.5}, parent=3, log_q_ratio=-0.5
    ),
    ProposalRecord(
        chain=0, step=0, draw=2, kind="init", params={"a": 8, "b": 1.5}, parent=None, log_q_ratio=0
    ),
    DecisionRecord(
        state="COMPLETE",
        accepted=True,
        stale=False,
        acceptance_probability=0.5,
        score=-0.2,
        head_score=-0.25,
        temperature=0.01,
        reason="",
        previous=6,
    ),
    DecisionRecord(
        state="FAIL",
        accepted=False,
        stale=True,
        acceptance_probability=None,
        score=None,
        head_score=None,
        temperature=None,
        reason="stale: ...",
        previous=None,
    ),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_records_round_trip_through_json(record: Any) -> None:
    stored = json.loads(json.dumps(record.to_json()))
    assert type(record).from_json(stored) == record


def test_a_missing_head_reads_as_none() -> None:
    assert Head.from_json(None) is None


# What the sampler has written since chains got origins; a study stored then must resume.
STORED_STATE = {
    "step": 5,
    "head": {"number": 9, "params": {"a": 4}, "values": [0.8, 10.0], "score": -0.1},
    "last_trial": 9,
    "origin": {"number": 2, "params": {"a": 8}, "values": [0.9, 20.0], "score": -1.1},
    "origin_step": 0,
}
STORED_PROPOSAL = {
    "chain": 1,
    "step": 3,
    "draw": 0,
    "kind": "move",
    "params": {"a": 4},
    "parent": 1,
    "log_q_ratio": 0.0,
}
STORED_DECISION = {
    "state": "COMPLETE",
    "accepted": True,
    "stale": False,
    "acceptance_probability": 1.0,
    "score": -1.3393483146067418,
    "head_score": -1.3482022471910113,
    "temperature": 0.045633650000000005,
    "reason": "",
    "previous": 8,
}


@pytest.mark.parametrize(
    ("cls", "stored"),
    [
        (ChainState, STORED_STATE),
        (ProposalRecord, STORED_PROPOSAL),
        (DecisionRecord, STORED_DECISION),
    ],
)
def test_the_stored_format_reads_back_and_is_written_unchanged(
    cls: Any, stored: dict[str, Any]
) -> None:
    assert cls.from_json(stored).to_json() == stored


def test_stored_state_fields() -> None:
    state = ChainState.from_json(STORED_STATE)
    assert state.step == 5 and state.last_trial == 9 and state.origin_step == 0
    assert state.head == Head(number=9, params={"a": 4}, values=(0.8, 10.0), score=-0.1)
    assert state.origin is not None and state.origin.number == 2


def test_optional_fields_may_be_absent() -> None:
    state = ChainState.from_json({"step": 2})
    assert state == ChainState(step=2)
    decision = DecisionRecord.from_json({"state": "PRUNED", "accepted": False, "stale": False})
    assert decision.reason == "" and decision.previous is None and decision.score is None
