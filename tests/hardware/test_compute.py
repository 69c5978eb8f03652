"""Compute model: folds, cycles, utilization and SRAM accesses, by hand on a non-square array.

The 234 SCALE-Sim records (`test_scalesim_reference.py`) are all on square arrays; these tables
also pin which of `R` and `C` each formula uses.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.compute import DATAFLOW_MODELS
from hardware.compute import OperandRole
from hardware.compute import compute_profile
from hardware.config import Dataflow
from hardware.layer import GemmShape


GEMM = GemmShape(m=10, k=6, n=5)  # on a 4-row, 3-column array

# dataflow: (Sr, Sc, T), (row folds, col folds), cycles per fold, utilization window,
#           (ifmap reads, filter reads, ofmap writes)
TABLE = {
    # Sr = M, Sc = N, T = K; fold R + C + T - 2; ifmap read per column fold, filter per row fold.
    Dataflow.OUTPUT_STATIONARY: ((10, 5, 6), (3, 2), 4 + 3 + 6 - 2, 11, (2 * 60, 3 * 30, 50)),
    # Sr = K, Sc = N, T = M; fold 2R + C + T - 2; window 2R + 2C + T - 3; psums per row fold.
    Dataflow.WEIGHT_STATIONARY: (
        (6, 5, 10),
        (2, 2),
        8 + 3 + 10 - 2,
        8 + 6 + 10 - 3,
        (120, 30, 100),
    ),
    # Sr = K, Sc = M, T = N; filters read per column fold, psums per row fold.
    Dataflow.INPUT_STATIONARY: ((6, 10, 5), (2, 4), 8 + 3 + 5 - 2, 8 + 6 + 5 - 3, (60, 120, 100)),
}


def test_registry_covers_every_dataflow() -> None:
    assert set(DATAFLOW_MODELS) == set(Dataflow)
    for dataflow, model in DATAFLOW_MODELS.items():
        assert model.dataflow is dataflow


@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_hand_computed_table(dataflow: Dataflow) -> None:
    mapping, folds, fold_cycles, window, sram = TABLE[dataflow]
    profile = compute_profile(GEMM, rows=4, cols=3, dataflow=dataflow)
    assert (profile.mapping.rows, profile.mapping.cols, profile.mapping.temporal) == mapping
    assert (profile.row_folds, profile.col_folds) == folds
    assert profile.cycles_per_fold == fold_cycles
    assert profile.compute_cycles == folds[0] * folds[1] * fold_cycles - 1
    assert profile.utilization_window == window
    efficiency = mapping[0] * mapping[1] / (folds[0] * folds[1] * 4 * 3)
    assert profile.mapping_efficiency == pytest.approx(efficiency, rel=1e-12)
    assert profile.compute_utilization == pytest.approx(efficiency * mapping[2] / window)
    accesses = profile.sram
    assert (accesses.ifmap_reads, accesses.filter_reads, accesses.ofmap_writes) == sram


def test_last_folds_are_partial() -> None:
    profile = compute_profile(GEMM, rows=4, cols=3, dataflow=Dataflow.OUTPUT_STATIONARY)
    assert [profile.rows_used(fold) for fold in range(profile.row_folds)] == [4, 4, 2]
    assert [profile.cols_used(fold) for fold in range(profile.col_folds)] == [3, 2]


@pytest.mark.parametrize(
    ("speedup", "streamed"), [(Fraction(1), 6), (Fraction(2), 3), (Fraction(4), 2), (16, 1)]
)
def test_speedup_shortens_only_the_streamed_dimension(speedup: Fraction, streamed: int) -> None:
    profile = compute_profile(
        GEMM, rows=4, cols=3, dataflow=Dataflow.OUTPUT_STATIONARY, speedup=Fraction(speedup)
    )
    assert profile.temporal_cycles == streamed
    assert profile.cycles_per_fold == 4 + 3 + streamed - 2
    assert (profile.row_folds, profile.col_folds) == (3, 2)
    assert profile.sram.ifmap_reads == 2 * 60  # accesses count elements, not cycles


def test_operand_roles_per_dataflow() -> None:
    roles = {dataflow: model.roles for dataflow, model in DATAFLOW_MODELS.items()}
    assert roles[Dataflow.OUTPUT_STATIONARY].ofmap is OperandRole.BOTH
    assert roles[Dataflow.WEIGHT_STATIONARY].filter is OperandRole.BOTH
    assert roles[Dataflow.INPUT_STATIONARY].ifmap is OperandRole.BOTH
    for model in DATAFLOW_MODELS.values():
        assert model.roles.ofmap in (OperandRole.BOTH, OperandRole.COL)


@given(
    gemm=st.builds(GemmShape, m=st.integers(1, 500), k=st.integers(1, 500), n=st.integers(1, 500)),
    rows=st.integers(1, 64),
    cols=st.integers(1, 64),
    dataflow=st.sampled_from(list(Dataflow)),
)
def test_profile_invariants(gemm: GemmShape, rows: int, cols: int, dataflow: Dataflow) -> None:
    profile = compute_profile(gemm, rows=rows, cols=cols, dataflow=dataflow)
    assert 0 < profile.compute_utilization <= profile.mapping_efficiency <= 1
    # No mapping beats the peak of rows * cols MACs per cycle.
    assert (profile.compute_cycles + 1) * rows * cols >= gemm.macs
    # Every PE-slot of every fold is accounted for exactly once.
    used = sum(
        profile.rows_used(r) * profile.cols_used(c)
        for r in range(profile.row_folds)
        for c in range(profile.col_folds)
    )
    assert used == profile.mapping.rows * profile.mapping.cols
