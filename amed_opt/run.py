"""Command line: `python -m amed_opt.run --study r18` (also installed as `amed-opt`).

Parses the run-time knobs, loads the study spec, hands both to `amed_opt.app.run_study` (the
composition root) and turns errors into one line on stderr with the exit codes of `amed_opt.cli`
(2 bad input, 1 the run failed, 130 interrupted). Everything a study
means lives in its TOML file; the flags only override where it runs, how long, and with which
sampler or hardware.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from amed_opt.cli import OneLineParser
from amed_opt.cli import add_machine_arguments
from amed_opt.cli import add_objectives_argument
from amed_opt.cli import add_storage_argument
from amed_opt.cli import configure_logging
from amed_opt.cli import positive_int
from amed_opt.cli import report_interrupted
from amed_opt.cli import run_guarded
from amed_opt.cli import seed_int
from amed_opt.cli import storage_timings_from
from amed_opt.cli import visible_gpu_count
from amed_opt.cli import worker_device
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import available_studies
from amed_opt.study.spec import load_spec
from amed_opt.study.spec import with_overrides


PROGRAM = "amed-opt"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and tests)."""
    studies = ", ".join(available_studies())
    parser = OneLineParser(
        prog=PROGRAM,
        description="Search per-layer bitwidths of a CNN for an accelerator (AMED on Optuna).",
    )
    parser.add_argument(
        "--study", required=True, help=f"study name from studies/ ({studies}) or a .toml path"
    )
    parser.add_argument(
        "--sampler",
        choices=[member.value for member in SamplerName],
        help="override the study's sampler (amed is the Metropolis-Hastings chain)",
    )
    parser.add_argument(
        "--n-trials", type=positive_int, help="trial budget (total, a resumed run tops up)"
    )
    add_storage_argument(parser, "sqlite:///results/<study>.db")
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="local worker processes on the study (with --device cuda: worker i on GPU i mod "
        "the visible GPUs)",
    )
    parser.add_argument("--seed", type=seed_int, help="override the study's seed")
    parser.add_argument("--hardware", help="hardware preset name or preset TOML path")
    parser.add_argument("--data-root", help="dataset folder (overrides the study's data.root)")
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path("results"),
        help="default database, Pareto CSV/JSON and artifacts (default results/)",
    )
    add_objectives_argument(parser)
    add_machine_arguments(parser)
    return parser


def _worker_argv(argv: Sequence[str]) -> list[str]:
    """`argv` without `--workers N`, with progress bars off (the parent shows one)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            out.append(arg)
    return [*out, "--no-progress"]


def run_workers(argv: Sequence[str], args: argparse.Namespace) -> int:
    """Start `args.workers` local workers on one storage; show one progress display.

    Each worker is this command with `--workers 1`; they share the study through its storage
    (created once, the budget shared). With `--device cuda` worker `i` runs on
    `cuda:(i mod GPUs)` (`amed_opt.cli.worker_device`); without a GPU the command stops with
    one line before any worker starts. The exit code is the first non-zero one of a worker.
    """
    if args.device.startswith("cuda"):
        code = run_guarded(PROGRAM, lambda: _check_device(args.device), traceback=args.traceback)
        if code:
            return code
    gpus = visible_gpu_count(args.device)
    command = [sys.executable, "-m", "amed_opt.run", *_worker_argv(argv)]
    workers = [
        subprocess.Popen(
            [*command, "--device", worker_device(args.device, i, gpus)],
            stdout=subprocess.DEVNULL,
        )
        for i in range(args.workers)
    ]
    try:
        _show_progress(args, workers)
        codes = [worker.wait() for worker in workers]
    except KeyboardInterrupt:
        for worker in workers:
            worker.terminate()
        return report_interrupted(PROGRAM)
    failed = [code for code in codes if code]
    if failed:
        return failed[0]
    # Every worker stopped at the study's budget: this run only exports and reports the front.
    final = build_parser().parse_args(_worker_argv(argv))
    return run_guarded(
        PROGRAM, lambda: _run(final), traceback=final.traceback, storage=final.storage
    )


def _check_device(device: str) -> int:
    from amed_opt.app import torch_device

    torch_device(device)  # ValueError: one line, exit code 2
    return 0


def _show_progress(args: argparse.Namespace, workers: list[subprocess.Popen[bytes]]) -> None:
    """One progress bar for all workers: the study's finished trials, read from the storage."""
    if args.no_progress:
        return
    import optuna
    from tqdm import tqdm

    from amed_opt.app import RunOptions
    from amed_opt.app.study_run import storage_url
    from amed_opt.study.naming import study_name

    try:
        spec = with_overrides(
            load_spec(args.study),
            sampler=args.sampler,
            n_trials=args.n_trials,
            storage=args.storage,
            seed=args.seed,
        )
    except Exception:
        return  # The workers report bad input themselves.
    url = storage_url(spec, RunOptions(results_dir=args.results_dir))
    name = study_name(spec)
    bar = tqdm(total=spec.n_trials, desc=f"{name} ({args.workers} workers)", unit="trial")
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    try:
        while any(worker.poll() is None for worker in workers):
            time.sleep(2.0)
            try:
                study = optuna.load_study(study_name=name, storage=url)
                done = len(study.get_trials(deepcopy=False, states=states))
            except Exception:
                continue  # Not created yet, or busy.
            bar.update(max(0, min(done, spec.n_trials) - bar.n))
    finally:
        bar.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 success, 2 bad input, 1 failed, 130 interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    configure_logging()
    if args.workers > 1:
        return run_workers(argv, args)
    return run_guarded(PROGRAM, lambda: _run(args), traceback=args.traceback, storage=args.storage)


def _run(args: argparse.Namespace) -> int:
    from amed_opt.app import RunOptions
    from amed_opt.app import result_summary
    from amed_opt.app import run_study

    spec = with_overrides(
        load_spec(args.study),
        sampler=args.sampler,
        n_trials=args.n_trials,
        storage=args.storage,
        seed=args.seed,
        hardware=args.hardware,
        data_root=args.data_root,
        objectives=args.objectives,
    )
    options = RunOptions(
        device=args.device,
        cache_dir=args.cache_dir,
        results_dir=args.results_dir,
        progress=not args.no_progress,
        storage_timings=storage_timings_from(os.environ),
    )
    result = run_study(spec, options)
    print(result_summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
