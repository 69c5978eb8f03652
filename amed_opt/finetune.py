"""Fine-tune a chosen bit allocation and export it (METHOD.md §9).

After the search, one allocation (the best score, or any Pareto trial) is trained with LSQ for a
few epochs, from the float baseline: quantize, calibrate, re-estimate BatchNorm, then
quantization-aware SGD with a cosine schedule over `epochs` passes of the training split. The
result reports validation and test accuracy (the test split is used here and nowhere in the
search), latency, size and per-layer cycles, and writes three files into `output_dir`:

- `allocation.json`: the bits of every layer in network order, plus the reported numbers;
  `load_allocation` reads it back into a `BitConfig`.
- `quantized_state_dict.pt`: the state dict of the fake-quantized model (weights, BatchNorm,
  every learned step); `restore_quantized` rebuilds the model from it.
- `integer_weights.pt`: per layer, the integer weight codes (int8, per output channel scale,
  zero point 0), the bias in float, the input's step and signedness, and the bitwidths — what
  an integer inference engine needs.

Each file is written under a temporary name and renamed, so a killed run leaves no partial
file. `finetune_from_spec` builds everything from a `StudySpec`, so a command-line entry point
only has to load the spec, read the trial's allocation and call it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from amed_opt._training import measure_accuracy
from amed_opt._training import seeded
from amed_opt._training import sgd
from amed_opt._training import train_step
from amed_opt._training import warmup_cosine
from amed_opt.baseline import prepare_study
from amed_opt.bits import BitConfig
from amed_opt.bits import LayerBits
from amed_opt.quantization import MIN_STEP
from amed_opt.quantization import calibrate
from amed_opt.quantization import quantization_disabled
from amed_opt.quantization import quantize_model
from amed_opt.quantization import quantized_layers
from amed_opt.quantization import recalibrate_batchnorm
from amed_opt.quantization import set_bits
from hardware import network_latency


if TYPE_CHECKING:
    from collections.abc import Sequence

    from amed_opt.baseline import PreparedStudy
    from amed_opt.data import Loaders
    from amed_opt.spec import StudySpec
    from hardware import HardwareModel
    from hardware import LayerShape

ALLOCATION_FILE = "allocation.json"
STATE_FILE = "quantized_state_dict.pt"
INTEGER_FILE = "integer_weights.pt"


@dataclass(frozen=True, slots=True)
class FinetuneResult:
    """What fine-tuning an allocation produced.

    Attributes:
        bits: The allocation.
        epochs: Fine-tuning epochs run.
        float_validation_accuracy: Validation accuracy of the float baseline (fraction).
        validation_accuracy_before: Validation accuracy after calibration (and BatchNorm
            re-estimation), before fine-tuning.
        validation_accuracy: Validation accuracy after fine-tuning.
        test_accuracy: Test accuracy after fine-tuning.
        latency_cycles: Network latency in cycles.
        latency_ms: Network latency in milliseconds.
        size_bytes: Bit-packed weight storage in bytes.
        cycles_by_layer: Cycles per layer, in network order.
        allocation_path: The written `allocation.json`.
        state_path: The written fake-quantized state dict.
        integer_weights_path: The written integer weights and scales.
    """

    bits: BitConfig
    epochs: int
    float_validation_accuracy: float
    validation_accuracy_before: float
    validation_accuracy: float
    test_accuracy: float
    latency_cycles: int
    latency_ms: float
    size_bytes: int
    cycles_by_layer: Mapping[str, int]
    allocation_path: Path
    state_path: Path
    integer_weights_path: Path

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (the numbers and the allocation)."""
        return {
            "bits": _bits_to_json(self.bits),
            "compact": self.bits.compact(),
            "epochs": self.epochs,
            "float_validation_accuracy": self.float_validation_accuracy,
            "validation_accuracy_before": self.validation_accuracy_before,
            "validation_accuracy": self.validation_accuracy,
            "test_accuracy": self.test_accuracy,
            "latency_cycles": self.latency_cycles,
            "latency_ms": self.latency_ms,
            "size_bytes": self.size_bytes,
            "cycles_by_layer": dict(self.cycles_by_layer),
        }


