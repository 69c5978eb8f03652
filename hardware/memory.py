"""Memory model: DRAM traffic of one GEMM given what fits on chip, and the stalls it causes.

This is our model, not SCALE-Sim's (whose `USER`-mode stalls include refetch artefacts of its
prefetch window and, in 3.0.0, stalls counted twice). It keeps SCALE-Sim's structure: separate
input, weight and output SRAMs, each double-buffered, in front of one DRAM link.

Assumptions:

1. **Sizes.** Operands are bit-packed, in SRAM and on the link: `n` values of `b` bits take
   `n*b/8` bytes. Inputs are at the layer's `a_bits`, weights at its `w_bits`, outputs and
   spilled partial sums at the preset's `ofmap_bits`. DRAM holds the input feature map once (the
   elements the convolution windows touch); the im2col expansion happens on chip, so SRAM reads
   (`hardware.compute`) count im2col elements while DRAM traffic counts stored ones. An operand's
   share of a fold is proportional to the fold's share of the mapped extent (halos between
   neighbouring input tiles are ignored).
2. **Double buffering.** Half of each SRAM holds what the array works on (the resident half,
   `SystolicArrayConfig.sram_half_bits`); the other half receives the next tile or drains
   finished outputs.
3. **Reuse** follows the operand's role (`hardware.compute.OperandRole`) in SCALE-Sim's loop
   order (column folds outer, row folds inner):
   - `ROW` operand (size `S`): the first column fold reads it all; every later column fold
     reads again the part that does not fit in the resident half, `max(0, S - half)` (the rest
     stays pinned on chip).
   - `COL` operand tile (size `y`): read once for its column fold, plus `max(0, y - half)` again
     for each further row fold.
   - `BOTH` operand: every tile is read once.
   - Outputs with role `BOTH` (output stationary) are written once. Outputs with role `COL`
     (weight and input stationary) accumulate over the row folds of a column fold; the part of
     the accumulating tile that does not fit, `max(0, o - half)`, is written out and read back
     between row folds, and the final tile is written once.
4. **Timing.** The array runs folds back to back; each fold takes its compute cycles unless the
   link needs longer for the data moved under it, then the fold stretches (a stall). Under a fold
   the link moves: the next fold's tiles (one fold ahead), the next column fold's `COL` tile
   (spread over the current column fold's folds, since its double buffer is free all along),
   the previous fold's outputs, and the previous column fold's final outputs (spread over the
   current column fold). Reads and writes share the link's bytes per cycle.
5. **Layer boundaries.** As in SCALE-Sim's `Total Cycles`, a layer's first tiles are loaded
   before its first fold and its last outputs drain after its last fold; those transfers are
   reported (`prefetch_cycles`, `drain_cycles`) but are not stalls, because in a network they
   overlap the neighbouring layers. A layer whose data fits in one fold is therefore never
   memory-bound.

Every quantity above is non-increasing in SRAM size and bandwidth and non-decreasing in the
operand sizes, so more SRAM, more bandwidth or fewer bits never make a layer slower.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from hardware.compute import ComputeProfile
from hardware.compute import OperandRole
from hardware.compute import OperandRoles
from hardware.layer import LayerShape


# Stalls are sums of float link times; a sum that lands a rounding error above a whole number of
# cycles must not count as a stall cycle.
_CYCLE_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class OperandSizes:
    """Elements of each operand of one group, as stored in DRAM.

    Attributes:
        ifmap: Input elements the convolution windows touch (at most the stored feature map).
        filter: Weights.
        ofmap: Outputs.
    """

    ifmap: int
    filter: int
    ofmap: int


@dataclass(frozen=True, slots=True)
class MemoryProfile:
    """DRAM traffic and stalls of one GEMM (one group of a layer).

    Attributes:
        ifmap_dram_bytes: Input bytes read from DRAM.
        filter_dram_bytes: Weight bytes read from DRAM.
        ofmap_dram_bytes: Output bytes written, plus spilled partial sums written and read back.
        stall_cycles: Cycles folds wait for the link beyond their compute cycles.
        prefetch_cycles: Cycles to load the first fold's tiles before the layer starts.
        drain_cycles: Cycles to write the last outputs after the last fold.
    """

    ifmap_dram_bytes: int
    filter_dram_bytes: int
    ofmap_dram_bytes: int
    stall_cycles: int
    prefetch_cycles: int
    drain_cycles: int

    @property
    def dram_bytes(self) -> int:
        """All bytes over the link, reads and writes."""
        return self.ifmap_dram_bytes + self.filter_dram_bytes + self.ofmap_dram_bytes


def operand_sizes(layer: LayerShape) -> OperandSizes:
    """Per-group element counts of `layer`'s operands as stored in DRAM."""
    gemm = layer.gemm
    touched_h = _touched(layer.input_h, layer.output_h, layer.kernel_h, layer.stride_h)
    touched_w = _touched(layer.input_w, layer.output_w, layer.kernel_w, layer.stride_w)
    return OperandSizes(
        ifmap=touched_h * touched_w * (layer.in_channels // layer.groups),
        filter=gemm.k * gemm.n,
        ofmap=gemm.m * gemm.n,
    )


def _touched(stored: int, outputs: int, kernel: int, stride: int) -> int:
    # Windows overlap or abut when kernel >= stride and then cover one span; otherwise each
    # window covers `kernel` fresh rows and the rows between windows are never read.
    span = (outputs - 1) * stride + kernel if kernel >= stride else outputs * kernel
    return min(stored, span)


@dataclass(frozen=True, slots=True)
class _Input:
    """One input operand: its size in bits, its role and its SRAM's resident half in bits."""

    bits: int
    role: OperandRole
    half: int


class _FoldTraffic:
    """Bits moved under each fold, from the operand roles (assumptions 3 and 4)."""

    def __init__(
        self,
        profile: ComputeProfile,
        inputs: tuple[_Input, _Input],
        output_bits: int,
        output_role: OperandRole,
        output_half: int,
    ) -> None:
        self.profile = profile
        self.inputs = inputs
        self.output_bits = output_bits
        self.output_role = output_role
        self.output_half = output_half
        self.row_folds = profile.row_folds
        self.col_folds = profile.col_folds

    def _share(self, role: OperandRole, row_fold: int, col_fold: int) -> float:
        """Fraction of an operand in the tile of fold (row_fold, col_fold)."""
        mapping = self.profile.mapping
        share = 1.0
        if role is not OperandRole.COL:
            share *= self.profile.rows_used(row_fold) / mapping.rows
        if role is not OperandRole.ROW:
            share *= self.profile.cols_used(col_fold) / mapping.cols
        return share

    def load(self, row_fold: int, col_fold: int) -> float:
        """Bits that must reach the SRAMs one fold ahead of fold (row_fold, col_fold)."""
        bits = 0.0
        for operand in self.inputs:
            if operand.role is OperandRole.ROW:
                # Later column folds re-read only what is not pinned in the resident half.
                missing = operand.bits if col_fold == 0 else max(0, operand.bits - operand.half)
                bits += missing * self._share(OperandRole.ROW, row_fold, col_fold)
            elif operand.role is OperandRole.COL:
                # The first use of a column tile is prefetched over the previous column fold.
                if row_fold > 0:
                    tile = operand.bits * self._share(OperandRole.COL, row_fold, col_fold)
                    bits += max(0.0, tile - operand.half)
            else:
                bits += operand.bits * self._share(OperandRole.BOTH, row_fold, col_fold)
        if self.output_role is OperandRole.COL and row_fold > 0:
            bits += self._spill(col_fold)
        return bits

    def column_tiles(self, col_fold: int) -> float:
        """Bits of the `COL` input tiles of column fold `col_fold` (their first use)."""
        return sum(
            operand.bits * self._share(OperandRole.COL, 0, col_fold)
            for operand in self.inputs
            if operand.role is OperandRole.COL
        )

    def _final_output(self, col_fold: int) -> float:
        return self.output_bits * self._share(OperandRole.COL, 0, col_fold)

    def _spill(self, col_fold: int) -> float:
        return max(0.0, self._final_output(col_fold) - self.output_half)

    def written_after(self, row_fold: int, col_fold: int) -> float:
        """Bits fold (row_fold, col_fold) leaves to write before its successor ends."""
        if self.output_role is OperandRole.BOTH:
            return self.output_bits * self._share(OperandRole.BOTH, row_fold, col_fold)
        if row_fold < self.row_folds - 1:
            return self._spill(col_fold)
        return 0.0  # the final column-fold output drains over the next column fold

    def under(self, row_fold: int, col_fold: int) -> float:
        """Bits the link moves while fold (row_fold, col_fold) computes."""
        bits = 0.0
        if row_fold + 1 < self.row_folds:
            bits += self.load(row_fold + 1, col_fold)
        elif col_fold + 1 < self.col_folds:
            bits += self.load(0, col_fold + 1)
        if col_fold + 1 < self.col_folds:
            bits += self.column_tiles(col_fold + 1) / self.row_folds
        if row_fold > 0:
            bits += self.written_after(row_fold - 1, col_fold)
        elif col_fold > 0:
            bits += self.written_after(self.row_folds - 1, col_fold - 1)
        if col_fold > 0 and self.output_role is OperandRole.COL:
            bits += self._final_output(col_fold - 1) / self.row_folds
        return bits

    def before_first(self) -> float:
        """Bits loaded before the first fold."""
        return self.load(0, 0) + self.column_tiles(0)

    def after_last(self) -> float:
        """Bits written after the last fold."""
        last_row, last_col = self.row_folds - 1, self.col_folds - 1
        if self.output_role is OperandRole.BOTH:
            return self.written_after(last_row, last_col)
        return self._final_output(last_col)


def _representatives(folds: int) -> list[tuple[int, int]]:
    """Fold indices whose traffic differs, each with how many indices behave like it.

    Traffic under a fold depends only on whether the fold, its predecessor or its successor is
    the first or the last (partial) one, so the indices 1..folds-3 all behave alike.
    """
    edges = sorted({index for index in (0, folds - 2, folds - 1) if index >= 0})
    counted = [(index, 1) for index in edges]
    if folds >= 4:
        counted.append((1, folds - 3))
    return counted


def memory_profile(
    profile: ComputeProfile,
    roles: OperandRoles,
    sizes: OperandSizes,
    *,
    w_bits: int,
    a_bits: int,
    ofmap_bits: int,
    sram_half_bits: tuple[int, int, int],
    dram_bytes_per_cycle: float,
) -> MemoryProfile:
    """DRAM traffic and stall cycles of one GEMM (see the module docstring for the model).

    Args:
        profile: The GEMM's compute profile (folds and cycles per fold at these bitwidths).
        roles: How the dataflow tiles each operand.
        sizes: Element counts of the operands as stored in DRAM.
        w_bits: Weight bitwidth.
        a_bits: Input activation bitwidth.
        ofmap_bits: Output (and partial-sum) bitwidth.
        sram_half_bits: Resident half of the (ifmap, filter, ofmap) SRAMs, in bits.
        dram_bytes_per_cycle: Link bandwidth in bytes per cycle (`math.inf`: no stalls).

    Returns:
        The memory profile of one group.
    """
    ifmap_half, filter_half, ofmap_half = sram_half_bits
    ifmap = _Input(bits=sizes.ifmap * a_bits, role=roles.ifmap, half=ifmap_half)
    weights = _Input(bits=sizes.filter * w_bits, role=roles.filter, half=filter_half)
    output_bits = sizes.ofmap * ofmap_bits
    traffic = _FoldTraffic(profile, (ifmap, weights), output_bits, roles.ofmap, ofmap_half)

    bits_per_cycle = 8 * dram_bytes_per_cycle
    fold_cycles = profile.cycles_per_fold
    stall = 0.0
    for col_fold, col_count in _representatives(profile.col_folds):
        for row_fold, row_count in _representatives(profile.row_folds):
            link_cycles = traffic.under(row_fold, col_fold) / bits_per_cycle
            if link_cycles > fold_cycles:
                stall += (link_cycles - fold_cycles) * col_count * row_count

    return MemoryProfile(
        ifmap_dram_bytes=_bytes(_input_total(ifmap, profile)),
        filter_dram_bytes=_bytes(_input_total(weights, profile)),
        ofmap_dram_bytes=_bytes(_output_total(output_bits, roles.ofmap, ofmap_half, profile)),
        stall_cycles=_whole_cycles(stall),
        prefetch_cycles=_whole_cycles(traffic.before_first() / bits_per_cycle),
        drain_cycles=_whole_cycles(traffic.after_last() / bits_per_cycle),
    )


def _input_total(operand: _Input, profile: ComputeProfile) -> float:
    if operand.role is OperandRole.ROW:
        return operand.bits + (profile.col_folds - 1) * max(0, operand.bits - operand.half)
    if operand.role is OperandRole.COL:
        reuses = profile.row_folds - 1
        return _sum_over_column_tiles(
            profile, operand.bits, lambda tile: tile + reuses * max(0.0, tile - operand.half)
        )
    return float(operand.bits)


def _output_total(bits: int, role: OperandRole, half: int, profile: ComputeProfile) -> float:
    if role is OperandRole.BOTH:
        return float(bits)
    spills = 2 * (profile.row_folds - 1)  # written out and read back between row folds
    return _sum_over_column_tiles(
        profile, bits, lambda tile: tile + spills * max(0.0, tile - half)
    )


def _sum_over_column_tiles(
    profile: ComputeProfile, bits: int, traffic: Callable[[float], float]
) -> float:
    """`traffic(tile)` summed over the column-fold tiles of a `bits`-bit operand."""
    last = profile.col_folds - 1
    full_tile = bits * profile.cols_used(0) / profile.mapping.cols
    last_tile = bits * profile.cols_used(last) / profile.mapping.cols
    return last * traffic(full_tile) + traffic(last_tile)


def _bytes(bits: float) -> int:
    return max(0, math.ceil(bits / 8 - _CYCLE_TOLERANCE))


def _whole_cycles(cycles: float) -> int:
    return max(0, math.ceil(cycles - _CYCLE_TOLERANCE))
