"""The verdict: the goal of issue 6 checked on the numbers by fixed rules, never by hand.

`verdict` judges AMED against the best baseline on each part of the goal (highest best `Q`,
hypervolume at least the best baseline's, a front dominating the uniform allocations), on the
seed means, saying whether each gap exceeds one seed standard deviation. `diagnosis` adds what
the chains did, as a first explanation.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from amed_opt.compare._plan import display_name


if TYPE_CHECKING:
    from amed_opt.compare._types import Analysis
    from amed_opt.compare._types import SamplerSummary
    from amed_opt.compare._types import Spread


def verdict(analysis: Analysis) -> list[str]:
    """The goal of issue 6, checked on the numbers, one finding per line.

    Goal: at equal budgets, averaged over seeds, AMED has the highest best `Q` of all samplers,
    a hypervolume at least equal to the best baseline's, and a front that dominates the uniform
    allocations.
    """
    amed = analysis.sampler("amed")
    baselines = [s for s in analysis.samplers if s.sampler != "amed" and s.seeds]
    if amed is None or not amed.seeds:
        return ["AMED did not run in this comparison; nothing to judge."]
    if not baselines:
        return ["No baseline ran in this comparison; nothing to compare AMED with."]
    best_q_rival = max(baselines, key=lambda s: s.best_q.mean)
    wins_q = amed.best_q.mean > best_q_rival.best_q.mean
    hv_rival = max(baselines, key=lambda s: s.hv.mean)
    wins_hv = amed.hv.mean >= hv_rival.hv.mean
    dominates, detail = _dominates_uniform(amed)
    lines = [
        _met(wins_q)
        + " — highest best Q. "
        + _against(
            f"best Q (lambda {analysis.latency_weight:g})",
            amed.best_q,
            best_q_rival,
            best_q_rival.best_q,
        )
        + ".",
        _met(wins_hv)
        + " — hypervolume at least the best baseline's. "
        + _against("hypervolume", amed.hv, hv_rival, hv_rival.hv)
        + ".",
        _met(dominates) + " — the front dominates the uniform allocations: " + detail + ".",
    ]
    met = wins_q + wins_hv + dominates
    lines.append(
        f"Overall: {met} of 3 parts of the goal met"
        + (" — AMED wins this comparison." if met == 3 else ".")
    )
    mixed_rival = max(baselines, key=lambda s: s.best_mixed_q.mean)
    if math.isfinite(amed.best_mixed_q.mean):
        ahead = amed.best_mixed_q.mean > mixed_rival.best_mixed_q.mean
        lines.append(
            "Best Q over mixed allocations only (trials that are uniform allocations, such as "
            f"AMED's start candidates, left out): {'ahead' if ahead else 'behind'}. "
            + _against("best mixed Q", amed.best_mixed_q, mixed_rival, mixed_rival.best_mixed_q)
            + "."
        )
    return lines


def _met(met: bool) -> str:
    return "**Met**" if met else "**Not met**"


def _against(metric: str, ours: Spread, theirs: SamplerSummary, spread: Spread) -> str:
    """AMED's `ours` against `theirs`' `spread`: the gap, and whether it exceeds the noise."""
    gap = ours.mean - spread.mean
    noise = max(ours.std, spread.std)
    size = "within" if abs(gap) <= noise else "beyond"
    return (
        f"{metric}: AMED {ours.text()} against {display_name(theirs.sampler)} {spread.text()} "
        f"(difference {gap:+.4f}, {size} one seed standard deviation, {noise:.4f})"
    )


def _dominates_uniform(amed: SamplerSummary) -> tuple[bool, str]:
    """Whether AMED dominates every uniform allocation but the fastest in every seed, and how."""
    # All layers at the fewest bits is the fastest allocation there is (latency never grows as
    # bits shrink), so nothing can beat it on latency; it is reported but not required.
    fastest = min(amed.uniform_dominated, default=None)
    required = [bits for bits in sorted(amed.uniform_dominated) if bits != fastest]
    n_seeds = len(amed.seeds)
    always = [bits for bits in required if amed.uniform_dominated[bits] == n_seeds]
    missed = [
        f"{bits}-bit in {amed.uniform_dominated[bits]} of {n_seeds} seeds"
        for bits in required
        if bits not in always
    ]
    detail = (
        f"in every seed, a mixed allocation found by AMED dominates {len(always)} of the "
        f"{len(required)} uniform allocations above {fastest} bits "
        f"({', '.join(f'{b}-bit' for b in always) or 'none'})"
    )
    if missed:
        detail += f"; dominated only {', '.join(missed)}"
    if fastest is not None:
        detail += (
            f"; uniform {fastest}-bit, the fastest allocation possible, is dominated in "
            f"{amed.uniform_dominated[fastest]} of {n_seeds} seeds (not required)"
        )
    return bool(required) and len(always) == len(required), detail


def diagnosis(analysis: Analysis) -> list[str]:
    """The AMED chains' acceptance rates and the lowest latency their heads reached."""
    amed = [s for s in analysis.studies if s.sampler == "amed" and s.chains]
    if not amed:
        return []
    lines = []
    rates = [c.acceptance_rate for s in amed for c in s.chains if c.moves]
    reach = min((row[3] for s in amed for c in s.chains for row in c.trace), default=math.nan)
    others = [p.latency for s in analysis.studies if s.sampler != "amed" for p in s.front]
    lines.append(
        f"Acceptance rate over all chains and seeds: {min(rates):.0%} to {max(rates):.0%}."
        if rates
        else "No chain made a move."
    )
    if math.isfinite(reach):
        lines.append(
            f"The lowest latency any AMED chain head reached is {reach:.3f} of 8-bit"
            + (f"; the baselines' fronts reach {min(others):.3f}." if others else ".")
        )
    return lines
