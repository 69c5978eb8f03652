"""The one pricing function and the one metrics type."""

from __future__ import annotations

import math

from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.metrics import TrialMetrics
from amed_opt.study.metrics import price_allocation
from hardware import LayerShape
from hardware import SystolicArray
from hardware import load_preset


LAYERS = (
    LayerShape.conv2d("conv1", in_channels=3, out_channels=64, kernel=3, input_hw=(56, 56)),
    LayerShape.conv2d("conv2", in_channels=64, out_channels=128, kernel=3, input_hw=(28, 28)),
    LayerShape.linear("fc", in_features=128, out_features=10),
)


def _bits(*widths: int) -> BitConfig:
    return BitConfig(
        {layer.name: LayerBits(w, w) for layer, w in zip(LAYERS, widths, strict=True)}
    )


def test_pricing_adds_up_the_layers_and_packs_the_weights() -> None:
    hardware = SystolicArray(load_preset("scale-sim-lowmem"))
    bits = _bits(8, 4, 8)
    pricing = price_allocation(hardware, LAYERS, bits)

    per_layer = [
        hardware.layer_latency(layer, bits[layer.name].w_bits, bits[layer.name].a_bits)
        for layer in LAYERS
    ]
    assert list(pricing.cycles_by_layer) == ["conv1", "conv2", "fc"]
    assert pricing.latency_cycles == sum(lat.total_cycles for lat in per_layer)
    assert math.isclose(pricing.latency_ms, pricing.latency_cycles / hardware.clock_hz * 1e3)
    expected_bits = sum(layer.weight_count * bits[layer.name].w_bits for layer in LAYERS)
    assert pricing.size_bytes == (expected_bits + 7) // 8
    assert pricing.memory_bound_layers == tuple(
        lat.name for lat in per_layer if lat.stall_cycles > 0
    )


def test_fewer_bits_never_cost_more() -> None:
    hardware = SystolicArray(load_preset("scale-sim"))
    eight = price_allocation(hardware, LAYERS, _bits(8, 8, 8))
    two = price_allocation(hardware, LAYERS, _bits(8, 2, 8))
    assert two.latency_cycles <= eight.latency_cycles
    assert two.size_bytes < eight.size_bytes


def test_metrics_carry_the_pricing_and_serialise_to_plain_data() -> None:
    pricing = price_allocation(SystolicArray(load_preset("scale-sim")), LAYERS, _bits(8, 4, 8))
    metrics = TrialMetrics.from_pricing(0.875, pricing, train_steps=3, seconds=1.5)
    assert (metrics.accuracy, metrics.latency_ms) == (0.875, pricing.latency_ms)
    plain = metrics.to_dict()
    assert plain["cycles_by_layer"] == dict(pricing.cycles_by_layer)
    assert plain["memory_bound_layers"] == list(pricing.memory_bound_layers)
    assert (plain["train_steps"], plain["seconds"]) == (3, 1.5)