def finetune(
    model: nn.Module,
    layers: Sequence[LayerShape],
    bits: BitConfig,
    hardware: HardwareModel,
    *,
    loaders: Loaders,
    epochs: int,
    lr: float,
    momentum: float,
    weight_decay: float = 0.0,
    recalibrate_bn: bool = True,
    device: torch.device,
    seed: int = 0,
    output_dir: Path,
    progress: bool = True,
) -> FinetuneResult:
    """Fine-tune `bits` from the float `model`, measure it and export it.

    Args:
        model: The float baseline (left untouched).
        layers: Its quantizable layers, in network order.
        bits: A `LayerBits` for every layer of `layers`.
        hardware: Prices the layers.
        loaders: Training, calibration, validation and test batches.
        epochs: Passes over the training split (0: calibrate and measure only).
        lr: Peak learning rate (cosine decay to 0).
        momentum: SGD momentum.
        weight_decay: L2 decay of conv/linear weights.
        recalibrate_bn: Re-estimate BatchNorm statistics on the calibration images before
            measuring.
        device: Where to train.
        seed: Seed of calibration sampling, batch order and augmentations.
        output_dir: Folder for the three output files (created if needed).
        progress: Show a progress bar.

    Raises:
        ValueError: If `bits` does not name exactly the layers, or `epochs` is negative.
    """
    names = [layer.name for layer in layers]
    if set(bits) != set(names):
        raise ValueError(
            f"bits must name exactly the {len(names)} quantizable layers; missing: "
            f"{[n for n in names if n not in bits][:5]}, unknown: "
            f"{[n for n in bits if n not in names][:5]}"
        )
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    quantized = quantize_model(model, bits).to(device)
    with quantization_disabled(quantized):
        float_accuracy = measure_accuracy(quantized, loaders.validation, device=device)
    calibrate(quantized, loaders.calibration, device=device, seed=seed)
    if recalibrate_bn:
        recalibrate_batchnorm(quantized, loaders.calibration, device=device)
    before = measure_accuracy(quantized, loaders.validation, device=device)
    _train(quantized, loaders, epochs, lr, momentum, weight_decay, device, seed, progress)
    if recalibrate_bn and epochs > 0:
        recalibrate_batchnorm(quantized, loaders.calibration, device=device)
    validation = measure_accuracy(quantized, loaders.validation, device=device)
    test = measure_accuracy(quantized, loaders.test, device=device)
    latency = network_latency(
        hardware, layers, [(bits[name].w_bits, bits[name].a_bits) for name in names]
    )
    output_dir = Path(output_dir)
    result = FinetuneResult(
        bits=BitConfig({name: bits[name] for name in names}),
        epochs=epochs,
        float_validation_accuracy=float_accuracy,
        validation_accuracy_before=before,
        validation_accuracy=validation,
        test_accuracy=test,
        latency_cycles=latency.total_cycles,
        latency_ms=latency.latency_ms,
        size_bytes=bits.weight_size_bytes(layers),
        cycles_by_layer=MappingProxyType(latency.cycles_by_layer),
        allocation_path=output_dir / ALLOCATION_FILE,
        state_path=output_dir / STATE_FILE,
        integer_weights_path=output_dir / INTEGER_FILE,
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().cpu() for key, value in quantized.state_dict().items()}
    _write_atomically(result.state_path, lambda path: torch.save(state, path))
    integers = integer_weights(quantized)
    _write_atomically(result.integer_weights_path, lambda path: torch.save(integers, path))
    text = json.dumps(result.to_dict(), indent=2) + "\n"
    _write_atomically(result.allocation_path, lambda path: path.write_text(text))
    return result


