"""The `HardwareModel` protocol and the latency results: any conforming object plugs in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hardware.config import load_preset
from hardware.layer import LayerShape
from hardware.protocol import Bound
from hardware.protocol import HardwareModel
from hardware.protocol import LayerLatency
from hardware.protocol import NetworkLatency
from hardware.protocol import network_latency
from hardware.systolic_array import SystolicArray


@dataclass
class MacCounter:
    """A toy target: one cycle per MAC divided by the bits saved, stalls for big layers."""

    name: str = "mac-counter"
    clock_hz: float = 1e6

    def layer_latency(self, layer: LayerShape, w_bits: int, a_bits: int) -> LayerLatency:
        cycles = layer.macs * max(w_bits, a_bits) // 8
        return LayerLatency(layer.name, w_bits, a_bits, cycles, cycles // 2, layer.weight_count)


LAYERS = [
    LayerShape.conv2d("conv", in_channels=1, out_channels=4, input_hw=(4, 4), kernel=3),
    LayerShape.linear("fc", in_features=16, out_features=2),
]


def test_layer_latency_totals_and_bound() -> None:
    busy = LayerLatency("a", 8, 8, compute_cycles=100, stall_cycles=0, dram_bytes=10)
    stalled = LayerLatency("b", 4, 8, compute_cycles=100, stall_cycles=1, dram_bytes=10)
    assert busy.total_cycles == 100 and busy.bound is Bound.COMPUTE
    assert stalled.total_cycles == 101 and stalled.bound is Bound.MEMORY


def test_network_latency_sums_layers_in_order() -> None:
    model = MacCounter()
    result = network_latency(model, LAYERS, [(8, 8), (4, 4)])
    assert isinstance(result, NetworkLatency)
    conv_cycles = 4 * 9 * 4 * 3 // 2  # 2x2 outputs * 9 * 4 filters, plus half as stalls
    fc_cycles = 32 * 4 // 8 + 32 * 4 // 8 // 2
    assert result.cycles_by_layer == {"conv": conv_cycles, "fc": fc_cycles}
    assert list(result.cycles_by_layer) == ["conv", "fc"]
    assert result.total_cycles == conv_cycles + fc_cycles
    assert result.latency_ms == pytest.approx(result.total_cycles / 1e6 * 1e3)


def test_network_latency_needs_one_bit_pair_per_layer() -> None:
    with pytest.raises(ValueError, match="2 layers but 1"):
        network_latency(MacCounter(), LAYERS, [(8, 8)])


def test_toy_and_systolic_array_both_satisfy_the_protocol() -> None:
    assert isinstance(MacCounter(), HardwareModel)
    array = SystolicArray(load_preset("scale-sim"))
    assert isinstance(array, HardwareModel)
    assert network_latency(array, LAYERS, [(8, 8), (8, 8)]).clock_hz == 200e6
