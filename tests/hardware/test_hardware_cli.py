"""`python -m hardware`: SCALE-Sim files in, SCALE-Sim's compute report out; bad input exits 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hardware.__main__ import main


DATA = Path(__file__).parent / "data" / "single_layer_8x8_32x32.json"

CONFIG = """\
[general]
run_name = cli_test

[architecture_presets]
ArrayHeight:    {rows}
ArrayWidth:     {cols}
IfmapSramSzkB:    64
FilterSramSzkB:   64
OfmapSramSzkB:    64
Bandwidth : 10
Dataflow : {dataflow}

[run_presets]
InterfaceBandwidth: {mode}
"""

HEADER = (
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,\n"
)


def _files(
    tmp_path: Path, rows: int = 8, cols: int = 8, dataflow: str = "os", mode: str = "CALC"
) -> tuple[Path, Path]:
    config = tmp_path / "arch.cfg"
    config.write_text(CONFIG.format(rows=rows, cols=cols, dataflow=dataflow, mode=mode))
    topology = tmp_path / "net.csv"
    topology.write_text(HEADER + "c1, 16, 16, 3, 3, 16, 48, 1,\nc2_DP, 8, 8, 3, 3, 4, 1, 1,\n")
    return config, topology


def _report(path: Path) -> list[list[str]]:
    lines = path.read_text().splitlines()
    return [[field.strip() for field in line.rstrip(",").split(",")] for line in lines]


def test_writes_the_report_and_a_summary_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, topology = _files(tmp_path)
    out = tmp_path / "report.csv"
    assert main(["--config", str(config), "--topology", str(topology), "--out", str(out)]) == 0
    table = _report(out)
    assert table[0][0] == "LayerID" and table[0][7] == "Compute Cycles"
    assert len(table) == 1 + 1 + 4  # header, one conv, four depthwise channels
    summary = capsys.readouterr().out
    assert "5 layers" in summary and "ms" in summary and str(out) in summary
    # SCALE-Sim files have no energy figures: the summary says the default table priced them.
    assert "µJ with default energy table (Horowitz" in summary


ENERGY_COLUMNS = [
    "MAC Energy (pJ)",
    "IFMAP SRAM Energy (pJ)",
    "Filter SRAM Energy (pJ)",
    "OFMAP SRAM Energy (pJ)",
    "DRAM Energy (pJ)",
    "Leakage Energy (pJ)",
    "Total Energy (pJ)",
]


def test_prints_energy_columns_after_scalesims(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, topology = _files(tmp_path, mode="USER")
    assert main(["--config", str(config), "--topology", str(topology)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    header = [field.strip() for field in lines[0].rstrip(",").split(",")]
    assert header[8:] == ENERGY_COLUMNS
    for line in lines[1:]:
        values = [float(field) for field in line.rstrip(",").split(",")[8:]]
        *parts, total = values
        assert total > 0 and sum(parts) == pytest.approx(total, abs=1e-2)
    # The CSV stays clean; the note on the energy table goes to standard error.
    assert "note:" in captured.err and "default energy table" in captured.err


def test_fewer_bits_use_less_energy(tmp_path: Path) -> None:
    config, topology = _files(tmp_path, mode="USER")
    energy = {}
    for bits in ("8", "4"):
        out = tmp_path / f"r{bits}.csv"
        args = ["--config", str(config), "--topology", str(topology), "--out", str(out)]
        assert main([*args, "--w-bits", bits, "--a-bits", bits]) == 0
        energy[bits] = sum(float(row[-1]) for row in _report(out)[1:])
    assert energy["4"] < energy["8"]


def test_prints_the_report_without_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, topology = _files(tmp_path)
    assert main(["--config", str(config), "--topology", str(topology)]) == 0
    assert capsys.readouterr().out.startswith("LayerID, Total Cycles (incl. prefetch),")


def test_fewer_bits_are_faster_with_bit_fusion(tmp_path: Path) -> None:
    config, topology = _files(tmp_path, mode="USER")
    cycles = {}
    for bits in ("8", "4"):
        out = tmp_path / f"r{bits}.csv"
        args = ["--config", str(config), "--topology", str(topology), "--out", str(out)]
        assert main([*args, "--w-bits", bits, "--a-bits", bits]) == 0
        cycles[bits] = sum(int(row[2]) for row in _report(out)[1:])
    assert cycles["4"] < cycles["8"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--w-bits": "9"}, "w_bits must be an integer in 2..8, got 9"),
        ({"--a-bits": "1"}, "a_bits must be an integer in 2..8, got 1"),
        ({"--topology": "missing.csv"}, "No such file"),
        ({"--config": "missing.cfg"}, "No such file"),
        ({"--clock-mhz": "0"}, "clock_hz must be a positive number"),
        ({"--precision-model": "analog"}, "invalid choice: 'analog'"),
        ({"--w-bits": "four"}, "invalid int value: 'four'"),
        ({"--out": "no/such/dir/r.csv"}, "cannot write"),
    ],
)
def test_bad_input_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, str], message: str
) -> None:
    config, topology = _files(tmp_path)
    options = {"--config": str(config), "--topology": str(topology), **change}
    argv = [item for pair in options.items() for item in pair]
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse errors exit from within parse_args
        status = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and message in err


def test_malformed_topology_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, topology = _files(tmp_path)
    topology.write_text(HEADER + "c1, 16, 16, 3, 3, sixteen, 48, 1,\n")
    assert main(["--config", str(config), "--topology", str(topology)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Channels must be a positive integer, got 'sixteen'" in err


def test_missing_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--config", "x.cfg"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_runs_as_a_module(tmp_path: Path) -> None:
    config, topology = _files(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "hardware", "--config", str(config), "--topology", str(topology)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 6


def _calc_records() -> dict[tuple[int, str], list[dict[str, Any]]]:
    records = json.loads(DATA.read_text(encoding="utf-8"))["records"]
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for record in records:
        if record["mem_mode"] == "calc":
            key = (record["config"]["ArrayHeight"], record["dataflow"])
            groups.setdefault(key, []).append(record)
    return groups


@pytest.mark.parametrize(("array", "dataflow"), sorted(_calc_records()))
def test_scalesim_files_reproduce_scalesims_compute_report(
    tmp_path: Path, array: int, dataflow: str
) -> None:
    records = _calc_records()[(array, dataflow)]
    config, topology = _files(tmp_path, rows=array, cols=array, dataflow=dataflow)
    topology.write_text(
        HEADER
        + "".join(
            "{name}, {ifmap_h}, {ifmap_w}, {filter_h}, {filter_w}, {channels}, {num_filters}, "
            "{stride},\n".format(**record["layer"])
            for record in records
        )
    )
    out = tmp_path / "report.csv"
    assert main(["--config", str(config), "--topology", str(topology), "--out", str(out)]) == 0
    rows = _report(out)[1:]
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        _, incl, total, stall, overall, mapping, compute_util, compute = row[:8]
        assert int(total) == record["total_cycles"] == int(compute)
        assert int(stall) == record["stall_cycles"] == 0
        assert float(overall) == pytest.approx(record["overall_util"], abs=1e-9)
        assert float(mapping) == pytest.approx(record["mapping_eff"], abs=1e-9)
        assert float(compute_util) == pytest.approx(record["compute_util"], abs=1e-9)
