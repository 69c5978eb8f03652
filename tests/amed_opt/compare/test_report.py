"""`render_report` on a hand-made analysis: sections in order, tables, missing values, the score
with and without a penalty, the chains table and the provenance."""

from __future__ import annotations

import dataclasses

from amed_opt.compare import Provenance
from amed_opt.compare._plan import ComparisonPlan
from amed_opt.compare._report import render_report
from amed_opt.compare._types import Analysis
from amed_opt.compare._types import Domination
from amed_opt.compare._types import Paired
from amed_opt.compare._types import Point
from amed_opt.compare._types import Spread
from amed_opt.study.paired import McNemar
from amed_opt.study.spec import ChainStart


def test_sections_come_in_order_with_the_verdict_first(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance
) -> None:
    report = render_report(analysis, plan, provenance, {"fronts": "fronts.png"})
    assert report.startswith("# Sampler comparison: `synthetic-r18`\n\n## Verdict\n\n- ")
    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert headings[1:] == [
        "## Verdict",
        "## Setup",
        "## Results",
        "### Uniform allocations (every searched layer at b bits)",
        "### Best-Q trial of each sampler",
        "### AMED chains",
        "## Figures",
        "## Provenance",
    ]
    assert "- AMED (MH): amed settings\n- TPE: tpe settings" in report
    assert "![fronts](fronts.png)" in report


def test_tables_show_every_sampler_and_n_a_for_what_is_missing(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance
) -> None:
    lines = render_report(analysis, plan, provenance, {}).splitlines()
    header = lines.index(
        "| sampler | seeds | hypervolume mean ± sd (min–max) | HV gain over uniform-only "
        "| best Q (λ=1) mean ± sd (min–max) | lowest front latency "
        "| uniform b-bit dominated in n seeds |"
    )
    assert lines[header + 2] == (
        "| AMED (MH) | 1 | 0.6000 ± 0.0100 (0.5900–0.6100) | nan ± nan "
        "| 0.5000 ± 0.0100 (0.4900–0.5100) | 0.600 | 8b:3 |"
    )
    assert (
        "| TPE | 0 | nan ± nan (n/a–n/a) | nan ± nan | nan ± nan (n/a–n/a) | n/a | n/a |" in lines
    )
    # Budget 10: hypervolume at 2, 5, 8 and 10 trials; AMED has 6 so far.
    assert "| sampler | 2 trials | 5 trials | 8 trials | 10 trials |" in lines
    assert "| AMED (MH) | 0.2000 | 0.5000 | n/a | n/a |" in lines
    assert "| AMED (MH) | 0.7000 ± 0.0000 | n/a |" in lines  # best Q at lambda 0.5 and 1
    assert "| 8 | 0.9000 | n/a | 2.0000 | 1.000 |" in lines  # no image count: no standard error
    assert "| AMED (MH) | 0 | 7 | 0.8800 | n/a | 0.600 | 5.00 | `8 4 6 8` | — |" in lines
    assert "| 0 | 1 | 2 | 0.02 → 0.01 | 4 | 1 | 0.25 | 0.25 | 0.8800 | 0.600 | 5.00 |" in lines


def test_noise_seeds_warm_start_and_the_pairing_with_amed_are_reported(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance
) -> None:
    amed = analysis.samplers[0]
    pair = Paired(
        seeds=[0, 1],
        hv=[0.01, 0.03],
        best_q=[-0.002, 0.004],
        hv_spread=Spread.of([0.01, 0.03]),
        best_q_spread=Spread.of([-0.002, 0.004]),
    )
    tpe = dataclasses.replace(amed, sampler="tpe", versus_amed=pair)
    gained = dataclasses.replace(amed, hv_gain=Spread.of([0.05, 0.07]))
    noisy = dataclasses.replace(analysis, validation_images=2000, samplers=[gained, tpe])
    lines = render_report(noisy, plan, provenance, {}).splitlines()
    assert any(
        line.startswith("- Noise: accuracy is measured on 2000 validation images")
        for line in lines
    )
    assert "0.67 points at the 8-bit accuracy" in "\n".join(lines)  # sqrt(0.9 * 0.1 / 2000)
    # the plan's study is synthetic: no images, so the report says so where it would count them
    assert "(no images: SYNTHETIC accuracy)" in "\n".join(lines)
    synthetic = render_report(analysis, plan, provenance, {})
    assert "- Noise: the accuracy is not measured on images (the SYNTHETIC model carries a " in (
        synthetic
    )
    assert "at most ±0.002 per allocation" in synthetic
    assert "| 8 | 0.9000 | 0.0067 | 2.0000 | 1.000 |" in lines
    assert any("| 0.0600 ± 0.0141 |" in line for line in lines if line.startswith("| AMED"))
    assert (
        "| TPE | 0, 1 | +0.0100, +0.0300 | 0.0200 ± 0.0141 | -0.0020, +0.0040 | 0.0010 ± 0.0042 |"
        in lines
    )
    assert any("seeds 0 are tuning seeds (< 100)" in line for line in lines)
    assert any(line.startswith("- Warm start: `ladder`") for line in lines)
    reporting = dataclasses.replace(plan, seeds=(100, 101), warm_start="none")
    text = render_report(noisy, reporting, provenance, {})
    assert "seeds 100, 101 are reporting seeds (>= 100): no setting was chosen on them" in text
    assert "- Warm start: `none`" in text
    assert "midpoints" not in render_report(noisy, plan, provenance, {})
    bridged_sampler = dataclasses.replace(plan.spec.sampler, start=ChainStart.BEST_BRIDGED)
    bridged = dataclasses.replace(
        plan, spec=dataclasses.replace(plan.spec, sampler=bridged_sampler)
    )
    assert "latency midpoints between neighbours" in render_report(noisy, bridged, provenance, {})
    probed_sampler = dataclasses.replace(plan.spec.sampler, start=ChainStart.PROBED)
    probed = dataclasses.replace(plan, spec=dataclasses.replace(plan.spec, sampler=probed_sampler))
    assert "one probe per layer" in render_report(noisy, probed, provenance, {})


