"""Precision models: MACs per PE per cycle and the streamed cycles, computed by hand."""

from __future__ import annotations

from fractions import Fraction

import pytest

from hardware.config import PrecisionModel
from hardware.config import SerialOperand
from hardware.precision import SPEEDUPS
from hardware.precision import check_bits
from hardware.precision import macs_per_pe_cycle
from hardware.precision import packed_bytes
from hardware.precision import temporal_cycles


def test_every_precision_model_has_a_rule() -> None:
    assert set(SPEEDUPS) == set(PrecisionModel)


@pytest.mark.parametrize("model", list(PrecisionModel))
@pytest.mark.parametrize("serial", list(SerialOperand))
def test_every_model_is_one_mac_per_cycle_at_8_bits(
    model: PrecisionModel, serial: SerialOperand
) -> None:
    assert macs_per_pe_cycle(model, 8, 8, serial) == 1


@pytest.mark.parametrize(("w_bits", "a_bits"), [(2, 2), (3, 7), (4, 8), (8, 2)])
def test_fixed_ignores_bits(w_bits: int, a_bits: int) -> None:
    assert macs_per_pe_cycle(PrecisionModel.FIXED, w_bits, a_bits) == 1


@pytest.mark.parametrize(
    ("w_bits", "a_bits", "expected"),
    [
        (8, 8, 1),
        (4, 8, 2),  # two 4x8 products per 8x8 PE
        (8, 4, 2),
        (4, 4, 4),
        (2, 2, 16),  # sixteen 2x2-bit bricks, each its own MAC
        (2, 8, 4),
        (3, 3, 4),  # floor(8/3) = 2 per operand: 3 bits fuses like 4
        (5, 5, 1),  # 5..7 bits cannot be split: no gain
        (7, 2, 4),
        (6, 3, 2),
    ],
)
def test_bit_fusion_hand_computed(w_bits: int, a_bits: int, expected: int) -> None:
    assert macs_per_pe_cycle(PrecisionModel.BIT_FUSION, w_bits, a_bits) == expected


@pytest.mark.parametrize(
    ("serial", "w_bits", "a_bits", "expected"),
    [
        (SerialOperand.ACTIVATION, 8, 4, Fraction(2)),
        (SerialOperand.ACTIVATION, 2, 4, Fraction(2)),  # weights do not matter
        (SerialOperand.ACTIVATION, 8, 3, Fraction(8, 3)),  # every bit counts, unlike fusion
        (SerialOperand.ACTIVATION, 8, 5, Fraction(8, 5)),
        (SerialOperand.WEIGHT, 2, 8, Fraction(4)),
        (SerialOperand.WEIGHT, 6, 2, Fraction(4, 3)),
        (SerialOperand.BOTH, 4, 2, Fraction(64, 8)),
        (SerialOperand.BOTH, 3, 5, Fraction(64, 15)),
    ],
)
def test_bit_serial_hand_computed(
    serial: SerialOperand, w_bits: int, a_bits: int, expected: Fraction
) -> None:
    assert macs_per_pe_cycle(PrecisionModel.BIT_SERIAL, w_bits, a_bits, serial) == expected


@pytest.mark.parametrize(
    ("temporal", "speedup", "expected"),
    [
        (512, Fraction(1), 512),
        (512, Fraction(4), 128),
        (147, Fraction(4), 37),  # ceil(36.75)
        (512, Fraction(8, 3), 192),
        (100, Fraction(8, 5), 63),  # ceil(62.5)
        (3, Fraction(16), 1),  # never below one cycle
    ],
)
def test_temporal_cycles(temporal: int, speedup: Fraction, expected: int) -> None:
    assert temporal_cycles(temporal, speedup) == expected


@pytest.mark.parametrize(("n_values", "bits", "expected"), [(10, 8, 10), (10, 4, 5), (3, 3, 2)])
def test_packed_bytes(n_values: int, bits: int, expected: int) -> None:
    assert packed_bytes(n_values, bits) == expected


@pytest.mark.parametrize("bits", [1, 9, 0, -8, 16])
def test_bits_outside_2_to_8_are_rejected(bits: int) -> None:
    with pytest.raises(ValueError, match=rf"w_bits must be an integer in 2\.\.8, got {bits}"):
        check_bits("w_bits", bits)


@pytest.mark.parametrize("bits", [4.0, "4", True, None])
def test_non_integer_bits_are_rejected(bits: object) -> None:
    with pytest.raises(ValueError, match="a_bits"):
        check_bits("a_bits", bits)


def test_integral_types_are_bitwidths_too() -> None:
    numpy = pytest.importorskip("numpy")
    value = check_bits("w_bits", numpy.int64(4))
    assert value == 4 and type(value) is int


def test_macs_per_pe_cycle_names_the_bad_operand() -> None:
    with pytest.raises(ValueError, match="a_bits .* got 1"):
        macs_per_pe_cycle(PrecisionModel.BIT_FUSION, 8, 1)
