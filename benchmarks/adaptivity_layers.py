"""Hardware adaptivity: does a search give memory-bound layers fewer bits on low-memory hardware?

Run: `python benchmarks/adaptivity_layers.py --base results/compare/mbv2/comparison.json
--other results/compare/mbv2-scale-sim-lowmem/comparison.json --out benchmarks/results/NAME`

Reads two comparison JSONs of the same study on two hardware presets (`amed_opt.compare`) and
writes `NAME.md`, `NAME.json` and `NAME.png`. It compares, layer by layer, the weight bits of the
allocations the searches chose (each seed's best-`Q` non-uniform trial; AMED first, every sampler
pooled as a check) and the hardware's price of a bit in that layer on each preset: the cycles a
layer saves from 8 to 2 bits, as a share of the network's 8-bit cycles, and whether it is
memory-bound at 8 bits. The paper's finding (Kimhi et al., MobileNetV2) is that on low-memory
hardware the memory-bound layers (depthwise, large feature maps) get fewer bits than on the default
preset. The report states the numbers, per layer group, and whether the hardware differs at all.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

from amed_opt.compare import json_ready
from amed_opt.study.bits import weight_bits_of


matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _preset(document: dict[str, Any]) -> str:
    return str(document["plan"]["study"]["hardware"]["preset"])


def _chosen(document: dict[str, Any], samplers: Sequence[str] | None) -> list[list[int]]:
    """Weight bits per layer of each selected study's best-`Q` non-uniform trial."""
    allocations = []
    for study in document["analysis"]["studies"]:
        if samplers is not None and study["sampler"] not in samplers:
            continue
        # A uniform start candidate says nothing about the hardware; the best allocation the
        # search itself found does.
        best = study.get("best_mixed") or study.get("best")
        if best:
            allocations.append(weight_bits_of(best["bits"]))
    return allocations


def _price(layers: list[dict[str, Any]]) -> list[float]:
    """Cycles each layer saves from 8 to 2 bits, as a share of the network's 8-bit cycles."""
    total = sum(layer["cycles"]["8"] for layer in layers)
    return [(layer["cycles"]["8"] - layer["cycles"]["2"]) / total for layer in layers]


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else math.nan


def _group_bits(allocations: list[list[int]], members: list[int]) -> tuple[float, float]:
    """Mean bits of the member layers per allocation, then mean and sd over allocations."""
    per_allocation = [_mean([a[i] for i in members]) for a in allocations]
    if not per_allocation or not members:
        return math.nan, math.nan
    sd = statistics.stdev(per_allocation) if len(per_allocation) > 1 else 0.0
    return _mean(per_allocation), sd


