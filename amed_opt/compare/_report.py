"""`report.md`: the comparison in Markdown, one section after another.

The report states the verdict (`_verdict`), the setup, the figures of merit per sampler, the
uniform allocations and which trials dominate them (paired with them on the same images), each
sampler's best trial (paired with AMED's), the AMED chains, the figures and the provenance
(exact command, commit, machine, wall time). Every number comes from the `Analysis`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from amed_opt.compare._plan import display_name
from amed_opt.compare._seeds import describe_seeds
from amed_opt.compare._types import NO_IMAGES
from amed_opt.compare._types import ON_ACCURACY
from amed_opt.compare._types import ON_COST
from amed_opt.compare._types import WITHIN_NOISE
from amed_opt.compare._types import accuracy_se
from amed_opt.compare._verdict import diagnosis
from amed_opt.compare._verdict import verdict
from amed_opt.evaluation.synthetic import JITTER
from amed_opt.study.hypervolume import REFERENCE
from amed_opt.study.paired import SIGNIFICANCE
from amed_opt.study.spec import AccuracyModel
from amed_opt.study.spec import ChainStart
from amed_opt.study.urls import redact_url


if TYPE_CHECKING:
    from amed_opt.compare._plan import ComparisonPlan
    from amed_opt.compare._provenance import Provenance
    from amed_opt.compare._types import Analysis
    from amed_opt.compare._types import Domination
    from amed_opt.study.paired import McNemar


def render_report(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance, figures: Mapping[str, str]
) -> str:
    """The Markdown report; `figures` maps each figure's key to its file name."""
    lines = [f"# Sampler comparison: `{analysis.label}`", ""]
    lines += ["## Verdict", ""]
    lines += [f"- {line}" for line in verdict(analysis) + diagnosis(analysis)]
    lines += _setup(analysis, plan)
    lines += _results(analysis, plan)
    lines += _uniform(analysis)
    lines += _dominations(analysis)
    lines += _best_trials(analysis)
    lines += _chains(analysis)
    lines += ["", "## Figures", ""]
    for key, name in figures.items():
        lines.append(f"![{key}]({name})")
        lines.append("")
    lines += _provenance(analysis, plan, provenance)
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _fmt(value: float, digits: int = 4) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}f}"


def _setup(analysis: Analysis, plan: ComparisonPlan) -> list[str]:
    spec = plan.spec
    lines = [
        "",
        "## Setup",
        "",
        f"- Study `{spec.name}`: `{spec.model.arch}` on `{spec.data.dataset}` "
        + (
            "(no images: SYNTHETIC accuracy), "
            if spec.evaluator.accuracy_model is AccuracyModel.SYNTHETIC
            else f"({spec.data.validation_images} validation images score every trial), "
        )
        + f"evaluator `{spec.evaluator.mode.value}` with {spec.evaluator.steps_per_trial} QAT "
        f"steps per trial, accuracy `{spec.evaluator.accuracy_model.value}`.",
        f"- Hardware preset `{spec.hardware.preset}`; uniform 8-bit latency "
        f"{analysis.reference_latency_ms:.4f} ms.",
        f"- Budget: {plan.n_trials} finished trials per study; seeds "
        f"{', '.join(map(str, plan.seeds))} (the seed changes the sampler's seed; the network, "
        f"data split and float baseline are those of seed {spec.seed} in every study). Every "
        "study's first trial is uniform 8 bits.",
        f"- Seeds: {describe_seeds(plan.seeds)}.",
        "- Warm start: "
        + (
            "`ladder` — every sampler's first trials are the uniform allocations from the "
            "highest bitwidth down to the lowest, counted in its budget (AMED's chains start "
            + (
                "from the best of them and of the latency midpoints between neighbours that "
                "AMED evaluates next, `best-bridged`"
                if spec.sampler.start is ChainStart.BEST_BRIDGED
                else "from the best of them, of one probe per layer and of the allocations a "
                "separable model of those results chooses, which AMED evaluates next, `probed`"
                if spec.sampler.start is ChainStart.PROBED
                else "from the best of them"
            )
            + "; the baselines get them enqueued)."
            if plan.warm_start == "ladder"
            else "`none` — only uniform 8 bits is given to every sampler; AMED starts as its "
            f"study says (`{spec.sampler.start.value}`)."
        ),
        _noise_text(analysis) + " Two allocations measured on the same images are also paired "
        "(McNemar's exact test on the images only one of them got right, where the trials "
        "stored their per-image results): a domination of a uniform allocation that rests on "
        "an accuracy gain not significant at 0.05, and not on a strictly lower cost, is within "
        "noise.",
        f"- Hypervolume of (accuracy, latency / 8-bit latency), reference point accuracy "
        f"{REFERENCE.accuracy:g}, latency {REFERENCE.latency:g} (= uniform 8 bits): the best "
        "accuracy within a latency budget, averaged over budgets from 0 to the 8-bit latency.",
        "- Q = accuracy - lambda * latency / 8-bit latency"
        + (
            f" - {analysis.q_slope:g} * max(0, {analysis.q_threshold:g} - accuracy)"
            if analysis.q_threshold is not None
            else ""
        )
        + f"; headline lambda = {analysis.latency_weight:g}.",
        "",
        "Samplers:",
        "",
    ]
    return lines + [f"- {display_name(s.sampler)}: {s.description}" for s in analysis.samplers]


