"""The training recipe of `amed_opt.finetune`: whole epochs of quantization-aware training.

The search's QAT settings (`[evaluator] lr = 0.001`) are made for a few shared-mode steps that
must not disturb the baseline; after the search, a chosen allocation is trained for whole
epochs, which needs a learning rate ten times larger, a short warm-up (the first steps after
quantization see large gradients from the newly clipped weights) and a cosine decay to zero.
Distillation from the float model (the teacher) is optional: the loss is then
`(1 - w) * CE(student, labels) + w * T^2 * KL(softmax(teacher / T) || softmax(student / T))`.
The defaults are the measured winner; docs/finetune.md has the measurements and commands.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from amed_opt.evaluation.training import LossFunction
from amed_opt.evaluation.training import Recipe


@dataclass(frozen=True, slots=True)
class FinetuneRecipe:
    """How `finetune` trains an allocation (see the module docstring).

    Attributes:
        lr: Peak SGD learning rate (> 0), reached after the warm-up, then cosine decay to 0.
        momentum: SGD momentum, in [0, 1).
        nesterov: Nesterov momentum.
        weight_decay: L2 decay of conv/linear weights (>= 0).
        warmup_fraction: Share of all training steps spent in the linear warm-up, in [0, 1).
        distillation_weight: Weight `w` of the distillation term, in [0, 1] (0: plain
            cross-entropy, no teacher forward pass; 1: distillation only).
        temperature: Softmax temperature `T` of the distillation term (> 0).
    """

    lr: float = 0.01
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 0.0
    warmup_fraction: float = 0.05
    distillation_weight: float = 0.0
    temperature: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if not 0 <= self.warmup_fraction < 1:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction!r}")
        if not 0 <= self.distillation_weight <= 1:
            raise ValueError(
                f"distillation_weight must be in [0, 1], got {self.distillation_weight!r}"
            )
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError(f"temperature must be a finite number > 0, got {self.temperature!r}")

    def training_recipe(self, epochs: int, steps_per_epoch: int) -> Recipe:
        """The `train_epochs` recipe for `epochs` passes of `steps_per_epoch` batches."""
        total = epochs * steps_per_epoch
        warmup = math.ceil(self.warmup_fraction * total) if total else 0
        return Recipe(
            epochs=epochs,
            lr=self.lr,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            nesterov=self.nesterov,
            warmup_steps=warmup,
        )

    def loss(self, teacher: nn.Module) -> LossFunction | None:
        """The training loss with `teacher` (eval mode, not trained), or None for plain
        cross-entropy (no distillation: the teacher is not run)."""
        if self.distillation_weight == 0:
            return None
        weight, temperature = self.distillation_weight, self.temperature

        def distillation_loss(
            images: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor
        ) -> torch.Tensor:
            with torch.no_grad():
                teacher_logits = teacher(images)
            # T^2 keeps the gradient's size independent of T (Hinton et al., 2015).
            soft = nn.functional.kl_div(
                nn.functional.log_softmax(logits / temperature, dim=1),
                nn.functional.log_softmax(teacher_logits / temperature, dim=1),
                log_target=True,
                reduction="batchmean",
            ) * (temperature**2)
            if weight == 1:
                return soft
            hard = nn.functional.cross_entropy(logits, labels)
            return (1 - weight) * hard + weight * soft

        return distillation_loss

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict (stored in `allocation.json`)."""
        return asdict(self)
