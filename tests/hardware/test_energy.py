"""Energy of layers and networks: a small layer by hand, the split, the protocol, the presets."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import pytest

from hardware.config import Dataflow
from hardware.config import PrecisionModel
from hardware.config import SerialOperand
from hardware.config import SystolicArrayConfig
from hardware.config import available_presets
from hardware.config import load_preset
from hardware.energy import mac_energy_pj
from hardware.energy_table import EnergyTable
from hardware.layer import LayerShape
from hardware.protocol import ENERGY_PARTS
from hardware.protocol import EnergyModel
from hardware.protocol import HardwareModel
from hardware.protocol import LayerEnergy
from hardware.protocol import LayerLatency
from hardware.protocol import network_energy
from hardware.protocol import network_latency
from hardware.systolic_array import SystolicArray


# Round figures, so that the arithmetic below can be followed by hand.
TABLE = EnergyTable(
    technology_nm=45,
    mac_multiply_pj=0.5,
    mac_accumulate_pj=0.25,
    ifmap_sram_pj_per_byte=1.0,
    filter_sram_pj_per_byte=2.0,
    ofmap_sram_pj_per_byte=3.0,
    dram_pj_per_byte=100.0,
    reference="round figures for a test",
    leakage_pj_per_cycle=0.1,
)

# A 3x3 convolution, 2 -> 6 channels, on a 4x4 input without padding: a 2x2 output.
# GEMM: M = 2*2 = 4 output pixels, K = 3*3*2 = 18, N = 6 filters; 4*18*6 = 432 MACs.
CONV = LayerShape.conv2d("conv", in_channels=2, out_channels=6, input_hw=(4, 4), kernel=3)


def _tiny(**overrides: object) -> SystolicArray:
    """A 4x4 array with SRAMs large enough that nothing is read twice from DRAM."""
    values: dict[str, object] = {
        "name": "tiny",
        "rows": 4,
        "cols": 4,
        "ifmap_sram_kib": 64,
        "filter_sram_kib": 64,
        "ofmap_sram_kib": 64,
        "dram_bytes_per_cycle": 1000.0,
        "clock_hz": 1e8,
        "dataflow": Dataflow.OUTPUT_STATIONARY,
        "precision_model": PrecisionModel.FIXED,
        "energy": TABLE,
        **overrides,
    }
    return SystolicArray(SystolicArrayConfig(**values))  # type: ignore[arg-type]


def test_small_layer_by_hand_at_8_bits() -> None:
    # Output stationary on 4x4: Sr = M = 4 (1 row fold), Sc = N = 6 (2 column folds), T = 18.
    # Fold: R + C + T - 2 = 24 cycles; compute cycles 2 * 24 - 1 = 47; no stalls.
    # SRAM accesses (SCALE-Sim's counts): ifmap M*K per column fold = 4*18*2 = 144,
    # filter K*N once = 108, ofmap M*N = 24 writes, no partial sums.
    # DRAM: the whole 4x4x2 input (32 B), 108 B of weights, 24 B of outputs = 164 B.
    energy = _tiny().layer_energy(CONV, 8, 8)
    assert energy.mac_pj == pytest.approx(432 * (0.5 + 0.25))  # 324 pJ
    assert energy.ifmap_sram_pj == pytest.approx(1.0 * (144 + 32))  # reads + fill: 176 pJ
    assert energy.filter_sram_pj == pytest.approx(2.0 * (108 + 108))  # 432 pJ
    assert energy.ofmap_sram_pj == pytest.approx(3.0 * (24 + 24))  # writes + drain: 144 pJ
    assert energy.dram_pj == pytest.approx(100.0 * 164)  # 16,400 pJ
    assert energy.leakage_pj == pytest.approx(0.1 * 47)  # 4.7 pJ
    assert energy.total_pj == pytest.approx(324 + 176 + 432 + 144 + 16_400 + 4.7)


def test_small_layer_by_hand_with_bit_fusion_at_4_2_bits() -> None:
    # 4-bit weights, 2-bit activations: floor(8/4) * floor(8/2) = 8 MACs per PE per cycle.
    # MAC: 0.5 / 8 + 0.25 = 0.3125 pJ, times 432 = 135 pJ.
    # T' = ceil(18 / 8) = 3: fold 4 + 4 + 3 - 2 = 9, compute cycles 2 * 9 - 1 = 17.
    # ifmap: 144 reads * 2/8 B = 36 B, fill 32 * 2/8 = 8 B; filter: 108 * 4/8 = 54 B each way;
    # ofmap unchanged (8-bit outputs); DRAM 8 + 54 + 24 = 86 B.
    energy = _tiny(precision_model=PrecisionModel.BIT_FUSION).layer_energy(CONV, 4, 2)
    assert energy.mac_pj == pytest.approx(135)
    assert energy.ifmap_sram_pj == pytest.approx(1.0 * (36 + 8))
    assert energy.filter_sram_pj == pytest.approx(2.0 * (54 + 54))
    assert energy.ofmap_sram_pj == pytest.approx(144)
    assert energy.dram_pj == pytest.approx(100.0 * 86)
    assert energy.leakage_pj == pytest.approx(0.1 * 17)
    assert energy.total_pj == pytest.approx(135 + 44 + 216 + 144 + 8600 + 1.7)


def test_small_layer_by_hand_bit_serial_activations_at_4_2_bits() -> None:
    # Activations serial: 2 bit steps of (0.5 + 0.25) / 8 pJ each = 0.1875 pJ per MAC, 81 pJ.
    # 8 / 2 = 4 MACs per PE per cycle: T' = ceil(18 / 4) = 5, fold 11, compute cycles 21.
    array = _tiny(precision_model=PrecisionModel.BIT_SERIAL)
    energy = array.layer_energy(CONV, 4, 2)
    assert energy.mac_pj == pytest.approx(432 * 2 * 0.75 / 8)
    assert energy.leakage_pj == pytest.approx(0.1 * 21)
    assert energy.dram_pj == pytest.approx(100.0 * 86)


def test_small_layer_by_hand_weight_stationary_partial_sums() -> None:
    # Weight stationary on 4x4: Sr = K = 18 (5 row folds), Sc = N = 6 (2 column folds), T = M.
    # Each output is written once per row fold: 24 * 5 = 120 writes; all but the first add to a
    # partial sum read back: 120 - 24 = 96 reads. With 8-bit outputs: (120 + 96) B plus the
    # 24 B drained to DRAM (the partial-sum tile fits on chip, nothing spills) = 240 B * 3 pJ.
    energy = _tiny(dataflow=Dataflow.WEIGHT_STATIONARY).layer_energy(CONV, 8, 8)
    assert energy.ofmap_sram_pj == pytest.approx(3.0 * 240)


def test_sram_access_counts_at_8_bits_are_the_latency_models(
    resnet18: Callable[..., list[LayerShape]],
) -> None:
    # At 8 bits an SRAM access is one SCALE-Sim word (one byte): the ifmap and filter SRAM
    # energy is the per-byte figure times (SCALE-Sim's read count + the DRAM fill).
    array = SystolicArray(load_preset("scale-sim"))
    table = array.config.energy
    for layer in resnet18():
        report = array.layer_report(layer, 8, 8)
        groups = layer.groups
        reads = report.sram_accesses
        assert reads.ifmap_reads == groups * report.compute.sram.ifmap_reads
        fill = groups * report.memory.ifmap_dram_bytes
        assert report.energy.ifmap_sram_pj == pytest.approx(
            table.ifmap_sram_pj_per_byte * (reads.ifmap_reads + fill)
        )
        fill = groups * report.memory.filter_dram_bytes
        assert report.energy.filter_sram_pj == pytest.approx(
            table.filter_sram_pj_per_byte * (reads.filter_reads + fill)
        )


@pytest.mark.parametrize(
    ("model", "serial", "w_bits", "a_bits", "expected"),
    [
        # e_mul = 0.5, e_acc = 0.25 (TABLE).
        (PrecisionModel.FIXED, SerialOperand.ACTIVATION, 2, 2, 0.75),  # no saving
        (PrecisionModel.BIT_FUSION, SerialOperand.ACTIVATION, 8, 8, 0.75),
        (PrecisionModel.BIT_FUSION, SerialOperand.ACTIVATION, 4, 4, 0.5 * 16 / 64 + 0.25),
        (PrecisionModel.BIT_FUSION, SerialOperand.ACTIVATION, 3, 3, 0.5 * 16 / 64 + 0.25),
        (PrecisionModel.BIT_FUSION, SerialOperand.ACTIVATION, 2, 8, 0.5 * 16 / 64 + 0.25),
        (PrecisionModel.BIT_FUSION, SerialOperand.ACTIVATION, 5, 5, 0.75),  # fuses as 8 bits
        (PrecisionModel.BIT_SERIAL, SerialOperand.ACTIVATION, 8, 3, 0.75 * 3 / 8),
        (PrecisionModel.BIT_SERIAL, SerialOperand.WEIGHT, 3, 8, 0.75 * 3 / 8),
        (PrecisionModel.BIT_SERIAL, SerialOperand.BOTH, 4, 2, 0.75 * 8 / 64),
    ],
)
def test_mac_energy_per_precision_model(
    model: PrecisionModel, serial: SerialOperand, w_bits: int, a_bits: int, expected: float
) -> None:
    array = _tiny(precision_model=model, serial_operand=serial)
    speedup = array.layer_report(CONV, w_bits, a_bits).macs_per_pe_cycle
    assert mac_energy_pj(TABLE, model, speedup) == pytest.approx(expected)
    assert array.layer_energy(CONV, w_bits, a_bits).mac_pj == pytest.approx(432 * expected)


def test_every_model_costs_the_tables_mac_at_8_bits() -> None:
    for model in PrecisionModel:
        assert mac_energy_pj(TABLE, model, Fraction(1)) == TABLE.mac_pj == 0.75


@pytest.mark.parametrize("preset", available_presets())
def test_the_split_adds_up_to_the_total(
    preset: str, resnet18: Callable[..., list[LayerShape]]
) -> None:
    leaky = {**_figures(preset), "leakage_pj_per_cycle": 1.5}
    array = SystolicArray(load_preset(preset, energy=leaky))
    layers = resnet18()
    bits = [(4, 6)] * len(layers)
    network = network_energy(array, layers, bits)
    for layer in network.layers:
        parts = [getattr(layer, part) for part in ENERGY_PARTS]
        assert layer.total_pj == sum(parts) and all(part >= 0 for part in parts)
        assert layer.leakage_pj > 0
    assert math.fsum(network.parts_uj.values()) == pytest.approx(network.total_uj, rel=1e-12)
    assert math.fsum(network.energy_uj_by_layer.values()) == pytest.approx(network.total_uj)
    parts = ["mac", "ifmap_sram", "filter_sram", "ofmap_sram", "dram", "leakage"]
    assert list(network.parts_uj) == parts


def _figures(preset: str) -> dict[str, object]:
    """A preset's energy table as the keys of its `[energy]` TOML table."""
    table = load_preset(preset).energy
    values = {field.name: getattr(table, field.name) for field in dataclasses.fields(table)}
    del values["source"]
    return values