def _noise_text(analysis: Analysis) -> str:
    if analysis.validation_images <= 0:
        return (
            "- Noise: the accuracy is not measured on images (the SYNTHETIC model carries a "
            f"deterministic evaluation noise of at most ±{JITTER:g} per allocation), so there "
            "is no binomial standard error (± SE: n/a) and differences are judged against the "
            "seed spread alone; what a search can reach beyond that noise: "
            "`benchmarks/reachable_front.py`."
        )
    return (
        f"- Noise: accuracy is measured on {analysis.validation_images} validation images, so "
        "its binomial standard error sqrt(p (1 - p) / n) is "
        f"{_points(_se_at_8_bits(analysis))} points at the 8-bit accuracy (column ± SE below). "
        "A difference smaller than the combined standard error or the seed spread is reported "
        "as within noise."
    )


def _se_at_8_bits(analysis: Analysis) -> float:
    top = analysis.uniform.get(max(analysis.uniform, default=0))
    return accuracy_se(top.accuracy if top else math.nan, analysis.validation_images)


def _points(se: float) -> str:
    return "n/a" if not math.isfinite(se) else f"{100 * se:.2f}"


def _paired(analysis: Analysis) -> list[str]:
    rows = []
    for s in analysis.samplers:
        pair = s.versus_amed
        if pair is None or not pair.seeds:
            continue
        rows.append(
            [
                display_name(s.sampler),
                ", ".join(map(str, pair.seeds)),
                ", ".join(f"{d:+.4f}" for d in pair.hv),
                pair.hv_spread.text(),
                ", ".join(f"{d:+.4f}" for d in pair.best_q),
                pair.best_q_spread.text(),
            ]
        )
    if not rows:
        return []
    header = [
        "sampler",
        "seeds",
        "AMED − sampler: HV per seed",
        "HV mean ± sd",
        "best Q per seed",
        "best Q mean ± sd",
    ]
    return [
        "",
        "Paired with AMED seed by seed (positive: AMED ahead):",
        "",
        *_table(header, rows),
    ]


