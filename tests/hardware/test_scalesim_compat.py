"""SCALE-Sim file formats: configs (v1..v3), topologies (conv, GEMM, depthwise), the report."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest

from hardware.config import Dataflow
from hardware.config import PrecisionModel
from hardware.energy_table import DEFAULT_ENERGY_TABLE
from hardware.layer import GemmShape
from hardware.scalesim_compat import COMPUTE_REPORT_COLUMNS
from hardware.scalesim_compat import InterfaceBandwidth
from hardware.scalesim_compat import compute_report
from hardware.scalesim_compat import read_scalesim_config
from hardware.scalesim_compat import write_compute_report
from hardware.scalesim_topology import read_topology
from hardware.systolic_array import SystolicArray


V3_CONFIG = """\
[general]
run_name = scale_example_run_32x32_os

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     32
IfmapSramSzkB:    64
FilterSramSzkB:   64
OfmapSramSzkB:    64
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Bandwidth : 10,10,10
Dataflow : ws
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2

[sparsity]
SparsitySupport : false

[run_presets]
InterfaceBandwidth: USER
UseRamulatorTrace: False
"""

V1_CONFIG = """\
[general]
run_name = "eyeriss_like"

[architecture_presets]
ArrayHeight:    12
ArrayWidth:     14
IfmapSramSz:    108
FilterSramSz:   108
OfmapSramSz:    108
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Dataflow:       os
"""

CONV_TOPOLOGY = """\
Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
Conv1, 224, 224, 3, 3, 3, 32, 2,
Conv2_dw, 112, 112, 3, 3, 1, 1, 1,#dw
Conv3, 112, 112, 1, 1, 32, 64, 1
Conv4_DP, 16, 16, 3, 3, 8, 1, 1,
FC, 1, 1, 1, 1, 1024, 1000, 1, 1:1,
"""

GEMM_TOPOLOGY = """\
Layer, M, N, K,
g1, 64, 32, 128,
g2, 1, 200, 129,
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_v3_config(tmp_path: Path) -> None:
    config = read_scalesim_config(
        _write(tmp_path, "a.cfg", V3_CONFIG), precision_model=PrecisionModel.BIT_SERIAL
    )
    assert config.run_name == "scale_example_run_32x32_os"
    assert config.interface is InterfaceBandwidth.USER
    array = config.array
    assert (array.rows, array.cols) == (32, 32)
    assert (array.ifmap_sram_kib, array.filter_sram_kib, array.ofmap_sram_kib) == (64, 64, 64)
    assert array.dataflow is Dataflow.WEIGHT_STATIONARY
    assert array.dram_bytes_per_cycle == 10.0  # the first value of the list
    assert array.precision_model is PrecisionModel.BIT_SERIAL
    assert array.clock_hz == 200e6


