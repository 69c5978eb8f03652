"""Input stationary: every PE holds one input element; weights stream in, partial sums flow.

Rows of the array take the reduction (`Sr = K`), columns take output pixels (`Sc = M`), and
filters stream through (`T = N`). The timing mirrors weight stationary with the roles of inputs
and weights swapped: `2R + C + T - 2` cycles per fold, utilization over `2R + 2C + T - 3`.

Operands: a weight slice (all `N` filters over `R` reduction rows) serves every column fold
(`ROW`), each fold has its own input tile (`BOTH`), and the outputs of a column fold accumulate
over its row folds (`COL`).
"""

from __future__ import annotations

from hardware.compute._dataflow_model import DataflowModel
from hardware.compute._dataflow_model import OperandRole
from hardware.compute._dataflow_model import OperandRoles
from hardware.compute._dataflow_model import SpatialMapping
from hardware.config import Dataflow
from hardware.layer import GemmShape


def map_gemm(gemm: GemmShape) -> SpatialMapping:
    """`Sr = K` (window), `Sc = M` (output pixels), `T = N` (filters)."""
    return SpatialMapping(rows=gemm.k, cols=gemm.m, temporal=gemm.n)


def fold_cycles(rows: int, cols: int, temporal: int) -> int:
    """`2R + C + T - 2`: load `R` input rows, then stream `T` skewed vectors."""
    return 2 * rows + cols + temporal - 2


def utilization_window(rows: int, cols: int, temporal: int) -> int:
    """`2R + 2C + T - 3`, SCALE-Sim's per-fold utilization denominator."""
    return 2 * rows + 2 * cols + temporal - 3


MODEL = DataflowModel(
    dataflow=Dataflow.INPUT_STATIONARY,
    map_gemm=map_gemm,
    fold_cycles=fold_cycles,
    utilization_window=utilization_window,
    roles=OperandRoles(ifmap=OperandRole.BOTH, filter=OperandRole.ROW, ofmap=OperandRole.COL),
)
