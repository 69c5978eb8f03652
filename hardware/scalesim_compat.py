"""Read SCALE-Sim's configuration and topology files, and write its compute report.

SCALE-Sim (https://github.com/scalesim-project/scale-sim-v3) describes an accelerator in an INI
file and a network in a CSV file. This module reads both unchanged, so that a SCALE-Sim user can
run `python -m hardware --config F.cfg --topology F.csv` and get the same compute cycles, mapping
efficiency and compute utilization as SCALE-Sim 3.0 (exactly, at 8 bits), in milliseconds.

What is taken from the files, and how:

- `[architecture_presets]`: `ArrayHeight` (rows), `ArrayWidth` (columns), `IfmapSramSzkB`,
  `FilterSramSzkB`, `OfmapSramSzkB` (KiB; v1's `IfmapSramSz` etc. are accepted), `Dataflow`, and
  `Bandwidth` (the first value of the list, words per cycle = bytes per cycle, as our one shared
  DRAM link). Offsets, request buffers, bank and layout settings only shape SCALE-Sim's traces
  and are ignored.
- `[run_presets]` `InterfaceBandwidth`: `CALC` (SCALE-Sim's stall-free mode, the default when the
  section is missing) prices compute only; `USER` uses the bandwidth and our memory model
  (`hardware.memory`), whose stalls are ours, not SCALE-Sim's.
- `[general]` `run_name` names the configuration.
- Topology (convolution): `name, ifmap_h, ifmap_w, filter_h, filter_w, channels, filters,
  stride,` (no padding, output `ceil((H - F) / S) + 1`); a name containing `DP` is depthwise: one
  layer per channel, each with one input channel and the row's filters (SCALE-Sim's expansion).
  Topology (GEMM, header `Layer, M, N, K`): an `M x K` input times a `K x N` matrix.

SCALE-Sim counts words of 1 byte and has no bitwidths; `w_bits` and `a_bits` other than 8 apply
our precision and memory models. SCALE-Sim files carry no energy figures, so a configuration read
from one prices energy with `DEFAULT_ENERGY_TABLE` (its `energy.source` is `default`); the report
appends our energy columns, in pJ per row, after SCALE-Sim's.
"""

from __future__ import annotations

import configparser
import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hardware.compute import SramAccesses
from hardware.config import Dataflow
from hardware.config import PrecisionModel
from hardware.config import SystolicArrayConfig
from hardware.layer import LayerShape
from hardware.systolic_array import LayerReport
from hardware.systolic_array import SystolicArray


#: Columns of SCALE-Sim's COMPUTE_REPORT.csv, then ours.
COMPUTE_REPORT_COLUMNS = (
    "LayerID",
    "Total Cycles (incl. prefetch)",
    "Total Cycles",
    "Stall Cycles",
    "Overall Util %",
    "Mapping Efficiency %",
    "Compute Util %",
    "Compute Cycles",
    "MAC Energy (pJ)",
    "IFMAP SRAM Energy (pJ)",
    "Filter SRAM Energy (pJ)",
    "OFMAP SRAM Energy (pJ)",
    "DRAM Energy (pJ)",
    "Leakage Energy (pJ)",
    "Total Energy (pJ)",
)

#: Decimals of the energy columns (pJ): a thousandth of a pJ is far below any table's accuracy.
ENERGY_DECIMALS = 3

#: Clock assumed for SCALE-Sim files, which have none (the AMED code's 200 MHz).
DEFAULT_CLOCK_HZ = 200e6


class InterfaceBandwidth(enum.Enum):
    """SCALE-Sim's `InterfaceBandwidth` run mode."""

    CALC = "CALC"
    USER = "USER"


@dataclass(frozen=True, slots=True)
class ScaleSimConfig:
    """A SCALE-Sim configuration file, as our model reads it.

    Attributes:
        run_name: `[general] run_name`.
        interface: `CALC` (stall-free) or `USER` (the file's bandwidth).
        array: The equivalent accelerator configuration.
    """

    run_name: str
    interface: InterfaceBandwidth
    array: SystolicArrayConfig


