"""How weight and activation bitwidths change what a processing element does per cycle.

The processing element (PE) of every model is 8 bits wide (SCALE-Sim's 1-byte word): at 8-bit
weights and activations it completes one multiply-accumulate (MAC) per cycle, so at 8 bits every
model reproduces SCALE-Sim's cycle counts exactly. Below 8 bits the models differ:

- `fixed`: one MAC per PE per cycle at any width. Bits matter only through memory (bit-packed
  operands, `hardware.memory`).
- `bit_fusion`: BitFusion-style fused PEs (Sharma et al., ISCA 2018,
  https://arxiv.org/abs/1712.01507). An 8x8-bit PE is built from 2x2-bit bricks that regroup into
  `floor(8/w) * floor(8/a)` narrower multipliers, so it completes that many MACs per cycle.
  Widths that do not divide 8 waste bricks: 3 bits fuses like 4 bits' pairs (`floor(8/3) = 2`).
- `bit_serial`: bit-serial PEs in the manner of Stripes (Judd et al., MICRO 2016,
  https://doi.org/10.1109/MICRO.2016.7783722). The serialized operand (a preset field,
  `serial_operand`) is consumed one bit per lane-cycle, and a PE has 8 such lanes, so a b-bit
  operand costs b/8 of an 8-bit one's cycles; with `both` serialized (Loom-style) the cost is
  `w*a/64`. Unlike fusion, every bit saved saves time.

The extra MACs per cycle shorten the streamed (temporal) dimension of the systolic mapping: a
fold that streams `T` operand vectors through the array at 8 bits streams them in
`ceil(T / speedup)` cycles. Fill and drain of the array (`R + C - 2` cycles and the stationary
operand's load) are not shortened: they are set by the array's size, not by the bitwidth.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from numbers import Integral

from hardware.config import MAX_BITS
from hardware.config import MIN_BITS
from hardware.config import WORD_BITS
from hardware.config import PrecisionModel
from hardware.config import SerialOperand


#: MACs per PE per cycle, as a function of (w_bits, a_bits, serialized operand).
SpeedupFn = Callable[[int, int, SerialOperand], Fraction]


def check_bits(field_name: str, bits: object) -> int:
    """Validate one bitwidth.

    Args:
        field_name: Name used in the error message (`w_bits`, `a_bits`).
        bits: The value to check.

    Returns:
        The bitwidth as a Python int.

    Raises:
        ValueError: If `bits` is not an integer in `MIN_BITS..MAX_BITS` (2..8).
    """
    # Integral admits numpy integers (which Python ints hash equal to); bool is not a bitwidth.
    value = int(bits) if isinstance(bits, Integral) and not isinstance(bits, bool) else None
    if value is None or not MIN_BITS <= value <= MAX_BITS:
        raise ValueError(
            f"{field_name} must be an integer in {MIN_BITS}..{MAX_BITS}, got {bits!r}"
        )
    return value


def packed_bytes(n_values: int, bits: int) -> int:
    """Bytes that `n_values` values of `bits` bits occupy when bit-packed (no per-row padding)."""
    return (n_values * bits + 7) // 8


def _fixed(w_bits: int, a_bits: int, serial: SerialOperand) -> Fraction:
    return Fraction(1)


def _bit_fusion(w_bits: int, a_bits: int, serial: SerialOperand) -> Fraction:
    return Fraction((WORD_BITS // w_bits) * (WORD_BITS // a_bits))


def _bit_serial(w_bits: int, a_bits: int, serial: SerialOperand) -> Fraction:
    serial_bits = _SERIAL_BITS[serial](w_bits, a_bits)
    return Fraction(WORD_BITS ** _SERIAL_DEGREE[serial], serial_bits)


_SERIAL_BITS: dict[SerialOperand, Callable[[int, int], int]] = {
    SerialOperand.ACTIVATION: lambda w_bits, a_bits: a_bits,
    SerialOperand.WEIGHT: lambda w_bits, a_bits: w_bits,
    SerialOperand.BOTH: lambda w_bits, a_bits: w_bits * a_bits,
}

# How many 8-bit factors the serialized bit count is compared against (w*a is against 8*8).
_SERIAL_DEGREE = {SerialOperand.ACTIVATION: 1, SerialOperand.WEIGHT: 1, SerialOperand.BOTH: 2}

SPEEDUPS: dict[PrecisionModel, SpeedupFn] = {
    PrecisionModel.FIXED: _fixed,
    PrecisionModel.BIT_FUSION: _bit_fusion,
    PrecisionModel.BIT_SERIAL: _bit_serial,
}


def macs_per_pe_cycle(
    model: PrecisionModel,
    w_bits: int,
    a_bits: int,
    serial: SerialOperand = SerialOperand.ACTIVATION,
) -> Fraction:
    """MACs one PE completes per cycle at the given bitwidths (exactly 1 at 8/8 bits).

    Args:
        model: The precision model.
        w_bits: Weight bitwidth, 2..8.
        a_bits: Activation bitwidth, 2..8.
        serial: The serialized operand (only `bit_serial` reads it).

    Raises:
        ValueError: If a bitwidth is outside 2..8.
    """
    check_bits("w_bits", w_bits)
    check_bits("a_bits", a_bits)
    return SPEEDUPS[model](w_bits, a_bits, serial)


def temporal_cycles(temporal: int, speedup: Fraction) -> int:
    """Cycles to stream `temporal` 8-bit-equivalent steps through a PE `speedup` times faster.

    Args:
        temporal: The mapping's temporal dimension `T` (operand vectors per fold).
        speedup: MACs per PE per cycle (`macs_per_pe_cycle`).

    Returns:
        `ceil(temporal / speedup)`, at least 1.
    """
    return max(1, -(-temporal * speedup.denominator // speedup.numerator))
