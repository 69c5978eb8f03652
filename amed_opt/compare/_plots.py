"""The comparison's figures, drawn with matplotlib's Agg backend (no display needed).

Each function takes an `Analysis` and a path, writes one PNG and returns the path:
hypervolume and best `Q` against trials (mean over seeds, min-max band), the final fronts with the
uniform allocations, the per-layer allocation of chosen trials (as the AMED paper's Figure S5
shows them), and the AMED chains' traces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from amed_opt.compare._plan import display_name  # noqa: E402
from amed_opt.study.bits import weight_bits_of  # noqa: E402
from amed_opt.study.files import atomic_write  # noqa: E402


if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from amed_opt.compare._types import Analysis
    from amed_opt.compare._types import Point

COLOURS = {
    "amed": "#d62728",
    "tpe": "#1f77b4",
    "nsga2": "#2ca02c",
    "random": "#7f7f7f",
    "greedy": "#9467bd",
}
DPI = 110


def _colour(sampler: str) -> str:
    return COLOURS.get(sampler, "#9467bd")


def _save(figure: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # The format is named: the temporary file's suffix is not the figure's.
        atomic_write(
            path,
            lambda partial: figure.savefig(
                partial, dpi=DPI, bbox_inches="tight", format=path.suffix.lstrip(".") or "png"
            ),
        )
    finally:
        plt.close(figure)
    return path


def _band(axes: Axes, curve: Sequence[Sequence[float]], sampler: str, label: str) -> None:
    trials = list(range(1, len(curve) + 1))
    mean = [row[0] for row in curve]
    axes.plot(trials, mean, color=_colour(sampler), label=label, linewidth=1.6)
    axes.fill_between(
        trials,
        [row[1] for row in curve],
        [row[2] for row in curve],
        color=_colour(sampler),
        alpha=0.18,
        linewidth=0,
    )


def plot_hypervolume(analysis: Analysis, path: Path) -> Path:
    """Hypervolume against finished trials: mean over seeds, min-max band."""
    figure, axes = plt.subplots(figsize=(7, 4.2))
    for summary in analysis.samplers:
        if summary.hv_curve:
            label = f"{display_name(summary.sampler)} ({summary.hv.text()})"
            _band(axes, summary.hv_curve, summary.sampler, label)
    if analysis.uniform:
        axes.axhline(
            analysis.uniform_hv,
            color="black",
            linestyle=":",
            linewidth=1,
            label=f"uniform 2..8 bits ({analysis.uniform_hv:.4f})",
        )
    axes.set_xlabel("finished trials")
    axes.set_ylabel("hypervolume (accuracy x latency saved)")
    axes.set_title(f"{analysis.label}: hypervolume, mean and min-max over seeds")
    finals = [s.hv.high for s in analysis.samplers if math.isfinite(s.hv.high)]
    if finals:
        top = max(finals + [analysis.uniform_hv])
        axes.set_ylim(max(0.0, top - 0.25 * max(top, 1e-9) - 0.05), top * 1.02 + 1e-3)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    return _save(figure, path)


def plot_best_q(analysis: Analysis, path: Path) -> Path:
    """Best `Q` (report `lambda`) against finished trials: mean over seeds, min-max band."""
    figure, axes = plt.subplots(figsize=(7, 4.2))
    lows: list[float] = []
    for summary in analysis.samplers:
        curve = summary.q_curve
        if curve:
            label = f"{display_name(summary.sampler)} ({summary.best_q.text()})"
            _band(axes, curve, summary.sampler, label)
            lows.extend(row[1] for row in curve[len(curve) // 10 :] if math.isfinite(row[1]))
    weight = analysis.latency_weight
    score = analysis.score()
    uniform_q = [score(p.objectives) for p in analysis.uniform.values()]
    if uniform_q:
        axes.axhline(
            max(uniform_q),
            color="black",
            linestyle=":",
            linewidth=1,
            label=f"best uniform ({max(uniform_q):.4f})",
        )
        lows.append(max(uniform_q))
    if lows:
        axes.set_ylim(bottom=min(lows) - 0.02)
    axes.set_xlabel("finished trials")
    axes.set_ylabel(f"best Q (lambda = {weight:g})")
    axes.set_title(f"{analysis.label}: best quality score, mean and min-max over seeds")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    return _save(figure, path)


def _steps(front: Sequence[Point]) -> tuple[list[float], list[float]]:
    xs: list[float] = []
    ys: list[float] = []
    for point in front:
        if xs:
            xs.append(point.latency)
            ys.append(ys[-1])
        xs.append(point.latency)
        ys.append(point.accuracy)
    return xs, ys


def plot_fronts(analysis: Analysis, path: Path) -> Path:
    """Final Pareto fronts of every sampler and seed, with the uniform allocations.

    Left: the whole plane; right: zoomed on the accuracies within 5 points of uniform 8 bits.
    """
    figure, panels = plt.subplots(1, 2, figsize=(12, 4.6))
    eight = analysis.uniform.get(8)
    first_seed: dict[str, int] = {}
    for summary in analysis.studies:
        first_seed.setdefault(summary.sampler, summary.seed)
    for zoom, axes in enumerate(panels):
        for summary in analysis.studies:
            xs, ys = _steps(summary.front)
            first = summary.seed == first_seed[summary.sampler]
            axes.plot(
                xs,
                ys,
                color=_colour(summary.sampler),
                alpha=0.75,
                linewidth=1.1,
                marker=".",
                markersize=3,
                label=display_name(summary.sampler) if first else None,
            )
        if analysis.uniform:
            uniform = sorted(analysis.uniform.items())
            axes.plot(
                [p.latency for _, p in uniform],
                [p.accuracy for _, p in uniform],
                "ks--",
                markersize=5,
                linewidth=0.8,
                label="uniform (all layers b bits)",
            )
            for bits, point in uniform:
                axes.annotate(
                    f"{bits}b",
                    (point.latency, point.accuracy),
                    textcoords="offset points",
                    xytext=(4, -10),
                    fontsize=7,
                )
        axes.set_xlabel("latency / uniform 8-bit latency")
        axes.set_ylabel("validation accuracy")
        axes.grid(alpha=0.3)
        if zoom and eight is not None:
            axes.set_ylim(eight.accuracy - 0.05, eight.accuracy + 0.01)
            axes.set_title("zoom: within 5 points of 8-bit accuracy")
        else:
            axes.set_title(f"{analysis.label}: final Pareto fronts (each seed)")
            axes.legend(fontsize=8, loc="lower right")
    return _save(figure, path)


def plot_allocations(analysis: Analysis, path: Path) -> Path:
    """Per-layer weight bits of each sampler's best-`Q` trial (over seeds), as Figure S5."""
    chosen = [(s.sampler, s.best) for s in analysis.samplers if s.best is not None]
    names = [layer["name"] for layer in analysis.layers]
    count = max((len(best[1].bits.split()) for _, best in chosen if best), default=0)
    if len(names) != count:
        names = [str(i) for i in range(count)]
    figure, axes = plt.subplots(figsize=(max(8, 0.22 * count + 3), 4.6))
    width = 0.8 / max(1, len(chosen))
    for slot, (sampler, best) in enumerate(chosen):
        assert best is not None
        seed, point = best
        bits = weight_bits_of(point.bits)
        xs = [i + (slot - (len(chosen) - 1) / 2) * width for i in range(len(bits))]
        axes.bar(
            xs,
            bits,
            width=width,
            color=_colour(sampler),
            label=(
                f"{display_name(sampler)} seed {seed}, trial {point.trial}: "
                f"acc {point.accuracy:.4f}, latency {point.latency:.3f}"
            ),
        )
    for index, layer in enumerate(analysis.layers[:count]):
        bound = layer.get("memory_bound", {}).get("8")
        if layer.get("depthwise"):
            axes.axvspan(index - 0.45, index + 0.45, color="#ffdd99", alpha=0.5, linewidth=0)
        elif bound:
            axes.axvspan(index - 0.45, index + 0.45, color="#dddddd", alpha=0.5, linewidth=0)
    axes.set_xticks(range(count))
    axes.set_xticklabels(names, rotation=90, fontsize=6)
    axes.set_ylabel("weight (= activation) bits")
    axes.set_ylim(0, 8.8)
    axes.set_title(
        f"{analysis.label}: allocation of each sampler's best-Q trial "
        f"(lambda = {analysis.latency_weight:g}); grey: memory-bound at 8 bits, "
        "orange: depthwise"
    )
    axes.legend(fontsize=7, loc="lower left")
    return _save(figure, path)


