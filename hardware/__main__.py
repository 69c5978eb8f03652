"""Command line: price a SCALE-Sim topology on a SCALE-Sim configuration.

    python -m hardware --config F.cfg --topology F.csv [--out report.csv] [--w-bits B --a-bits B]

Reads SCALE-Sim's files unchanged (`hardware.scalesim_compat`) and writes SCALE-Sim's
COMPUTE_REPORT columns plus `Compute Cycles` and the energy columns (pJ), to `--out` or to
standard output. SCALE-Sim files have no energy figures, so energy uses the default table; the
summary line (with `--out`) or a note on standard error (without) says so. On bad input it prints
one line to standard error and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from hardware.config import PrecisionModel
from hardware.protocol import PJ_PER_UJ
from hardware.scalesim_compat import compute_report
from hardware.scalesim_compat import read_scalesim_config
from hardware.scalesim_compat import write_compute_report
from hardware.scalesim_topology import read_topology
from hardware.systolic_array import SystolicArray


_USAGE_ERROR = 2


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
    """Run the command line; returns the exit status (0, or 2 on bad input)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
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
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return _USAGE_ERROR
    table = config.array.energy
    energy_uj = sum(row.total_pj for row in rows) / PJ_PER_UJ
    energy_note = f"{energy_uj:.3f} µJ with {table.source.value} energy table ({table.reference})"
    if args.out is None:
        write_compute_report(rows, sys.stdout)
        # A note, not CSV: standard output stays SCALE-Sim's report format.
        print(f"{parser.prog}: note: {energy_note}", file=sys.stderr)
        return 0
    try:
        with open(args.out, "w", encoding="utf-8") as stream:
            write_compute_report(rows, stream)
    except OSError as error:
        print(f"{parser.prog}: error: cannot write {args.out}: {error}", file=sys.stderr)
        return _USAGE_ERROR
    total = sum(row.total_cycles for row in rows)
    print(
        f"{len(rows)} layers, {total} cycles ({total / config.array.clock_hz * 1e3:.3f} ms at "
        f"{args.clock_mhz:g} MHz, {config.interface.value} mode), {energy_note} -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
