"""The Metropolis–Hastings acceptance probability.

For a chain at `b` with quality `Q(b)` and a proposal `b'` drawn from `q(. | b)`,

    alpha = min(1, exp((Q(b') - Q(b)) / T) * q(b | b') / q(b' | b)),

which makes `pi(b) ∝ exp(Q(b) / T)` the stationary distribution of the chain (detailed balance).
The proposal ratio enters as its logarithm, computed in `_proposals.py`.
"""

from __future__ import annotations

import math


__all__ = ["acceptance_probability"]


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