def analyse(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """The per-layer and per-group comparison of two comparisons of one study."""
    layers_a = base["analysis"]["layers"]
    layers_b = other["analysis"]["layers"]
    names = [layer["name"] for layer in layers_a]
    if names != [layer["name"] for layer in layers_b]:
        raise ValueError("the two comparisons are not of the same network")
    searched = [i for i, layer in enumerate(layers_a) if layer["searched"]]
    price_a, price_b = _price(layers_a), _price(layers_b)
    differing = [
        i
        for i in range(len(names))
        if layers_a[i]["cycles"] != layers_b[i]["cycles"]
        or layers_a[i]["memory_bound"] != layers_b[i]["memory_bound"]
    ]
    sides = [layer["input_hw"][0] for layer in layers_a]
    large = sorted({sides[i] for i in searched})[-2:]
    groups = {
        "all searched layers": searched,
        "depthwise": [i for i in searched if layers_a[i]["depthwise"]],
        "memory-bound at 8 bits on the other preset": [
            i for i in searched if layers_b[i]["memory_bound"]["8"]
        ],
        "compute-bound at 8 bits on the other preset": [
            i for i in searched if not layers_b[i]["memory_bound"]["8"]
        ],
        f"large feature maps (input side {', '.join(map(str, large))})": [
            i for i in searched if sides[i] in large
        ],
        "priced differently by the two presets": [i for i in searched if i in differing],
    }
    selections: dict[str, Sequence[str] | None] = {"amed": ("amed",), "all samplers": None}
    result: dict[str, Any] = {
        "base_preset": _preset(base),
        "other_preset": _preset(other),
        "layers": names,
        "layers_priced_differently": [names[i] for i in differing],
        "price_base": price_a,
        "price_other": price_b,
        "groups": {},
        "per_layer_bits": {},
    }
    for selection, samplers in selections.items():
        chosen_a, chosen_b = _chosen(base, samplers), _chosen(other, samplers)
        result["per_layer_bits"][selection] = {
            "base": [_mean([a[i] for a in chosen_a]) for i in range(len(names))],
            "other": [_mean([a[i] for a in chosen_b]) for i in range(len(names))],
            "allocations": [len(chosen_a), len(chosen_b)],
        }
        for group, members in groups.items():
            mean_a, sd_a = _group_bits(chosen_a, members)
            mean_b, sd_b = _group_bits(chosen_b, members)
            result["groups"].setdefault(group, {"layers": len(members)})[selection] = {
                "base": [mean_a, sd_a],
                "other": [mean_b, sd_b],
                "difference": mean_b - mean_a,
            }
    return result


def plot(result: dict[str, Any], base: dict[str, Any], path: Path) -> None:
    """Per-layer bits on both presets (AMED), and each layer's price of bits on both."""
    layers = base["analysis"]["layers"]
    count = len(result["layers"])
    xs = list(range(count))
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(max(9, 0.2 * count + 3), 7), sharex=True)
    bits = result["per_layer_bits"]["amed"]
    a, b = result["base_preset"], result["other_preset"]
    label = "AMED best-Q mixed, mean of seeds"
    top.plot(xs, bits["base"], "o-", color="#1f77b4", label=f"{a} ({label})")
    top.plot(xs, bits["other"], "s--", color="#d62728", label=f"{b} ({label})")
    top.set_ylabel("weight bits")
    top.set_ylim(1.5, 8.5)
    bottom.plot(xs, [100 * p for p in result["price_base"]], "o-", color="#1f77b4", label=a)
    bottom.plot(xs, [100 * p for p in result["price_other"]], "s--", color="#d62728", label=b)
    bottom.set_ylabel("% of 8-bit cycles saved at 2 bits")
    for axes in (top, bottom):
        for index, layer in enumerate(layers):
            if layer["depthwise"]:
                axes.axvspan(index - 0.45, index + 0.45, color="#ffdd99", alpha=0.5, lw=0)
            elif layer["memory_bound"]["8"]:
                axes.axvspan(index - 0.45, index + 0.45, color="#dddddd", alpha=0.5, lw=0)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    bottom.set_xticks(xs)
    bottom.set_xticklabels(result["layers"], rotation=90, fontsize=6)
    top.set_title(
        f"{base['plan']['label']}: {a} vs {b} (orange: depthwise, grey: memory-bound at 8 bits "
        f"on {a})"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)


def render(result: dict[str, Any], base_path: Path, other_path: Path, image: str) -> str:
    """The Markdown report."""
    a, b = result["base_preset"], result["other_preset"]
    lines = [
        f"# Hardware adaptivity: {a} vs {b}",
        "",
        f"From `{base_path}` and `{other_path}`. Bits are weight bits of each seed's best-Q "
        "non-uniform trial (mean ± sd over the allocations; AMED alone, then every sampler "
        "pooled).",
        "",
        f"Layers priced differently by the two presets (any bitwidth): "
        f"{len(result['layers_priced_differently'])} of {len(result['layers'])}"
        + (
            f" ({', '.join(result['layers_priced_differently'][:12])}"
            + (", …" if len(result["layers_priced_differently"]) > 12 else "")
            + ")."
            if result["layers_priced_differently"]
            else "."
        ),
        "",
        f"| layer group | layers | AMED on {a} | AMED on {b} | difference | all samplers on "
        f"{a} | all samplers on {b} | difference |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def cell(pair: list[float]) -> str:
        return "n/a" if not math.isfinite(pair[0]) else f"{pair[0]:.2f} ± {pair[1]:.2f}"

    def diff(value: float) -> str:
        return "n/a" if not math.isfinite(value) else f"{value:+.2f}"

    for group, entry in result["groups"].items():
        amed, pooled = entry["amed"], entry["all samplers"]
        lines.append(
            f"| {group} | {entry['layers']} | {cell(amed['base'])} | {cell(amed['other'])} | "
            f"{diff(amed['difference'])} | {cell(pooled['base'])} | {cell(pooled['other'])} | "
            f"{diff(pooled['difference'])} |"
        )
    lines += ["", f"![per-layer bits and price of bits]({image})", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="comparison.json, default preset")
    parser.add_argument("--other", type=Path, required=True, help="comparison.json, other preset")
    parser.add_argument("--out", type=Path, required=True, help="output path without suffix")
    args = parser.parse_args(argv)
    base, other = _load(args.base), _load(args.other)
    result = analyse(base, other)
    image = args.out.with_suffix(".png")
    plot(result, base, image)
    args.out.with_suffix(".json").write_text(json.dumps(json_ready(result), indent=1) + "\n")
    text = render(result, args.base, args.other, image.name)
    args.out.with_suffix(".md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
