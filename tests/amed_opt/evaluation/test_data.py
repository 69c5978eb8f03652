"""Datasets by name from local files, seeded splits and loaders."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from amed_opt.evaluation.data import DataSplits
from amed_opt.evaluation.data import available_datasets
from amed_opt.evaluation.data import load_data
from amed_opt.evaluation.data import make_loaders
from amed_opt.evaluation.datasets import DEBIAN_FASHION_MNIST
from amed_opt.study.spec import DataSpec


def _idx_bytes(array: np.ndarray) -> bytes:
    code = 0x08  # unsigned bytes
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def _write_fashion_mnist(folder: Path, n_train: int = 60, n_test: int = 20) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (count, 28, 28))
        labels = np.arange(count) % 10
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            with gzip.open(folder / f"{prefix}-{kind}-ubyte.gz", "wb") as stream:
                stream.write(_idx_bytes(array))


def _image_digests(dataset: torch.utils.data.Dataset) -> set[str]:
    return {
        hashlib.sha1(dataset[i][0].numpy().tobytes()).hexdigest()
        for i in range(len(dataset))  # type: ignore[arg-type]
    }


def _spec(**changes: object) -> DataSpec:
    small = DataSpec(validation_images=20, calibration_images=8, batch_size=4, eval_batch_size=8)
    return dataclasses.replace(small, **changes)  # type: ignore[arg-type]


def test_fashion_mnist_from_gzip_files_is_decompressed_once_into_the_cache(tmp_path: Path) -> None:
    source = tmp_path / "debian"
    _write_fashion_mnist(source)
    cache = tmp_path / "cache"
    splits = load_data(_spec(root=str(source)), seed=0, cache_dir=cache)
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (40, 20, 20)
    assert len(splits.calibration) == 8
    assert splits.info.input_shape == (1, 28, 28) and splits.info.num_classes == 10
    image, label = splits.validation[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32 and 0 <= label < 10
    written = sorted(cache.rglob("*"))
    assert [p.name for p in written if p.is_file()] == sorted(
        ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte",
         "train-labels-idx1-ubyte"]
    )  # fmt: skip
    stamps = {p: p.stat().st_mtime_ns for p in written if p.is_file()}
    load_data(_spec(root=str(source)), seed=0, cache_dir=cache)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_fashion_mnist_in_torchvision_layout_is_read_in_place(tmp_path: Path) -> None:
    source = tmp_path / "gz"
    _write_fashion_mnist(source)
    raw = tmp_path / "tv" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for archive in source.iterdir():
        (raw / archive.name.removesuffix(".gz")).write_bytes(gzip.decompress(archive.read_bytes()))
    cache = tmp_path / "cache"
    splits = load_data(_spec(root=str(tmp_path / "tv")), seed=0, cache_dir=cache)
    assert len(splits.test) == 20
    assert not cache.exists()


def test_missing_fashion_mnist_says_how_to_install_it_and_writes_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_data(_spec(root=str(tmp_path / "nowhere")), seed=0, cache_dir=cache)
    assert not cache.exists()


def test_resolution_override_resizes_images(tmp_path: Path) -> None:
    _write_fashion_mnist(tmp_path / "src")
    splits = load_data(
        _spec(root=str(tmp_path / "src"), resolution=32), seed=0, cache_dir=tmp_path
    )
    assert splits.info.input_shape == (1, 32, 32)
    assert splits.validation[0][0].shape == (1, 32, 32)
    assert splits.train[0][0].shape == (1, 32, 32)


def _write_cifar(root: Path, *, hundred: bool) -> None:
    rng = np.random.default_rng(1)
    folder = root / ("cifar-100-python" if hundred else "cifar-10-batches-py")
    folder.mkdir(parents=True)
    names = (
        ["train", "test"] if hundred else [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]
    )
    key = "fine_labels" if hundred else "labels"
    for name in names:
        count = 12
        batch = {
            "data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
            key: list(rng.integers(0, 100 if hundred else 10, count)),
        }
        with (folder / name).open("wb") as stream:
            pickle.dump(batch, stream)


@pytest.mark.parametrize(
    ("dataset", "classes", "train"), [("cifar10", 10, 60), ("cifar100", 100, 12)]
)
def test_cifar_from_a_torchvision_folder(
    tmp_path: Path, dataset: str, classes: int, train: int
) -> None:
    _write_cifar(tmp_path, hundred=dataset == "cifar100")
    spec = _spec(dataset=dataset, root=str(tmp_path), validation_images=4, calibration_images=4)
    splits = load_data(spec, seed=0, cache_dir=tmp_path / "cache")
    assert splits.info.input_shape == (3, 32, 32) and splits.info.num_classes == classes
    assert len(splits.train) + len(splits.validation) == train
    assert len(splits.test) == 12
    image, label = splits.train[0]
    assert image.shape == (3, 32, 32) and 0 <= label < classes


def test_cifar_without_files_or_root_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no default location"):
        load_data(_spec(dataset="cifar10"), seed=0, cache_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="data_batch_1"):
        load_data(_spec(dataset="cifar10", root=str(tmp_path)), seed=0, cache_dir=tmp_path)


def _write_image_folder(root: Path, classes: list[str], per_class: int) -> None:
    rng = np.random.default_rng(2)
    for split in ("train", "val"):
        for index, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for image in range(per_class):
                side = 20 + 4 * image  # images of different sizes, as in ImageNet
                pixels = rng.integers(0, 256, (side, side + index, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{image}.png")


def test_imagenet_from_an_image_folder_tree(tmp_path: Path) -> None:
    _write_image_folder(tmp_path, ["n01", "n02", "n03"], per_class=4)
    spec = _spec(dataset="imagenet", root=str(tmp_path), resolution=16, validation_images=3,
                 calibration_images=2)  # fmt: skip
    splits = load_data(spec, seed=0, cache_dir=tmp_path / "cache")
    assert splits.info.input_shape == (3, 16, 16) and splits.info.num_classes == 3
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (9, 3, 12)
    for dataset in (splits.train, splits.validation, splits.test):
        assert dataset[0][0].shape == (3, 16, 16)


def test_imagenet_with_missing_or_mismatched_folders_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="train/ and val/"):
        load_data(_spec(dataset="imagenet", root=str(tmp_path)), seed=0, cache_dir=tmp_path)
    _write_image_folder(tmp_path / "a", ["x", "y"], per_class=1)
    (tmp_path / "a" / "val" / "y").rename(tmp_path / "a" / "val" / "z")
    with pytest.raises(ValueError, match="class folders"):
        load_data(_spec(dataset="imagenet", root=str(tmp_path / "a")), seed=0, cache_dir=tmp_path)


def test_unknown_dataset_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown dataset 'mnist'.*cifar10.*fashion-mnist"):
        load_data(_spec(dataset="mnist"), seed=0, cache_dir=tmp_path)
    assert set(available_datasets()) == {
        "cifar10", "cifar100", "fashion-mnist", "imagenet", "synthetic"
    }  # fmt: skip


def test_split_sizes_must_fit_the_training_set(tmp_path: Path) -> None:
    _write_fashion_mnist(tmp_path / "src")
    with pytest.raises(ValueError, match="validation_images"):
        load_data(
            _spec(root=str(tmp_path / "src"), validation_images=60), seed=0, cache_dir=tmp_path
        )
    with pytest.raises(ValueError, match="calibration_images"):
        load_data(
            _spec(root=str(tmp_path / "src"), calibration_images=41), seed=0, cache_dir=tmp_path
        )


def _synthetic(seed: int, tmp_path: Path) -> DataSplits:
    spec = _spec(dataset="synthetic", resolution=8, validation_images=24, calibration_images=8)
    return load_data(spec, seed=seed, cache_dir=tmp_path)


def test_validation_is_held_out_from_training_and_calibration_is_part_of_it(
    tmp_path: Path,
) -> None:
    splits = _synthetic(0, tmp_path)
    train = _image_digests(splits.train)
    validation = _image_digests(splits.validation)
    assert not train & validation
    assert _image_digests(splits.calibration) <= train
    assert not _image_digests(splits.test) & (train | validation)


def test_splits_are_seeded(tmp_path: Path) -> None:
    first, again, other = _synthetic(0, tmp_path), _synthetic(0, tmp_path), _synthetic(1, tmp_path)
    assert _image_digests(first.validation) == _image_digests(again.validation)
    assert _image_digests(first.validation) != _image_digests(other.validation)
    assert _image_digests(first.test) == _image_digests(other.test)


def test_loaders_batch_as_the_spec_says(tmp_path: Path) -> None:
    spec = _spec(dataset="synthetic", resolution=8, validation_images=24, calibration_images=8)
    loaders = make_loaders(load_data(spec, seed=0, cache_dir=tmp_path), spec)
    train_batches = list(loaders.train)
    assert all(images.shape == (4, 3, 8, 8) for images, _ in train_batches)
    assert [len(labels) for _, labels in loaders.validation] == [8, 8, 8]
    assert sum(len(labels) for _, labels in loaders.calibration) == 8
    assert first_labels(loaders.validation) == first_labels(loaders.validation)


def first_labels(loader: torch.utils.data.DataLoader) -> list[int]:
    return next(iter(loader))[1].tolist()


@pytest.mark.slow
@pytest.mark.skipif(
    not (DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file(),
    reason="Debian's dataset-fashion-mnist is not installed",
)
def test_real_fashion_mnist(tmp_path: Path) -> None:
    splits = load_data(DataSpec(), seed=0, cache_dir=tmp_path)
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (58000, 2000, 10000)
    assert len(splits.calibration) == 512
    images = torch.stack([splits.validation[i][0] for i in range(500)])
    # Normalised with the dataset's own statistics: close to zero mean and unit deviation.
    assert abs(images.mean().item()) < 0.1 and abs(images.std().item() - 1) < 0.1
    labels = [splits.test[i][1] for i in range(len(splits.test))]
    assert sorted(set(labels)) == list(range(10))
