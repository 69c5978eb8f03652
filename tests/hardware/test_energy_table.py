"""Energy tables: every preset names its figures, a preset without one gets the default, and an
invalid table is rejected with its key named."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from hardware.config import available_presets
from hardware.config import load_preset
from hardware.energy_table import DEFAULT_ENERGY_TABLE
from hardware.energy_table import ENERGY_FIELDS
from hardware.energy_table import EnergyTable
from hardware.energy_table import TableSource


PRESET = """
rows = 8
cols = 8
ifmap_sram_kib = 16
filter_sram_kib = 16
ofmap_sram_kib = 16
dram_bytes_per_cycle = 4.0
clock_hz = 500e6
"""

ENERGY = """
[energy]
technology_nm = 28
mac_multiply_pj = 0.1
mac_accumulate_pj = 0.05
ifmap_sram_pj_per_byte = 1.0
filter_sram_pj_per_byte = 1.5
ofmap_sram_pj_per_byte = 2.0
dram_pj_per_byte = 80.0
leakage_pj_per_cycle = 3.0
reference = "made-up figures for a test"
"""


def _preset(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "npu.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", available_presets())
def test_every_shipped_preset_names_its_figures(name: str) -> None:
    table = load_preset(name).energy
    assert table.source is TableSource.PRESET
    assert table.technology_nm == 45
    assert "Horowitz" in table.reference
    assert table.mac_pj == pytest.approx(0.3)  # 8-bit multiply + 32-bit add
    assert "the preset's table, 45 nm" in load_preset(name).summary()


def test_a_preset_without_a_table_gets_the_default_and_says_so(tmp_path: Path) -> None:
    config = load_preset(_preset(tmp_path, PRESET))
    assert config.energy is DEFAULT_ENERGY_TABLE
    assert config.energy.source == "default"
    assert "Energy (the default table: the hardware gives none, 45 nm)" in config.summary()


def test_the_default_table_is_horowitz_45nm() -> None:
    table = DEFAULT_ENERGY_TABLE
    assert (table.technology_nm, table.mac_multiply_pj, table.mac_accumulate_pj) == (45, 0.2, 0.1)
    sram = (table.ifmap_sram_pj_per_byte, table.filter_sram_pj_per_byte)
    assert sram == (20 / 8, 20 / 8)  # 20 pJ per 64-bit read of a 32 KB SRAM
    assert table.dram_pj_per_byte == 1300 / 8  # 1.3 nJ per 64-bit access
    assert table.leakage_pj_per_cycle == 0


def test_a_table_in_a_file_is_read(tmp_path: Path) -> None:
    config = load_preset(_preset(tmp_path, PRESET + ENERGY))
    table = config.energy
    assert table.source is TableSource.PRESET
    assert (table.technology_nm, table.dram_pj_per_byte) == (28, 80)
    assert table.mac_pj == pytest.approx(0.15)
    assert table.leakage_pj_per_cycle == 3
    assert "the preset's table, 28 nm" in config.summary()
    assert "made-up figures for a test" in config.summary()


def test_leakage_may_be_left_out(tmp_path: Path) -> None:
    text = PRESET + ENERGY.replace("leakage_pj_per_cycle = 3.0\n", "")
    assert load_preset(_preset(tmp_path, text)).energy.leakage_pj_per_cycle == 0


@pytest.mark.parametrize("key", ENERGY_FIELDS)
@pytest.mark.parametrize("value", ["-0.5", "nan", "inf", "-inf", '"cheap"', "true"])
def test_an_invalid_figure_is_rejected_with_its_key(tmp_path: Path, key: str, value: str) -> None:
    lines = [line for line in ENERGY.splitlines() if not line.startswith(f"{key} =")]
    text = PRESET + "\n".join([*lines, f"{key} = {value}"]) + "\n"
    with pytest.raises(ValueError, match=rf"energy\.{key} must be"):
        load_preset(_preset(tmp_path, text))


@pytest.mark.parametrize("value", ["0", "-45", "nan"])
def test_an_invalid_node_is_rejected(tmp_path: Path, value: str) -> None:
    text = PRESET + ENERGY.replace("technology_nm = 28", f"technology_nm = {value}")
    with pytest.raises(ValueError, match=r"energy\.technology_nm must be"):
        load_preset(_preset(tmp_path, text))


def test_an_unknown_key_is_rejected_with_its_name(tmp_path: Path) -> None:
    text = PRESET + ENERGY + "sram_pj = 1.0\n"
    with pytest.raises(ValueError, match="energy: unknown key 'sram_pj' = 1.0; known keys: "):
        load_preset(_preset(tmp_path, text))


def test_a_table_cannot_claim_to_be_the_default(tmp_path: Path) -> None:
    text = PRESET + ENERGY + 'source = "default"\n'
    with pytest.raises(ValueError, match="energy: unknown key 'source'"):
        load_preset(_preset(tmp_path, text))


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    text = PRESET + ENERGY.replace("dram_pj_per_byte = 80.0\n", "")
    with pytest.raises(ValueError, match="energy: missing key 'dram_pj_per_byte'"):
        load_preset(_preset(tmp_path, text))


def test_the_reference_is_required(tmp_path: Path) -> None:
    text = PRESET + ENERGY.replace('"made-up figures for a test"', '" "')
    with pytest.raises(ValueError, match="energy.reference must name the source"):
        load_preset(_preset(tmp_path, text))


def test_energy_must_be_a_table(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="energy must be an \\[energy\\] table, got 3"):
        load_preset(_preset(tmp_path, PRESET + "energy = 3\n"))


def test_tables_are_frozen_validated_values() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_ENERGY_TABLE.dram_pj_per_byte = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"energy\.dram_pj_per_byte must be finite, got nan"):
        dataclasses.replace(DEFAULT_ENERGY_TABLE, dram_pj_per_byte=math.nan)
    with pytest.raises(ValueError, match=r"energy\.source must be a TableSource"):
        dataclasses.replace(DEFAULT_ENERGY_TABLE, source="default")
    # Integers from TOML become floats.
    assert isinstance(
        dataclasses.replace(DEFAULT_ENERGY_TABLE, dram_pj_per_byte=7).dram_pj_per_byte, float
    )


def test_an_override_replaces_the_table() -> None:
    table = dataclasses.replace(DEFAULT_ENERGY_TABLE, source=TableSource.PRESET, reference="mine")
    config = load_preset("scale-sim", energy=table)
    assert config.energy is table
    assert isinstance(load_preset("scale-sim", energy=dict(_keys(table))).energy, EnergyTable)


def _keys(table: EnergyTable) -> list[tuple[str, object]]:
    return [
        (field.name, getattr(table, field.name))
        for field in dataclasses.fields(table)
        if field.name != "source"
    ]