@dataclass(frozen=True, slots=True)
class ComputeReportRow:
    """One row of the compute report, in SCALE-Sim's units (cycles, percent), then energy in pJ.

    The energy of a row is that of one group of its layer (a `DP` layer's row is one channel),
    each part rounded to `ENERGY_DECIMALS`; `total_pj` is the unrounded parts' sum, rounded.
    """

    layer_id: int
    total_cycles_incl_prefetch: int
    total_cycles: int
    stall_cycles: int
    overall_util_pct: float
    mapping_efficiency_pct: float
    compute_util_pct: float
    compute_cycles: int
    mac_pj: float
    ifmap_sram_pj: float
    filter_sram_pj: float
    ofmap_sram_pj: float
    dram_pj: float
    leakage_pj: float
    total_pj: float

    def values(self) -> tuple[int | float, ...]:
        """The row's values in `COMPUTE_REPORT_COLUMNS` order."""
        return (
            self.layer_id,
            self.total_cycles_incl_prefetch,
            self.total_cycles,
            self.stall_cycles,
            self.overall_util_pct,
            self.mapping_efficiency_pct,
            self.compute_util_pct,
            self.compute_cycles,
            self.mac_pj,
            self.ifmap_sram_pj,
            self.filter_sram_pj,
            self.ofmap_sram_pj,
            self.dram_pj,
            self.leakage_pj,
            self.total_pj,
        )


def read_scalesim_config(
    path: str | Path,
    *,
    precision_model: PrecisionModel = PrecisionModel.FIXED,
    clock_hz: float = DEFAULT_CLOCK_HZ,
) -> ScaleSimConfig:
    """Read a SCALE-Sim `.cfg` file (v1, v2 or v3).

    Args:
        path: The file.
        precision_model: How bitwidths below 8 change compute (SCALE-Sim has no bitwidths).
        clock_hz: Clock to convert cycles into time (SCALE-Sim files have none).

    Returns:
        The run name, bandwidth mode and accelerator configuration.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the file is not valid INI or a required key is missing or invalid; the
            message names the section, key and value.
    """
    path = Path(path)
    parser = configparser.ConfigParser(
        inline_comment_prefixes=("#", ";"), strict=False, interpolation=None
    )
    try:
        with path.open(encoding="utf-8") as stream:
            parser.read_file(stream)
    except configparser.Error as error:
        raise ValueError(f"{path}: malformed SCALE-Sim config: {error}".splitlines()[0]) from error
    sections = {name.lower(): parser[name] for name in parser.sections()}

    def get(section: str, *keys: str) -> str | None:
        values = sections.get(section)
        if values is None:
            return None
        for key in keys:
            if key.lower() in values:
                return str(values[key.lower()]).strip()
        return None

    def require(section: str, *keys: str) -> str:
        value = get(section, *keys)
        if value is None:
            raise ValueError(f"{path}: [{section}] {keys[0]} is missing")
        return value

    def positive_int(section: str, *keys: str) -> int:
        text = require(section, *keys)
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value <= 0:
            raise ValueError(
                f"{path}: [{section}] {keys[0]} must be a positive integer, got {text!r}"
            )
        return value

    arch = "architecture_presets"
    rows = positive_int(arch, "ArrayHeight")
    cols = positive_int(arch, "ArrayWidth")
    ifmap_kib = positive_int(arch, "IfmapSramSzkB", "IfmapSramSz")
    filter_kib = positive_int(arch, "FilterSramSzkB", "FilterSramSz")
    ofmap_kib = positive_int(arch, "OfmapSramSzkB", "OfmapSramSz")
    dataflow_text = require(arch, "Dataflow")
    try:
        dataflow = Dataflow(dataflow_text.lower())
    except ValueError:
        raise ValueError(
            f"{path}: [{arch}] Dataflow must be one of 'os', 'ws', 'is', got {dataflow_text!r}"
        ) from None

    interface_text = get("run_presets", "InterfaceBandwidth") or InterfaceBandwidth.CALC.value
    try:
        interface = InterfaceBandwidth(interface_text.upper())
    except ValueError:
        raise ValueError(
            f"{path}: [run_presets] InterfaceBandwidth must be 'CALC' or 'USER', "
            f"got {interface_text!r}"
        ) from None

    bandwidth = math.inf
    if interface is InterfaceBandwidth.USER:
        text = require(arch, "Bandwidth")
        first = text.split(",")[0].strip()
        try:
            bandwidth = float(first)
        except ValueError:
            bandwidth = 0.0
        if not bandwidth > 0 or math.isinf(bandwidth):
            raise ValueError(f"{path}: [{arch}] Bandwidth must be a positive number, got {text!r}")

    run_name = (get("general", "run_name") or "").strip("\"'") or path.stem
    array = SystolicArrayConfig(
        name=run_name,
        rows=rows,
        cols=cols,
        ifmap_sram_kib=ifmap_kib,
        filter_sram_kib=filter_kib,
        ofmap_sram_kib=ofmap_kib,
        dram_bytes_per_cycle=bandwidth,
        clock_hz=clock_hz,
        dataflow=dataflow,
        precision_model=precision_model,
        description=f"Read from the SCALE-Sim config {path.name} ({interface.value} mode).",
    )
    return ScaleSimConfig(run_name=run_name, interface=interface, array=array)


