"""Calibration of activation quantizers, and BatchNorm re-estimation under quantization.

`calibrate` runs the model in float over a few hundred training images and records a bounded
random sample of every quantized layer's input. The sample decides whether the input is signed
and gives every bitwidth's initial step (METHOD.md §7). Because the pass runs in float, the
sample depends only on the weights, not on the bit allocation, so one pass serves every trial.

`recalibrate_batchnorm` recomputes BatchNorm's running mean and variance with the quantized
network in the loop. Quantization shifts the statistics of every later layer; re-estimating them
takes one forward pass and recovers most of the accuracy lost at 2-3 bits.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from amed_opt.evaluation.quantization._apply import quantization_disabled
from amed_opt.evaluation.quantization._apply import quantized_layers


Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
"""Anything yielding `(images, labels)` batches: a `DataLoader` or a list of batches."""


def calibrate(
    model: nn.Module,
    batches: Batches,
    *,
    device: torch.device,
    seed: int = 0,
) -> None:
    """Record calibration samples of every quantized layer's input and reset its steps.

    Runs `model` in eval mode with quantization disabled. Afterwards each input quantizer knows
    its signedness, all its previous steps are forgotten, and the active ones are initialized.
    Weight steps are untouched.

    Args:
        model: A model returned by `quantize_model`, on `device`.
        batches: Calibration `(images, labels)` batches.
        device: Where the images are sent.
        seed: Seed of the random choice of recorded values.

    Raises:
        ValueError: If the model has no quantized layer or `batches` is empty.
    """
    layers = quantized_layers(model)
    if not layers:
        raise ValueError("the model has no quantized layer; call quantize_model first")
    generator = torch.Generator().manual_seed(seed)
    handles = []
    for layer in layers.values():
        layer.input_quantizer.start_observing()

        def hook(module: Any, inputs: tuple[torch.Tensor, ...]) -> None:
            module.input_quantizer.observe(inputs[0], generator)

        handles.append(layer.register_forward_pre_hook(hook))
    was_training = model.training
    model.eval()
    seen = 0
    try:
        with torch.no_grad(), quantization_disabled(model):
            for images, _labels in batches:
                model(images.to(device))
                seen += images.shape[0]
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    if seen == 0:
        raise ValueError("no calibration images: the calibration batches are empty")
    for layer in layers.values():
        layer.input_quantizer.finish_observing(generator)
        layer.set_bits(layer.bits)


def recalibrate_batchnorm(model: nn.Module, batches: Batches, *, device: torch.device) -> None:
    """Re-estimate every BatchNorm's running statistics by a forward pass over `batches`.

    The statistics become the plain average over the batches (PyTorch's `momentum=None`); only
    the BatchNorm layers run in training mode, so dropout stays off. Modes and momenta are
    restored afterwards. A model without BatchNorm is left as it is.

    Args:
        model: Any model, on `device`.
        batches: `(images, labels)` batches, typically the calibration images.
        device: Where the images are sent.

    Raises:
        ValueError: If `batches` is empty (the statistics are then left as they were).
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    modes = {module: module.training for module in model.modules()}
    momenta = [norm.momentum for norm in norms]
    saved = [{k: v.clone() for k, v in norm.state_dict().items()} for norm in norms]
    model.eval()
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
        norm.train()
    seen = 0
    try:
        with torch.no_grad():
            for images, _labels in batches:
                model(images.to(device))
                seen += images.shape[0]
    except BaseException:
        _restore(norms, saved)
        raise
    finally:
        for norm, momentum in zip(norms, momenta, strict=True):
            norm.momentum = momentum
        for module, training in modes.items():
            module.training = training
    if seen == 0:
        _restore(norms, saved)
        raise ValueError("no images to re-estimate BatchNorm statistics: the batches are empty")


def _restore(norms: Sequence[nn.Module], saved: Sequence[dict[str, torch.Tensor]]) -> None:
    for norm, state in zip(norms, saved, strict=True):
        norm.load_state_dict(state)
