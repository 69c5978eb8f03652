"""The datasets amed-opt reads, by name: where their files are and how they are decoded.

Each reader turns a `DataSpec` into a `DatasetSource` (the whole training and test sets, before
`amed_opt.evaluation.data` splits them). Nothing is ever downloaded; see `data` for the list of
datasets and their layouts.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import pickle
import shutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import torch
import torchvision
from torchvision.transforms import v2

from amed_opt.study.files import atomic_write


if TYPE_CHECKING:
    from amed_opt.study.spec import DataSpec

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's `dataset-fashion-mnist` package installs the four gzip files."""

_FASHION_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass(frozen=True, slots=True)
class DatasetSource:
    """A whole dataset before splitting: raw training and test images, and how to read them.

    Attributes:
        train: The training images (indexable, `(image, label)` items).
        test: The test images.
        in_channels: Channels per image.
        num_classes: Classes.
        native_resolution: Side of the stored images in pixels.
        mean: Channel means of the images, in [0, 1].
        std: Channel standard deviations.
        augmentation: Training augmentation for a resolution.
        variable_size: The images have different sizes (resized and cropped when read).
    """

    train: Any
    test: Any
    in_channels: int
    num_classes: int
    native_resolution: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augmentation: Callable[[int], list[Any]]
    variable_size: bool = False


