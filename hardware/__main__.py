"""Command line: price a SCALE-Sim topology on a SCALE-Sim configuration.

    python -m hardware --config F.cfg --topology F.csv [--out report.csv] [--w-bits B --a-bits B]

Reads SCALE-Sim's files unchanged (`hardware.scalesim_compat`) and writes SCALE-Sim's
COMPUTE_REPORT columns plus `Compute Cycles` and the energy columns (pJ), to `--out` or to
standard output. SCALE-Sim files have no energy figures, so energy uses the default table; the
summary line (with `--out`) or a note on standard error (without) says so.

Exit codes as amed-opt's command lines (docs/errors.md): 2 and one line on standard error for bad
input (arguments, unreadable or malformed files, absurd sizes, an `--out` folder that is missing
or not writable), found before any work; 1 when writing the report fails (disk full); 130 when
interrupted. `--out` is written atomically (`hardware._files`).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from hardware._files import atomic_write_text
from hardware.config import PrecisionModel
from hardware.protocol import PJ_PER_UJ
from hardware.scalesim_compat import compute_report
from hardware.scalesim_compat import read_scalesim_config
from hardware.scalesim_compat import write_compute_report
from hardware.scalesim_topology import read_topology
from hardware.systolic_array import SystolicArray


_FAILURE = 1
_USAGE_ERROR = 2
_INTERRUPTED = 130


class _ArgumentParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on standard error."""

    def error(self, message: str) -> NoReturn:
        self.exit(_USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="python -m hardware",
        description="Price a SCALE-Sim topology on a SCALE-Sim configuration, bitwidth-aware.",
    )
    parser.add_argument("--config", required=True, help="SCALE-Sim .cfg file")
    parser.add_argument("--topology", required=True, help="SCALE-Sim topology .csv file")
    parser.add_argument("--out", help="write the compute report here (default: standard output)")
    parser.add_argument("--w-bits", type=int, default=8, help="weight bitwidth, 2..8 (default 8)")
    parser.add_argument(
        "--a-bits", type=int, default=8, help="activation bitwidth, 2..8 (default 8)"
    )
    parser.add_argument(
        "--precision-model",
        choices=[model.value for model in PrecisionModel],
        default=PrecisionModel.BIT_FUSION.value,
        help="how bits below 8 change compute (default bit_fusion; no effect at 8 bits)",
    )
    parser.add_argument(
        "--clock-mhz", type=float, default=200.0, help="clock for the latency in ms (default 200)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, 2 bad input, 1 failed, 130)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return _price(parser.prog, args)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return _INTERRUPTED


def _error(prog: str, message: str, code: int) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code


def _price(prog: str, args: argparse.Namespace) -> int:
    if not (math.isfinite(args.clock_mhz) and args.clock_mhz > 0):
        message = f"--clock-mhz: clock_hz must be a positive number, got {args.clock_mhz}"
        return _error(prog, message, _USAGE_ERROR)
    if args.out is not None:
        folder = Path(args.out).parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            reason = "does not exist" if not folder.is_dir() else "is not writable"
            message = f"cannot write {args.out}: folder {str(folder)!r} {reason}"
            return _error(prog, message, _USAGE_ERROR)
    try:
        config = read_scalesim_config(
            args.config,
            precision_model=PrecisionModel(args.precision_model),
            clock_hz=args.clock_mhz * 1e6,
        )
        layers = read_topology(args.topology)
        array = SystolicArray(config.array)
        rows = compute_report(array, layers, w_bits=args.w_bits, a_bits=args.a_bits)
    except (OSError, ValueError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        return _error(prog, message, _USAGE_ERROR)
    except MemoryError:
        return _error(prog, "out of memory pricing the topology; price fewer layers", _FAILURE)
    table = config.array.energy
    energy_uj = sum(row.total_pj for row in rows) / PJ_PER_UJ
    energy_note = f"{energy_uj:.3f} µJ with {table.source.value} energy table ({table.reference})"
    if args.out is None:
        write_compute_report(rows, sys.stdout)
        # A note, not CSV: standard output stays SCALE-Sim's report format.
        print(f"{prog}: note: {energy_note}", file=sys.stderr)
        return 0
    report = io.StringIO(newline="")
    write_compute_report(rows, report)
    try:
        atomic_write_text(args.out, report.getvalue())
    except OSError as error:  # found while working (disk full): not bad input
        return _error(prog, f"cannot write {args.out}: {error.strerror or error}", _FAILURE)
    total = sum(row.total_cycles for row in rows)
    print(
        f"{len(rows)} layers, {total} cycles ({total / config.array.clock_hz * 1e3:.3f} ms at "
        f"{args.clock_mhz:g} MHz, {config.interface.value} mode), {energy_note} -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