def test_setup_states_the_score_with_its_penalty_only_when_there_is_one(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance
) -> None:
    plain = render_report(analysis, plan, provenance, {})
    assert "- Q = accuracy - lambda * latency / 8-bit latency; headline lambda = 1." in plain
    assert "uniform 8-bit latency 2.0000 ms" in plain and "seeds 0 (" in plain
    strict = dataclasses.replace(analysis, q_threshold=0.85, q_slope=5.0, latency_weight=0.5)
    text = render_report(strict, plan, provenance, {})
    assert "- 5 * max(0, 0.85 - accuracy); headline lambda = 0.5." in text


def test_provenance_names_command_commit_machine_and_time(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance
) -> None:
    report = render_report(analysis, plan, provenance, {})
    tail = report[report.index("## Provenance") :]
    assert "- Command: `python -m amed_opt.compare --study x`" in tail
    assert "- Commit: `abc123-dirty`" in tail
    assert "2 CPUs (EPYC), torch 2 threads, device `cuda` (H200); Linux" in tail
    assert "- Versions: optuna 5.0.0, torch 2.5" in tail
    assert "12 s wall, 28 trials run, 24 allocations measured and 4 answered" in tail
    assert "30 s of trial time, 12 s inside the evaluator" in tail
    storage = f"- Storage: `{plan.storage_url}`; generated 2025-01-01T00:00:00+00:00.\n"
    assert tail.endswith(storage)


def test_no_chains_table_without_amed_chains(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance
) -> None:
    without = dataclasses.replace(
        analysis, studies=[dataclasses.replace(analysis.studies[0], chains=[])]
    )
    assert "### AMED chains" not in render_report(without, plan, provenance, {})


def test_dominations_are_tabled_with_their_paired_test_or_the_lack_of_one(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance
) -> None:
    test = McNemar(b=1, c=0, n=64, p_value=1.0)
    dominations = [
        Domination(4, 3, 6 / 64, 0.9, McNemar(b=6, c=0, n=64, p_value=0.03125), "accuracy"),
        Domination(6, 5, 1 / 64, 0.95, test, "cost"),
        Domination(7, 5, 1 / 64, 1.0, test, "within noise"),
        Domination(8, 2, 0.0, 0.5, None, "no per-image data"),
    ]
    study = dataclasses.replace(analysis.studies[0], dominations=dominations)
    paired = dataclasses.replace(analysis, studies=[study])
    report = render_report(paired, plan, provenance, {})
    assert "### Uniform allocations dominated, paired on the same images" in report
    lines = report.splitlines()
    assert (
        "| AMED (MH) | 4 | 1 of 1 | seed 0: trial 3: +9.38 points (b 6, c 0, p 0.0312), "
        "latency ×0.900, rests on accuracy (p < 0.05) |" in lines
    )
    assert "latency ×0.950, rests on a lower cost |" in report
    assert "latency ×1.000, **within noise** |" in report
    assert (
        "| AMED (MH) | 8 | 1 of 1 | seed 0: trial 2: +0.00 points, latency ×0.500, no " in report
    )
    # Against AMED's best trial: the paired test, or why there is none.
    tpe = dataclasses.replace(
        analysis.samplers[1], best=(0, Point(1, 0.8, 1.0, 0.5, "8 5 5 8")), best_versus_amed=test
    )
    rows = render_report(dataclasses.replace(paired, samplers=[analysis.samplers[0], tpe]), plan,
                         provenance, {})  # fmt: skip
    assert "| `8 5 5 8` | +1.56 points (b 1, c 0, McNemar p = 1) |" in rows
    untested = dataclasses.replace(tpe, best_versus_amed=None)
    rows = render_report(dataclasses.replace(paired, samplers=[analysis.samplers[0], untested]),
                         plan, provenance, {})  # fmt: skip
    assert "| `8 5 5 8` | no per-image data |" in rows
