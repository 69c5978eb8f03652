"""Checks before a run: everything a study needs, validated before any file is created, any
dataset decompressed or any baseline trained.

`preflight` is the first thing `run_study` does. It checks the device, the hardware preset, the
storage (`amed_opt.study.storage.check_storage`: URL, driver, server, folder, file), the results
and cache folders, the dataset's files and sizes, the model at the study's resolution (built
with random weights, to count its layers), the search space and its size limit, the sampler's
arguments over that space, and, when the study exists, that its stored settings match. Each
failure is bad input (a `ValueError`, `FileNotFoundError` or `StorageError`, exit code 2) naming
the problem and the fix; nothing is written, so the same command runs once the input is fixed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amed_opt.app.components import RunOptions
from amed_opt.app.components import build_hardware
from amed_opt.app.components import torch_device
from amed_opt.app.sampler_factory import build_sampler
from amed_opt.study.naming import SPEC_ATTR
from amed_opt.study.naming import study_name
from amed_opt.study.search_space import BitSearchSpace
from amed_opt.study.search_space import start_bits
from amed_opt.study.spec import SamplerName
from amed_opt.study.spec import SpecError
from amed_opt.study.spec import StudySpec
from amed_opt.study.spec import effective_settings
from amed_opt.study.storage import check_storage
from amed_opt.study.storage import default_storage_url
from amed_opt.study.storage import read_study_attr
from hardware import LayerShape
from hardware import network_latency


def storage_url(spec: StudySpec, options: RunOptions) -> str:
    """The spec's storage URL; the default SQLite file lives in `options.results_dir`."""
    return spec.storage.url or default_storage_url(options.results_dir, spec.name)


def preflight(
    spec: StudySpec,
    options: RunOptions,
    *,
    layers: tuple[LayerShape, ...] | None = None,
    create_dirs_under: Path | None = None,
) -> None:
    """Check everything `run_study(spec, options)` needs, writing nothing (see the module).

    Args:
        spec: The study.
        options: Device and folders.
        layers: The network's layers when already built (skips building the model).
        create_dirs_under: Folder inside which a missing SQLite folder will be created
            (default `options.results_dir`).

    Raises:
        SpecError, ValueError, FileNotFoundError, StorageError: Bad input, one line each.
    """
    torch_device(options.device)
    hardware = build_hardware(spec)
    url = storage_url(spec, options)
    check_storage(url, create_dirs_under=create_dirs_under or options.results_dir)
    check_writable_folder(options.results_dir, "--results-dir")
    check_writable_folder(options.cache_dir, "--cache-dir")
    if layers is None:
        layers = probe_layers(spec)
    space = BitSearchSpace(layers, spec.search)
    max_size = int(spec.search.max_size_kib * 1024) if spec.search.max_size_kib > 0 else None
    start_bits(space, max_size)  # raises when no allocation meets the size limit
    searched = len(space.distributions())
    if spec.sampler.name is SamplerName.AMED and spec.sampler.n_flips > searched:
        raise SpecError(
            f"must be at most the {searched} searched parameters of {spec.model.arch}, got "
            f"{spec.sampler.n_flips}",
            key="sampler.n_flips",
        )
    reference = network_latency(hardware, layers, [(8, 8)] * len(layers)).latency_ms
    build_sampler(
        spec, space, reference_latency_ms=reference, max_size_bytes=max_size, hardware=hardware
    )
    check_resumable(spec, read_study_attr(url, study_name(spec), SPEC_ATTR))


def check_resumable(spec: StudySpec, stored: Mapping[str, Any] | None) -> None:
    """A study stored with the spec `stored` (None: new, or no spec) may continue as `spec`.

    Raises:
        SpecError: Naming the settings that differ.
    """
    if stored is None:
        return
    ours = effective_settings(spec.to_dict())
    theirs = effective_settings(stored)
    stored_objectives = tuple(theirs.get("search", {}).get("objectives", spec.objectives))
    if stored_objectives != spec.objectives:
        raise SpecError(
            f"study {study_name(spec)!r} already exists in this storage with the objectives "
            f"{', '.join(stored_objectives)}, not {', '.join(spec.objectives)}; use another "
            "--storage or study name, or the same objectives"
        )
    if theirs != ours:
        changed = sorted(
            key for key in set(theirs) | set(ours) if theirs.get(key) != ours.get(key)
        )
        raise SpecError(
            f"study {study_name(spec)!r} already exists in this storage with different "
            f"settings ({', '.join(changed)}); use another --storage or rename the study"
        )


def check_writable_folder(folder: Path, flag: str) -> None:
    """`folder` is a writable folder, or can be created (its first existing parent is one).

    Raises:
        ValueError: Naming `flag` and the folder.
    """
    existing = Path(folder)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"{flag} {str(folder)!r}: {str(existing)!r} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {str(folder)!r}: folder {str(existing)!r} is not writable")


def probe_layers(spec: StudySpec) -> tuple[LayerShape, ...]:
    """The study's quantizable layers, from the dataset's shape and a model with random weights.

    Reads no image and loads no weights; checks that the dataset's files exist, that it has
    enough training images for the validation and calibration images, that a checkpoint named
    by `model.weights` exists, and that the model runs at the study's resolution.

    Raises:
        ValueError, FileNotFoundError: Naming the problem.
    """
    from amed_opt.evaluation.datasets import probe_dataset
    from amed_opt.evaluation.models import build_model
    from amed_opt.evaluation.models import quantizable_layers
    from amed_opt.evaluation.models import torchvision_weights

    data = spec.data
    shape = probe_dataset(data)
    if shape.train_images is not None:
        if data.validation_images >= shape.train_images:
            raise SpecError(
                f"must be smaller than the {shape.train_images} training images of "
                f"{data.dataset}, got {data.validation_images}",
                key="data.validation_images",
            )
        left = shape.train_images - data.validation_images
        if data.calibration_images > left:
            raise SpecError(
                f"must be at most the {left} training images left after validation, got "
                f"{data.calibration_images}",
                key="data.calibration_images",
            )
    weights = spec.model.weights
    if weights != "train" and torchvision_weights(spec.model) is None:
        if not Path(weights).is_file():
            raise FileNotFoundError(
                f"model.weights {weights!r}: not 'train', not a torchvision weights name of "
                f"{spec.model.arch}, and no such checkpoint file"
            )
    resolution = data.resolution or shape.native_resolution
    model = build_model(
        dataclasses.replace(spec.model, weights="train"),
        in_channels=shape.in_channels,
        num_classes=shape.num_classes,
        input_hw=(resolution, resolution),
        seed=spec.seed,
    )
    return tuple(quantizable_layers(model, (shape.in_channels, resolution, resolution)))
