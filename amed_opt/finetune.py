"""Command line: `python -m amed_opt.finetune --study r18 --trial N [--epochs E]`.

Reads the allocation of one finished trial from the study's storage (read-only: nothing in the
storage is created or changed), checks the device, preset, dataset and output folder,
fine-tunes it from the float baseline (`amed_opt.evaluation.fine_tuning`), reports validation
and test accuracy, latency and size, and writes the files under `results/finetune/`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from amed_opt.cli import OneLineParser
from amed_opt.cli import add_machine_arguments
from amed_opt.cli import add_storage_argument
from amed_opt.cli import configure_logging
from amed_opt.cli import non_negative_int
from amed_opt.cli import run_guarded
from amed_opt.cli import seed_int


PROGRAM = "amed-opt finetune"


def build_parser() -> OneLineParser:
    """The argument parser (exposed for the docs and tests)."""
    parser = OneLineParser(
        prog="python -m amed_opt.finetune",
        description="Fine-tune the allocation of one trial, report it and export it.",
    )
    parser.add_argument("--study", required=True, help="study name or .toml path")
    parser.add_argument(
        "--trial", required=True, type=non_negative_int, help="trial number in the study"
    )
    parser.add_argument(
        "--epochs", type=non_negative_int, default=1, help="fine-tuning epochs (default 1)"
    )
    parser.add_argument("--sampler", help="the sampler the study was run with (default: spec)")
    parser.add_argument("--seed", type=seed_int, help="the seed the study was run with")
    add_storage_argument(parser, "the study's")
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument("--out", type=Path, help="export folder (default results/finetune/...)")
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
    from amed_opt.app import probe_layers
    from amed_opt.app import storage_url
    from amed_opt.app import torch_device
    from amed_opt.evaluation.baseline import prepare_study
    from amed_opt.evaluation.fine_tuning import finetune_from_spec
    from amed_opt.study.naming import study_name
    from amed_opt.study.search_space import BitSearchSpace
    from amed_opt.study.spec import load_spec
    from amed_opt.study.spec import with_overrides
    from amed_opt.study.storage import load_finished_trial

    spec = with_overrides(
        load_spec(args.study), sampler=args.sampler, seed=args.seed, storage=args.storage
    )
    options = RunOptions(
        device=args.device, cache_dir=args.cache_dir, results_dir=args.results_dir
    )
    name = study_name(spec)
    # Every check before any work: the storage is only read, nothing is decompressed or trained
    # before the device, preset, dataset, model and output folder are known to be usable.
    device = torch_device(args.device)
    hardware = build_hardware(spec)
    trial = load_finished_trial(storage_url(spec, options), name, args.trial)
    output_dir = args.out or args.results_dir / "finetune" / f"{name}-trial{args.trial}"
    check_writable_folder(output_dir, "--out")
    check_writable_folder(args.cache_dir, "--cache-dir")
    BitSearchSpace(probe_layers(spec), spec.search).to_bits(trial.params)
    prepared = prepare_study(spec, cache_dir=args.cache_dir, device=device)
    bits = BitSearchSpace(prepared.layers, spec.search).to_bits(trial.params)
    result = finetune_from_spec(
        spec,
        bits,
        hardware,
        epochs=args.epochs,
        cache_dir=args.cache_dir,
        output_dir=output_dir,
        device=device,
        prepared=prepared,
    )
    print(
        f"trial {args.trial} of {name}: {bits.compact()}\n"
        f"  validation accuracy {result.validation_accuracy_before:.4f} before, "
        f"{result.validation_accuracy:.4f} after {result.epochs} epoch(s) "
        f"(float {result.float_validation_accuracy:.4f}; search measured "
        f"{trial.values[0]:.4f})\n"
        f"  test accuracy {result.test_accuracy:.4f}\n"
        f"  latency {result.latency_ms:.4f} ms ({result.latency_cycles} cycles), "
        f"weights {result.size_bytes / 1024:.1f} KiB\n"
        f"  wrote {result.allocation_path}, {result.state_path}, {result.integer_weights_path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
