"""How fast `hardware` prices ResNet-18 (torchvision shapes, 224x224, 21 layers) on each preset.

Run: `python benchmarks/hardware_speed.py [--allocations 1000] [--seed 0]`

For each preset it prints, in milliseconds per network:

- cold: a fresh `SystolicArray` (empty memo) pricing every layer at 8/8 bits, median of 20;
- cold + energy: the same, then the network's energy too (as a trial that reports both does),
  median of 20;
- warm: the same network again (every layer memoised), median of 1,000;
- random, first pass: 1,000 random allocations (independent weight and activation bits in 2..8
  per layer), starting from the array that priced only 8/8 bits, so early allocations miss the
  memo;
- random, warm: the same 1,000 allocations again (all memoised).

Goals (issue #2): under 50 ms cold, under 0.1 ms per allocation warm. For scale, SCALE-Sim 3.0
needs about 600 s (329 CPU-seconds) for ResNet-18 on a 32x32 array on the same 2-core machine.
Needs no torch: the layers are built with `LayerShape.conv2d` / `LayerShape.linear`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from collections.abc import Sequence

from hardware import LayerShape
from hardware import SystolicArray
from hardware import available_presets
from hardware import load_preset
from hardware import network_energy
from hardware import network_latency


GOAL_COLD_MS = 50.0
GOAL_WARM_MS = 0.1


def resnet18_layers(input_hw: int = 224) -> list[LayerShape]:
    """The convolution and linear layers of torchvision's ResNet-18, in forward order."""
    layers: list[LayerShape] = []

    def conv(name: str, cin: int, cout: int, kernel: int, stride: int, pad: int, hw: int) -> int:
        layer = LayerShape.conv2d(
            name,
            in_channels=cin,
            out_channels=cout,
            input_hw=(hw, hw),
            kernel=kernel,
            stride=stride,
            padding=pad,
        )
        layers.append(layer)
        return layer.output_h

    hw = conv("conv1", 3, 64, 7, 2, 3, input_hw)
    hw = (hw + 2 - 3) // 2 + 1  # max pool 3x3, stride 2, padding 1
    cin = 64
    for stage, (width, first_stride) in enumerate(((64, 1), (128, 2), (256, 2), (512, 2)), 1):
        for block in range(2):
            stride = first_stride if block == 0 else 1
            out_hw = conv(f"layer{stage}.{block}.conv1", cin, width, 3, stride, 1, hw)
            conv(f"layer{stage}.{block}.conv2", width, width, 3, 1, 1, out_hw)
            if stride != 1 or cin != width:
                conv(f"layer{stage}.{block}.downsample.0", cin, width, 1, stride, 0, hw)
            cin, hw = width, out_hw
    layers.append(LayerShape.linear("fc", in_features=512, out_features=1000))
    return layers


def _ms(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1e3


def bench_preset(
    preset: str, layers: Sequence[LayerShape], allocations: Sequence[Sequence[tuple[int, int]]]
) -> dict[str, float]:
    """Milliseconds per network for the four scenarios of the module docstring."""
    config = load_preset(preset)
    eight = [(8, 8)] * len(layers)
    cold = statistics.median(
        _ms(lambda: network_latency(SystolicArray(config), layers, eight)) for _ in range(20)
    )

    def latency_and_energy() -> None:
        array = SystolicArray(config)
        network_latency(array, layers, eight)
        network_energy(array, layers, eight)

    cold_energy = statistics.median(_ms(latency_and_energy) for _ in range(20))
    array = SystolicArray(config)
    network_latency(array, layers, eight)
    warm = statistics.median(
        _ms(lambda: network_latency(array, layers, eight)) for _ in range(1000)
    )
    first = _ms(lambda: [network_latency(array, layers, bits) for bits in allocations])
    again = _ms(lambda: [network_latency(array, layers, bits) for bits in allocations])
    return {
        "cold": cold,
        "cold_energy": cold_energy,
        "warm": warm,
        "random_first": first / len(allocations),
        "random_warm": again / len(allocations),
        "latency_ms_8bit": network_latency(array, layers, eight).latency_ms,
        "energy_uj_8bit": network_energy(array, layers, eight).total_uj,
        "energy_uj_2bit": network_energy(array, layers, [(2, 2)] * len(layers)).total_uj,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print one line per preset; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allocations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    layers = resnet18_layers()
    rng = random.Random(args.seed)
    allocations = [
        [(rng.randint(2, 8), rng.randint(2, 8)) for _ in layers] for _ in range(args.allocations)
    ]
    goals = f"goal: cold < {GOAL_COLD_MS:g}, warm < {GOAL_WARM_MS:g}"
    print(f"ResNet-18, {len(layers)} layers at 224x224; ms per network ({goals})")
    header = (
        f"{'preset':18s} {'cold':>8s} {'cold+E':>8s} {'warm':>8s} {'rand 1st':>9s} "
        f"{'rand warm':>9s}"
    )
    print(header + "   simulated at 8 bits: latency, energy (2 bits: energy)")
    worst_cold = worst_warm = 0.0
    for preset in available_presets():
        result = bench_preset(preset, layers, allocations)
        worst_cold = max(worst_cold, result["cold"], result["cold_energy"])
        worst_warm = max(worst_warm, result["random_warm"], result["warm"])
        print(
            f"{preset:18s} {result['cold']:8.3f} {result['cold_energy']:8.3f} "
            f"{result['warm']:8.4f} {result['random_first']:9.4f} {result['random_warm']:9.4f}   "
            f"{result['latency_ms_8bit']:.3f} ms, {result['energy_uj_8bit']:.1f} µJ "
            f"({result['energy_uj_2bit']:.1f} µJ)"
        )
    verdict = "met" if worst_cold < GOAL_COLD_MS and worst_warm < GOAL_WARM_MS else "MISSED"
    print(f"goals {verdict}: worst cold {worst_cold:.3f} ms, worst warm {worst_warm:.4f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
