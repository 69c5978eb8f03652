"""`SystolicArray`: the composed model, memoisation, monotonicity, golden ResNet-18 cycles."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from hardware.config import Dataflow
from hardware.config import PrecisionModel
from hardware.config import SerialOperand
from hardware.config import SystolicArrayConfig
from hardware.config import load_preset
from hardware.energy_table import EnergyTable
from hardware.layer import LayerShape
from hardware.protocol import ENERGY_PARTS
from hardware.protocol import Bound
from hardware.protocol import network_latency
from hardware.systolic_array import SystolicArray


FC = LayerShape.linear("fc", in_features=512, out_features=10)


def _array(**overrides: object) -> SystolicArray:
    return SystolicArray(load_preset("scale-sim", **overrides))


# --- Precision models, by hand -------------------------------------------------------------------
# FC on the 32x32 output-stationary array: Sr = 1, Sc = 10, T = 512, one fold of 62 + T' cycles
# (T' the streamed cycles), compute cycles 62 + T' - 1.


@pytest.mark.parametrize(
    ("model", "serial", "w_bits", "a_bits", "streamed"),
    [
        (PrecisionModel.FIXED, SerialOperand.ACTIVATION, 8, 8, 512),
        (PrecisionModel.FIXED, SerialOperand.ACTIVATION, 2, 2, 512),
        (PrecisionModel.BIT_FUSION, SerialOperand.ACTIVATION, 4, 4, 128),  # 4 MACs per cycle
        (PrecisionModel.BIT_FUSION, SerialOperand.ACTIVATION, 2, 2, 32),  # 16 MACs per cycle
        (PrecisionModel.BIT_FUSION, SerialOperand.ACTIVATION, 3, 8, 256),  # floor(8/3) = 2
        (PrecisionModel.BIT_FUSION, SerialOperand.ACTIVATION, 6, 7, 512),
        (PrecisionModel.BIT_SERIAL, SerialOperand.ACTIVATION, 8, 4, 256),  # 512 * 4/8
        (PrecisionModel.BIT_SERIAL, SerialOperand.ACTIVATION, 2, 3, 192),  # 512 * 3/8
        (PrecisionModel.BIT_SERIAL, SerialOperand.WEIGHT, 5, 8, 320),  # 512 * 5/8
        (PrecisionModel.BIT_SERIAL, SerialOperand.BOTH, 4, 2, 64),  # 512 * 8/64
    ],
)
def test_precision_models_by_hand(
    model: PrecisionModel, serial: SerialOperand, w_bits: int, a_bits: int, streamed: int
) -> None:
    array = _array(precision_model=model.value, serial_operand=serial.value)
    assert array.layer_latency(FC, w_bits, a_bits).compute_cycles == 32 + 32 + streamed - 2 - 1


def test_fixed_precision_changes_only_memory() -> None:
    array = _array(precision_model="fixed")
    wide, narrow = array.layer_report(FC, 8, 8), array.layer_report(FC, 2, 2)
    assert narrow.compute_cycles == wide.compute_cycles
    assert narrow.dram_bytes < wide.dram_bytes


def test_bit_packing_shrinks_dram_traffic_by_the_bit_ratio() -> None:
    # FC traffic: 512 inputs at a_bits, 5120 weights at w_bits, 10 outputs at 8 bits.
    array = _array()
    assert array.layer_latency(FC, 8, 8).dram_bytes == 512 + 5120 + 10
    assert array.layer_latency(FC, 4, 2).dram_bytes == 512 * 2 // 8 + 5120 * 4 // 8 + 10


# --- Composition ---------------------------------------------------------------------------------


def test_layer_report_and_latency_agree() -> None:
    array = _array()
    layer = LayerShape.conv2d(
        "c", in_channels=64, out_channels=64, input_hw=(56, 56), kernel=3, padding=1
    )
    report = array.layer_report(layer, 8, 8)
    latency = array.layer_latency(layer, 8, 8)
    assert (latency.compute_cycles, latency.stall_cycles, latency.dram_bytes) == (
        report.compute_cycles,
        report.stall_cycles,
        report.dram_bytes,
    )
    assert (latency.name, latency.w_bits, latency.a_bits) == ("c", 8, 8)
    assert latency.total_cycles == report.total_cycles
    assert report.total_cycles_incl_prefetch > report.total_cycles
    # SCALE-Sim's overall utilization divides by compute cycles that are one short (the index of
    # the last cycle), so it may exceed compute utilization slightly, as in its own reports.
    assert 0 < report.overall_utilization <= 1
    assert 0 < report.compute_utilization <= report.mapping_efficiency <= 1


def test_depthwise_layer_runs_its_channels_one_after_another() -> None:
    array = _array()
    depthwise = LayerShape.conv2d(
        "dw", in_channels=32, out_channels=32, input_hw=(28, 28), kernel=3, padding=1, groups=32
    )
    channel = LayerShape.conv2d(
        "one", in_channels=1, out_channels=1, input_hw=(28, 28), kernel=3, padding=1
    )
    whole, single = array.layer_latency(depthwise, 4, 6), array.layer_latency(channel, 4, 6)
    assert whole.compute_cycles == 32 * single.compute_cycles
    assert whole.stall_cycles == 32 * single.stall_cycles
    assert whole.dram_bytes == 32 * single.dram_bytes


def test_results_are_memoised_per_layer_and_bits() -> None:
    array = _array()
    first = array.layer_latency(FC, 4, 8)
    assert array.layer_latency(FC, 4, 8) is first
    assert array.layer_report(FC, 4, 8) is array.layer_report(FC, 4, 8)
    assert array.layer_latency(FC, 8, 4) is not first
    renamed = dataclasses.replace(FC, name="head")
    assert array.layer_latency(renamed, 4, 8).name == "head"


@pytest.mark.parametrize(("w_bits", "a_bits"), [(1, 8), (8, 9), (0, 0), (16, 8)])
def test_unsupported_bits_are_rejected(w_bits: int, a_bits: int) -> None:
    with pytest.raises(ValueError, match=r"(w_bits|a_bits) must be an integer in 2\.\.8"):
        _array().layer_latency(FC, w_bits, a_bits)


def test_name_and_clock_come_from_the_config() -> None:
    array = SystolicArray(load_preset("eyeriss"))
    assert (array.name, array.clock_hz) == ("eyeriss", 200e6)
    assert "eyeriss" in repr(array)


def test_bound_follows_the_stalls() -> None:
    layer = LayerShape.conv2d(
        "c", in_channels=256, out_channels=256, input_hw=(14, 14), kernel=3, padding=1
    )
    assert SystolicArray(load_preset("scale-sim-lowmem")).layer_latency(layer, 8, 8).bound is (
        Bound.MEMORY
    )
    unlimited = _array(dram_bytes_per_cycle=math.inf)
    assert unlimited.layer_latency(layer, 8, 8).bound is Bound.COMPUTE


# --- Monotonicity (Hypothesis) -------------------------------------------------------------------


@st.composite
def layers(draw: st.DrawFn) -> LayerShape:
    groups = draw(st.sampled_from([1, 1, 1, 2, 4]))
    in_channels = groups * draw(st.integers(1, 48))
    out_channels = groups * draw(st.integers(1, 48))
    depthwise = draw(st.booleans())
    if depthwise:
        groups = in_channels = out_channels = draw(st.integers(1, 24))
    kernel = draw(st.integers(1, 5))
    padding = draw(st.integers(0, kernel // 2))
    size = draw(st.integers(max(1, kernel - 2 * padding), 40))
    return LayerShape.conv2d(
        "layer",
        in_channels=in_channels,
        out_channels=out_channels,
        input_hw=(size, draw(st.integers(max(1, kernel - 2 * padding), 40))),
        kernel=kernel,
        stride=draw(st.integers(1, 3)),
        padding=padding,
        groups=groups,
    )


configs = st.builds(
    SystolicArrayConfig,
    name=st.just("h"),
    rows=st.integers(1, 24),
    cols=st.integers(1, 24),
    ifmap_sram_kib=st.integers(1, 64),
    filter_sram_kib=st.integers(1, 64),
    ofmap_sram_kib=st.integers(1, 64),
    dram_bytes_per_cycle=st.floats(0.25, 64.0),
    clock_hz=st.just(1e8),
    dataflow=st.sampled_from(list(Dataflow)),
    precision_model=st.sampled_from(list(PrecisionModel)),
    serial_operand=st.sampled_from(list(SerialOperand)),
    ofmap_bits=st.integers(2, 8),
)
bits = st.integers(2, 8)


def _total(config: SystolicArrayConfig, layer: LayerShape, w_bits: int, a_bits: int) -> int:
    return SystolicArray(config).layer_latency(layer, w_bits, a_bits).total_cycles


@settings(max_examples=150, deadline=None)
@given(
    layer=layers(),
    config=configs,
    w_bits=bits,
    a_bits=bits,
    extra=st.tuples(st.integers(0, 64), st.integers(0, 64), st.integers(0, 64)),
)
def test_more_sram_never_makes_a_layer_slower(
    layer: LayerShape,
    config: SystolicArrayConfig,
    w_bits: int,
    a_bits: int,
    extra: tuple[int, int, int],
) -> None:
    bigger = dataclasses.replace(
        config,
        ifmap_sram_kib=config.ifmap_sram_kib + extra[0],
        filter_sram_kib=config.filter_sram_kib + extra[1],
        ofmap_sram_kib=config.ofmap_sram_kib + extra[2],
    )
    assert _total(bigger, layer, w_bits, a_bits) <= _total(config, layer, w_bits, a_bits)


@settings(max_examples=150, deadline=None)
@given(layer=layers(), config=configs, w_bits=bits, a_bits=bits, factor=st.floats(1.0, 100.0))
def test_more_bandwidth_never_makes_a_layer_slower(
    layer: LayerShape, config: SystolicArrayConfig, w_bits: int, a_bits: int, factor: float
) -> None:
    faster = dataclasses.replace(config, dram_bytes_per_cycle=config.dram_bytes_per_cycle * factor)
    assert _total(faster, layer, w_bits, a_bits) <= _total(config, layer, w_bits, a_bits)
    unlimited = dataclasses.replace(config, dram_bytes_per_cycle=math.inf)
    assert _total(unlimited, layer, w_bits, a_bits) <= _total(faster, layer, w_bits, a_bits)


@settings(max_examples=200, deadline=None)
@given(
    layer=layers(),
    config=configs,
    w_bits=bits,
    a_bits=bits,
    fewer_w=st.integers(0, 6),
    fewer_a=st.integers(0, 6),
)
def test_fewer_bits_never_make_a_layer_slower(
    layer: LayerShape,
    config: SystolicArrayConfig,
    w_bits: int,
    a_bits: int,
    fewer_w: int,
    fewer_a: int,
) -> None:
    array = SystolicArray(config)
    narrow_w, narrow_a = max(2, w_bits - fewer_w), max(2, a_bits - fewer_a)
    wide = array.layer_latency(layer, w_bits, a_bits)
    narrow = array.layer_latency(layer, narrow_w, narrow_a)
    assert narrow.total_cycles <= wide.total_cycles
    assert narrow.compute_cycles <= wide.compute_cycles
    assert narrow.dram_bytes <= wide.dram_bytes


energy_figures = st.floats(0.0, 1000.0, allow_nan=False, allow_infinity=False)
energy_tables = st.builds(
    EnergyTable,
    technology_nm=st.just(45.0),
    mac_multiply_pj=energy_figures,
    mac_accumulate_pj=energy_figures,
    ifmap_sram_pj_per_byte=energy_figures,
    filter_sram_pj_per_byte=energy_figures,
    ofmap_sram_pj_per_byte=energy_figures,
    dram_pj_per_byte=energy_figures,
    reference=st.just("random figures"),
    leakage_pj_per_cycle=energy_figures,
)


@settings(max_examples=300, deadline=None)
@given(
    layer=layers(),
    config=configs,
    table=energy_tables,
    w_bits=bits,
    a_bits=bits,
    fewer_w=st.integers(0, 6),
    fewer_a=st.integers(0, 6),
)
def test_fewer_bits_never_cost_more_energy(
    layer: LayerShape,
    config: SystolicArrayConfig,
    table: EnergyTable,
    w_bits: int,
    a_bits: int,
    fewer_w: int,
    fewer_a: int,
) -> None:
    # Every precision model, dataflow and serial operand is drawn (`configs`).
    array = SystolicArray(dataclasses.replace(config, energy=table))
    narrow_w, narrow_a = max(2, w_bits - fewer_w), max(2, a_bits - fewer_a)
    wide = array.layer_energy(layer, w_bits, a_bits)
    narrow = array.layer_energy(layer, narrow_w, narrow_a)
    assert narrow.total_pj <= wide.total_pj
    for part in ENERGY_PARTS:
        assert getattr(narrow, part) <= getattr(wide, part), part


@pytest.mark.parametrize("dataflow", list(Dataflow))
@pytest.mark.parametrize("model", list(PrecisionModel))
@pytest.mark.parametrize("serial", list(SerialOperand))
def test_energy_never_grows_along_every_bit_path(
    dataflow: Dataflow, model: PrecisionModel, serial: SerialOperand
) -> None:
    # Exhaustive over all 49 bit pairs for one layer per combination: each step down in either
    # width costs no more.
    layer = LayerShape.conv2d(
        "conv", in_channels=24, out_channels=40, input_hw=(14, 14), kernel=3, padding=1
    )
    array = _array(
        dataflow=dataflow.value,
        precision_model=model.value,
        serial_operand=serial.value,
        ifmap_sram_kib=4,
        filter_sram_kib=4,
        ofmap_sram_kib=4,
    )
    for w_bits in range(2, 9):
        for a_bits in range(2, 9):
            here = array.layer_energy(layer, w_bits, a_bits).total_pj
            if w_bits > 2:
                assert array.layer_energy(layer, w_bits - 1, a_bits).total_pj <= here
            if a_bits > 2:
                assert array.layer_energy(layer, w_bits, a_bits - 1).total_pj <= here


# --- Golden ResNet-18 (torchvision shapes, 224x224) ----------------------------------------------
# (compute, stall) cycles per layer at 8/8 bits, and network totals at other bit pairs.
# Regenerate after an intended model change (and say why in the commit):
#   python -c "from tests.hardware.conftest import _resnet18_layers as r; from hardware import *;
#   [print(p, [(x.compute_cycles, x.stall_cycles) for x in (SystolicArray(load_preset(p))
#   .layer_latency(l, 8, 8) for l in r())]) for p in available_presets()]"

GOLDEN_8BIT = {
    "eyeriss": [(817699, 597584), (761279, 0), (761279, 0), (761279, 0), (761279, 0), (393599, 0),
                (787199, 0), (49199, 551), (787199, 0), (787199, 0), (423167, 0), (846335, 0),
                (48487, 180), (846335, 0), (846335, 0), (603839, 0), (1207679, 0), (69189, 0),
                (1207679, 0), (1207679, 0), (114551, 0)],
    "scale-sim": [(163855, 0), (125047, 0), (125047, 0), (125047, 0), (125047, 0),
                  (63799, 22365), (121399, 0), (12599, 8061), (121399, 0), (121399, 0),
                  (67983, 40093), (132495, 145857), (10639, 1823), (132495, 145857),
                  (132495, 145857), (75711, 132987), (149439, 263138), (10175, 5481),
                  (149439, 263138), (149439, 263138), (18367, 32025)],
    "scale-sim-lowmem": [(163855, 0), (125047, 135392), (125047, 135392), (125047, 135392),
                         (125047, 135392), (63799, 127558), (121399, 215044), (12599, 15430),
                         (121399, 215044), (121399, 215044), (67983, 174472), (132495, 278217),
                         (10639, 11300), (132495, 278217), (132495, 278217), (75711, 209173),
                         (149439, 327803), (10175, 11858), (149439, 327803), (149439, 327803),
                         (18367, 32025)],
}  # fmt: skip

GOLDEN_TOTALS = {
    "eyeriss": {(4, 4): 9289865, (2, 8): 14686024, (8, 2): 6612687},
    "scale-sim": {(4, 4): 1264433, (2, 8): 1037144, (8, 2): 2770460},
    "scale-sim-lowmem": {(4, 4): 2309311, (2, 8): 1587101, (8, 2): 5015577},
}


@pytest.mark.parametrize("preset", sorted(GOLDEN_8BIT))
def test_golden_resnet18_cycles(preset: str, resnet18: Callable[..., list[LayerShape]]) -> None:
    array = SystolicArray(load_preset(preset))
    layers = resnet18()
    assert len(layers) == 21
    got = [
        (latency.compute_cycles, latency.stall_cycles)
        for latency in (array.layer_latency(layer, 8, 8) for layer in layers)
    ]
    assert got == GOLDEN_8BIT[preset]
    for pair, total in GOLDEN_TOTALS[preset].items():
        assert network_latency(array, layers, [pair] * len(layers)).total_cycles == total


def test_golden_compute_cycles_are_scalesim_closed_forms(
    resnet18: Callable[..., list[LayerShape]],
) -> None:
    # conv1 on 32x32 OS: Sr = 112*112, Sc = 64, T = 147 -> 392 * 2 folds of 32+32+147-2 cycles.
    # fc: Sr = 1, Sc = 1000, T = 512 -> 32 folds of 574 cycles.
    layers = resnet18()
    array = _array()
    assert array.layer_latency(layers[0], 8, 8).compute_cycles == 392 * 2 * 209 - 1
    assert array.layer_latency(layers[-1], 8, 8).compute_cycles == 32 * 574 - 1
