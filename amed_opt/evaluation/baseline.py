"""The float baseline every quantized trial starts from.

`ModelSpec.weights` says where it comes from:

- `"train"`: trained here on first use (SGD with Nesterov momentum, linear warm-up then cosine
  decay, cross-entropy; the recipe is `BaselineSpec`) with a progress bar, then cached under
  `cache_dir`. The file name holds a hash of everything that changes the result (architecture,
  dataset, root, resolution, split seed and sizes, recipe), so a changed spec never loads a
  stale model. The file is written to a temporary name and renamed, so a killed run never leaves
  half a file, and it is read back with `torch.load(..., weights_only=True)`.
- a torchvision weights name (`"IMAGENET1K_V1"`, `"DEFAULT"`): loaded by `models.build_model`.
- anything else: the path of a local checkpoint (a state dict, or a file this module wrote);
  it must match the adapted architecture exactly.

`prepare_study` does the whole torch-side setup of a study (data, loaders, baseline, layers),
for the runner and the fine-tuner alike.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import torch
from torch import nn

from amed_opt.evaluation.data import DatasetInfo
from amed_opt.evaluation.data import DataSplits
from amed_opt.evaluation.data import Loaders
from amed_opt.evaluation.data import load_data
from amed_opt.evaluation.data import make_loaders
from amed_opt.evaluation.models import build_model
from amed_opt.evaluation.models import quantizable_layers
from amed_opt.evaluation.models import torchvision_weights
from amed_opt.evaluation.training import Recipe
from amed_opt.evaluation.training import measure_accuracy
from amed_opt.evaluation.training import train_epochs
from amed_opt.study.errors import RunFailure
from amed_opt.study.files import atomic_write


if TYPE_CHECKING:
    from amed_opt.study.spec import StudySpec
    from hardware import LayerShape

logger = logging.getLogger(__name__)

_FORMAT = 1
"""Version of the cached file's layout; part of the cache key."""


class BaselineSource(enum.Enum):
    """Where a baseline's weights came from."""

    TRAINED = "trained"
    CACHED = "cached"
    TORCHVISION = "torchvision"
    CHECKPOINT = "checkpoint"


@dataclass(frozen=True, slots=True)
class Baseline:
    """A float model ready to be quantized.

    Attributes:
        model: The float model, on the requested device, in eval mode.
        source: Where its weights came from.
        path: The cached or checkpoint file (None for torchvision weights).
        validation_accuracy: Top-1 fraction on the validation split, recorded when the tool
            trained the model (None otherwise).
    """

    model: nn.Module
    source: BaselineSource
    path: Path | None
    validation_accuracy: float | None


@dataclass(frozen=True, slots=True)
class PreparedStudy:
    """Everything torch-side a study needs besides the hardware model.

    Attributes:
        data: The dataset splits.
        loaders: Loaders over them.
        baseline: The float model.
        layers: Its quantizable layers in forward order, as the hardware sees them.
    """

    data: DataSplits
    loaders: Loaders
    baseline: Baseline
    layers: tuple[LayerShape, ...]


def prepare_study(
    spec: StudySpec, *, cache_dir: Path, device: torch.device, progress: bool = True
) -> PreparedStudy:
    """Load the data, the float baseline (training it on first use) and the layer shapes.

    Args:
        spec: The study.
        cache_dir: Cache folder; decompressed data go to `cache_dir/data`, baselines to
            `cache_dir/baselines`.
        device: Where the model lives.
        progress: Show a progress bar while training a baseline.

    Raises:
        ValueError, FileNotFoundError, RuntimeError: As `load_data` and `load_baseline`.
    """
    cache_dir = Path(cache_dir)
    data = load_data(spec.data, seed=spec.seed, cache_dir=cache_dir / "data")
    loaders = make_loaders(data, spec.data)
    baseline = load_baseline(
        spec, data, cache_dir=cache_dir / "baselines", device=device, progress=progress
    )
    layers = tuple(quantizable_layers(baseline.model, data.info.input_shape))
    return PreparedStudy(data=data, loaders=loaders, baseline=baseline, layers=layers)


