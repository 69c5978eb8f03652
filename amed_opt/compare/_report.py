"""The comparison's written outputs: `report.md`, `comparison.json` and the PNG figures.

The Markdown report states the setup, the provenance (exact command, commit, machine, wall time),
the figures of merit per sampler, the uniform allocations, the AMED chains, and a verdict that is
derived from the numbers by fixed rules (`verdict`), never written by hand.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from amed_opt.compare._analysis import Analysis
from amed_opt.compare._analysis import SamplerSummary
from amed_opt.compare._analysis import Spread
from amed_opt.compare._plots import NAMES
from amed_opt.compare._plots import plot_allocations
from amed_opt.compare._plots import plot_best_q
from amed_opt.compare._plots import plot_chains
from amed_opt.compare._plots import plot_fronts
from amed_opt.compare._plots import plot_hypervolume
from amed_opt.hypervolume import REFERENCE
from amed_opt.runner import package_versions


if TYPE_CHECKING:
    from amed_opt.compare._plan import ComparisonPlan

REPORT_NAME = "report.md"
JSON_NAME = "comparison.json"
FIGURES = {
    "hypervolume": "hypervolume.png",
    "fronts": "fronts.png",
    "best_q": "best_q.png",
    "allocation": "allocation.png",
    "chains": "chains.png",
}


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where and how the numbers were produced.

    Attributes:
        command: The exact command line.
        git_commit: The repository commit (`-dirty` with local changes).
        machine: CPU count and model, torch threads and device, platform, package versions.
        wall_seconds: Wall time of this invocation.
        trials_run: Trials run by this invocation (all studies, uniform allocations included).
        memo_hits: Evaluations answered from the memo in this invocation.
        memo_misses: Evaluations measured in this invocation.
        generated: UTC time the report was written.
    """

    command: str
    git_commit: str
    machine: dict[str, Any]
    wall_seconds: float
    trials_run: int
    memo_hits: int
    memo_misses: int
    generated: str