def _results(analysis: Analysis, plan: ComparisonPlan) -> list[str]:
    lines = ["", "## Results", ""]
    rows = []
    for s in analysis.samplers:
        fronts = [st for st in analysis.studies if st.sampler == s.sampler]
        min_latency = min((p.latency for st in fronts for p in st.front), default=math.nan)
        dominated = ", ".join(f"{b}b:{n}" for b, n in sorted(s.uniform_dominated.items()))
        rows.append(
            [
                display_name(s.sampler),
                str(len(s.seeds)),
                f"{s.hv.text()} ({_fmt(s.hv.low)}–{_fmt(s.hv.high)})",
                s.hv_gain.text(),
                f"{s.best_q.text()} ({_fmt(s.best_q.low)}–{_fmt(s.best_q.high)})",
                _fmt(min_latency, 3),
                dominated or "n/a",
            ]
        )
    lines += _table(
        [
            "sampler",
            "seeds",
            "hypervolume mean ± sd (min–max)",
            "HV gain over uniform-only",
            f"best Q (λ={analysis.latency_weight:g}) mean ± sd (min–max)",
            "lowest front latency",
            "uniform b-bit dominated in n seeds",
        ],
        rows,
    )
    lines += [
        "",
        f"Uniform allocations alone: hypervolume {analysis.uniform_hv:.4f}.",
        *_paired(analysis),
        "",
        "Hypervolume at fractions of the budget (mean over seeds):",
        "",
    ]
    checkpoints = sorted({max(1, round(plan.n_trials * f)) for f in (0.25, 0.5, 0.75, 1.0)})
    rows = [
        [display_name(s.sampler)]
        + [_fmt(s.hv_curve[k - 1][0]) if k <= len(s.hv_curve) else "n/a" for k in checkpoints]
        for s in analysis.samplers
    ]
    lines += _table(["sampler"] + [f"{k} trials" for k in checkpoints], rows)
    lines += ["", "Best Q at each latency weight λ (mean ± sd over seeds):", ""]
    weights = [f"{w:g}" for w in analysis.weights]
    rows = [
        [display_name(s.sampler)]
        + [s.best_q_by_weight[w].text() if w in s.best_q_by_weight else "n/a" for w in weights]
        for s in analysis.samplers
    ]
    return lines + _table(["sampler"] + [f"λ = {w}" for w in weights], rows)


def _uniform(analysis: Analysis) -> list[str]:
    lines = ["", "### Uniform allocations (every searched layer at b bits)", ""]
    n = analysis.validation_images
    rows = [
        [
            f"{bits}",
            _fmt(p.accuracy),
            _fmt(accuracy_se(p.accuracy, n)),
            _fmt(p.latency_ms),
            _fmt(p.latency, 3),
        ]
        for bits, p in sorted(analysis.uniform.items())
    ]
    return lines + _table(["bits", "accuracy", "± SE", "latency ms", "latency / 8-bit"], rows)


_BASIS_TEXT = {
    ON_ACCURACY: f"rests on accuracy (p < {SIGNIFICANCE:g})",
    ON_COST: "rests on a lower cost",
    WITHIN_NOISE: "**within noise**",
    NO_IMAGES: "no per-image data",
}


def _test_text(test: McNemar | None) -> str:
    return "no per-image data" if test is None else test.text()


def _domination_text(seed: int, d: Domination) -> str:
    gain = f"trial {d.trial}: {100 * d.accuracy_gain:+.2f} points"
    if d.test is not None:
        gain += f" (b {d.test.b}, c {d.test.c}, p {d.test.p_value:.3g})"
    return f"seed {seed}: {gain}, latency ×{d.latency_ratio:.3f}, {_BASIS_TEXT[d.basis]}"


def _dominations(analysis: Analysis) -> list[str]:
    rows = []
    for s in analysis.samplers:
        studies = [st for st in analysis.studies if st.sampler == s.sampler]
        for bits in sorted({d.uniform_bits for st in studies for d in st.dominations}):
            found = [
                (st.seed, d) for st in studies for d in st.dominations if d.uniform_bits == bits
            ]
            if found:
                rows.append(
                    [
                        display_name(s.sampler),
                        f"{bits}",
                        f"{len(found)} of {len(studies)}",
                        "; ".join(_domination_text(seed, d) for seed, d in found),
                    ]
                )
    if not rows:
        return []
    return [
        "",
        "### Uniform allocations dominated, paired on the same images",
        "",
        "Per seed, the trial that dominates the uniform allocation most firmly: its accuracy "
        "minus the uniform allocation's, McNemar's counts (b: images right only under the "
        "trial, c: only under the uniform allocation) and exact two-sided p-value, its latency "
        "over the uniform allocation's, and what the domination rests on — an accuracy gain "
        f"significant at {SIGNIFICANCE:g}, a strictly lower cost (latency or energy: computed, "
        "not measured) with an accuracy gain within noise, or an accuracy gain within noise "
        "alone.",
        "",
        *_table(["sampler", "uniform bits", "seeds", "dominating trial per seed"], rows),
    ]


