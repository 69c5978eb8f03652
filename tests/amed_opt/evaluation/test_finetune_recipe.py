"""The fine-tuning recipe: validation, schedule and the distillation loss."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from amed_opt.evaluation.finetune_recipe import FinetuneRecipe


@pytest.mark.parametrize(
    "field, value",
    [
        ("lr", 0.0),
        ("lr", float("nan")),
        ("momentum", 1.0),
        ("weight_decay", -1e-4),
        ("warmup_fraction", 1.0),
        ("distillation_weight", 1.5),
        ("temperature", 0.0),
    ],
)
def test_bad_settings_are_rejected(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        FinetuneRecipe(**{field: value})


def test_training_recipe_warms_up_over_a_share_of_all_steps() -> None:
    recipe = FinetuneRecipe(lr=0.02, warmup_fraction=0.05).training_recipe(2, 453)
    assert (recipe.epochs, recipe.lr, recipe.warmup_steps) == (2, 0.02, 46)
    assert FinetuneRecipe().training_recipe(0, 453).warmup_steps == 0


def test_distillation_loss_mixes_cross_entropy_and_the_teachers_soft_labels() -> None:
    torch.manual_seed(0)
    teacher = nn.Linear(4, 3)
    images, labels = torch.randn(8, 4), torch.randint(0, 3, (8,))
    assert FinetuneRecipe().loss(teacher) is None  # no distillation: the teacher is not run
    loss = FinetuneRecipe(distillation_weight=0.25, temperature=2.0).loss(teacher)
    assert loss is not None
    # A student that equals its teacher has no distillation term left.
    logits = teacher(images).detach()
    cross_entropy = nn.functional.cross_entropy(logits, labels)
    assert float(loss(images, logits, labels)) == pytest.approx(0.75 * float(cross_entropy))
    only_soft = FinetuneRecipe(distillation_weight=1.0).loss(teacher)
    assert only_soft is not None
    assert float(only_soft(images, logits + 1.0, labels)) == pytest.approx(0.0, abs=1e-6)
    assert float(only_soft(images, torch.zeros_like(logits), labels)) > 0
