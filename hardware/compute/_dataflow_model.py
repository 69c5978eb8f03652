"""The pieces every dataflow module provides, and the value types they share.

A dataflow maps the per-group GEMM `(M x K) @ (K x N)` onto the `R x C` array as SCALE-Sim does
(Samajdar et al., ISPASS 2020, https://doi.org/10.1109/ISPASS48437.2020.00016): `Sr` operand
rows are laid along the array's rows, `Sc` along its columns, and `T` vectors stream through it.
The array works on `ceil(Sr/R) x ceil(Sc/C)` folds, column folds in the outer loop and row folds
in the inner loop (SCALE-Sim's order), and each fold costs a fixed number of cycles.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from hardware.config import Dataflow
from hardware.layer import GemmShape


class OperandRole(enum.Enum):
    """How an operand is tiled across folds, which decides its reuse.

    `ROW`: tiled along `Sr` only; every column fold walks all of it again, so it is reused
    across column folds when it fits on chip. `COL`: tiled along `Sc` only; one tile serves a
    whole column fold (all its row folds). `BOTH`: tiled along both; every fold has its own tile,
    used once. An output with role `COL` accumulates partial sums across the row folds.
    """

    ROW = "row"
    COL = "col"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class SpatialMapping:
    """SCALE-Sim's `(Sr, Sc, T)` for one GEMM under one dataflow.

    Attributes:
        rows: `Sr`, the extent laid along the array's rows.
        cols: `Sc`, the extent laid along the array's columns.
        temporal: `T`, the operand vectors streamed through the array per fold.
    """

    rows: int
    cols: int
    temporal: int


@dataclass(frozen=True, slots=True)
class OperandRoles:
    """The role of each operand under a dataflow."""

    ifmap: OperandRole
    filter: OperandRole
    ofmap: OperandRole


#: `(R, C, T) -> cycles`.
CycleFn = Callable[[int, int, int], int]


@dataclass(frozen=True, slots=True)
class DataflowModel:
    """What the compute and memory models need to know about one dataflow.

    Attributes:
        dataflow: The dataflow described.
        map_gemm: `GemmShape -> SpatialMapping`.
        fold_cycles: Cycles one fold occupies the array, `(R, C, T) -> cycles`, fill and drain
            included.
        utilization_window: The cycles SCALE-Sim divides a fold's MACs by when it reports compute
            utilization (its fold demand matrix's rows plus columns minus one), `(R, C, T)`.
        roles: How each operand is tiled.
    """

    dataflow: Dataflow
    map_gemm: Callable[[GemmShape], SpatialMapping]
    fold_cycles: CycleFn
    utilization_window: CycleFn
    roles: OperandRoles