def _best_trials(analysis: Analysis) -> list[str]:
    lines = ["", "### Best-Q trial of each sampler", ""]
    rows = []
    amed = analysis.sampler("amed")
    for s in analysis.samplers:
        if s.best is None:
            continue
        seed, point = s.best
        paired = "—"
        if amed is not None and amed.best is not None and s is not amed:
            paired = _test_text(s.best_versus_amed)
        rows.append(
            [
                display_name(s.sampler),
                str(seed),
                str(point.trial),
                _fmt(point.accuracy),
                _fmt(accuracy_se(point.accuracy, analysis.validation_images)),
                _fmt(point.latency, 3),
                f"{point.mean_bits:.2f}",
                f"`{point.bits}`",
                paired,
            ]
        )
    header = ["sampler", "seed", "trial", "accuracy", "± SE", "latency / 8-bit", "mean bits"]
    header += ["bits", "AMED's accuracy minus this one's, paired on the images"]
    return lines + _table(header, rows)


def _chains(analysis: Analysis) -> list[str]:
    amed = [s for s in analysis.studies if s.chains]
    if not amed:
        return []
    rows = []
    for study in amed:
        for c in study.chains:
            last = c.trace[-1] if c.trace else None
            rows.append(
                [
                    str(study.seed),
                    str(c.chain),
                    f"{c.latency_weight:g}",
                    f"{c.temperatures[0]:g} → {c.temperatures[1]:g}",
                    str(c.moves),
                    str(c.accepted),
                    _fmt(c.acceptance_rate, 2),
                    _fmt(c.mean_alpha, 2),
                    _fmt(last[2]) if last else "n/a",
                    _fmt(last[3], 3) if last else "n/a",
                    f"{last[4]:.2f}" if last else "n/a",
                ]
            )
    header = [
        "seed",
        "chain",
        "λ",
        "T first → last",
        "moves",
        "accepted",
        "acceptance",
        "mean α",
        "head accuracy",
        "head latency",
        "head mean bits",
    ]
    return ["", "### AMED chains", "", *_table(header, rows)]


def _provenance(analysis: Analysis, plan: ComparisonPlan, provenance: Provenance) -> list[str]:
    machine = provenance.machine
    versions = machine.get("versions", {})
    total_trial = sum(s.trial_seconds for s in analysis.studies)
    total_eval = sum(s.evaluation_seconds for s in analysis.studies)
    return [
        "## Provenance",
        "",
        f"- Command: `{provenance.command}`",
        f"- Commit: `{provenance.git_commit}`",
        f"- Machine: {machine.get('cpu_count')} CPUs ({machine.get('cpu_model')}), torch "
        f"{machine.get('torch_threads')} threads, device `{machine.get('device')}`"
        + (f" ({machine['gpu']})" if "gpu" in machine else "")
        + f"; {machine.get('platform')}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"- This invocation: {provenance.wall_seconds:.0f} s wall, {provenance.trials_run} "
        f"trials run, {provenance.memo_misses} allocations measured and {provenance.memo_hits} "
        "answered from the memo (fresh trials are deterministic in their allocation).",
        f"- All counted trials, all invocations: {total_trial:.0f} s of trial time, "
        f"{total_eval:.0f} s inside the evaluator.",
        f"- Storage: `{redact_url(plan.storage_url)}`; generated {provenance.generated}.",
        "",
    ]
