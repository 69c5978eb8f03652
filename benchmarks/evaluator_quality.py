"""How good and how fast the trial evaluator is, on a real study (default: r18).

Prints, for the study's network and data (first and last layer at the study's fixed bits, the
other layers at the uniform bitwidth shown):

- float validation accuracy of the baseline (trained and cached on first use);
- uniform 8/4/3/2-bit post-training quantization (calibration + BatchNorm re-estimation, the
  `fresh` trial with no training steps), and 2-bit without BatchNorm re-estimation;
- uniform 4-bit and 2-bit after a short QAT (`--qat-steps` steps, a `fresh` trial);
- the wall-clock time of `fresh` trials without training (first trial, then random mixed
  allocations);
- the cost of a quantized forward pass relative to the float one, timed alternately on the same
  validation batches in this run.

Usage:
    python benchmarks/evaluator_quality.py [--study r18] [--cache-dir results/cache]
        [--threads 2] [--qat-steps 200] [--device cpu]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import time
from pathlib import Path

import torch

from amed_opt.evaluation.baseline import prepare_study
from amed_opt.evaluation.evaluator import Evaluator
from amed_opt.evaluation.quantization import quantization_disabled
from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.spec import EvaluatorMode
from amed_opt.study.spec import EvaluatorSpec
from amed_opt.study.spec import load_spec
from hardware import SystolicArray
from hardware import load_preset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="r18")
    parser.add_argument("--cache-dir", type=Path, default=Path("results/cache"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--qat-steps", type=int, default=200)
    parser.add_argument("--timing-trials", type=int, default=6)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    spec = load_spec(args.study)
    started = time.perf_counter()
    prepared = prepare_study(spec, cache_dir=args.cache_dir, device=device, progress=True)
    print(
        f"study {spec.name}: {spec.model.arch} on {spec.data.dataset}, "
        f"{len(prepared.layers)} quantizable layers, baseline {prepared.baseline.source.value} "
        f"({time.perf_counter() - started:.0f} s), device {device}, {args.threads} threads"
    )
    hardware = SystolicArray(load_preset(spec.hardware.preset))
    names = [layer.name for layer in prepared.layers]
    fixed = spec.search.fixed_bits

    def uniform(bits: int) -> BitConfig:
        ends = (names[0], names[-1])
        return BitConfig(
            {name: LayerBits(*(2 * [fixed if name in ends else bits])) for name in names}
        )

    def evaluator(evaluator_spec: EvaluatorSpec) -> Evaluator:
        return Evaluator(
            prepared.baseline.model,
            prepared.layers,
            hardware,
            loaders=prepared.loaders,
            spec=evaluator_spec,
            device=device,
            seed=spec.seed,
        )

    ptq_spec = EvaluatorSpec(mode=EvaluatorMode.FRESH, steps_per_trial=0, recalibrate_bn=True)
    ptq = evaluator(ptq_spec)
    float_accuracy = ptq.float_accuracy
    print(f"float validation accuracy: {float_accuracy:.4f}")
    first = ptq.evaluate(uniform(8))
    _row("uniform 8-bit PTQ", first.accuracy, float_accuracy, first.seconds)
    for bits in (6, 4, 3, 2):
        metrics = ptq.evaluate(uniform(bits))
        _row(f"uniform {bits}-bit PTQ", metrics.accuracy, float_accuracy, metrics.seconds)
    no_bn = evaluator(dataclasses.replace(ptq_spec, recalibrate_bn=False))
    for bits in (8, 2):
        metrics = no_bn.evaluate(uniform(bits))
        _row(f"uniform {bits}-bit PTQ, no BN re-estimation", metrics.accuracy, float_accuracy)

    # Fresh-trial time: random mixed allocations of the study's search space.
    rng = random.Random(0)
    seconds = []
    for _ in range(args.timing_trials):
        mixed = BitConfig(
            {
                name: LayerBits(fixed, fixed)
                if index in (0, len(names) - 1)
                else LayerBits(*(2 * [rng.choice(spec.search.bits)]))
                for index, name in enumerate(names)
            }
        )
        seconds.append(ptq.evaluate(mixed).seconds)
    print(
        f"fresh trial (calibrated, BN re-estimated, {spec.data.validation_images} validation "
        f"images): first {first.seconds:.2f} s; random mixed: median "
        f"{statistics.median(seconds):.2f} s, max {max(seconds):.2f} s"
    )

    ratio, float_ms, quantized_ms = _forward_cost_ratio(ptq, uniform(4), prepared, device)
    print(
        f"forward pass over the validation set: float {float_ms:.0f} ms, uniform 4-bit "
        f"{quantized_ms:.0f} ms, ratio {ratio:.2f}x"
    )

    if args.qat_steps > 0:
        qat = evaluator(
            EvaluatorSpec(
                mode=EvaluatorMode.FRESH,
                steps_per_trial=args.qat_steps,
                lr=spec.evaluator.lr,
                momentum=spec.evaluator.momentum,
            )
        )
        for bits in (4, 2):
            metrics = qat.evaluate(uniform(bits))
            _row(
                f"uniform {bits}-bit after {args.qat_steps} QAT steps",
                metrics.accuracy,
                float_accuracy,
                metrics.seconds,
            )


def _row(label: str, accuracy: float, reference: float, seconds: float | None = None) -> None:
    timing = f"  ({seconds:.1f} s)" if seconds is not None else ""
    points = 100 * (accuracy - reference)
    print(f"{label:<48} {accuracy:.4f}  ({points:+.2f} points vs float){timing}")


def _forward_cost_ratio(
    evaluator: Evaluator, bits: BitConfig, prepared: object, device: torch.device
) -> tuple[float, float, float]:
    """Best-of-5 time of a float and a quantized pass over the same batches, alternating."""
    evaluator.evaluate(bits)
    model = evaluator.quantized_model.eval()
    batches = [
        (images.to(device), labels)
        for images, labels in prepared.loaders.validation  # type: ignore[attr-defined]
    ]

    def timed(quantized: bool) -> float:
        with torch.no_grad():
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            if quantized:
                for images, _ in batches:
                    model(images)
            else:
                with quantization_disabled(model):
                    for images, _ in batches:
                        model(images)
            if device.type == "cuda":
                torch.cuda.synchronize()
            return time.perf_counter() - start

    timed(True)
    timed(False)
    float_times, quantized_times = [], []
    for _ in range(5):
        float_times.append(timed(False))
        quantized_times.append(timed(True))
    best_float, best_quantized = min(float_times), min(quantized_times)
    return best_quantized / best_float, 1e3 * best_float, 1e3 * best_quantized


if __name__ == "__main__":
    main()