@pytest.mark.parametrize("preset", available_presets())
def test_leakage_follows_the_cycles(preset: str) -> None:
    array = SystolicArray(
        load_preset(preset, energy={**_figures(preset), "leakage_pj_per_cycle": 2.0})
    )
    layer = LayerShape.conv2d("c", in_channels=64, out_channels=64, input_hw=(28, 28), kernel=3)
    latency = array.layer_latency(layer, 8, 8)
    assert array.layer_energy(layer, 8, 8).leakage_pj == pytest.approx(2.0 * latency.total_cycles)


@pytest.mark.parametrize("preset", available_presets())
def test_energy_table_does_not_change_latency(
    preset: str, resnet18: Callable[..., list[LayerShape]]
) -> None:
    layers = resnet18()
    cheap = {**_figures(preset), "dram_pj_per_byte": 0.0, "leakage_pj_per_cycle": 9.0}
    for bits in ((8, 8), (4, 2)):
        pairs = [bits] * len(layers)
        default = network_latency(SystolicArray(load_preset(preset)), layers, pairs)
        other = network_latency(SystolicArray(load_preset(preset, energy=cheap)), layers, pairs)
        assert default == other


@pytest.mark.parametrize("preset", available_presets())
def test_resnet18_costs_less_at_2_bits_than_at_8(
    preset: str, resnet18: Callable[..., list[LayerShape]]
) -> None:
    array = SystolicArray(load_preset(preset))
    layers = resnet18()
    eight = network_energy(array, layers, [(8, 8)] * len(layers))
    two = network_energy(array, layers, [(2, 2)] * len(layers))
    assert 0 < two.total_uj < eight.total_uj
    assert two.part_uj("dram_pj") < eight.part_uj("dram_pj")


