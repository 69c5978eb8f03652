"""Every record of SCALE-Sim 3.0's measurements: our compute model must reproduce it exactly.

The data (`data/single_layer_8x8_32x32.json`, copied from `shared/reference/scalesim/`) holds 234
single-layer runs of the real SCALE-Sim: 13 layer shapes x {8x8, 32x32} x {os, ws, is} x three
memory settings. Compute cycles, mapping efficiency, compute utilization and SRAM counts do not
depend on the memory setting; overall utilization is compared where SCALE-Sim did not stall.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from hardware.config import Dataflow
from hardware.config import PrecisionModel
from hardware.config import SystolicArrayConfig
from hardware.layer import LayerKind
from hardware.layer import LayerShape
from hardware.scalesim_compat import scalesim_sram_accesses
from hardware.systolic_array import SystolicArray


DATA = Path(__file__).parent / "data" / "single_layer_8x8_32x32.json"
RECORDS: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))["records"]
PERCENT_TOLERANCE = 1e-9


def test_reference_data_is_complete() -> None:
    assert len(RECORDS) == 234
    assert {record["dataflow"] for record in RECORDS} == {"os", "ws", "is"}
    assert {record["mem_mode"] for record in RECORDS} == {"calc", "user_large", "user_small"}


def _layer(record: dict[str, Any]) -> LayerShape:
    spec = record["layer"]
    stride = spec["stride"]
    return LayerShape(
        name=spec["name"],
        kind=LayerKind.CONV,
        in_channels=spec["channels"],
        out_channels=spec["num_filters"],
        input_h=spec["ifmap_h"],
        input_w=spec["ifmap_w"],
        output_h=math.ceil((spec["ifmap_h"] - spec["filter_h"]) / stride) + 1,
        output_w=math.ceil((spec["ifmap_w"] - spec["filter_w"]) / stride) + 1,
        kernel_h=spec["filter_h"],
        kernel_w=spec["filter_w"],
        stride_h=stride,
        stride_w=stride,
    )


def _array(record: dict[str, Any]) -> SystolicArray:
    config = record["config"]
    return SystolicArray(
        SystolicArrayConfig(
            name=config["run_name"],
            rows=config["ArrayHeight"],
            cols=config["ArrayWidth"],
            ifmap_sram_kib=config["IfmapSramSzkB"],
            filter_sram_kib=config["FilterSramSzkB"],
            ofmap_sram_kib=config["OfmapSramSzkB"],
            # Compute-only pricing: SCALE-Sim's compute cycles exclude its stalls.
            dram_bytes_per_cycle=math.inf,
            clock_hz=200e6,
            dataflow=Dataflow(record["dataflow"]),
            # Any precision model is exact at 8 bits; bit_fusion is the least trivial one.
            precision_model=PrecisionModel.BIT_FUSION,
        )
    )


@pytest.mark.parametrize("record", RECORDS, ids=[record["run_id"] for record in RECORDS])
def test_record_matches_scalesim(record: dict[str, Any]) -> None:
    layer = _layer(record)
    report = _array(record).layer_report(layer, w_bits=8, a_bits=8)
    derived = record["derived"]

    assert (layer.output_h, layer.output_w) == (derived["ofmap_h"], derived["ofmap_w"])
    assert layer.macs == derived["macs"]
    mapping = report.compute.mapping
    assert (mapping.rows, mapping.cols, mapping.temporal) == (
        derived["Sr"],
        derived["Sc"],
        derived["T"],
    )
    assert (report.compute.row_folds, report.compute.col_folds) == (
        derived["row_folds"],
        derived["col_folds"],
    )
    assert report.compute_cycles == record["compute_cycles"]
    assert 100 * report.mapping_efficiency == pytest.approx(
        record["mapping_eff"], abs=PERCENT_TOLERANCE
    )
    assert 100 * report.compute_utilization == pytest.approx(
        record["compute_util"], abs=PERCENT_TOLERANCE
    )

    sram = scalesim_sram_accesses(report)
    assert sram.ifmap_reads == record["sram"]["ifmap_reads"]
    assert sram.filter_reads == record["sram"]["filter_reads"]
    assert sram.ofmap_writes == record["sram"]["ofmap_writes"]

    # Stall-free pricing: our total equals SCALE-Sim's whenever SCALE-Sim did not stall.
    assert report.stall_cycles == 0
    if record["stall_cycles"] == 0:
        assert report.total_cycles == record["total_cycles"]
        assert 100 * report.overall_utilization == pytest.approx(
            record["overall_util"], abs=PERCENT_TOLERANCE
        )


@pytest.mark.parametrize("record", RECORDS, ids=[record["run_id"] for record in RECORDS])
def test_real_ofmap_writes_differ_from_scalesim_only_by_its_os_artefact(
    record: dict[str, Any],
) -> None:
    report = _array(record).layer_report(_layer(record), w_bits=8, a_bits=8)
    real = report.compute.sram.ofmap_writes
    folds = record["derived"]["row_folds"] * record["derived"]["col_folds"]
    rows, cols = record["config"]["ArrayHeight"], record["config"]["ArrayWidth"]
    artefact = folds * (rows + cols) if record["dataflow"] == "os" else 0
    assert real + artefact == record["sram"]["ofmap_writes"]
