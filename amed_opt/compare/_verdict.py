"""The verdict: the goal of issue 6 checked on the numbers by fixed rules, never by hand.

`verdict` judges AMED against the best baseline on each part of the goal (highest best `Q`,
hypervolume at least the best baseline's, a front dominating the uniform allocations), on the
seed means, and says whether each gap is beyond the noise: the larger of the seed spread (the
standard deviation of the per-seed paired differences, or of either side when the seeds do not
pair) and the combined binomial standard error of the two best-`Q` trials' accuracies (each
measured on the study's validation images). A part met within the noise is a tie, and the
verdict says so. Where two allocations were measured on the same images and stored which images
they got right, the verdict pairs them (McNemar's exact test, `amed_opt.study.paired`): AMED's
best-`Q` trial against the rival's, and every domination of a uniform allocation that the goal
requires, which is *within noise* when it rests on an accuracy gain that is not significant at
0.05 and not on a strictly lower cost. `diagnosis` adds what the chains did, as a first
explanation.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from amed_opt.compare._plan import display_name
from amed_opt.compare._types import NO_IMAGES
from amed_opt.compare._types import ON_ACCURACY
from amed_opt.compare._types import ON_COST
from amed_opt.compare._types import Spread
from amed_opt.compare._types import accuracy_se
from amed_opt.study.paired import SIGNIFICANCE


if TYPE_CHECKING:
    from amed_opt.compare._types import Analysis
    from amed_opt.compare._types import SamplerSummary
    from amed_opt.compare._types import StudySummary


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
    n_images = analysis.validation_images
    best_q_rival = max(baselines, key=lambda s: s.best_q.mean)
    wins_q = amed.best_q.mean > best_q_rival.best_q.mean
    q_text, q_clear = _against(
        f"best Q (lambda {analysis.latency_weight:g})", amed, best_q_rival, "best_q", n_images
    )
    hv_rival = max(baselines, key=lambda s: s.hv.mean)
    wins_hv = amed.hv.mean >= hv_rival.hv.mean
    hv_text, hv_clear = _against("hypervolume", amed, hv_rival, "hv", n_images)
    q_text += _paired_best(amed, best_q_rival, n_images)
    dominates, detail = _dominates_uniform(amed)
    noise_text, dominates_clear = _dominations_noise(
        amed, [s for s in analysis.studies if s.sampler == "amed"]
    )
    lines = [
        _met(wins_q, q_clear) + " — highest best Q. " + q_text + ".",
        _met(wins_hv, hv_clear) + " — hypervolume at least the best baseline's. " + hv_text + ".",
        _met(dominates, dominates_clear)
        + " — the front dominates the uniform allocations: "
        + detail
        + noise_text
        + ".",
    ]
    met = wins_q + wins_hv + dominates
    clear = (wins_q and q_clear) + (wins_hv and hv_clear) + (dominates and dominates_clear)
    lines.append(
        f"Overall: {met} of 3 parts of the goal met, {clear} of them beyond the noise"
        + (" — AMED wins this comparison." if clear == 3 else ".")
    )
    mixed_rival = max(baselines, key=lambda s: s.best_mixed_q.mean)
    if math.isfinite(amed.best_mixed_q.mean):
        ahead = amed.best_mixed_q.mean > mixed_rival.best_mixed_q.mean
        mixed_text, _ = _against("best mixed Q", amed, mixed_rival, "best_mixed_q", n_images)
        lines.append(
            "Best Q over mixed allocations only (trials that are uniform allocations, such as "
            f"the ladder every sampler starts from, left out): {'ahead' if ahead else 'behind'}. "
            + mixed_text
            + "."
        )
    return lines


def _met(met: bool, clear: bool = True) -> str:
    if not met:
        return "**Not met**"
    return "**Met**" if clear else "**Met, within noise** (a tie, not a win)"


def _best_accuracy(summary: SamplerSummary) -> float:
    return summary.best[1].accuracy if summary.best is not None else math.nan


def _against(
    metric: str, amed: SamplerSummary, theirs: SamplerSummary, field: str, n_images: int
) -> tuple[str, bool]:
    """AMED's `field` (a `Spread` of the summaries) against `theirs`: the gap, the noise it is
    compared with, and whether it is beyond that noise."""
    ours: Spread = getattr(amed, field)
    spread: Spread = getattr(theirs, field)
    gap = ours.mean - spread.mean
    pair = theirs.versus_amed
    paired_values = {"hv": pair.hv, "best_q": pair.best_q} if pair else {}
    values = paired_values.get(field, [])
    if len(values) > 1:
        seed_noise = Spread.of(values).std
        seed_text = f"paired seed sd {seed_noise:.4f} over {len(values)} seeds"
    else:
        seed_noise = max(ours.std, spread.std)
        seed_text = f"one seed standard deviation {seed_noise:.4f}"
    se = math.hypot(
        accuracy_se(_best_accuracy(amed), n_images), accuracy_se(_best_accuracy(theirs), n_images)
    )
    noise = max(seed_noise, se) if math.isfinite(se) else seed_noise
    clear = abs(gap) > noise
    se_text = (
        f", accuracy standard error {se:.4f} (binomial, {n_images} images, both best trials)"
        if math.isfinite(se)
        else ""
    )
    return (
        f"{metric}: AMED {ours.text()} against {display_name(theirs.sampler)} {spread.text()} "
        f"(difference {gap:+.4f}; {seed_text}{se_text}: "
        f"{'beyond' if clear else 'within'} noise)"
    ), clear


def _paired_best(amed: SamplerSummary, rival: SamplerSummary, n_images: int) -> str:
    """The best-Q trials of AMED and `rival` paired on the same images, as a clause."""
    if amed.best is None or rival.best is None:
        return ""
    test = rival.best_versus_amed
    if test is None:
        return "; best-Q trials paired on the same images: no per-image data"
    verdict = "significant" if test.significant else "within noise"
    return (
        f"; best-Q trials paired on the same {test.n} images: AMED's accuracy minus "
        f"{display_name(rival.sampler)}'s {test.text()}, {verdict} at {SIGNIFICANCE:g}"
        + (
            f" (paired standard error {100 * test.se:.2f} points, against "
            f"{100 * _combined_se(amed, rival, n_images):.2f} unpaired)"
            if math.isfinite(_combined_se(amed, rival, n_images))
            else ""
        )
    )


def _combined_se(amed: SamplerSummary, rival: SamplerSummary, n_images: int) -> float:
    return math.hypot(
        accuracy_se(_best_accuracy(amed), n_images), accuracy_se(_best_accuracy(rival), n_images)
    )


def _dominations_noise(amed: SamplerSummary, studies: list[StudySummary]) -> tuple[str, bool]:
    """What the required dominations of uniform allocations rest on, paired on the images: a
    clause, and whether none of them is within noise."""
    fastest = min(amed.uniform_dominated, default=None)
    found = [
        (study.seed, d)
        for study in studies
        for d in study.dominations
        if d.uniform_bits != fastest
    ]
    if not found:
        return "", True
    counts = {basis: sum(d.basis == basis for _, d in found) for basis in (ON_ACCURACY, ON_COST)}
    noisy = [(seed, d) for seed, d in found if d.within_noise]
    missing = sum(d.basis == NO_IMAGES for _, d in found)
    if missing == len(found):
        return (
            "; no per-image data, so whether these dominations are beyond the accuracy noise "
            "is not tested"
        ), True
    parts = [
        f"{counts[ON_ACCURACY]} rest on an accuracy gain significant at {SIGNIFICANCE:g}",
        f"{counts[ON_COST]} on a strictly lower cost alone (computed, not measured; their "
        "accuracy gain is within noise)",
        f"{len(noisy)} within noise (no lower cost, and an accuracy gain that is not "
        "significant"
        + (
            ": " + ", ".join(f"{d.uniform_bits}-bit in seed {seed}" for seed, d in noisy)
            if noisy
            else ""
        )
        + ")",
    ]
    if missing:
        parts.append(f"{missing} have no per-image data")
    return (
        f"; paired on the same images (McNemar's exact test), of the {len(found)} dominations "
        "found above the fastest uniform allocation: " + ", ".join(parts)
    ), not noisy


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
