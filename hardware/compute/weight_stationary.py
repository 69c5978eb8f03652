"""Weight stationary: every PE holds one weight; inputs stream in, partial sums flow down.

Rows of the array take the reduction (`Sr = K`), columns take filters (`Sc = N`), and output
pixels stream through (`T = M`). A fold first loads its weights (`R` cycles), then streams `T`
skewed input vectors, and the last partial sums drain: `2R + C + T - 2` cycles. SCALE-Sim 3.0
reports compute utilization over a window `C - 1` cycles longer (`2R + 2C + T - 3`), because its
filter demand matrix for a fold is `2R + C + T - 2` rows by `C` columns.

Operands: an input slice (all `M` pixels of `R` reduction rows) serves every column fold
(`ROW`), each fold has its own weight tile (`BOTH`), and the outputs of a column fold accumulate
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
    """`Sr = K` (window), `Sc = N` (filters), `T = M` (output pixels)."""
    return SpatialMapping(rows=gemm.k, cols=gemm.n, temporal=gemm.m)


def fold_cycles(rows: int, cols: int, temporal: int) -> int:
    """`2R + C + T - 2`: load `R` weight rows, then stream `T` skewed vectors."""
    return 2 * rows + cols + temporal - 2


def utilization_window(rows: int, cols: int, temporal: int) -> int:
    """`2R + 2C + T - 3`, SCALE-Sim's per-fold utilization denominator."""
    return 2 * rows + 2 * cols + temporal - 3


MODEL = DataflowModel(
    dataflow=Dataflow.WEIGHT_STATIONARY,
    map_gemm=map_gemm,
    fold_cycles=fold_cycles,
    utilization_window=utilization_window,
    roles=OperandRoles(ifmap=OperandRole.ROW, filter=OperandRole.BOTH, ofmap=OperandRole.COL),
)
