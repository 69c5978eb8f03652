"""The trial evaluator: accuracy of a bit allocation, and its latency and size on the hardware.

`Evaluator.evaluate(bits)` answers the one question every trial asks (METHOD.md §3): top-1
accuracy on the validation split of the network quantized with `bits` (with which validation
images it got right, in the split's fixed order, for paired tests between allocations), latency
in cycles and milliseconds from the hardware model, weight storage in bytes, and cycles per
layer.

The network is quantized once, at construction (`quantize_model` on a copy of the float model,
then `calibrate` on the calibration images); a trial then only switches the layers' bitwidths.
Each quantizer keeps one step per bitwidth (see `amed_opt.evaluation.quantization._quantizer`),
initialized the first time that bitwidth is used. The two modes of METHOD.md §6:

- `fresh`: every trial starts from the float weights and the initial steps (restored from a
  snapshot), trains `steps_per_trial` QAT steps with a new optimizer on the same seeded batches,
  re-estimates BatchNorm statistics (`recalibrate_bn`) and measures. A trial's result depends
  only on its bits, so trials are independent and reproducible. Initial steps computed for a
  (layer, bitwidth) are added to the snapshot, so each is computed once per study.
- `shared`: one network keeps training across trials, as in the paper. A trial sets the bits,
  trains `steps_per_trial` steps with the evaluator's persistent SGD optimizer, re-estimates
  BatchNorm and measures. A step comes back with its learned value (and momentum) when the chain
  returns to a bitwidth; a bitwidth a layer has never used starts from the MSE-optimal step for
  the current weights (weights) or the calibration sample (activations). Results depend on the
  trial history by design; given the seed and the same sequence of allocations, they are
  reproducible. The state lives in this object: a restarted worker starts again from float.

Validation and calibration batches are kept on the device when they fit in `max_cached_bytes`,
so a trial does not pay for data loading.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn

from amed_opt.evaluation.quantization import calibrate
from amed_opt.evaluation.quantization import quantization_disabled
from amed_opt.evaluation.quantization import quantize_model
from amed_opt.evaluation.quantization import quantized_layers
from amed_opt.evaluation.quantization import recalibrate_batchnorm
from amed_opt.evaluation.quantization import set_bits
from amed_opt.evaluation.training import BatchStream
from amed_opt.evaluation.training import classify_correct
from amed_opt.evaluation.training import measure_accuracy
from amed_opt.evaluation.training import seeded
from amed_opt.evaluation.training import sgd
from amed_opt.evaluation.training import train_step
from amed_opt.study.bits import MIN_BITS
from amed_opt.study.bits import BitConfig
from amed_opt.study.bits import LayerBits
from amed_opt.study.metrics import Pricing
from amed_opt.study.metrics import TrialMetrics
from amed_opt.study.metrics import price_allocation
from amed_opt.study.paired import ImageOutcomes
from amed_opt.study.spec import EvaluatorMode
from amed_opt.study.spec import EvaluatorSpec


if TYPE_CHECKING:
    from amed_opt.evaluation.data import Loaders
    from hardware import HardwareModel
    from hardware import LayerShape

_Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


class Evaluator:
    """Measures bit allocations of one network (see the module docstring).

    Args:
        model: The float model (left untouched; the evaluator quantizes a copy).
        layers: Its quantizable layers in forward order (`models.quantizable_layers`).
        hardware: Prices the layers.
        loaders: Training (for QAT steps), validation and calibration batches.
        spec: Mode, QAT steps per trial, learning rate, momentum and BatchNorm re-estimation.
        device: Where the network runs (CPU or CUDA).
        seed: Seed of calibration sampling, QAT batch order and augmentations.
        max_cached_bytes: Validation and calibration images are kept on `device` when each set
            is smaller than this.
        channels_last: Run convolutions in the channels-last memory format (about twice as fast
            for ResNet-18 on a CPU; the results are the same up to summation order).

    Raises:
        KeyError, TypeError: If a layer name is not a Conv2d/Linear module of `model`.
        ValueError: If `layers` is empty or the calibration loader is empty.
    """

    def __init__(
        self,
        model: nn.Module,
        layers: Sequence[LayerShape],
        hardware: HardwareModel,
        *,
        loaders: Loaders,
        spec: EvaluatorSpec,
        device: torch.device,
        seed: int = 0,
        max_cached_bytes: int = 256 << 20,
        channels_last: bool = True,
    ) -> None:
        if not layers:
            raise ValueError("no quantizable layers to evaluate")
        self._layers = tuple(layers)
        self._names = tuple(layer.name for layer in layers)
        self._hardware = hardware
        self._spec = spec
        self._device = torch.device(device)
        self._seed = seed
        self._train_loader = loaders.train
        self._memory_format = torch.channels_last if channels_last else torch.preserve_format
        self._validation = _materialize(
            loaders.validation, self._device, max_cached_bytes, self._memory_format
        )
        self._calibration = _materialize(
            loaders.calibration, self._device, max_cached_bytes, self._memory_format
        )
        self._model = quantize_model(model, BitConfig.uniform(self._names, 8))
        self._model.to(self._device)
        if channels_last:
            self._model.to(memory_format=torch.channels_last)
        self._model.eval()
        calibrate(self._model, self._calibration, device=self._device, seed=seed)
        with quantization_disabled(self._model):
            self._float_accuracy = measure_accuracy(
                self._model, self._validation, device=self._device
            )
        fresh = spec.mode is EvaluatorMode.FRESH
        self._initial_state = _clone_state(self._model) if fresh else {}
        self._norm_keys = _batchnorm_keys(self._model)
        self._weights_changed = False
        self._optimizer: torch.optim.Optimizer | None = None
        self._stream: BatchStream | None = None
        self._trials = 0

    @property
    def layers(self) -> tuple[LayerShape, ...]:
        """The quantizable layers, in network order."""
        return self._layers

    @property
    def spec(self) -> EvaluatorSpec:
        """The evaluator settings."""
        return self._spec

    @property
    def float_accuracy(self) -> float:
        """Validation accuracy of the float model (measured once, at construction)."""
        return self._float_accuracy

    @property
    def quantized_model(self) -> nn.Module:
        """The quantized network as the last trial left it (for inspection and export)."""
        return self._model

    def price(self, bits: BitConfig) -> Pricing:
        """Latency and size of `bits` on the hardware model, without running the network."""
        self._check(bits)
        return price_allocation(self._hardware, self._layers, bits)

    def evaluate(self, bits: BitConfig) -> TrialMetrics:
        """Quantize with `bits`, train per the mode, and measure (see the module docstring).

        Args:
            bits: One `LayerBits` for every layer in `layers` (first and last included).

        Raises:
            ValueError: If `bits` does not name exactly the evaluator's layers.
        """
        started = time.perf_counter()
        pricing = self.price(bits)
        fresh = self._spec.mode is EvaluatorMode.FRESH
        if fresh:
            self._restore_initial_state()
        set_bits(self._model, bits)
        if fresh:
            self._remember_new_steps()
        steps = self._spec.steps_per_trial
        if steps > 0:
            self._train(steps, fresh=fresh)
        if self._spec.recalibrate_bn:
            recalibrate_batchnorm(self._model, self._calibration, device=self._device)
        correct = classify_correct(self._model, self._validation, device=self._device)
        outcomes = ImageOutcomes.of(correct.numpy())
        self._trials += 1
        return TrialMetrics.from_pricing(
            outcomes.correct / outcomes.count,
            pricing,
            train_steps=steps,
            seconds=time.perf_counter() - started,
            val_correct=outcomes,
        )

    def _check(self, bits: BitConfig) -> None:
        if not isinstance(bits, Mapping) or not all(
            isinstance(value, LayerBits) for value in bits.values()
        ):
            raise TypeError("bits must be a BitConfig (layer name -> LayerBits)")
        if set(bits) != set(self._names):
            missing = [name for name in self._names if name not in bits]
            extra = [name for name in bits if name not in self._names]
            raise ValueError(
                f"bits must name exactly the {len(self._names)} quantizable layers; "
                f"missing: {missing[:5] or 'none'}, unknown: {extra[:5] or 'none'}"
            )

    def _train(self, steps: int, *, fresh: bool) -> None:
        if fresh or self._optimizer is None or self._stream is None:
            self._optimizer = sgd(
                self._model, lr=self._spec.lr, momentum=self._spec.momentum, weight_decay=0.0
            )
            self._stream = BatchStream(self._train_loader)
        # Fresh trials all see the same batches; shared trials continue the stream, seeded by
        # their position in the history.
        seed = self._seed if fresh else self._seed * 1_000_003 + self._trials
        self._model.train()
        try:
            with seeded(seed, self._device):
                for _ in range(steps):
                    images, labels = self._stream.next_batch()
                    train_step(self._model, self._optimizer, images, labels, device=self._device)
        finally:
            self._model.eval()
        self._weights_changed = True
        if fresh:
            self._optimizer = None
            self._stream = None

    def _restore_initial_state(self) -> None:
        if self._weights_changed:
            self._model.load_state_dict(self._initial_state)
            self._weights_changed = False
        else:
            # Only BatchNorm statistics changed (re-estimation); keep the cached weights valid.
            norms = {key: self._initial_state[key] for key in self._norm_keys}
            self._model.load_state_dict(norms, strict=False)

    def _remember_new_steps(self) -> None:
        for name, layer in quantized_layers(self._model).items():
            for role in ("weight_quantizer", "input_quantizer"):
                quantizer = getattr(layer, role)
                flags_key = f"{name}.{role}.initialized"
                index = quantizer.bits - MIN_BITS
                if bool(self._initial_state[flags_key][index]) or not quantizer.has_step():
                    continue
                step_key = f"{name}.{role}.steps.{index}"
                self._initial_state[step_key] = quantizer.step.detach().clone()
                self._initial_state[flags_key] = quantizer.initialized.clone()


def _materialize(
    loader: _Batches, device: torch.device, max_bytes: int, memory_format: torch.memory_format
) -> _Batches:
    """The loader's batches as a list on `device` if they fit in `max_bytes`, else the loader."""
    dataset = getattr(loader, "dataset", None)
    iterator = iter(loader)
    first = next(iterator, None)
    if first is None:
        return []
    images, labels = first
    per_image = images[0].numel() * images.element_size()
    count = len(dataset) if dataset is not None else images.shape[0]
    if per_image * count > max_bytes:
        return loader

    def place(images: torch.Tensor) -> torch.Tensor:
        if images.dim() == 4:
            return images.to(device, memory_format=memory_format)
        return images.to(device)

    batches = [(place(images), labels.to(device))]
    batches.extend((place(x), y.to(device)) for x, y in iterator)
    return batches


def _clone_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def _batchnorm_keys(model: nn.Module) -> list[str]:
    keys: list[str] = []
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            prefix = f"{name}." if name else ""
            keys.extend(prefix + key for key in module.state_dict())
    return keys