def scalesim_sram_accesses(report: LayerReport) -> SramAccesses:
    """SRAM accesses of one group as SCALE-Sim 3.0.0 reports them.

    SCALE-Sim 3.0.0's output-stationary model adds `R + C` to its OFMAP write count for every
    fold, on top of the real writes (its demand-matrix bookkeeping adds the fold matrix's height
    plus width). Our model counts real writes only; this adds the artefact back for comparison.
    """
    sram = report.compute.sram
    if report.compute.dataflow is not Dataflow.OUTPUT_STATIONARY:
        return sram
    extra = report.compute.folds * (report.compute.array_rows + report.compute.array_cols)
    return SramAccesses(sram.ifmap_reads, sram.filter_reads, sram.ofmap_writes + extra)


def compute_report(
    array: SystolicArray, layers: Iterable[LayerShape], *, w_bits: int = 8, a_bits: int = 8
) -> list[ComputeReportRow]:
    """SCALE-Sim's compute report for `layers`, one row per layer SCALE-Sim would simulate.

    A grouped (depthwise) layer gives one row per group, as SCALE-Sim simulates a `DP` layer
    channel by channel; the rows are numbered consecutively.

    Args:
        array: The accelerator.
        layers: The network.
        w_bits: Weight bitwidth for every layer.
        a_bits: Activation bitwidth for every layer.

    Raises:
        ValueError: If a bitwidth is outside 2..8.
    """
    rows: list[ComputeReportRow] = []
    for layer in layers:
        report = array.layer_report(layer, w_bits, a_bits)
        compute, memory = report.compute, report.memory
        total = compute.compute_cycles + memory.stall_cycles
        incl_prefetch = total + memory.prefetch_cycles + memory.drain_cycles
        energy, groups = report.energy, layer.groups
        for _ in range(layer.groups):
            rows.append(
                ComputeReportRow(
                    layer_id=len(rows),
                    total_cycles_incl_prefetch=incl_prefetch,
                    total_cycles=total,
                    stall_cycles=memory.stall_cycles,
                    overall_util_pct=100 * report.overall_utilization,
                    mapping_efficiency_pct=100 * compute.mapping_efficiency,
                    compute_util_pct=100 * compute.compute_utilization,
                    compute_cycles=compute.compute_cycles,
                    mac_pj=_per_group(energy.mac_pj, groups),
                    ifmap_sram_pj=_per_group(energy.ifmap_sram_pj, groups),
                    filter_sram_pj=_per_group(energy.filter_sram_pj, groups),
                    ofmap_sram_pj=_per_group(energy.ofmap_sram_pj, groups),
                    dram_pj=_per_group(energy.dram_pj, groups),
                    leakage_pj=_per_group(energy.leakage_pj, groups),
                    total_pj=_per_group(energy.total_pj, groups),
                )
            )
    return rows


def _per_group(layer_pj: float, groups: int) -> float:
    return round(layer_pj / groups, ENERGY_DECIMALS)


def write_compute_report(rows: Iterable[ComputeReportRow], stream: TextIO) -> None:
    """Write rows in SCALE-Sim's COMPUTE_REPORT.csv format (`, ` separators, trailing comma)."""
    stream.write(", ".join(COMPUTE_REPORT_COLUMNS) + ",\n")
    for row in rows:
        stream.write(", ".join(str(value) for value in row.values()) + ",\n")
