"""Compute model: folds, cycles, utilization and SRAM accesses of one GEMM on the array.

The closed forms below reproduce SCALE-Sim 3.0's compute report exactly at 8 bits (checked
against every record in `tests/hardware/data/`): with `Fr = ceil(Sr/R)` row folds and
`Fc = ceil(Sc/C)` column folds, SCALE-Sim reports `Fr*Fc*fold - 1` compute cycles (the index of
the last busy cycle), mapping efficiency `Sr*Sc / (Fr*Fc*R*C)` (used PEs averaged over folds),
compute utilization `mapping_efficiency * T / window` (a fold's MACs over the PE-cycles of its
utilization window, averaged over folds) and one SRAM access per operand element per use: an
operand tiled along rows only is read once per column fold, one tiled along columns only once per
row fold, one tiled along both once.

Bitwidths enter through `speedup` (MACs per PE per cycle, `hardware.precision`): it shortens the
streamed dimension `T` to `ceil(T / speedup)`; at 8 bits it is 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hardware.compute import input_stationary
from hardware.compute import output_stationary
from hardware.compute import weight_stationary
from hardware.compute._dataflow_model import DataflowModel
from hardware.compute._dataflow_model import OperandRole
from hardware.compute._dataflow_model import OperandRoles
from hardware.compute._dataflow_model import SpatialMapping
from hardware.config import Dataflow
from hardware.layer import GemmShape
from hardware.precision import temporal_cycles


__all__ = [
    "DATAFLOW_MODELS",
    "ComputeProfile",
    "DataflowModel",
    "OperandRole",
    "OperandRoles",
    "SpatialMapping",
    "SramAccesses",
    "compute_profile",
]

DATAFLOW_MODELS: dict[Dataflow, DataflowModel] = {
    model.dataflow: model
    for model in (output_stationary.MODEL, weight_stationary.MODEL, input_stationary.MODEL)
}


@dataclass(frozen=True, slots=True)
class SramAccesses:
    """SRAM accesses of one GEMM, in elements (one element = one SCALE-Sim word at 8 bits).

    Attributes:
        ifmap_reads: Reads of the (im2col-expanded) input matrix.
        filter_reads: Reads of the weight matrix.
        ofmap_writes: Writes of outputs and partial sums.
    """

    ifmap_reads: int
    filter_reads: int
    ofmap_writes: int


@dataclass(frozen=True, slots=True)
class ComputeProfile:
    """How one GEMM (one group of a layer) runs on the array, memory stalls aside.

    Attributes:
        dataflow: The dataflow it was folded under.
        array_rows: `R`.
        array_cols: `C`.
        mapping: SCALE-Sim's `(Sr, Sc, T)`.
        row_folds: `ceil(Sr / R)`.
        col_folds: `ceil(Sc / C)`.
        temporal_cycles: Cycles to stream the `T` vectors at these bitwidths.
        cycles_per_fold: Cycles one fold occupies the array.
        utilization_window: SCALE-Sim's per-fold utilization denominator, in cycles.
        sram: SRAM accesses.
    """

    dataflow: Dataflow
    array_rows: int
    array_cols: int
    mapping: SpatialMapping
    row_folds: int
    col_folds: int
    temporal_cycles: int
    cycles_per_fold: int
    utilization_window: int
    sram: SramAccesses

    @property
    def folds(self) -> int:
        """Folds in all, `row_folds * col_folds`."""
        return self.row_folds * self.col_folds

    @property
    def compute_cycles(self) -> int:
        """`folds * cycles_per_fold - 1`, SCALE-Sim's compute cycles (last busy cycle's index)."""
        return self.folds * self.cycles_per_fold - 1

    @property
    def mapping_efficiency(self) -> float:
        """Fraction of PEs holding work, averaged over folds."""
        return (
            self.mapping.rows
            * self.mapping.cols
            / (self.folds * self.array_rows * self.array_cols)
        )

    @property
    def compute_utilization(self) -> float:
        """Fraction of PE-cycles doing MACs within each fold's window, averaged over folds."""
        return self.mapping_efficiency * self.temporal_cycles / self.utilization_window

    def rows_used(self, row_fold: int) -> int:
        """Array rows holding work in row fold `row_fold` (only the last one may be partial)."""
        return min(self.array_rows, self.mapping.rows - row_fold * self.array_rows)

    def cols_used(self, col_fold: int) -> int:
        """Array columns holding work in column fold `col_fold`."""
        return min(self.array_cols, self.mapping.cols - col_fold * self.array_cols)


def compute_profile(
    gemm: GemmShape,
    *,
    rows: int,
    cols: int,
    dataflow: Dataflow,
    speedup: Fraction = Fraction(1),
) -> ComputeProfile:
    """Fold `gemm` (one group) onto an `rows x cols` array under `dataflow`.

    Args:
        gemm: The per-group GEMM.
        rows: Array rows `R`.
        cols: Array columns `C`.
        dataflow: Output, weight or input stationary.
        speedup: MACs per PE per cycle at the layer's bitwidths (1 at 8 bits).

    Returns:
        The compute profile of one group.
    """
    model = DATAFLOW_MODELS[dataflow]
    mapping = model.map_gemm(gemm)
    row_folds = -(-mapping.rows // rows)
    col_folds = -(-mapping.cols // cols)
    streamed = temporal_cycles(mapping.temporal, speedup)
    uses = {OperandRole.ROW: col_folds, OperandRole.COL: row_folds, OperandRole.BOTH: 1}
    sram = SramAccesses(
        ifmap_reads=gemm.m * gemm.k * uses[model.roles.ifmap],
        filter_reads=gemm.k * gemm.n * uses[model.roles.filter],
        ofmap_writes=gemm.m * gemm.n * uses[model.roles.ofmap],
    )
    return ComputeProfile(
        dataflow=dataflow,
        array_rows=rows,
        array_cols=cols,
        mapping=mapping,
        row_folds=row_folds,
        col_folds=col_folds,
        temporal_cycles=streamed,
        cycles_per_fold=model.fold_cycles(rows, cols, streamed),
        utilization_window=model.utilization_window(rows, cols, streamed),
        sram=sram,
    )
