"""Output stationary: every PE accumulates one output; inputs and weights stream past.

Rows of the array take output pixels (`Sr = M`), columns take filters (`Sc = N`), and the
reduction streams through (`T = K`). A fold streams `T` vectors, skewed across `R + C - 1`
diagonals, then the outputs leave: `R + C + T - 2` cycles. SCALE-Sim 3.0 reports compute
utilization over the same window.

Operands: the input rows of a fold serve every column fold (`ROW`), a filter tile serves every
row fold of its column fold (`COL`), and each fold finishes its own outputs (`BOTH`).
"""

from __future__ import annotations

from hardware.compute._dataflow_model import DataflowModel
from hardware.compute._dataflow_model import OperandRole
from hardware.compute._dataflow_model import OperandRoles
from hardware.compute._dataflow_model import SpatialMapping
from hardware.config import Dataflow
from hardware.layer import GemmShape


def map_gemm(gemm: GemmShape) -> SpatialMapping:
    """`Sr = M` (output pixels), `Sc = N` (filters), `T = K` (window)."""
    return SpatialMapping(rows=gemm.m, cols=gemm.n, temporal=gemm.k)


def fold_cycles(rows: int, cols: int, temporal: int) -> int:
    """`R + C + T - 2`: stream `T` skewed vectors through an `R x C` array."""
    return rows + cols + temporal - 2


def utilization_window(rows: int, cols: int, temporal: int) -> int:
    """Same as `fold_cycles` under output stationary."""
    return rows + cols + temporal - 2


MODEL = DataflowModel(
    dataflow=Dataflow.OUTPUT_STATIONARY,
    map_gemm=map_gemm,
    fold_cycles=fold_cycles,
    utilization_window=utilization_window,
    roles=OperandRoles(ifmap=OperandRole.ROW, filter=OperandRole.COL, ofmap=OperandRole.BOTH),
)
