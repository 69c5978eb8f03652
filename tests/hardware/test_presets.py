"""Presets: every shipped TOML loads and validates; overrides, paths and bad files."""

from __future__ import annotations

import dataclasses
import re
from importlib import resources
from pathlib import Path

import pytest

from hardware.config import Dataflow
from hardware.config import PrecisionModel
from hardware.config import SerialOperand
from hardware.config import SystolicArrayConfig
from hardware.config import available_presets
from hardware.config import load_preset
from hardware.energy_table import EnergyTable


def test_the_three_presets_ship() -> None:
    assert {"scale-sim", "eyeriss", "scale-sim-lowmem"} <= set(available_presets())


@pytest.mark.parametrize("name", available_presets())
def test_every_preset_loads_with_a_clock_and_a_description(name: str) -> None:
    config = load_preset(name)
    assert config.name == name
    assert config.clock_hz > 0
    assert config.description
    assert name in config.summary()


def test_scale_sim_preset_follows_method() -> None:
    config = load_preset("scale-sim")
    assert (config.rows, config.cols) == (32, 32)
    assert (config.ifmap_sram_kib, config.filter_sram_kib, config.ofmap_sram_kib) == (64, 64, 64)
    assert config.dataflow is Dataflow.OUTPUT_STATIONARY
    assert config.dram_bytes_per_cycle == 10
    assert config.clock_hz == 200e6
    assert config.precision_model is PrecisionModel.BIT_FUSION


def test_eyeriss_preset_follows_method() -> None:
    config = load_preset("eyeriss")
    assert (config.rows, config.cols) == (12, 14)
    assert (config.ifmap_sram_kib, config.filter_sram_kib, config.ofmap_sram_kib) == (108,) * 3
    assert config.dataflow is Dataflow.WEIGHT_STATIONARY
    assert config.clock_hz == 200e6
    assert config.precision_model is PrecisionModel.BIT_SERIAL
    assert config.serial_operand is SerialOperand.ACTIVATION


def test_lowmem_preset_is_scale_sim_with_smaller_srams() -> None:
    base, low = load_preset("scale-sim"), load_preset("scale-sim-lowmem")
    smaller = ("ifmap_sram_kib", "filter_sram_kib", "ofmap_sram_kib")
    for field in dataclasses.fields(SystolicArrayConfig):
        if field.name in smaller:
            assert getattr(low, field.name) < getattr(base, field.name)
        elif field.name not in ("name", "description", "energy"):
            assert getattr(low, field.name) == getattr(base, field.name), field.name
    # Smaller SRAMs cost less per access; every other figure is the same.
    sram_keys = {f"{sram}_sram_pj_per_byte" for sram in ("ifmap", "filter", "ofmap")}
    for field in dataclasses.fields(EnergyTable):
        base_value, low_value = getattr(base.energy, field.name), getattr(low.energy, field.name)
        if field.name in sram_keys:
            assert low_value < base_value, field.name
        elif field.name != "reference":
            assert low_value == base_value, field.name


def test_overrides_replace_file_values_and_parse_enums() -> None:
    config = load_preset("scale-sim", dataflow="ws", rows=16, precision_model="fixed")
    assert config.dataflow is Dataflow.WEIGHT_STATIONARY
    assert config.rows == 16
    assert config.precision_model is PrecisionModel.FIXED
    assert config.name == "scale-sim"
    assert "Overridden: dataflow = 'ws', precision_model = 'fixed', rows = 16." in config.summary()


def test_unknown_override_is_rejected_with_its_name_and_value() -> None:
    with pytest.raises(ValueError, match="unknown key 'bandwidth' = 12"):
        load_preset("scale-sim", bandwidth=12)


def test_invalid_override_names_the_field() -> None:
    with pytest.raises(ValueError, match="rows must be a positive integer, got 0"):
        load_preset("eyeriss", rows=0)


def test_unknown_preset_lists_the_available_ones() -> None:
    with pytest.raises(FileNotFoundError, match="scale-sim-lowmem"):
        load_preset("tpu-v9")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


FILE = """
rows = 8
cols = 8
ifmap_sram_kib = 16
filter_sram_kib = 16
ofmap_sram_kib = 16
dram_bytes_per_cycle = 4.0
clock_hz = 500e6
dataflow = "is"
"""


def test_a_new_target_is_one_toml_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "my-npu.toml", FILE)
    config = load_preset(path)
    assert config.name == "my-npu"  # the file name when the file has no name key
    assert config.dataflow is Dataflow.INPUT_STATIONARY
    assert load_preset(str(path), clock_hz=1e9).clock_hz == 1e9


def test_unknown_key_in_a_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.toml", FILE + "word_size_bytes = 2\n")
    with pytest.raises(ValueError, match="unknown key 'word_size_bytes' = 2"):
        load_preset(path)


def test_missing_key_in_a_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.toml", FILE.replace("clock_hz = 500e6\n", ""))
    with pytest.raises(ValueError, match="missing key 'clock_hz'"):
        load_preset(path)


def test_malformed_toml(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.toml", "rows = = 8\n")
    with pytest.raises(ValueError, match="malformed TOML"):
        load_preset(path)


def test_bad_value_in_a_file_names_the_field(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.toml", FILE.replace('"is"', '"diagonal"'))
    with pytest.raises(ValueError, match="dataflow must be one of .* got 'diagonal'"):
        load_preset(path)


def test_an_invalid_value_in_a_preset_file_names_the_file(tmp_path: Path) -> None:
    text = (resources.files("hardware") / "presets" / "scale-sim.toml").read_text("utf-8")
    path = _write(tmp_path / "mine.toml", text.replace("rows = 32", "rows = 0", 1))
    expected = rf"^preset {re.escape(str(path))}: rows must be a positive integer, got 0$"
    with pytest.raises(ValueError, match=expected):
        load_preset(path)