class TensorImages:
    """Images held in memory as a uint8 tensor `(N, C, H, W)` with int64 labels."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if images.dim() != 4 or images.dtype != torch.uint8 or len(images) != len(labels):
            raise ValueError("expected uint8 images (N, C, H, W) and N labels")
        self.images = images
        self.labels = labels.to(torch.int64)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])


def _no_augmentation(resolution: int) -> list[Any]:
    return []


def _cifar_augmentation(resolution: int) -> list[Any]:
    return [v2.RandomCrop(resolution, padding=resolution // 8), v2.RandomHorizontalFlip()]


def _imagenet_augmentation(resolution: int) -> list[Any]:
    return [v2.RandomResizedCrop(resolution, antialias=True), v2.RandomHorizontalFlip()]


def _fashion_mnist_root(spec: DataSpec) -> tuple[Path, bool]:
    """The data root and whether it holds torchvision's decompressed layout; raises
    `FileNotFoundError` when it holds neither that nor the four `.gz` files."""
    root = Path(spec.root) if spec.root else DEBIAN_FASHION_MNIST
    raw = root / "FashionMNIST" / "raw"
    if all((raw / name).is_file() for name in _FASHION_FILES):
        return root, True
    missing = [str(root / f"{name}.gz") for name in _FASHION_FILES]
    missing = [path for path in missing if not Path(path).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST files not found: {', '.join(missing)}. Install them with "
            "`sudo apt-get install dataset-fashion-mnist`, or set the data root ([data] root or "
            "--data-root) to a folder holding the four *-ubyte.gz files."
        )
    return root, False


def _fashion_mnist(spec: DataSpec, cache_dir: Path) -> DatasetSource:
    root, decompressed = _fashion_mnist_root(spec)
    torchvision_root = root if decompressed else _decompress_fashion_mnist(root, cache_dir)
    try:
        train = torchvision.datasets.FashionMNIST(
            str(torchvision_root), train=True, download=False
        )
        test = torchvision.datasets.FashionMNIST(
            str(torchvision_root), train=False, download=False
        )
    except (AssertionError, RuntimeError, ValueError, OSError) as error:  # a malformed idx file
        raise ValueError(
            f"Fashion-MNIST files under {root} are not valid idx files ({error}); replace them "
            "with the original *-ubyte.gz files"
        ) from None
    return DatasetSource(
        train=TensorImages(train.data.unsqueeze(1), train.targets),
        test=TensorImages(test.data.unsqueeze(1), test.targets),
        in_channels=1,
        num_classes=10,
        native_resolution=28,
        mean=(0.2860,),
        std=(0.3530,),
        augmentation=_no_augmentation,
    )


def _decompress_fashion_mnist(root: Path, cache_dir: Path) -> Path:
    archives = [root / f"{name}.gz" for name in _FASHION_FILES]
    # Every archive is read through before anything is written: a corrupt or truncated one
    # leaves no cache folder behind (and `atomic_write` no partial file).
    for archive in archives:
        _check_gzip(archive)
    # One cache folder per set of source files, so a different root never reads stale data.
    identity = "|".join(
        f"{path.resolve()}:{path.stat().st_size}:{path.stat().st_mtime_ns}" for path in archives
    )
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    torchvision_root = cache_dir / f"fashion-mnist-{digest}"
    raw = torchvision_root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for archive, name in zip(archives, _FASHION_FILES, strict=True):
        target = raw / name
        if target.is_file():
            continue
        atomic_write(target, functools.partial(_gunzip, archive))
    return torchvision_root


def _check_gzip(archive: Path) -> None:
    try:
        with gzip.open(archive, "rb") as compressed:
            while compressed.read(1 << 22):
                pass
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(
            f"{archive} is not a valid gzip file ({error}); replace it with the original "
            "(e.g. reinstall dataset-fashion-mnist)"
        ) from None


def _gunzip(archive: Path, target: Path) -> None:
    with gzip.open(archive, "rb") as compressed, target.open("wb") as plain:
        shutil.copyfileobj(compressed, plain, length=1 << 20)


def _cifar_files(spec: DataSpec, folder: str) -> tuple[list[Path], list[Path]]:
    """The training and test batch files; raises `FileNotFoundError` naming what is missing."""
    if not spec.root:
        raise FileNotFoundError(
            f"{spec.dataset} has no default location: set the data root ([data] root or "
            f"--data-root) to a folder holding {folder}/ (torchvision's layout)"
        )
    base = Path(spec.root) / folder
    if spec.dataset == "cifar10":
        train_files = [base / f"data_batch_{index}" for index in range(1, 6)]
        test_files = [base / "test_batch"]
    else:
        train_files = [base / "train"]
        test_files = [base / "test"]
    missing = [str(path) for path in (*train_files, *test_files) if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{spec.dataset} files not found: {', '.join(missing)} (expected torchvision's "
            f"layout: {folder}/ under the data root)"
        )
    return train_files, test_files


def _cifar(spec: DataSpec, folder: str, label_key: str, num_classes: int) -> DatasetSource:
    train_files, test_files = _cifar_files(spec, folder)
    if spec.dataset == "cifar10":
        mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    else:
        mean, std = (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)
    return DatasetSource(
        train=_read_cifar(train_files, label_key),
        test=_read_cifar(test_files, label_key),
        in_channels=3,
        num_classes=num_classes,
        native_resolution=32,
        mean=mean,
        std=std,
        augmentation=_cifar_augmentation,
    )


def _read_cifar(files: list[Path], label_key: str) -> TensorImages:
    images, labels = [], []
    for path in files:
        batch = _load_cifar_batch(path)
        try:
            images.append(torch.as_tensor(batch["data"], dtype=torch.uint8).reshape(-1, 3, 32, 32))
            labels.append(torch.as_tensor(batch[label_key], dtype=torch.int64))
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise ValueError(
                f"{path} is not a CIFAR batch (no image data and {label_key!r}: {error})"
            ) from None
    return TensorImages(torch.cat(images), torch.cat(labels))


class _CifarUnpickler(pickle.Unpickler):
    """Reads a CIFAR batch (a dict of lists, strings and one numpy array) and nothing else: a
    pickle naming any other callable is refused instead of run, so a crafted file under the
    data root cannot execute code."""

    ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),  # numpy integers as labels
            ("numpy._core.multiarray", "scalar"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),  # how Python 2 byte strings are pickled for Python 3
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(
                f"it names {module}.{name}, which a CIFAR batch never does"
            )
        return super().find_class(module, name)


def _load_cifar_batch(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            batch = _CifarUnpickler(stream, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise ValueError(
            f"{path} is not a CIFAR batch ({error}); replace it with the original file"
        ) from None
    if not isinstance(batch, dict):
        raise ValueError(f"{path} is not a CIFAR batch (it holds a {type(batch).__name__})")
    return batch


def _cifar10(spec: DataSpec, cache_dir: Path) -> DatasetSource:
    return _cifar(spec, "cifar-10-batches-py", "labels", 10)


def _cifar100(spec: DataSpec, cache_dir: Path) -> DatasetSource:
    return _cifar(spec, "cifar-100-python", "fine_labels", 100)


def _imagenet_root(spec: DataSpec) -> Path:
    if not spec.root:
        raise FileNotFoundError(
            "imagenet has no default location: set the data root ([data] root or --data-root) "
            "to a folder holding train/ and val/ with one sub-folder per class"
        )
    root = Path(spec.root)
    for split in ("train", "val"):
        if not (root / split).is_dir():
            raise FileNotFoundError(
                f"imagenet folder {root / split} not found: the data root must hold train/ and "
                "val/ with one sub-folder per class (torchvision ImageFolder layout)"
            )
    return root


def _imagenet(spec: DataSpec, cache_dir: Path) -> DatasetSource:
    root = _imagenet_root(spec)
    train = torchvision.datasets.ImageFolder(str(root / "train"))
    test = torchvision.datasets.ImageFolder(str(root / "val"))
    if train.classes != test.classes:
        raise ValueError(f"imagenet: the class folders of {root}/train and {root}/val differ")
    return DatasetSource(
        train=train,
        test=test,
        in_channels=3,
        num_classes=len(train.classes),
        native_resolution=224,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        augmentation=_imagenet_augmentation,
        variable_size=True,
    )


def _synthetic_train_images(spec: DataSpec) -> int:
    # Enough training images for the validation and calibration sets plus 16 batches.
    return spec.validation_images + max(spec.calibration_images, 16 * spec.batch_size)


def _synthetic(spec: DataSpec, cache_dir: Path) -> DatasetSource:
    n_train = _synthetic_train_images(spec)
    n_test = spec.validation_images
    side = spec.resolution or 16
    generator = torch.Generator().manual_seed(1234)
    # Each class: its own colour plus a spatial pattern, so that both pooled and spatial
    # features separate the classes.
    colours = torch.rand((10, 3, 1, 1), generator=generator) * 160 + 48
    templates = colours + (torch.rand((10, 3, side, side), generator=generator) - 0.5) * 96

    def images(count: int) -> TensorImages:
        labels = torch.randint(10, (count,), generator=generator)
        noise = torch.randn((count, 3, side, side), generator=generator) * 40
        pixels = (templates[labels] + noise).clamp(0, 255).to(torch.uint8)
        return TensorImages(pixels, labels)

    return DatasetSource(
        train=images(n_train),
        test=images(n_test),
        in_channels=3,
        num_classes=10,
        native_resolution=side,
        mean=(0.5, 0.5, 0.5),
        std=(0.25, 0.25, 0.25),
        augmentation=_no_augmentation,
    )


LOADERS: dict[str, Callable[[DataSpec, Path], DatasetSource]] = {
    "fashion-mnist": _fashion_mnist,
    "cifar10": _cifar10,
    "cifar100": _cifar100,
    "imagenet": _imagenet,
    "synthetic": _synthetic,
}


@dataclass(frozen=True, slots=True)
class DatasetShape:
    """What the checks before a run need to know about a dataset, without reading it.

    Attributes:
        in_channels: Channels per image.
        num_classes: Classes.
        native_resolution: Side of the stored images in pixels.
        train_images: Images in the training set (None when unknown before reading).
    """

    in_channels: int
    num_classes: int
    native_resolution: int
    train_images: int | None


def probe_dataset(spec: DataSpec) -> DatasetShape:
    """The dataset's shape, from which files exist: reads, decompresses and writes nothing.

    Raises:
        ValueError: If the dataset is unknown.
        FileNotFoundError: If its files are missing (the message says what to do).
    """
    if spec.dataset == "fashion-mnist":
        _fashion_mnist_root(spec)
        return DatasetShape(1, 10, 28, 60000)
    if spec.dataset in ("cifar10", "cifar100"):
        folder = "cifar-10-batches-py" if spec.dataset == "cifar10" else "cifar-100-python"
        _cifar_files(spec, folder)
        return DatasetShape(3, 10 if spec.dataset == "cifar10" else 100, 32, 50000)
    if spec.dataset == "imagenet":
        root = _imagenet_root(spec)
        classes = sum(1 for entry in (root / "train").iterdir() if entry.is_dir())
        if classes < 2:
            raise FileNotFoundError(
                f"imagenet folder {root / 'train'} holds {classes} class folder(s); it needs "
                "one sub-folder per class, at least two"
            )
        return DatasetShape(3, classes, 224, None)
    if spec.dataset == "synthetic":
        return DatasetShape(3, 10, spec.resolution or 16, _synthetic_train_images(spec))
    known = ", ".join(sorted(LOADERS))
    raise ValueError(f"unknown dataset {spec.dataset!r}; known datasets: {known}")
