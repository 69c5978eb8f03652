"""Fine-tune a chosen bit allocation and save it (METHOD.md §9); `python -m amed_opt.finetune`
is its command line.

After the search, one allocation (the best score, or any Pareto trial) is trained with LSQ for a
few epochs, from the float baseline: quantize, calibrate, re-estimate BatchNorm, then
quantization-aware SGD over `epochs` passes of the training split with the fine-tuning recipe
(`FinetuneRecipe`: warm-up, cosine decay, optional distillation from the float model). The
result reports validation and test accuracy (the test split is used here and nowhere in the
search), latency, size and per-layer cycles, and writes three files into `output_dir`:

- `allocation.json`: the bits of every layer in network order, plus the reported numbers and
  the recipe; `load_allocation` reads it back into a `BitConfig`.
- `quantized_state_dict.pt`: the state dict of the fake-quantized model (weights, BatchNorm,
  every learned step); `restore_quantized` rebuilds the model from it.
- `integer_weights.pt`: per layer, the integer weight codes (int8, per output channel scale,
  zero point 0), the bias in float, the input's step and signedness, and the bitwidths — what
  an integer inference engine needs.

Each file is written under a temporary name and renamed, so a killed run leaves no partial
file. `finetune_from_spec` builds everything from a `StudySpec`, so the command line only has to
load the spec, read the trial's allocation and call it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import torch
from torch import nn

from amed_opt.evaluation.baseline import prepare_study
from amed_opt.evaluation.finetune_recipe import FinetuneRecipe
from amed_opt.evaluation.quantization import MIN_STEP
from amed_opt.evaluation.quantization import calibrate
from amed_opt.evaluation.quantization import quantization_disabled
from amed_opt.evaluation.quantization import quantize_model
from amed_opt.evaluation.quantization import quantized_layers
from amed_opt.evaluation.quantization import recalibrate_batchnorm
from amed_opt.evaluation.quantization import set_bits
from amed_opt.evaluation.training import measure_accuracy
from amed_opt.evaluation.training import train_epochs
from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.files import atomic_write
from amed_opt.study.files import write_json
from amed_opt.study.metrics import price_allocation


if TYPE_CHECKING:
    from collections.abc import Sequence

    from amed_opt.evaluation.baseline import PreparedStudy
    from amed_opt.evaluation.data import Loaders
    from amed_opt.study.spec import StudySpec
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
        recipe: How it was trained.
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
    recipe: FinetuneRecipe
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
            "recipe": self.recipe.to_dict(),
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
    recipe: FinetuneRecipe,
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
        recipe: Optimiser, schedule and loss.
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
    train_epochs(
        quantized,
        loaders.train,
        recipe.training_recipe(epochs, len(loaders.train)),
        device=device,
        seed=seed,
        progress=progress,
        description="fine-tune",
        # The float model is the teacher: `quantize_model` copied it, so it is untouched.
        loss_function=recipe.loss(model.to(device).eval()),
    )
    if recalibrate_bn and epochs > 0:
        recalibrate_batchnorm(quantized, loaders.calibration, device=device)
    validation = measure_accuracy(quantized, loaders.validation, device=device)
    test = measure_accuracy(quantized, loaders.test, device=device)
    pricing = price_allocation(hardware, layers, bits)
    output_dir = Path(output_dir)
    result = FinetuneResult(
        bits=BitConfig({name: bits[name] for name in names}),
        epochs=epochs,
        recipe=recipe,
        float_validation_accuracy=float_accuracy,
        validation_accuracy_before=before,
        validation_accuracy=validation,
        test_accuracy=test,
        latency_cycles=pricing.latency_cycles,
        latency_ms=pricing.latency_ms,
        size_bytes=pricing.size_bytes,
        cycles_by_layer=pricing.cycles_by_layer,
        allocation_path=output_dir / ALLOCATION_FILE,
        state_path=output_dir / STATE_FILE,
        integer_weights_path=output_dir / INTEGER_FILE,
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().cpu() for key, value in quantized.state_dict().items()}
    atomic_write(result.state_path, lambda path: torch.save(state, path))
    integers = integer_weights(quantized)
    atomic_write(result.integer_weights_path, lambda path: torch.save(integers, path))
    write_json(result.allocation_path, result.to_dict())
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
    recipe: FinetuneRecipe | None = None,
    progress: bool = True,
    prepared: PreparedStudy | None = None,
) -> FinetuneResult:
    """`finetune` with the data, baseline and layers of a study (see `prepare_study`).

    The recipe is the fine-tuning one (`FinetuneRecipe()` by default), not the search's QAT
    settings; BatchNorm re-estimation follows `evaluator.recalibrate_bn`.

    Args:
        spec: The study.
        bits: The allocation to fine-tune (a trial's bits).
        hardware: The study's hardware model.
        epochs: Fine-tuning epochs.
        recipe: How to train (default `FinetuneRecipe()`, the measured winner).
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
        recipe=recipe or FinetuneRecipe(),
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


def _bits_to_json(bits: BitConfig) -> list[dict[str, Any]]:
    return [
        {"name": name, "w_bits": layer_bits.w_bits, "a_bits": layer_bits.a_bits}
        for name, layer_bits in bits.items()
    ]