def test_energy_is_memoised_with_the_report() -> None:
    array = _tiny()
    first = array.layer_energy(CONV, 6, 5)
    assert array.layer_energy(CONV, 6, 5) is first
    assert array.layer_report(CONV, 6, 5).energy is first


def test_unsupported_bits_are_rejected() -> None:
    with pytest.raises(ValueError, match="w_bits must be an integer in 2..8, got 9"):
        _tiny().layer_energy(CONV, 9, 8)


# --- The protocol --------------------------------------------------------------------------------


@dataclass
class LatencyOnly:
    """A target that prices latency only: still a complete `HardwareModel`."""

    name: str = "latency-only"
    clock_hz: float = 1e6

    def layer_latency(self, layer: LayerShape, w_bits: int, a_bits: int) -> LayerLatency:
        return LayerLatency(layer.name, w_bits, a_bits, layer.macs, 0, layer.weight_count)


@dataclass
class MacEnergy:
    """A toy energy target: 1 pJ per MAC-bit-pair, nothing else."""

    name: str = "mac-energy"

    def layer_energy(self, layer: LayerShape, w_bits: int, a_bits: int) -> LayerEnergy:
        mac = layer.macs * w_bits * a_bits / 64
        return LayerEnergy(layer.name, w_bits, a_bits, mac, 0.0, 0.0, 0.0, 0.0, 0.0)