def finetune_from_spec(
    spec: StudySpec,
    bits: BitConfig,
    hardware: HardwareModel,
    *,
    epochs: int,
    cache_dir: Path,
    output_dir: Path,
    device: torch.device,
    progress: bool = True,
    prepared: PreparedStudy | None = None,
) -> FinetuneResult:
    """`finetune` with the data, baseline and layers of a study (see `prepare_study`).

    The learning rate and momentum are the study's `evaluator.lr` and `evaluator.momentum`;
    BatchNorm re-estimation follows `evaluator.recalibrate_bn`.

    Args:
        spec: The study.
        bits: The allocation to fine-tune (a trial's bits).
        hardware: The study's hardware model.
        epochs: Fine-tuning epochs.
        cache_dir: The study's cache folder (data and baselines).
        output_dir: Folder for the exported files.
        device: Where to train.
        progress: Show progress bars.
        prepared: The study's data, baseline and layers if already loaded.
    """
    if prepared is None:
        prepared = prepare_study(spec, cache_dir=cache_dir, device=device, progress=progress)
    return finetune(
        prepared.baseline.model,
        prepared.layers,
        bits,
        hardware,
        loaders=prepared.loaders,
        epochs=epochs,
        lr=spec.evaluator.lr,
        momentum=spec.evaluator.momentum,
        recalibrate_bn=spec.evaluator.recalibrate_bn,
        device=device,
        seed=spec.seed,
        output_dir=output_dir,
        progress=progress,
    )


def integer_weights(model: nn.Module) -> dict[str, dict[str, Any]]:
    """Integer weight codes and scales of every quantized layer (see the module docstring).

    For each layer: `weight` (int8 codes, same shape as the weight), `weight_scale` (float32,
    one per output channel; weight = codes * scale), `bias` (float32 or None), `w_bits`,
    `a_bits`, `input_scale` (float) and `input_signed` (bool); all zero points are 0.
    """
    exported: dict[str, dict[str, Any]] = {}
    for name, layer in quantized_layers(model).items():
        weight_quantizer = layer.weight_quantizer
        weight_quantizer.ensure_step(layer.weight)
        layer.input_quantizer.ensure_step()
        q_min, q_max = weight_quantizer.q_range
        bias: torch.Tensor | None = getattr(layer, "bias", None)
        with torch.no_grad():
            step = weight_quantizer.step.clamp_min(MIN_STEP)
            # The same operations as the fake quantizer, so codes * scale reproduces it exactly.
            codes = torch.clamp(torch.round(layer.weight * (1.0 / step)), q_min, q_max)
        exported[name] = {
            "weight": codes.to(torch.int8).cpu(),
            "weight_scale": step.reshape(-1).float().cpu(),
            "bias": None if bias is None else bias.detach().float().cpu(),
            "w_bits": weight_quantizer.bits,
            "a_bits": layer.input_quantizer.bits,
            "input_scale": float(layer.input_quantizer.step.detach().clamp_min(MIN_STEP)),
            "input_signed": layer.input_quantizer.signed,
        }
    return exported


def restore_quantized(
    model: nn.Module, bits: BitConfig, state_path: Path, *, device: torch.device
) -> nn.Module:
    """Rebuild a fine-tuned model from the float architecture and `quantized_state_dict.pt`.

    Args:
        model: A float model of the same architecture (its weights are replaced).
        bits: The allocation (`load_allocation`).
        state_path: The exported state dict.
        device: Where the model goes.

    Returns:
        The quantized model in eval mode; no calibration needed.
    """
    quantized = quantize_model(model, bits).to(device)
    state = torch.load(state_path, map_location=device, weights_only=True)
    quantized.load_state_dict(state)
    set_bits(quantized, bits)
    return quantized.eval()


def load_allocation(path: Path) -> BitConfig:
    """The `BitConfig` stored in an `allocation.json`.

    Raises:
        ValueError: If the file holds no valid allocation.
    """
    try:
        table = json.loads(Path(path).read_text())
        return BitConfig(
            {
                entry["name"]: LayerBits(int(entry["w_bits"]), int(entry["a_bits"]))
                for entry in table["bits"]
            }
        )
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} holds no valid bit allocation: {error}") from error