def machine_description(device: str) -> dict[str, Any]:
    """CPU count and model, torch threads, the torch device, OS and package versions."""
    cpu_model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    description: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "torch_threads": torch.get_num_threads(),
        "device": device,
        "platform": platform.platform(),
        "versions": package_versions(),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        description["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return description


def now_utc() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def json_ready(value: Any) -> Any:
    """`value` as plain JSON data: dataclasses and mappings to dicts, paths to strings, enums to
    their values, NaN and infinities to `None` (strict JSON has no non-finite numbers)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_ready(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _name(sampler: str) -> str:
    return NAMES.get(sampler, sampler)


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
    lines: list[str] = []
    met = 0

    def compare(metric: str, ours: Spread, theirs: SamplerSummary, spread: Spread) -> str:
        gap = ours.mean - spread.mean
        noise = max(ours.std, spread.std)
        size = "within" if abs(gap) <= noise else "beyond"
        return (
            f"{metric}: AMED {ours.text()} against {_name(theirs.sampler)} {spread.text()} "
            f"(difference {gap:+.4f}, {size} one seed standard deviation, {noise:.4f})"
        )

    best_q_rival = max(baselines, key=lambda s: s.best_q.mean)
    wins_q = amed.best_q.mean > best_q_rival.best_q.mean
    met += wins_q
    lines.append(
        ("**Met**" if wins_q else "**Not met**")
        + " — highest best Q. "
        + compare(
            f"best Q (lambda {analysis.latency_weight:g})",
            amed.best_q,
            best_q_rival,
            best_q_rival.best_q,
        )
        + "."
    )
    hv_rival = max(baselines, key=lambda s: s.hv.mean)
    wins_hv = amed.hv.mean >= hv_rival.hv.mean
    met += wins_hv
    lines.append(
        ("**Met**" if wins_hv else "**Not met**")
        + " — hypervolume at least the best baseline's. "
        + compare("hypervolume", amed.hv, hv_rival, hv_rival.hv)
        + "."
    )
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
    dominates = bool(required) and len(always) == len(required)
    met += dominates
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
    lines.append(
        ("**Met**" if dominates else "**Not met**")
        + " — the front dominates the uniform allocations: "
        + detail
        + "."
    )
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
            + compare("best mixed Q", amed.best_mixed_q, mixed_rival, mixed_rival.best_mixed_q)
            + "."
        )
    return lines


def _diagnosis(analysis: Analysis) -> list[str]:
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


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _fmt(value: float, digits: int = 4) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}f}"


def render_report(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance, figures: Mapping[str, str]
) -> str:
    """The Markdown report."""
    spec = plan.spec
    lines = [f"# Sampler comparison: `{analysis.label}`", ""]
    lines += ["## Verdict", ""]
    lines += [f"- {line}" for line in verdict(analysis) + _diagnosis(analysis)]
    lines += [
        "",
        "## Setup",
        "",
        f"- Study `{spec.name}`: `{spec.model.arch}` on `{spec.data.dataset}` "
        f"({spec.data.validation_images} validation images score every trial), "
        f"evaluator `{spec.evaluator.mode.value}` with {spec.evaluator.steps_per_trial} QAT "
        f"steps per trial, accuracy `{spec.evaluator.accuracy_model.value}`.",
        f"- Hardware preset `{spec.hardware.preset}`; uniform 8-bit latency "
        f"{analysis.reference_latency_ms:.4f} ms.",
        f"- Budget: {plan.n_trials} finished trials per study; seeds "
        f"{', '.join(map(str, plan.seeds))} (the seed changes the sampler's seed; the network, "
        f"data split and float baseline are those of seed {spec.seed} in every study). Every "
        "study's first trial is uniform 8 bits.",
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
    lines += [f"- {_name(s.sampler)}: {s.description}" for s in analysis.samplers]
    lines += ["", "## Results", ""]
    rows = []
    for s in analysis.samplers:
        fronts = [st for st in analysis.studies if st.sampler == s.sampler]
        min_latency = min((p.latency for st in fronts for p in st.front), default=math.nan)
        dominated = ", ".join(f"{b}b:{n}" for b, n in sorted(s.uniform_dominated.items()))
        rows.append(
            [
                _name(s.sampler),
                str(len(s.seeds)),
                f"{s.hv.text()} ({_fmt(s.hv.low)}–{_fmt(s.hv.high)})",
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
            f"best Q (λ={analysis.latency_weight:g}) mean ± sd (min–max)",
            "lowest front latency",
            "uniform b-bit dominated in n seeds",
        ],
        rows,
    )
    lines += [
        "",
        f"Uniform allocations alone: hypervolume {analysis.uniform_hv:.4f}.",
        "",
        "Hypervolume at fractions of the budget (mean over seeds):",
        "",
    ]
    checkpoints = sorted({max(1, round(plan.n_trials * f)) for f in (0.25, 0.5, 0.75, 1.0)})
    rows = []
    for s in analysis.samplers:
        rows.append(
            [_name(s.sampler)]
            + [_fmt(s.hv_curve[k - 1][0]) if k <= len(s.hv_curve) else "n/a" for k in checkpoints]
        )
    lines += _table(["sampler"] + [f"{k} trials" for k in checkpoints], rows)
    lines += ["", "Best Q at each latency weight λ (mean ± sd over seeds):", ""]
    weights = [f"{w:g}" for w in analysis.weights]
    rows = [
        [_name(s.sampler)]
        + [s.best_q_by_weight[w].text() if w in s.best_q_by_weight else "n/a" for w in weights]
        for s in analysis.samplers
    ]
    lines += _table(["sampler"] + [f"λ = {w}" for w in weights], rows)

    lines += ["", "### Uniform allocations (every searched layer at b bits)", ""]
    rows = [
        [f"{bits}", _fmt(p.accuracy), _fmt(p.latency_ms), _fmt(p.latency, 3)]
        for bits, p in sorted(analysis.uniform.items())
    ]
    lines += _table(["bits", "accuracy", "latency ms", "latency / 8-bit"], rows)

    lines += ["", "### Best-Q trial of each sampler", ""]
    rows = []
    for s in analysis.samplers:
        if s.best is None:
            continue
        seed, point = s.best
        rows.append(
            [
                _name(s.sampler),
                str(seed),
                str(point.trial),
                _fmt(point.accuracy),
                _fmt(point.latency, 3),
                f"{point.mean_bits:.2f}",
                f"`{point.bits}`",
            ]
        )
    lines += _table(
        ["sampler", "seed", "trial", "accuracy", "latency / 8-bit", "mean bits", "bits"], rows
    )

    amed = [s for s in analysis.studies if s.chains]
    if amed:
        lines += ["", "### AMED chains", ""]
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
        lines += _table(
            [
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
            ],
            rows,
        )

    lines += ["", "## Figures", ""]
    for key, name in figures.items():
        lines.append(f"![{key}]({name})")
        lines.append("")

    lines += ["## Provenance", ""]
    machine = provenance.machine
    versions = machine.get("versions", {})
    lines += [
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
    ]
    total_trial = sum(s.trial_seconds for s in analysis.studies)
    total_eval = sum(s.evaluation_seconds for s in analysis.studies)
    lines += [
        f"- All counted trials, all invocations: {total_trial:.0f} s of trial time, "
        f"{total_eval:.0f} s inside the evaluator.",
        f"- Storage: `{plan.storage_url}`; generated {provenance.generated}.",
        "",
    ]
    return "\n".join(lines)


def write_outputs(
    analysis: Analysis, plan: ComparisonPlan, provenance: Provenance, out_dir: Path
) -> dict[str, Path]:
    """Write the figures, `comparison.json` and `report.md` into `out_dir`.

    Returns:
        Output name (`report`, `json` and each figure's key) to path.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "hypervolume": plot_hypervolume(analysis, out_dir / FIGURES["hypervolume"]),
        "fronts": plot_fronts(analysis, out_dir / FIGURES["fronts"]),
        "best_q": plot_best_q(analysis, out_dir / FIGURES["best_q"]),
        "allocation": plot_allocations(analysis, out_dir / FIGURES["allocation"]),
    }
    if any(s.chains for s in analysis.studies):
        paths["chains"] = plot_chains(analysis, out_dir / FIGURES["chains"])
    figures = {key: path.name for key, path in paths.items()}

    document = {
        "plan": {
            "label": plan.label,
            "study": plan.spec.to_dict(),
            "samplers": [s.value for s in plan.samplers],
            "seeds": list(plan.seeds),
            "n_trials": plan.n_trials,
            "storage_url": plan.storage_url,
            "latency_weight": plan.latency_weight,
        },
        "hypervolume_reference": {"accuracy": REFERENCE.accuracy, "latency": REFERENCE.latency},
        "provenance": json_ready(provenance),
        "verdict": verdict(analysis),
        "analysis": json_ready(analysis),
        "figures": figures,
    }
    json_path = out_dir / JSON_NAME
    _atomic_write(json_path, json.dumps(document, indent=1, allow_nan=False) + "\n")
    report_path = out_dir / REPORT_NAME
    _atomic_write(report_path, render_report(analysis, plan, provenance, figures))
    return {"report": report_path, "json": json_path, **paths}


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
