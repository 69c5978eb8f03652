"""The SYNTHETIC accuracy model: seeded, shaped like the measured landscape, real pricing."""

from __future__ import annotations

from amed_opt.evaluation.synthetic import SyntheticEvaluator
from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.metrics import price_allocation
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset


LAYERS = tuple(
    LayerShape.conv2d(
        f"conv{i}", in_channels=8 * (i + 1), out_channels=16, kernel=3, input_hw=(8, 8)
    )
    for i in range(5)
)
NAMES = [layer.name for layer in LAYERS]
HARDWARE = SystolicArray(load_preset("scale-sim"))


def test_the_same_seed_gives_the_same_accuracy_and_another_seed_another() -> None:
    bits = BitConfig.from_compact("8 3 4 2 8", NAMES)
    first = SyntheticEvaluator(LAYERS, HARDWARE, seed=0).accuracy(bits)
    assert SyntheticEvaluator(LAYERS, HARDWARE, seed=0).accuracy(bits) == first
    assert SyntheticEvaluator(LAYERS, HARDWARE, seed=1).accuracy(bits) != first


def test_accuracy_falls_with_bits_and_stays_a_fraction() -> None:
    evaluator = SyntheticEvaluator(LAYERS, HARDWARE, seed=3, jitter=0.0)
    by_bits = [evaluator.accuracy(BitConfig.uniform(NAMES, bits)) for bits in range(8, 1, -1)]
    assert by_bits == sorted(by_bits, reverse=True)
    assert by_bits[0] - by_bits[3] < 0.01  # 8 to 5 bits lose almost nothing
    assert by_bits[-1] < by_bits[0] - 0.05  # 2 bits lose a lot
    assert all(0.0 <= value <= 1.0 for value in by_bits)


def test_lowering_one_layer_never_helps_without_jitter() -> None:
    evaluator = SyntheticEvaluator(LAYERS, HARDWARE, seed=5, jitter=0.0)
    base = BitConfig.uniform(NAMES, 6)
    for name in NAMES:
        lowered = BitConfig({**base, name: LayerBits(3, 3)})
        assert evaluator.accuracy(lowered) < evaluator.accuracy(base)


def test_latency_and_size_are_the_hardware_models() -> None:
    bits = BitConfig.from_compact("8 4 4 2 8", NAMES)
    metrics = SyntheticEvaluator(LAYERS, HARDWARE, seed=0).evaluate(bits)
    pricing = price_allocation(HARDWARE, LAYERS, bits)
    assert (metrics.latency_cycles, metrics.latency_ms) == (
        pricing.latency_cycles,
        pricing.latency_ms,
    )
    assert metrics.size_bytes == pricing.size_bytes
    assert dict(metrics.cycles_by_layer) == dict(pricing.cycles_by_layer)