def test_a_latency_only_target_is_still_a_hardware_model() -> None:
    target = LatencyOnly()
    assert isinstance(target, HardwareModel)
    assert not isinstance(target, EnergyModel)
    assert network_latency(target, [CONV], [(8, 8)]).total_cycles == 432


def test_systolic_array_is_both() -> None:
    array = _tiny()
    assert isinstance(array, HardwareModel) and isinstance(array, EnergyModel)


def test_network_energy_of_any_energy_model() -> None:
    fc = LayerShape.linear("fc", in_features=16, out_features=4)
    result = network_energy(MacEnergy(), [CONV, fc], [(8, 8), (4, 2)])
    assert result.energy_uj_by_layer == {"conv": 432e-6, "fc": 64 * 8 / 64 * 1e-6}
    assert result.total_uj == pytest.approx(432e-6 + 8e-6)
    assert result.part_uj("mac_pj") == pytest.approx(result.total_uj)


def test_network_energy_needs_one_bit_pair_per_layer() -> None:
    with pytest.raises(ValueError, match="1 layers but 2"):
        network_energy(MacEnergy(), [CONV], [(8, 8), (8, 8)])


def test_unknown_part_is_rejected() -> None:
    result = network_energy(MacEnergy(), [CONV], [(8, 8)])
    with pytest.raises(ValueError, match="part must be one of .* got 'sram_pj'"):
        result.part_uj("sram_pj")


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf])
def test_layer_energy_rejects_bad_parts(value: float) -> None:
    with pytest.raises(ValueError, match="dram_pj must be a finite number >= 0"):
        LayerEnergy("x", 8, 8, 1.0, 0.0, 0.0, 0.0, value, 0.0)
