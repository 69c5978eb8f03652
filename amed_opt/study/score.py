"""The study's quality score `Q` (METHOD.md §4), built from its spec.

`Q = accuracy - lambda * latency / latency(uniform 8 bits) - epsilon * energy / energy(uniform
8 bits) - penalty`: the AMED chains' target
and the score every comparison reports. One chain per latency weight `lambda` of
`[sampler] latency_weights`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amed_opt.samplers import QualityScore


if TYPE_CHECKING:
    from amed_opt.study.spec import StudySpec

__all__ = ["quality_score", "quality_scores"]


def quality_score(
    spec: StudySpec, reference_ms: float, weight: float, *, reference_uj: float | None = None
) -> QualityScore:
    """`Q` at latency weight `weight` with the study's energy weight, accuracy threshold and
    penalty slope.

    Args:
        spec: The study.
        reference_ms: Latency of the uniform 8-bit network, in milliseconds.
        weight: The latency weight `lambda`.
        reference_uj: Energy of the uniform 8-bit network in µJ; needed when the study's
            `sampler.energy_weight` is > 0.

    Raises:
        ValueError: If the study weighs energy but `reference_uj` is missing.
    """
    settings = spec.sampler
    energy = settings.energy_weight > 0
    return QualityScore(
        latency_reference=reference_ms,
        latency_weight=weight,
        accuracy_threshold=settings.accuracy_threshold or None,
        penalty_slope=settings.penalty_slope,
        energy_weight=settings.energy_weight,
        energy_reference=reference_uj if energy else None,
        energy_index=spec.objectives.index("energy_uj") if energy else 2,
    )


def quality_scores(
    spec: StudySpec, reference_ms: float, *, reference_uj: float | None = None
) -> list[QualityScore]:
    """One `Q` per chain: the study's latency weights, in order."""
    return [
        quality_score(spec, reference_ms, weight, reference_uj=reference_uj)
        for weight in spec.sampler.latency_weights
    ]