def _train(
    model: nn.Module,
    loaders: Loaders,
    epochs: int,
    lr: float,
    momentum: float,
    weight_decay: float,
    device: torch.device,
    seed: int,
    progress: bool,
) -> None:
    total_steps = epochs * len(loaders.train)
    if total_steps == 0:
        return
    optimizer = sgd(model, lr=lr, momentum=momentum, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, total_steps, 0)
    )
    model.train()
    try:
        with (
            seeded(seed, device),
            tqdm(total=total_steps, desc="fine-tune", unit="batch", disable=not progress) as bar,
        ):
            for epoch in range(epochs):
                for images, labels in loaders.train:
                    loss = train_step(model, optimizer, images, labels, device=device)
                    schedule.step()
                    bar.update()
                    bar.set_postfix(
                        epoch=f"{epoch + 1}/{epochs}", loss=f"{loss:.3f}", refresh=False
                    )
    finally:
        model.eval()


def _bits_to_json(bits: BitConfig) -> list[dict[str, Any]]:
    return [
        {"name": name, "w_bits": layer_bits.w_bits, "a_bits": layer_bits.a_bits}
        for name, layer_bits in bits.items()
    ]


def _write_atomically(path: Path, write: Any) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m amed_opt.finetune --study r18 --trial N [--epochs E]`; returns the exit code."""
    import logging
    import sys

    import optuna

    from amed_opt import runner
    from amed_opt.cli import EXIT_USAGE
    from amed_opt.cli import OneLineParser
    from amed_opt.search_space import BitSearchSpace
    from amed_opt.spec import load_spec
    from amed_opt.spec import with_overrides

    parser = OneLineParser(
        prog="python -m amed_opt.finetune",
        description="Fine-tune the allocation of one trial, report it and export it.",
    )
    parser.add_argument("--study", required=True, help="study name or .toml path")
    parser.add_argument("--trial", required=True, type=int, help="trial number in the study")
    parser.add_argument("--epochs", type=int, default=1, help="fine-tuning epochs (default 1)")
    parser.add_argument("--sampler", help="the sampler the study was run with (default: spec)")
    parser.add_argument("--seed", type=int, help="the seed the study was run with")
    parser.add_argument("--storage", help="storage URL (default: the study's)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/amed-opt"))
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument("--out", type=Path, help="export folder (default results/finetune/...)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def fail(message: str) -> int:
        print(f"amed-opt finetune: error: {' '.join(message.split())}", file=sys.stderr)
        return EXIT_USAGE

    try:
        if args.epochs < 0:
            return fail(f"--epochs must be >= 0, got {args.epochs}")
        spec = with_overrides(
            load_spec(args.study), sampler=args.sampler, seed=args.seed, storage=args.storage
        )
        options = runner.RunOptions(
            device=args.device, cache_dir=args.cache_dir, results_dir=args.results_dir
        )
        url = runner.storage_url(spec, options)
        name = runner.study_name(spec)
        trial = runner.load_finished_trial(url, name, args.trial)
        device = torch.device(args.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            return fail("--device cuda was given but CUDA is not available; use --device cpu")
        prepared = prepare_study(spec, cache_dir=args.cache_dir, device=device)
        bits = BitSearchSpace(prepared.layers, spec.search).to_bits(trial.params)
        output_dir = args.out or args.results_dir / "finetune" / f"{name}-trial{args.trial}"
        result = finetune_from_spec(
            spec,
            bits,
            runner.build_hardware(spec),
            epochs=args.epochs,
            cache_dir=args.cache_dir,
            output_dir=output_dir,
            device=device,
            prepared=prepared,
        )
    except (ValueError, FileNotFoundError, KeyError, runner.StorageError) as error:
        return fail(str(error).strip("'\""))
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
    raise SystemExit(main())
