"""The chain's records, as stored: a head, a chain state, a proposal and a decision.

Each record is a frozen value with `to_json` and `from_json`; the JSON forms are what
`_chain_storage.py` writes into Optuna system attributes (the keys are listed there), so they are
a stored format: a study written by an earlier version must keep reading back the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


__all__ = ["ChainState", "DecisionRecord", "Head", "ProposalRecord"]


def _json_float(value: float | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class Head:
    """A chain's current state: an evaluated trial.

    Attributes:
        number: Trial number.
        params: The trial's params in the chain's search space.
        values: The trial's objective values.
        score: The chain's score of `values` when the trial became the head.
    """

    number: int
    params: dict[str, Any]
    values: tuple[float, ...]
    score: float

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "params": dict(self.params),
            "values": [float(v) for v in self.values],
            "score": float(self.score),
        }

    @staticmethod
    def from_json(data: Mapping[str, Any] | None) -> Head | None:
        if data is None:
            return None
        return Head(
            number=int(data["number"]),
            params=dict(data["params"]),
            values=tuple(float(v) for v in data["values"]),
            score=float(data["score"]),
        )


@dataclass(frozen=True, slots=True)
class ChainState:
    """A chain after a number of decided steps.

    Attributes:
        step: Number of decided steps; the next proposal is step `step`.
        head: Current head, or `None` before the first successful initial evaluation.
        last_trial: Trial number of the decision that produced this state.
        origin: The adopted initial trial, when the chain started from another chain's trial.
        origin_step: The chain step at which `origin` was adopted.
    """

    step: int = 0
    head: Head | None = None
    last_trial: int | None = None
    origin: Head | None = None
    origin_step: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "head": None if self.head is None else self.head.to_json(),
            "last_trial": self.last_trial,
            "origin": None if self.origin is None else self.origin.to_json(),
            "origin_step": self.origin_step,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ChainState:
        return ChainState(
            step=int(data["step"]),
            head=Head.from_json(data.get("head")),
            last_trial=data.get("last_trial"),
            origin=Head.from_json(data.get("origin")),
            origin_step=data.get("origin_step"),
        )


@dataclass(frozen=True, slots=True)
class ProposalRecord:
    """What a trial was asked to evaluate, and why.

    Attributes:
        chain: Chain id.
        step: Chain step the proposal is for.
        draw: 0, or the number of earlier proposals for the same step still in flight in this
            process (only when more trials run at once than there are chains).
        kind: `"init"` (the chain's initial params) or `"move"` (a neighbour of the head).
        params: Proposed params.
        parent: Trial number of the head the move starts from (`None` for `"init"`).
        log_q_ratio: `log q_F(head | proposal) - log q_F(proposal | head)` (0 for `"init"`).
    """

    chain: int
    step: int
    draw: int
    kind: str
    params: dict[str, Any]
    parent: int | None
    log_q_ratio: float

    def to_json(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "step": self.step,
            "draw": self.draw,
            "kind": self.kind,
            "params": dict(self.params),
            "parent": self.parent,
            "log_q_ratio": float(self.log_q_ratio),
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> ProposalRecord:
        return ProposalRecord(
            chain=int(data["chain"]),
            step=int(data["step"]),
            draw=int(data["draw"]),
            kind=str(data["kind"]),
            params=dict(data["params"]),
            parent=data.get("parent"),
            log_q_ratio=float(data["log_q_ratio"]),
        )


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """The chain's verdict on a proposal.

    Attributes:
        state: Name of the trial state `after_trial` was told.
        accepted: Whether the proposal became the head.
        stale: The chain had moved on when the trial finished; the trial is no chain step.
        acceptance_probability: `alpha`, or `None` for a stale trial.
        score: The proposal's score, if it was scored.
        head_score: The head's score the proposal was compared with.
        temperature: Temperature of the step.
        reason: Why the proposal was rejected without a draw (`""` otherwise).
        previous: Trial number of the chain's previous decision.
    """

    state: str
    accepted: bool
    stale: bool
    acceptance_probability: float | None
    score: float | None
    head_score: float | None
    temperature: float | None
    reason: str
    previous: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "accepted": self.accepted,
            "stale": self.stale,
            "acceptance_probability": _json_float(self.acceptance_probability),
            "score": _json_float(self.score),
            "head_score": _json_float(self.head_score),
            "temperature": _json_float(self.temperature),
            "reason": self.reason,
            "previous": self.previous,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> DecisionRecord:
        return DecisionRecord(
            state=str(data["state"]),
            accepted=bool(data["accepted"]),
            stale=bool(data["stale"]),
            acceptance_probability=data.get("acceptance_probability"),
            score=data.get("score"),
            head_score=data.get("head_score"),
            temperature=data.get("temperature"),
            reason=str(data.get("reason", "")),
            previous=data.get("previous"),
        )
