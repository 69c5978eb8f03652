"""Command line: `python -m amed_opt.export --study r18 --trial N --out DIR`.

Reads the allocation of one finished trial from the study's storage (without modifying it),
fine-tunes it for `--finetune-epochs` epochs with the fine-tuning recipe (0, the default:
calibrate and re-estimate BatchNorm only), and writes exactly two files into DIR:
`<study name>-trial<N>.onnx` (a QDQ graph with low-bit weight initializers,
`amed_opt.evaluation.onnx_export`) and `export.json` (the allocation, top-1 accuracy of the torch
model and of the file in onnxruntime on the validation split, their agreement, the number of
images, the file's size and that of the same model in float, opset and IR version). Bad input (an
unknown or unfinished trial, a layer the exporter does not support) is one line on stderr, exit
2, and nothing written.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from amed_opt.cli import OneLineParser
from amed_opt.cli import add_machine_arguments
from amed_opt.cli import add_trial_arguments
from amed_opt.cli import configure_logging
from amed_opt.cli import non_negative_int
from amed_opt.cli import run_guarded


PROGRAM = "amed-opt export"


def build_parser() -> OneLineParser:
    """The argument parser (exposed for the docs and tests)."""
    parser = OneLineParser(
        prog="python -m amed_opt.export",
        description="Export the allocation of one trial as a QDQ ONNX file with export.json.",
    )
    add_trial_arguments(parser)
    parser.add_argument(
        "--finetune-epochs",
        type=non_negative_int,
        default=0,
        help="fine-tuning epochs before the export (default 0: calibrate only)",
    )
    parser.add_argument("--out", required=True, type=Path, help="export folder")
    add_machine_arguments(parser, progress=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 success, 2 bad input, 1 failed, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    configure_logging()
    return run_guarded(
        PROGRAM, lambda: _export(args), traceback=args.traceback, storage=args.storage
    )


def _export(args: argparse.Namespace) -> int:
    from amed_opt.app import RunOptions
    from amed_opt.app import build_hardware
    from amed_opt.app import check_writable_folder
    from amed_opt.app.trial_export import check_trial_exportable
    from amed_opt.app.trial_export import export_trial
    from amed_opt.app.trial_export import load_trial_allocation
    from amed_opt.evaluation.fine_tuning import finetune_from_spec
    from amed_opt.study.spec import load_spec
    from amed_opt.study.spec import with_overrides

    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out} exists and is not a folder")
    check_writable_folder(args.out, "--out")
    check_writable_folder(args.cache_dir, "--cache-dir")
    spec = with_overrides(
        load_spec(args.study), sampler=args.sampler, seed=args.seed, storage=args.storage
    )
    options = RunOptions(
        device=args.device, cache_dir=args.cache_dir, results_dir=args.results_dir
    )
    hardware = build_hardware(spec)
    selected = load_trial_allocation(spec, options, args.trial)
    check_trial_exportable(selected)
    # The fine-tuned state goes to a temporary folder: DIR holds exactly the two files.
    with tempfile.TemporaryDirectory(prefix="amed-export-finetune-") as folder:
        result = finetune_from_spec(
            spec,
            selected.bits,
            hardware,
            epochs=args.finetune_epochs,
            cache_dir=args.cache_dir,
            output_dir=Path(folder),
            device=selected.device,
            progress=False,
            prepared=selected.prepared,
        )
        report = export_trial(selected, result, args.out)
    measured = report.measured
    print(
        f"trial {args.trial} of {selected.name}: {selected.bits.compact()}\n"
        f"  fine-tuned {result.epochs} epoch(s): validation accuracy "
        f"{result.validation_accuracy_before:.4f} before, {result.validation_accuracy:.4f} after "
        f"(float {result.float_validation_accuracy:.4f})\n"
        f"  {measured.images} validation images: accuracy torch {measured.accuracy_torch:.4f}, "
        f"onnxruntime {measured.accuracy_onnxruntime:.4f}, agreement {measured.agreement:.4f}\n"
        f"  {report.onnx_bytes / 1024:.1f} KiB (float {report.float_onnx_bytes / 1024:.1f} KiB), "
        f"opset {report.opset}, IR version {report.ir_version}\n"
        f"  wrote {report.onnx_path} and {args.out / 'export.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