def baseline_key(spec: StudySpec, data: DataSplits) -> dict[str, Any]:
    """Everything that determines a trained baseline (hashed into its cache file name)."""
    info = data.info
    return {
        "format": _FORMAT,
        "arch": spec.model.arch,
        "in_channels": info.in_channels,
        "num_classes": info.num_classes,
        "dataset": spec.data.dataset,
        "root": spec.data.root,
        "resolution": info.resolution,
        "validation_images": spec.data.validation_images,
        "seed": spec.seed,
        "batch_size": spec.data.batch_size,
        "epochs": spec.baseline.epochs,
        "lr": spec.baseline.lr,
        "momentum": spec.baseline.momentum,
        "weight_decay": spec.baseline.weight_decay,
    }


def baseline_path(spec: StudySpec, data: DataSplits, cache_dir: Path) -> Path:
    """The cache file of the baseline that `spec` trains on `data`."""
    key = json.dumps(baseline_key(spec, data), sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{spec.model.arch}-{spec.data.dataset}-{digest}.pt"


def build_study_model(spec: StudySpec, info: DatasetInfo) -> nn.Module:
    """The study's architecture adapted to the dataset, with seeded initial (or torchvision)
    weights; see `models.build_model`."""
    return build_model(
        spec.model,
        in_channels=info.in_channels,
        num_classes=info.num_classes,
        input_hw=(info.resolution, info.resolution),
        seed=spec.seed,
    )


def load_baseline(
    spec: StudySpec,
    data: DataSplits,
    *,
    cache_dir: Path,
    device: torch.device,
    progress: bool = True,
) -> Baseline:
    """The float model of `spec.model` for `data` (see the module docstring).

    Args:
        spec: The study (model, data, baseline recipe and seed are used).
        data: Its dataset splits.
        cache_dir: Folder of cached trained baselines (created if needed).
        device: Where the returned model lives (and where it is trained).
        progress: Show a progress bar while training.

    Raises:
        ValueError: If the architecture is unknown, or a checkpoint does not match it.
        FileNotFoundError: If `weights` is neither `"train"`, a torchvision weights name of the
            architecture, nor an existing file.
        RuntimeError: If torchvision weights cannot be loaded.
    """
    info = data.info
    weights = torchvision_weights(spec.model)
    model = build_study_model(spec, info)
    if weights is not None:
        return Baseline(model.to(device).eval(), BaselineSource.TORCHVISION, None, None)
    if spec.model.weights != "train":
        path = Path(spec.model.weights)
        _load_checkpoint(model, path, spec.model.arch, info.in_channels, info.num_classes)
        return Baseline(model.to(device).eval(), BaselineSource.CHECKPOINT, path, None)

    path = baseline_path(spec, data, cache_dir)
    key = baseline_key(spec, data)
    cached = _read_cache(path, key)
    if cached is not None:
        model.load_state_dict(cached["state_dict"])
        return Baseline(
            model.to(device).eval(),
            BaselineSource.CACHED,
            path,
            float(cached["validation_accuracy"]),
        )

    model.to(device)
    loaders = make_loaders(data, spec.data)
    started = time.perf_counter()
    train_float_model(
        model,
        loaders.train,
        epochs=spec.baseline.epochs,
        lr=spec.baseline.lr,
        momentum=spec.baseline.momentum,
        weight_decay=spec.baseline.weight_decay,
        device=device,
        seed=spec.seed,
        progress=progress,
        description=f"baseline {spec.model.arch}/{spec.data.dataset}",
    )
    seconds = time.perf_counter() - started
    accuracy = measure_accuracy(model, loaders.validation, device=device)
    if not math.isfinite(accuracy):  # never cache a broken baseline: it would be reused
        raise RunFailure(
            f"the {spec.model.arch} baseline's validation accuracy is {accuracy}; lower "
            "[baseline] lr and run again"
        )
    logger.info(
        "trained %s baseline in %.0f s: validation accuracy %.4f",
        spec.model.arch,
        seconds,
        accuracy,
    )
    state = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    _write_atomically(
        path,
        {
            "key": key,
            "state_dict": state,
            "validation_accuracy": accuracy,
            "train_seconds": seconds,
        },
    )
    return Baseline(model.eval(), BaselineSource.TRAINED, path, accuracy)


def train_float_model(
    model: nn.Module,
    loader: Any,
    *,
    epochs: int,
    lr: float,
    momentum: float,
    weight_decay: float,
    device: torch.device,
    seed: int,
    progress: bool = True,
    description: str = "training",
) -> None:
    """Train `model` in place (SGD, Nesterov, warm-up + cosine schedule, cross-entropy).

    Args:
        model: The model, already on `device`.
        loader: Training batches (re-iterated every epoch).
        epochs: Passes over `loader`; 0 leaves the model untouched.
        lr: Peak learning rate.
        momentum: SGD momentum.
        weight_decay: L2 decay of conv/linear weights.
        device: Where batches are sent.
        seed: Seed of the batch order and augmentations.
        progress: Show a tqdm progress bar.
        description: The progress bar's label.
    """
    total_steps = epochs * len(loader)
    # A short warm-up keeps the first large-lr steps of a from-scratch network from diverging.
    # Channels-last convolutions train about 1.3x faster on CPU (measured on ResNet-18, 28x28).
    recipe = Recipe(
        epochs=epochs,
        lr=lr,
        momentum=momentum,
        weight_decay=weight_decay,
        nesterov=True,
        warmup_steps=max(1, min(500, total_steps // 30)),
    )
    train_epochs(
        model,
        loader,
        recipe,
        device=device,
        seed=seed,
        progress=progress,
        description=description,
        channels_last=True,
    )


def _read_cache(path: Path, key: Mapping[str, Any]) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        cached = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # an unreadable cache entry is retrained, not fatal
        logger.warning("cached baseline %s is unreadable (%s); training again", path, error)
        return None
    if not isinstance(cached, dict) or cached.get("key") != dict(key):
        logger.warning("cached baseline %s does not match this study; training again", path)
        return None
    return cached


def _write_atomically(path: Path, payload: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda partial: torch.save(dict(payload), partial))


def _load_checkpoint(
    model: nn.Module, path: Path, arch: str, in_channels: int, num_classes: int
) -> None:
    if not path.is_file():
        names = ", ".join(_weight_names(arch))
        raise FileNotFoundError(
            f"model weights {str(path)!r}: not 'train', not a torchvision weights name of "
            f"{arch} ({names}), and no such checkpoint file"
        )
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(
            f"checkpoint {path} cannot be read as a state dict (weights_only=True): {error}"
        ) from error
    state = loaded.get("state_dict", loaded) if isinstance(loaded, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"checkpoint {path} does not hold a state dict of tensors")
    result = _compare_state(model, state)
    if result:
        raise ValueError(
            f"checkpoint {path} does not match {arch} with {in_channels} input channels and "
            f"{num_classes} classes: {result}"
        )
    model.load_state_dict(state)


def _compare_state(model: nn.Module, state: Mapping[str, torch.Tensor]) -> str:
    expected = model.state_dict()
    missing = [name for name in expected if name not in state]
    unexpected = [name for name in state if name not in expected]
    mismatched = [
        f"{name} {tuple(state[name].shape)} vs {tuple(tensor.shape)}"
        for name, tensor in expected.items()
        if name in state and state[name].shape != tensor.shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing keys ({', '.join(missing[:3])}, ...)")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected keys ({', '.join(unexpected[:3])}, ...)")
    if mismatched:
        problems.append(f"shape mismatches ({'; '.join(mismatched[:3])})")
    return "; ".join(problems)


def _weight_names(arch: str) -> list[str]:
    import torchvision

    return list(torchvision.models.get_model_weights(arch).__members__)
