"""Command line: `python -m amed_opt.finetune --study r18 --trial N [--epochs E] [--export DIR]`.

Reads the allocation of one finished trial from the study's storage (without modifying it),
fine-tunes it from the float baseline with the fine-tuning recipe
(`amed_opt.evaluation.finetune_recipe`, docs/finetune.md), reports validation and test accuracy,
latency and size, and writes the files under `results/finetune/`. With `--export DIR` it then
writes the ONNX file and `export.json` into DIR, as `python -m amed_opt.export` does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from amed_opt.cli import OneLineParser
from amed_opt.cli import add_machine_arguments
from amed_opt.cli import add_trial_arguments
from amed_opt.cli import configure_logging
from amed_opt.cli import non_negative_int
from amed_opt.cli import run_guarded


PROGRAM = "amed-opt finetune"


def build_parser() -> OneLineParser:
    """The argument parser (exposed for the docs and tests)."""
    parser = OneLineParser(
        prog="python -m amed_opt.finetune",
        description="Fine-tune the allocation of one trial, report it and export it.",
    )
    add_trial_arguments(parser)
    parser.add_argument(
        "--epochs", type=non_negative_int, default=1, help="fine-tuning epochs (default 1)"
    )
    # Recipe defaults live in FinetuneRecipe (docs/finetune.md); importing it here would load
    # torch before the arguments are even checked.
    parser.add_argument("--lr", type=float, help="peak learning rate (default: the recipe's)")
    parser.add_argument(
        "--distillation-weight",
        type=float,
        help="weight of distillation from the float model, 0-1 (default: the recipe's)",
    )
    parser.add_argument(
        "--temperature", type=float, help="distillation temperature (default: the recipe's)"
    )
    parser.add_argument("--out", type=Path, help="output folder (default results/finetune/...)")
    parser.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help="then export the fine-tuned model to DIR as `python -m amed_opt.export` does",
    )
    add_machine_arguments(parser, progress=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 success, 2 bad input, 1 failed, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    configure_logging()
    return run_guarded(
        PROGRAM, lambda: _finetune(args), traceback=args.traceback, storage=args.storage
    )


def _finetune(args: argparse.Namespace) -> int:
    from amed_opt.app import RunOptions
    from amed_opt.app import build_hardware
    from amed_opt.app import check_writable_folder
    from amed_opt.app.trial_export import check_trial_exportable
    from amed_opt.app.trial_export import export_trial
    from amed_opt.app.trial_export import load_trial_allocation
    from amed_opt.evaluation.fine_tuning import finetune_from_spec
    from amed_opt.evaluation.finetune_recipe import FinetuneRecipe
    from amed_opt.study.naming import study_name
    from amed_opt.study.spec import load_spec
    from amed_opt.study.spec import with_overrides

    chosen = {
        "lr": args.lr,
        "distillation_weight": args.distillation_weight,
        "temperature": args.temperature,
    }
    recipe = FinetuneRecipe(**{key: v for key, v in chosen.items() if v is not None})
    spec = with_overrides(
        load_spec(args.study), sampler=args.sampler, seed=args.seed, storage=args.storage
    )
    options = RunOptions(
        device=args.device, cache_dir=args.cache_dir, results_dir=args.results_dir
    )
    name = study_name(spec)
    # Every check before any work: the storage is only read, nothing is decompressed or trained
    # before the device, preset, dataset, model and output folders are known to be usable.
    hardware = build_hardware(spec)
    output_dir = args.out or args.results_dir / "finetune" / f"{name}-trial{args.trial}"
    check_writable_folder(output_dir, "--out")
    check_writable_folder(args.cache_dir, "--cache-dir")
    if args.export is not None:
        if args.export.exists() and not args.export.is_dir():
            raise ValueError(f"--export {args.export} exists and is not a folder")
        check_writable_folder(args.export, "--export")
    selected = load_trial_allocation(spec, options, args.trial)
    if args.export is not None:
        check_trial_exportable(selected)
    trial, bits = selected.trial, selected.bits
    result = finetune_from_spec(
        spec,
        bits,
        hardware,
        epochs=args.epochs,
        recipe=recipe,
        cache_dir=args.cache_dir,
        output_dir=output_dir,
        device=selected.device,
        prepared=selected.prepared,
    )
    report = None if args.export is None else export_trial(selected, result, args.export)
    print(
        f"trial {args.trial} of {name}: {bits.compact()}\n"
        f"  recipe {result.recipe}\n"
        f"  validation accuracy {result.validation_accuracy_before:.4f} before, "
        f"{result.validation_accuracy:.4f} after {result.epochs} epoch(s) "
        f"(float {result.float_validation_accuracy:.4f}; search measured "
        f"{trial.values[0]:.4f})\n"
        f"  test accuracy {result.test_accuracy:.4f}\n"
        f"  latency {result.latency_ms:.4f} ms ({result.latency_cycles} cycles), "
        f"weights {result.size_bytes / 1024:.1f} KiB\n"
        f"  wrote {result.allocation_path}, {result.state_path}, {result.integer_weights_path}"
    )
    if report is not None:
        measured = report.measured
        print(
            f"  exported {report.onnx_path} ({report.onnx_bytes / 1024:.1f} KiB, float "
            f"{report.float_onnx_bytes / 1024:.1f} KiB): {measured.images} validation images, "
            f"accuracy torch {measured.accuracy_torch:.4f}, onnxruntime "
            f"{measured.accuracy_onnxruntime:.4f}, agreement {measured.agreement:.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
