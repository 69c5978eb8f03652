"""The memory model: bit-packed sizes, reuse, traffic totals and stalls.

Three kinds of checks: a case computed by hand; an independent fold-by-fold re-implementation
(organised per transfer rather than per fold) that the closed-form model must agree with; and
Hypothesis properties (more SRAM, more bandwidth or fewer bits never add traffic or stalls).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from hardware.compute import DATAFLOW_MODELS
from hardware.compute import ComputeProfile
from hardware.compute import OperandRole
from hardware.compute import compute_profile
from hardware.config import Dataflow
from hardware.layer import GemmShape
from hardware.layer import LayerKind
from hardware.layer import LayerShape
from hardware.memory import MemoryProfile
from hardware.memory import OperandSizes
from hardware.memory import memory_profile
from hardware.memory import operand_sizes


KIB_HALF_BITS = 1024 * 8 // 2


def _price(
    gemm: GemmShape,
    sizes: OperandSizes,
    *,
    rows: int,
    cols: int,
    dataflow: Dataflow,
    bits: tuple[int, int, int] = (8, 8, 8),
    halves: tuple[int, int, int] = (KIB_HALF_BITS, KIB_HALF_BITS, KIB_HALF_BITS),
    bandwidth: float = 1.0,
) -> tuple[ComputeProfile, MemoryProfile]:
    profile = compute_profile(gemm, rows=rows, cols=cols, dataflow=dataflow)
    memory = memory_profile(
        profile,
        DATAFLOW_MODELS[dataflow].roles,
        sizes,
        w_bits=bits[0],
        a_bits=bits[1],
        ofmap_bits=bits[2],
        sram_half_bits=halves,
        dram_bytes_per_cycle=bandwidth,
    )
    return profile, memory


def test_hand_computed_output_stationary_case() -> None:
    # M=8, K=4, N=8 on a 4x4 array: 2x2 folds of 4+4+4-2 = 10 cycles. Everything fits on chip.
    # Bits: inputs 8*4*8 = 256, weights 256, outputs 8*8*8 = 512. Under each fold (bits):
    #   (0,0): next input tile 128 + half of column fold 1's weight tile 64          = 192
    #   (1,0): weight tile 64 (inputs are resident for fold (0,1)) + outputs of (0,0) 128 = 192
    #   (0,1): outputs of (1,0) 128; (1,1): outputs of (0,1) 128
    # Before: input tile 128 + weight tile 128; after: outputs of (1,1) 128.
    # At 1 B/cycle: link 24, 24, 16, 16 cycles against 10 -> stalls 14 + 14 + 6 + 6 = 40.
    gemm = GemmShape(m=8, k=4, n=8)
    profile, memory = _price(
        gemm,
        OperandSizes(ifmap=32, filter=32, ofmap=64),
        rows=4,
        cols=4,
        dataflow=Dataflow.OUTPUT_STATIONARY,
    )
    assert profile.compute_cycles == 4 * 10 - 1
    assert memory.stall_cycles == 40
    assert memory.prefetch_cycles == 32
    assert memory.drain_cycles == 16
    assert (memory.ifmap_dram_bytes, memory.filter_dram_bytes, memory.ofmap_dram_bytes) == (
        32,
        32,
        64,
    )


def test_hand_computed_reuse_lost_when_sram_is_small() -> None:
    # Weight stationary, K=16, N=4, M=64 on 4x4: 4 row folds x 1 column fold. Inputs are the ROW
    # operand, read once (one column fold). The accumulating output tile (64x4 x 8 bits = 2048
    # bits) exceeds a 1024-bit resident half: 1024 bits spill out and back between each of the 4
    # row folds: 2048 + 2 * 3 * 1024 bits = 1024 bytes of output traffic.
    gemm = GemmShape(m=64, k=16, n=4)
    sizes = OperandSizes(ifmap=64 * 16, filter=16 * 4, ofmap=64 * 4)
    _, memory = _price(
        gemm,
        sizes,
        rows=4,
        cols=4,
        dataflow=Dataflow.WEIGHT_STATIONARY,
        halves=(10**9, 10**9, 1024),
    )
    assert memory.ofmap_dram_bytes == (2048 + 2 * 3 * 1024) // 8
    assert memory.ifmap_dram_bytes == 64 * 16
    assert memory.filter_dram_bytes == 16 * 4


def test_hand_computed_row_operand_reread_per_column_fold() -> None:
    # Output stationary, 3 column folds; the input (ROW operand, 32*4*8 = 1024 bits) does not fit
    # a 256-bit resident half: column folds 2 and 3 re-read 1024 - 256 = 768 bits each.
    gemm = GemmShape(m=32, k=4, n=12)
    sizes = OperandSizes(ifmap=32 * 4, filter=4 * 12, ofmap=32 * 12)
    _, memory = _price(
        gemm,
        sizes,
        rows=4,
        cols=4,
        dataflow=Dataflow.OUTPUT_STATIONARY,
        halves=(256, 10**9, 10**9),
    )
    assert memory.ifmap_dram_bytes == (1024 + 2 * 768) // 8


@pytest.mark.parametrize(
    ("layer", "expected_ifmap"),
    [
        # 3x3 stride 1, padding 1: every input element is read.
        (
            LayerShape.conv2d(
                "a", in_channels=4, out_channels=8, input_hw=(10, 10), kernel=3, padding=1
            ),
            10 * 10 * 4,
        ),
        # 1x1 stride 2: only every other row and column is read.
        (
            LayerShape.conv2d(
                "b", in_channels=4, out_channels=8, input_hw=(10, 10), kernel=1, stride=2
            ),
            5 * 5 * 4,
        ),
        # Depthwise: one channel per group.
        (
            LayerShape.conv2d(
                "c", in_channels=6, out_channels=6, input_hw=(8, 8), kernel=3, padding=1, groups=6
            ),
            8 * 8,
        ),
        (LayerShape.linear("d", in_features=100, out_features=7), 100),
    ],
)
def test_operand_sizes_count_touched_inputs_per_group(
    layer: LayerShape, expected_ifmap: int
) -> None:
    sizes = operand_sizes(layer)
    gemm = layer.gemm
    assert sizes.ifmap == expected_ifmap
    assert sizes.filter == gemm.k * gemm.n
    assert sizes.ofmap == gemm.m * gemm.n


def test_gemm_topology_layer_reads_its_whole_input() -> None:
    layer = LayerShape(
        name="g",
        kind=LayerKind.CONV,
        in_channels=1,
        out_channels=30,
        input_h=100,
        input_w=70,
        output_h=100,
        output_w=1,
        kernel_h=1,
        kernel_w=70,
    )
    assert operand_sizes(layer).ifmap == 100 * 70


def test_unlimited_bandwidth_never_stalls() -> None:
    gemm = GemmShape(m=300, k=500, n=300)
    _, memory = _price(
        gemm,
        OperandSizes(300 * 50, 500 * 300, 300 * 300),
        rows=8,
        cols=8,
        dataflow=Dataflow.WEIGHT_STATIONARY,
        halves=(8, 8, 8),
        bandwidth=math.inf,
    )
    assert (memory.stall_cycles, memory.prefetch_cycles, memory.drain_cycles) == (0, 0, 0)
    assert memory.dram_bytes > 0


# --- An independent fold-by-fold reference ------------------------------------------------------


@dataclass
class _Reference:
    stall_cycles: float
    total_bits: float
    before_bits: float
    after_bits: float


def _reference(
    profile: ComputeProfile,
    dataflow: Dataflow,
    sizes: OperandSizes,
    bits: tuple[int, int, int],
    halves: tuple[int, int, int],
    bandwidth: float,
) -> _Reference:
    """Walk every fold; assign every transfer to the fold under which it moves."""
    roles = DATAFLOW_MODELS[dataflow].roles
    row_folds, col_folds = profile.row_folds, profile.col_folds
    order = [(r, c) for c in range(col_folds) for r in range(row_folds)]
    position = {fold: index for index, fold in enumerate(order)}
    moved = [0.0] * (len(order) + 2)  # slot 0: before the first fold; slot -1: after the last

    def under(index: int) -> int:  # slot of the fold at `index` in `order`
        return index + 1

    def frac_rows(r: int) -> float:
        return profile.rows_used(r) / profile.mapping.rows

    def frac_cols(c: int) -> float:
        return profile.cols_used(c) / profile.mapping.cols

    inputs = (
        (sizes.ifmap * bits[1], roles.ifmap, halves[0]),
        (sizes.filter * bits[0], roles.filter, halves[1]),
    )
    for r, c in order:
        index = position[(r, c)]
        one_ahead = under(index - 1)  # loads for this fold move under its predecessor
        for total, role, half in inputs:
            if role is OperandRole.ROW:
                part = total if c == 0 else max(0, total - half)
                moved[one_ahead] += part * frac_rows(r)
            elif role is OperandRole.BOTH:
                moved[one_ahead] += total * frac_rows(r) * frac_cols(c)
            else:
                tile = total * frac_cols(c)
                if r == 0:
                    # First use: spread over the previous column fold, or before the layer.
                    if c == 0:
                        moved[0] += tile
                    else:
                        for rr in range(row_folds):
                            moved[under(position[(rr, c - 1)])] += tile / row_folds
                else:
                    moved[one_ahead] += max(0.0, tile - half)
        output_total = sizes.ofmap * bits[2]
        drain = under(index + 1) if index + 1 < len(order) else len(moved) - 1
        if roles.ofmap is OperandRole.BOTH:
            moved[drain] += output_total * frac_rows(r) * frac_cols(c)
        else:
            tile = output_total * frac_cols(c)
            spill = max(0.0, tile - halves[2])
            if r > 0:
                moved[one_ahead] += spill  # read back the spilled partial sums
            if r < row_folds - 1:
                moved[drain] += spill
            elif c < col_folds - 1:
                for rr in range(row_folds):
                    moved[under(position[(rr, c + 1)])] += tile / row_folds
            else:
                moved[-1] += tile
    cycles = profile.cycles_per_fold
    link = 8 * bandwidth
    stall = sum(max(0.0, bits_moved / link - cycles) for bits_moved in moved[1:-1])
    return _Reference(stall, sum(moved), moved[0], moved[-1])


@settings(max_examples=300, deadline=None)
@given(
    m=st.integers(1, 120),
    k=st.integers(1, 120),
    n=st.integers(1, 120),
    rows=st.integers(1, 9),
    cols=st.integers(1, 9),
    dataflow=st.sampled_from(list(Dataflow)),
    bits=st.tuples(st.integers(2, 8), st.integers(2, 8), st.integers(2, 8)),
    halves=st.tuples(*(st.integers(1, 40_000) for _ in range(3))),
    bandwidth=st.floats(0.25, 64.0),
    ifmap_fraction=st.floats(0.05, 1.0),
)
def test_closed_form_matches_fold_by_fold_reference(
    m: int,
    k: int,
    n: int,
    rows: int,
    cols: int,
    dataflow: Dataflow,
    bits: tuple[int, int, int],
    halves: tuple[int, int, int],
    bandwidth: float,
    ifmap_fraction: float,
) -> None:
    gemm = GemmShape(m=m, k=k, n=n)
    sizes = OperandSizes(ifmap=max(1, int(m * k * ifmap_fraction)), filter=k * n, ofmap=m * n)
    profile, memory = _price(
        gemm,
        sizes,
        rows=rows,
        cols=cols,
        dataflow=dataflow,
        bits=bits,
        halves=halves,
        bandwidth=bandwidth,
    )
    reference = _reference(profile, dataflow, sizes, bits, halves, bandwidth)
    assert memory.stall_cycles == max(0, math.ceil(reference.stall_cycles - 1e-6))
    assert memory.dram_bytes * 8 == pytest.approx(reference.total_bits, rel=1e-9, abs=24)
    assert memory.prefetch_cycles == max(
        0, math.ceil(reference.before_bits / (8 * bandwidth) - 1e-6)
    )
    assert memory.drain_cycles == max(0, math.ceil(reference.after_bits / (8 * bandwidth) - 1e-6))


# --- Monotonicity --------------------------------------------------------------------------------


def _sizes(gemm: GemmShape) -> OperandSizes:
    # Inputs smaller than the im2col matrix, as for a convolution whose windows overlap.
    return OperandSizes(
        ifmap=gemm.m * gemm.k // 2 + 1, filter=gemm.k * gemm.n, ofmap=gemm.m * gemm.n
    )


_gemms = st.builds(GemmShape, m=st.integers(1, 400), k=st.integers(1, 400), n=st.integers(1, 400))


@settings(max_examples=200, deadline=None)
@given(
    gemm=_gemms,
    dataflow=st.sampled_from(list(Dataflow)),
    halves=st.tuples(*(st.integers(1, 100_000) for _ in range(3))),
    extra=st.tuples(*(st.integers(0, 100_000) for _ in range(3))),
    bandwidth=st.floats(0.5, 32.0),
    more_bandwidth=st.floats(0.0, 32.0),
)
def test_more_sram_or_bandwidth_never_adds_traffic_or_stalls(
    gemm: GemmShape,
    dataflow: Dataflow,
    halves: tuple[int, int, int],
    extra: tuple[int, int, int],
    bandwidth: float,
    more_bandwidth: float,
) -> None:
    sizes = _sizes(gemm)
    bigger = (halves[0] + extra[0], halves[1] + extra[1], halves[2] + extra[2])
    _, small = _price(
        gemm, sizes, rows=8, cols=8, dataflow=dataflow, halves=halves, bandwidth=bandwidth
    )
    _, large = _price(
        gemm,
        sizes,
        rows=8,
        cols=8,
        dataflow=dataflow,
        halves=bigger,
        bandwidth=bandwidth + more_bandwidth,
    )
    assert large.dram_bytes <= small.dram_bytes
    assert large.stall_cycles <= small.stall_cycles
    assert large.prefetch_cycles <= small.prefetch_cycles
    assert large.drain_cycles <= small.drain_cycles


@settings(max_examples=200, deadline=None)
@given(
    gemm=_gemms,
    dataflow=st.sampled_from(list(Dataflow)),
    bits=st.tuples(st.integers(2, 8), st.integers(2, 8), st.integers(2, 8)),
    fewer=st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)),
    halves=st.tuples(*(st.integers(1, 100_000) for _ in range(3))),
)
def test_fewer_bits_never_add_traffic_or_stalls_at_fixed_compute(
    gemm: GemmShape,
    dataflow: Dataflow,
    bits: tuple[int, int, int],
    fewer: tuple[int, int, int],
    halves: tuple[int, int, int],
) -> None:
    sizes = _sizes(gemm)
    narrower = (max(2, bits[0] - fewer[0]), max(2, bits[1] - fewer[1]), max(2, bits[2] - fewer[2]))
    _, wide = _price(gemm, sizes, rows=8, cols=8, dataflow=dataflow, bits=bits, halves=halves)
    _, narrow = _price(
        gemm, sizes, rows=8, cols=8, dataflow=dataflow, bits=narrower, halves=halves
    )
    assert narrow.dram_bytes <= wide.dram_bytes
    assert narrow.stall_cycles <= wide.stall_cycles
