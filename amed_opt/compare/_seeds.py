"""Tuning seeds and reporting seeds: settings are chosen on the first, claims made on the second.

A comparison's seeds are sampler seeds (the network, data and baseline are the study's own, see
`ComparisonPlan.study_spec`). Seeds below `REPORTING_SEEDS_FROM` are *tuning* seeds: sweeps of
the AMED settings (`benchmarks/amed_settings.py`) may run on them and only on them. Seeds from
`REPORTING_SEEDS_FROM` on are *reporting* seeds: no setting may be chosen on them, so a result
measured on them was not fitted to them. `python -m amed_opt.compare --first-seed 100` runs on
reporting seeds; the report says which kind its seeds are.
"""

from __future__ import annotations

from collections.abc import Sequence

from amed_opt.study.spec import SpecError


REPORTING_SEEDS_FROM = 100
"""The first reporting seed: seeds 0..99 are for tuning, seeds >= 100 for reporting."""


def seed_kind(seed: int) -> str:
    """`"reporting"` for a seed >= `REPORTING_SEEDS_FROM`, else `"tuning"`."""
    return "reporting" if seed >= REPORTING_SEEDS_FROM else "tuning"


def describe_seeds(seeds: Sequence[int]) -> str:
    """What the seeds may be used for, in words, for the report."""
    kinds = {seed_kind(seed) for seed in seeds}
    listed = ", ".join(map(str, seeds))
    if kinds == {"reporting"}:
        return (
            f"seeds {listed} are reporting seeds (>= {REPORTING_SEEDS_FROM}): no setting was "
            "chosen on them"
        )
    if kinds == {"tuning"}:
        return (
            f"seeds {listed} are tuning seeds (< {REPORTING_SEEDS_FROM}): settings may have been "
            f"chosen on them; report results on seeds >= {REPORTING_SEEDS_FROM} (--first-seed)"
        )
    return (
        f"seeds {listed} mix tuning (< {REPORTING_SEEDS_FROM}) and reporting seeds; only the "
        "reporting ones support a claim"
    )


def check_tuning_seeds(seeds: Sequence[int]) -> None:
    """Refuse to tune on reporting seeds.

    Raises:
        SpecError: If any seed is a reporting seed.
    """
    reporting = [seed for seed in seeds if seed_kind(seed) == "reporting"]
    if reporting:
        raise SpecError(
            f"seeds {', '.join(map(str, reporting))} are reporting seeds (>= "
            f"{REPORTING_SEEDS_FROM}); a settings sweep tunes on seeds below "
            f"{REPORTING_SEEDS_FROM} only"
        )