def test_v1_config_defaults_to_stall_free_calc_mode(tmp_path: Path) -> None:
    config = read_scalesim_config(_write(tmp_path, "eyeriss.cfg", V1_CONFIG), clock_hz=1e8)
    assert config.interface is InterfaceBandwidth.CALC
    assert math.isinf(config.array.dram_bytes_per_cycle)
    assert (config.array.rows, config.array.cols, config.array.ifmap_sram_kib) == (12, 14, 108)
    assert config.array.clock_hz == 1e8


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "ArrayHeight:    32",
            "ArrayHeight:    0",
            r"ArrayHeight must be a positive integer, got '0'",
        ),
        ("ArrayWidth:     32", "ArrayWidth:     wide", r"ArrayWidth must be .* got 'wide'"),
        ("ArrayWidth:     32\n", "", r"\[architecture_presets\] ArrayWidth is missing"),
        ("Dataflow : ws", "Dataflow : rs", r"Dataflow must be one of .* got 'rs'"),
        ("InterfaceBandwidth: USER", "InterfaceBandwidth: AUTO", r"InterfaceBandwidth .* 'AUTO'"),
        ("Bandwidth : 10,10,10", "Bandwidth : fast", r"Bandwidth must be a positive number"),
        ("Bandwidth : 10,10,10\n", "", r"Bandwidth is missing"),
        ("[general]", "[general\n", r"malformed SCALE-Sim config"),
        ("FilterSramSzkB:   64", "FilterSramSzkB:   -64", r"FilterSramSzkB .* got '-64'"),
    ],
)
def test_bad_config_names_the_key_and_value(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in V3_CONFIG
    path = _write(tmp_path, "bad.cfg", V3_CONFIG.replace(old, new))
    with pytest.raises(ValueError, match=message):
        read_scalesim_config(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_scalesim_config(tmp_path / "none.cfg")


def test_conv_topology(tmp_path: Path) -> None:
    layers = read_topology(_write(tmp_path, "net.csv", CONV_TOPOLOGY))
    assert [layer.name for layer in layers] == ["Conv1", "Conv2_dw", "Conv3", "Conv4_DP", "FC"]
    conv1 = layers[0]
    # SCALE-Sim: no padding, output ceil((224 - 3) / 2) + 1 = 112.
    assert (conv1.output_h, conv1.output_w) == (112, 112)
    assert conv1.gemm == GemmShape(m=112 * 112, k=27, n=32)
    # A missing trailing comma and a trailing comment are tolerated.
    assert layers[1].gemm == GemmShape(m=110 * 110, k=9, n=1)
    assert layers[2].gemm.k == 32
    # DP: 8 channels, each a one-channel layer with the row's single filter.
    depthwise = layers[3]
    assert depthwise.groups == 8
    assert depthwise.gemm == GemmShape(m=14 * 14, k=9, n=1, groups=8)
    assert layers[4].gemm == GemmShape(m=1, k=1024, n=1000)


def test_gemm_topology_is_a_convolution_of_m_by_k_with_n_filters(tmp_path: Path) -> None:
    layers = read_topology(_write(tmp_path, "gemm.csv", GEMM_TOPOLOGY))
    assert [layer.gemm for layer in layers] == [
        GemmShape(m=64, k=128, n=32),
        GemmShape(m=1, k=129, n=200),
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("c, 8, 8, 3, 3, 4,", r":2: a convolution row needs 8 fields"),
        ("c, 8, 8, 3, 3, 4, 8, 1, 1:1, 7,", r"needs 8 fields"),
        ("c, 8, x, 3, 3, 4, 8, 1,", r":2: IFMAP Width must be a positive integer, got 'x'"),
        ("c, 8, 8, 3, 3, 0, 8, 1,", r"Channels must be a positive integer, got '0'"),
        ("c, 8, 8, 3, 3, 4, 8, -1,", r"Strides must be a positive integer, got '-1'"),
        ("c, 2, 8, 3, 3, 4, 8, 1,", r"filter 3x3 is larger than the IFMAP 2x8"),
        ("c, 8, 8, 3, 3, 4, 8, 1, 2:4,", r"sparsity '2:4' is not supported"),
        ("c, 8, 8, 3, 3, 4, 8, 1, dense,", r"sparsity must be N:M, got 'dense'"),
        (", 8, 8, 3, 3, 4, 8, 1,", r"Layer name is empty"),
    ],
)
def test_bad_conv_rows(tmp_path: Path, row: str, message: str) -> None:
    path = _write(tmp_path, "bad.csv", CONV_TOPOLOGY.splitlines()[0] + "\n" + row + "\n")
    with pytest.raises(ValueError, match=message):
        read_topology(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [("g, 4, 4,", r"a GEMM row needs 4 fields"), ("g, 4, 0, 4,", r"N must be a positive")],
)
def test_bad_gemm_rows(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_topology(_write(tmp_path, "bad.csv", "Layer, M, N, K,\n" + row + "\n"))


@pytest.mark.parametrize("text", ["", "\n\n", "Layer, M, N, K,\n"])
def test_topology_without_layers(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValueError, match="empty topology file|no layers"):
        read_topology(_write(tmp_path, "empty.csv", text))


def test_report_rows_expand_depthwise_layers_per_channel(tmp_path: Path) -> None:
    config = read_scalesim_config(_write(tmp_path, "a.cfg", V1_CONFIG))
    layers = read_topology(_write(tmp_path, "net.csv", CONV_TOPOLOGY))
    array = SystolicArray(config.array)
    rows = compute_report(array, layers)
    assert len(rows) == 1 + 1 + 1 + 8 + 1
    assert [row.layer_id for row in rows] == list(range(len(rows)))
    channel_rows = rows[3:11]
    assert len({row.values()[1:] for row in channel_rows}) == 1  # identical per-channel rows
    whole = array.layer_latency(layers[3], 8, 8)
    assert sum(row.compute_cycles for row in channel_rows) == whole.compute_cycles
    for row in rows:
        # CALC mode: stall-free, as SCALE-Sim's.
        assert row.stall_cycles == 0
        assert row.total_cycles == row.compute_cycles == row.total_cycles_incl_prefetch
        assert 0 < row.compute_util_pct <= row.mapping_efficiency_pct <= 100


def test_report_format_is_scalesims(tmp_path: Path) -> None:
    config = read_scalesim_config(_write(tmp_path, "a.cfg", V3_CONFIG))
    layers = read_topology(_write(tmp_path, "gemm.csv", GEMM_TOPOLOGY))
    stream = io.StringIO()
    write_compute_report(compute_report(SystolicArray(config.array), layers), stream)
    lines = stream.getvalue().splitlines()
    # SCALE-Sim's columns and ours, unchanged, then the energy columns appended.
    assert lines[0] == (
        "LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, Overall Util %, "
        "Mapping Efficiency %, Compute Util %, Compute Cycles, MAC Energy (pJ), "
        "IFMAP SRAM Energy (pJ), Filter SRAM Energy (pJ), OFMAP SRAM Energy (pJ), "
        "DRAM Energy (pJ), Leakage Energy (pJ), Total Energy (pJ),"
    )
    assert len(lines) == 3
    fields = lines[1].split(", ")
    assert fields[-1].endswith(",") and len(fields) == len(COMPUTE_REPORT_COLUMNS)
    layer_id, incl, total, stall, _, _, _, compute, *energy = (
        field.rstrip(",") for field in fields
    )
    assert layer_id == "0"
    assert int(total) == int(compute) + int(stall)
    assert int(incl) >= int(total)
    *parts, energy_total = (float(value) for value in energy)
    assert sum(parts) == pytest.approx(energy_total, abs=1e-2) and energy_total > 0


def test_scalesim_files_get_the_default_energy_table(tmp_path: Path) -> None:
    config = read_scalesim_config(_write(tmp_path, "a.cfg", V3_CONFIG))
    assert config.array.energy == DEFAULT_ENERGY_TABLE
    assert config.array.energy.source == "default"
    assert "the default table: the hardware gives none" in config.array.summary()


def test_depthwise_rows_split_the_layer_energy_per_channel(tmp_path: Path) -> None:
    config = read_scalesim_config(_write(tmp_path, "a.cfg", V1_CONFIG))
    layers = read_topology(_write(tmp_path, "net.csv", CONV_TOPOLOGY))
    array = SystolicArray(config.array)
    rows = compute_report(array, layers)
    whole = array.layer_energy(layers[3], 8, 8)
    assert sum(row.total_pj for row in rows[3:11]) == pytest.approx(whole.total_pj, abs=1e-2)
    assert sum(row.dram_pj for row in rows[3:11]) == pytest.approx(whole.dram_pj, abs=1e-2)