def plot_chains(analysis: Analysis, path: Path) -> Path:
    """AMED chains: head accuracy, head latency and head mean bits against the chain step."""
    figure, panels = plt.subplots(3, 1, figsize=(8, 8.5), sharex=True)
    cmap = plt.get_cmap("viridis")
    amed = [s for s in analysis.studies if s.chains]
    weights = sorted({c.latency_weight for s in amed for c in s.chains})
    styles = ["-", "--", ":", "-."]
    for summary in amed:
        style = styles[summary.seed % len(styles)]
        for chain in summary.chains:
            if not chain.trace:
                continue
            shade = weights.index(chain.latency_weight) / max(1, len(weights) - 1)
            steps = [row[0] for row in chain.trace]
            label = None
            if summary is amed[0]:
                label = f"lambda {chain.latency_weight:g}"
            for axes, column in zip(panels, (2, 3, 4), strict=True):
                axes.plot(
                    steps,
                    [row[column] for row in chain.trace],
                    style,
                    color=cmap(shade),
                    linewidth=1.1,
                    label=label if column == 2 else None,
                )
    panels[0].set_ylabel("head accuracy")
    panels[1].set_ylabel("head latency / 8-bit")
    panels[2].set_ylabel("head mean weight bits")
    panels[2].set_xlabel("chain step (line style: seed)")
    panels[0].set_title(f"{analysis.label}: AMED chain heads")
    for axes in panels:
        axes.grid(alpha=0.3)
    if amed:
        panels[0].legend(fontsize=8, loc="lower left")
    return _save(figure, path)
