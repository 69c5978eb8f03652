"""The choices a study file names by string (`mode = "shared"`), as enums of the spec."""

from __future__ import annotations

import enum


class EvaluatorMode(enum.Enum):
    """How trials relate to each other (METHOD.md §6)."""

    SHARED = "shared"
    """One network keeps training across trials, as in the paper."""
    FRESH = "fresh"
    """Every trial starts from the float checkpoint; trials are independent."""


class AccuracyModel(enum.Enum):
    """Where a trial's accuracy comes from."""

    MEASURED = "measured"
    """The quantized network on the validation split (the only choice for real results)."""
    SYNTHETIC = "synthetic"
    """A seeded stand-in formula (`amed_opt.evaluation.synthetic`), for tests and fast sampler
    comparisons only."""


class SamplerName(enum.Enum):
    """Which sampler drives the search."""

    AMED = "amed"
    TPE = "tpe"
    NSGA2 = "nsga2"
    RANDOM = "random"
    GREEDY = "greedy"
    """Greedy bit lowering from the best uniform start (`samplers.GreedySampler`), a baseline."""


class ProposalBoundary(enum.Enum):
    """What the AMED proposal does with a chosen layer at 2 or 8 bits (`samplers.Boundary`)."""

    FORCED = "forced"
    """Takes the only legal step (METHOD.md §5, the paper's sampler)."""
    LAZY = "lazy"
    """Steps inward or stays, 1/2 each: a symmetric proposal, no Hastings penalty at the ends."""


class LayerChoice(enum.Enum):
    """How the AMED proposal picks the layers it moves (docs/sampler.md)."""

    UNIFORM = "uniform"
    """Exactly `n_flips` layers, all equally likely (METHOD.md §5, the paper's sampler)."""
    COST = "cost"
    """Each layer on its own, more often the more latency the hardware says it can save; about
    `n_flips` per proposal (`study.proposal_weights`, `samplers/_weighted.py`)."""


class SmallMoveOrder(enum.Enum):
    """Which layer an AMED small move (`small_move_share`) changes (docs/sampler.md)."""

    DRAWN = "drawn"
    """Drawn like `layer_choice` draws the layers of every proposal."""
    SCAN = "scan"
    """Taken from a fixed cycle that advances one layer per chain step (a chain's first move:
    the first of the cycle): with `layer_choice = "cost"` the layers that save the most latency
    first, else the network's order (`samplers/_mixture.py`)."""


class ChainStart(enum.Enum):
    """Where the AMED chains start."""

    HIGHEST_UNIFORM = "highest-uniform"
    """Uniform 8 bits (or the highest uniform bitwidth under the size limit): METHOD.md §5."""
    BEST_UNIFORM = "best-uniform"
    """The uniform allocations are evaluated first, from the highest bitwidth down; each chain
    starts from the one its own score ranks highest."""
    BEST_BRIDGED = "best-bridged"
    """As `BEST_UNIFORM`, then one more candidate between every two neighbouring uniform
    allocations: the higher one with the layers that save the most latency lowered, until half
    the latency between the two is saved (`amed_opt.study.start_candidates`)."""
    PROBED = "probed"
    """As `BEST_UNIFORM`, then one probe per searched layer (the top allocation with that layer
    alone at the lowest bitwidth; the layers that save the most latency first, at most half the
    budget), then the allocations the separable model of accuracy loss and latency those
    results give rates best: along the front (a grid of latency weights, and below it) and, per
    uniform bitwidth, the most accurate no slower (`amed_opt.study.sensitivity`)."""


class ChainWeights(enum.Enum):
    """Where the AMED chains' latency weights come from (docs/sampler.md)."""

    FIXED = "fixed"
    """Chain `c` at `latency_weights[c]`."""
    UNIFORM_FRONT = "uniform-front"
    """One chain per entry of `latency_weights`, at weights spread along the front of the
    evaluated uniform ladder (`samplers.FrontWeights`); `latency_weights` serve when that front
    has no slope. Needs `start = "best-uniform"`."""
