"""Datasets by name, split into training, validation, calibration and test sets, and loaders.

Datasets (`DataSpec.dataset`):

- `fashion-mnist` (default): the four `*-idx*-ubyte.gz` files of Debian's
  `dataset-fashion-mnist` package (`/usr/share/datasets/fashion-mnist`), or of `DataSpec.root`.
  They are decompressed once into `cache_dir` (torchvision's `FashionMNIST/raw/` layout, each file
  written atomically) and read with `torchvision.datasets.FashionMNIST(download=False)`. A
  `root` that already holds `FashionMNIST/raw/` with the uncompressed files is read in place.
- `cifar10` / `cifar100`: torchvision's folder layout under `root` (`cifar-10-batches-py/` or
  `cifar-100-python/`), read directly from the pickled batches (torchvision's reader insists on
  the official checksums).
- `imagenet`: an ImageFolder tree under `root` with `train/` and `val/` (one folder per class).
- `synthetic`: seeded random class templates plus noise; learnable, for tests and smoke runs.

Nothing is ever downloaded. The training set is split with the seed: `validation_images` held out
for scoring trials (METHOD.md §3), the rest for training (the float baseline and quantization-
aware steps), of which the first `calibration_images` (in seeded random order) calibrate the
quantizers. The test split is only for final reports.

Images are normalised with the dataset's channel mean and standard deviation. Training images of
CIFAR and ImageNet are augmented (random crop and flip); Fashion-MNIST's are not, because the
short baselines trained here (1-3 epochs) learn faster without augmentation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import torch
from torch.utils.data import DataLoader
from torch.utils.data import Dataset
from torchvision.transforms import v2

from amed_opt.evaluation.datasets import LOADERS


if TYPE_CHECKING:
    from amed_opt.study.spec import DataSpec


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """What a model needs to know about a dataset.

    Attributes:
        name: Dataset name (`DataSpec.dataset`).
        in_channels: Channels per image.
        num_classes: Number of classes.
        resolution: Side of the (square) images given to the model, in pixels.
        mean: Per-channel mean used for normalisation (pixel values in [0, 1]).
        std: Per-channel standard deviation used for normalisation.
    """

    name: str
    in_channels: int
    num_classes: int
    resolution: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """`(channels, height, width)` of one model input."""
        return self.in_channels, self.resolution, self.resolution


@dataclass(frozen=True, slots=True)
class DataSplits:
    """The four disjoint-purpose subsets of a dataset.

    Attributes:
        info: Channels, classes, resolution and normalisation.
        train: Training images minus the validation ones, with training augmentation.
        validation: Held-out training images that score trials (no augmentation).
        calibration: The first `calibration_images` of the seeded training order (no
            augmentation), to calibrate quantizers and re-estimate BatchNorm statistics.
        test: The official test split, for final reports only.
    """

    info: DatasetInfo
    train: Dataset[tuple[torch.Tensor, int]]
    validation: Dataset[tuple[torch.Tensor, int]]
    calibration: Dataset[tuple[torch.Tensor, int]]
    test: Dataset[tuple[torch.Tensor, int]]


@dataclass(frozen=True, slots=True)
class Loaders:
    """Data loaders over `DataSplits`.

    Attributes:
        train: Shuffled training batches of `batch_size`, incomplete last batch dropped. Its
            order and augmentations come from torch's global RNG, so consumers run it inside
            `torch.random.fork_rng()` with their own seed.
        validation: Validation batches of `eval_batch_size`, in a fixed order.
        calibration: Calibration batches of `batch_size` (the batch size BatchNorm was trained
            with), in a fixed order.
        test: Test batches of `eval_batch_size`, in a fixed order.
    """

    train: DataLoader[tuple[torch.Tensor, int]]
    validation: DataLoader[tuple[torch.Tensor, int]]
    calibration: DataLoader[tuple[torch.Tensor, int]]
    test: DataLoader[tuple[torch.Tensor, int]]


def available_datasets() -> list[str]:
    """Names accepted as `DataSpec.dataset`."""
    return sorted(LOADERS)


def load_data(spec: DataSpec, *, seed: int, cache_dir: Path) -> DataSplits:
    """Load a dataset and split it (see the module docstring).

    Args:
        spec: Dataset name, root, resolution and split sizes.
        seed: Seed of the validation/training split and of the calibration choice.
        cache_dir: Folder for decompressed files (created if needed).

    Returns:
        The splits; images are normalised float tensors `(C, H, W)`, labels ints.

    Raises:
        ValueError: If the dataset is unknown (the message lists the known ones), or the
            training set is too small for the requested validation and calibration images.
        FileNotFoundError: If the dataset's files are missing (the message says what to do).
    """
    if spec.dataset not in LOADERS:
        raise ValueError(
            f"unknown dataset {spec.dataset!r}; known datasets: {', '.join(available_datasets())}"
        )
    source = LOADERS[spec.dataset](spec, Path(cache_dir))
    resolution = spec.resolution or source.native_resolution
    info = DatasetInfo(
        name=spec.dataset,
        in_channels=source.in_channels,
        num_classes=source.num_classes,
        resolution=resolution,
        mean=source.mean,
        std=source.std,
    )
    n_train = len(source.train)
    if spec.validation_images >= n_train:
        raise ValueError(
            f"validation_images ({spec.validation_images}) must be smaller than the "
            f"{n_train} training images of {spec.dataset}"
        )
    order = torch.randperm(n_train, generator=torch.Generator().manual_seed(seed))
    validation_index = order[: spec.validation_images]
    train_index = order[spec.validation_images :]
    if spec.calibration_images > len(train_index):
        raise ValueError(
            f"calibration_images ({spec.calibration_images}) exceeds the "
            f"{len(train_index)} training images left after validation"
        )
    calibration_index = train_index[: spec.calibration_images]
    if source.variable_size:
        # Images of any size: the usual crop pipelines (resize to 8/7 and centre-crop to evaluate).
        evaluation = _transform(
            info,
            [v2.Resize(round(resolution * 256 / 224), antialias=True), v2.CenterCrop(resolution)],
        )
        training = _transform(info, source.augmentation(resolution))
    else:
        resize = (
            []
            if resolution == source.native_resolution
            else [v2.Resize((resolution, resolution), antialias=True)]
        )
        evaluation = _transform(info, resize)
        training = _transform(info, [*resize, *source.augmentation(resolution)])
    return DataSplits(
        info=info,
        train=_View(source.train, train_index, training),
        validation=_View(source.train, validation_index, evaluation),
        calibration=_View(source.train, calibration_index, evaluation),
        test=_View(source.test, torch.arange(len(source.test)), evaluation),
    )


def make_loaders(splits: DataSplits, spec: DataSpec) -> Loaders:
    """Loaders over `splits` with the batch sizes and worker count of `spec`."""

    def loader(
        dataset: Dataset[tuple[torch.Tensor, int]], batch_size: int, train: bool = False
    ) -> DataLoader[tuple[torch.Tensor, int]]:
        return DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=train,
            drop_last=train,
            num_workers=spec.num_workers,
            persistent_workers=spec.num_workers > 0,
        )

    return Loaders(
        train=loader(splits.train, spec.batch_size, train=True),
        validation=loader(splits.validation, spec.eval_batch_size),
        calibration=loader(splits.calibration, spec.batch_size),
        test=loader(splits.test, spec.eval_batch_size),
    )


class _View(Dataset[tuple[torch.Tensor, int]]):
    """Selected indices of a source, with a transform applied to each image."""

    def __init__(
        self, source: Any, indices: torch.Tensor, transform: Callable[[Any], Any]
    ) -> None:
        self.source = source
        self.indices = indices.tolist()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.source[self.indices[index]]
        return self.transform(image), int(label)


class _Normalize:
    """uint8 `(C, H, W)` tensor → normalised float32; 8x faster than the v2 pipeline per image."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        self.mean = torch.tensor(mean).reshape(-1, 1, 1)
        self.inverse_std = 1.0 / torch.tensor(std).reshape(-1, 1, 1)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return image.to(torch.float32).mul_(1 / 255).sub_(self.mean).mul_(self.inverse_std)


def _transform(info: DatasetInfo, middle: list[Any]) -> Callable[[Any], Any]:
    if not middle:
        return _Normalize(info.mean, info.std)
    return v2.Compose(
        [
            v2.ToImage(),
            v2.ToDtype(torch.float32, scale=True),
            *middle,
            v2.Normalize(mean=list(info.mean), std=list(info.std)),
        ]
    )
