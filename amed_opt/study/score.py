"""The study's quality score `Q` (METHOD.md §4), built from its spec.

`Q = accuracy - lambda * latency / latency(uniform 8 bits) - penalty`: the AMED chains' target
and the score every comparison reports. One chain per latency weight `lambda` of
`[sampler] latency_weights`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amed_opt.samplers import QualityScore


if TYPE_CHECKING:
    from amed_opt.study.spec import StudySpec

__all__ = ["quality_score", "quality_scores"]


def quality_score(spec: StudySpec, reference_ms: float, weight: float) -> QualityScore:
    """`Q` at latency weight `weight` with the study's accuracy threshold and penalty slope.

    Args:
        spec: The study.
        reference_ms: Latency of the uniform 8-bit network, in milliseconds.
        weight: The latency weight `lambda`.
    """
    settings = spec.sampler
    return QualityScore(
        latency_reference=reference_ms,
        latency_weight=weight,
        accuracy_threshold=settings.accuracy_threshold or None,
        penalty_slope=settings.penalty_slope,
    )


def quality_scores(spec: StudySpec, reference_ms: float) -> list[QualityScore]:
    """One `Q` per chain: the study's latency weights, in order."""
    return [quality_score(spec, reference_ms, weight) for weight in spec.sampler.latency_weights]
