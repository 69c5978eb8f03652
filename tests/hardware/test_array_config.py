"""`SystolicArrayConfig`: validation (the field and the value named), parsing, summary."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from hardware.config import Dataflow
from hardware.config import PrecisionModel
from hardware.config import SerialOperand
from hardware.config import SystolicArrayConfig


VALID: dict[str, Any] = {
    "name": "test",
    "rows": 4,
    "cols": 8,
    "ifmap_sram_kib": 2,
    "filter_sram_kib": 4,
    "ofmap_sram_kib": 8,
    "dram_bytes_per_cycle": 10.0,
    "clock_hz": 200e6,
}


def test_defaults_and_derived_values() -> None:
    config = SystolicArrayConfig(**VALID)
    assert config.dataflow is Dataflow.OUTPUT_STATIONARY
    assert config.precision_model is PrecisionModel.FIXED
    assert config.serial_operand is SerialOperand.ACTIVATION
    assert config.ofmap_bits == 8
    assert config.processing_elements == 32
    # Half of each SRAM is resident, in bits.
    assert config.sram_half_bits() == (2 * 4096, 4 * 4096, 8 * 4096)


def test_enum_fields_accept_their_string_values() -> None:
    strings: dict[str, Any] = {
        "dataflow": "WS",
        "precision_model": "bit_serial",
        "serial_operand": "weight",
    }
    config = SystolicArrayConfig(**VALID, **strings)
    assert config.dataflow is Dataflow.WEIGHT_STATIONARY
    assert config.precision_model is PrecisionModel.BIT_SERIAL
    assert config.serial_operand is SerialOperand.WEIGHT
    other: dict[str, Any] = {"dataflow": "is"}
    replaced = dataclasses.replace(config, **other)
    assert replaced.dataflow is Dataflow.INPUT_STATIONARY


def test_integer_bandwidth_and_clock_become_floats_and_inf_is_allowed() -> None:
    config = SystolicArrayConfig(**{**VALID, "dram_bytes_per_cycle": 16, "clock_hz": 100})
    assert isinstance(config.dram_bytes_per_cycle, float)
    assert isinstance(config.clock_hz, float)
    assert SystolicArrayConfig(**{**VALID, "dram_bytes_per_cycle": math.inf}).dram_bytes_per_cycle


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rows", 0),
        ("cols", -3),
        ("rows", 2.5),
        ("cols", True),
        ("ifmap_sram_kib", 0),
        ("filter_sram_kib", -1),
        ("ofmap_sram_kib", "64"),
        ("dram_bytes_per_cycle", 0),
        ("dram_bytes_per_cycle", -1.5),
        ("dram_bytes_per_cycle", math.nan),
        ("dram_bytes_per_cycle", "10"),
        ("clock_hz", 0),
        ("clock_hz", math.inf),
        ("clock_hz", False),
        ("dataflow", "rs"),
        ("dataflow", 3),
        ("precision_model", "bit_flexible"),
        ("serial_operand", "psum"),
        ("ofmap_bits", 1),
        ("ofmap_bits", 9),
        ("ofmap_bits", 8.0),
        ("name", ""),
        ("description", 3),
    ],
)
def test_invalid_values_name_the_field_and_the_value(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field) as error:
        SystolicArrayConfig(**{**VALID, field: value})
    assert repr(value) in str(error.value)


def test_config_is_frozen_and_hashable() -> None:
    config = SystolicArrayConfig(**VALID)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.rows = 8  # type: ignore[misc]
    assert hash(config) == hash(SystolicArrayConfig(**VALID))


def test_summary_is_one_markdown_paragraph_with_every_setting() -> None:
    strings: dict[str, Any] = {"dataflow": "ws", "precision_model": "bit_serial"}
    config = SystolicArrayConfig(**VALID, **strings, description="A test array.")
    summary = config.summary()
    assert "\n" not in summary
    for text in (
        "**test**",
        "4×8",
        "32 PEs",
        "weight-stationary",
        "2 / 4 / 8 KiB",
        "10 B/cycle",
        "bit_serial",
        "activation",
        "200 MHz",
        "A test array.",
    ):
        assert text in summary


def test_summary_of_a_compute_only_array() -> None:
    config = SystolicArrayConfig(**{**VALID, "dram_bytes_per_cycle": math.inf})
    assert "unlimited DRAM bandwidth" in config.summary()
