"""Training and measuring loops shared by the baseline, the evaluator and the fine-tuner.

Randomness: training batches come from a shuffled `DataLoader` whose order and augmentations
use torch's global RNG. Every loop here that draws from it runs inside `seeded(...)`, which
forks the RNG and seeds the fork, so results are reproducible and the caller's RNG state is
left as it was.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sized
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from amed_opt.study.errors import RunFailure


Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
LossFunction = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
"""`(images, logits, labels) -> scalar loss`, images and labels on the model's device."""


@contextlib.contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Run the block with torch's global RNG (and `device`'s, on CUDA) forked and seeded."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def measure_accuracy(model: nn.Module, batches: Batches, *, device: torch.device) -> float:
    """Top-1 accuracy (a fraction) of `model` in eval mode over `batches`.

    Raises:
        ValueError: If `batches` is empty.
    """
    correct = classify_correct(model, batches, device=device)
    return int(correct.sum()) / int(correct.numel())


def classify_correct(model: nn.Module, batches: Batches, *, device: torch.device) -> torch.Tensor:
    """Whether `model` (in eval mode) classifies each image of `batches` correctly (top-1): a
    boolean CPU tensor, one entry per image, in the order of `batches`.

    Raises:
        ValueError: If `batches` is empty.
    """
    was_training = model.training
    model.eval()
    hits: list[torch.Tensor] = []
    try:
        with torch.no_grad():
            for images, labels in batches:
                logits = model(images.to(device, non_blocking=True))
                hits.append(logits.argmax(dim=1) == labels.to(device))
    finally:
        model.train(was_training)
    if not hits or sum(int(h.numel()) for h in hits) == 0:
        raise ValueError("no images to measure accuracy on")
    return torch.cat(hits).cpu()


def sgd(
    model: nn.Module, *, lr: float, momentum: float, weight_decay: float, nesterov: bool = False
) -> torch.optim.SGD:
    """SGD over `model`'s trainable parameters; decay only on conv/linear weights.

    Biases, BatchNorm parameters and quantizer steps are one-dimensional-ish scale and shift
    terms that weight decay would only pull towards zero, so they get none.
    """
    decayed: list[nn.Parameter] = []
    plain: list[nn.Parameter] = []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        is_step = ".steps." in name or name.startswith("steps.")
        (plain if is_step or parameter.dim() <= 1 else decayed).append(parameter)
    groups: list[dict[str, Any]] = [
        {"params": decayed, "weight_decay": weight_decay},
        {"params": plain, "weight_decay": 0.0},
    ]
    return torch.optim.SGD(
        [group for group in groups if group["params"]],
        lr=lr,
        momentum=momentum,
        nesterov=nesterov and momentum > 0,
    )


def warmup_cosine(step: int, total_steps: int, warmup_steps: int) -> float:
    """Learning-rate factor: linear warm-up to 1, then cosine decay to 0 at `total_steps`."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


class BatchStream:
    """Endless training batches: iterates the loader again whenever an epoch ends.

    Args:
        loader: Training batches.

    Raises:
        ValueError: From `next_batch`, if the loader yields nothing.
    """

    def __init__(self, loader: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> None:
        self._loader = loader
        self._iterator: Iterator[tuple[torch.Tensor, torch.Tensor]] | None = None

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next `(images, labels)` batch."""
        for _attempt in range(2):
            if self._iterator is None:
                self._iterator = iter(self._loader)
            try:
                return next(self._iterator)
            except StopIteration:
                self._iterator = None
        raise ValueError("the training loader yields no batches (is the training set empty?)")


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    device: torch.device,
    loss_function: LossFunction | None = None,
) -> float:
    """One SGD step on a batch; returns the loss (`loss_function`, default cross-entropy)."""
    images = images.to(device, non_blocking=True)
    labels = labels.to(device, non_blocking=True)
    logits = model(images)
    if loss_function is None:
        loss = nn.functional.cross_entropy(logits, labels)
    else:
        loss = loss_function(images, logits, labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


@dataclass(frozen=True, slots=True)
class Recipe:
    """How `train_epochs` trains: SGD with a linear warm-up, then cosine decay to 0.

    Attributes:
        epochs: Passes over the training batches (0: no training).
        lr: Peak learning rate.
        momentum: SGD momentum.
        weight_decay: L2 decay of conv/linear weights (see `sgd`).
        nesterov: Nesterov momentum.
        warmup_steps: Steps of the linear warm-up (0: start at the peak).
    """

    epochs: int
    lr: float
    momentum: float
    weight_decay: float = 0.0
    nesterov: bool = False
    warmup_steps: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "warmup_steps"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        for name in ("momentum", "weight_decay"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def train_epochs(
    model: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    recipe: Recipe,
    *,
    device: torch.device,
    seed: int,
    progress: bool = True,
    description: str = "training",
    channels_last: bool = False,
    loss_function: LossFunction | None = None,
) -> None:
    """Train `model` in place for `recipe.epochs` passes over `loader`; the one training loop
    of the float baseline and of fine-tuning. Leaves the model in eval mode.

    Raises:
        RunFailure: If the loss becomes NaN or infinite (the model is then unusable).

    Args:
        model: The model, already on `device`.
        loader: Training batches (re-iterated every epoch; must have a length).
        recipe: Optimiser and schedule.
        device: Where batches are sent.
        seed: Seed of the batch order and augmentations.
        progress: Show a tqdm progress bar.
        description: The progress bar's label.
        channels_last: Train in the channels-last memory format (faster convolutions on a
            CPU), back to contiguous afterwards.
        loss_function: The loss (default cross-entropy; fine-tuning may distil).
    """
    if not isinstance(loader, Sized):
        raise TypeError("loader must have a length (a DataLoader)")
    total_steps = recipe.epochs * len(loader)
    if total_steps == 0:
        return
    optimizer = sgd(
        model,
        lr=recipe.lr,
        momentum=recipe.momentum,
        weight_decay=recipe.weight_decay,
        nesterov=recipe.nesterov,
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, total_steps, recipe.warmup_steps)
    )
    if channels_last:
        model.to(memory_format=torch.channels_last)
    model.train()
    try:
        with (
            seeded(seed, device),
            tqdm(total=total_steps, desc=description, unit="batch", disable=not progress) as bar,
        ):
            for epoch in range(recipe.epochs):
                for images, labels in loader:
                    if channels_last:
                        images = images.to(memory_format=torch.channels_last)
                    loss = train_step(
                        model,
                        optimizer,
                        images,
                        labels,
                        device=device,
                        loss_function=loss_function,
                    )
                    if not math.isfinite(loss):
                        # Diverged: every later step is NaN too, and the caller must not keep
                        # (or cache) these weights.
                        raise RunFailure(
                            f"{description}: the training loss became {loss} in epoch "
                            f"{epoch + 1}; lower the learning rate and run again"
                        )
                    schedule.step()
                    bar.update()
                    bar.set_postfix(
                        epoch=f"{epoch + 1}/{recipe.epochs}", loss=f"{loss:.3f}", refresh=False
                    )
    finally:
        if channels_last:
            model.to(memory_format=torch.contiguous_format)
        model.eval()
